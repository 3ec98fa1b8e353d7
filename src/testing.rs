//! The test harness behind plain `cargo test`: one database server per test process, and a
//! fresh database per test, cloned from a migrated and seeded template and dropped again
//! when the test's [`TestDb`] goes out of scope.
//!
//! Without `DATABASE_URL` the server is a private cluster in the system's temporary folder
//! (`pglab-test-<pid>`), a child of a thread that lives as long as the test process; folders
//! of earlier, finished runs are removed on start. With `DATABASE_URL` the same tests run on
//! that server, whose role must be allowed to create databases.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::db::cluster::{Cluster, Supervision};
use crate::db::provision::{self, LabRoles, drop_database, ensure_template, replace_database};
use crate::db::{self, Error, Lab, LabConfig, OWNER_ROLE, connect};

/// A database of its own for one test, seeded with the story.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    /// Connects as the role that owns the schema (migrations, seeding).
    pub owner: PgConnectOptions,
    /// Connects as the learner: on the private cluster not a superuser, with a timeout.
    pub learner: PgConnectOptions,
}

impl TestDb {
    /// A fresh database, ready when this returns.
    pub async fn create() -> Result<Self, Error> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let server = server()?;
        let name = format!(
            "pglab_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = connect(&server.admin).await?;
        replace_database(&mut admin, &server.template, &name, server.owner_role).await?;
        Ok(Self {
            owner: server.owner.clone().database(&name),
            learner: server.learner.clone().database(&name),
            name,
        })
    }

    pub async fn owner_conn(&self) -> Result<PgConnection, Error> {
        connect(&self.owner).await
    }

    pub async fn learner_conn(&self) -> Result<PgConnection, Error> {
        connect(&self.learner).await
    }

    /// The password of [`TestDb::owner`], for tests that speak the wire protocol themselves
    /// (sqlx keeps it private). Empty when the server's URL carried none.
    pub fn owner_password(&self) -> Result<&'static str, Error> {
        Ok(&server()?.owner_password)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Ok(server) = server() else { return };
        let admin = server.admin.clone();
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = connect(&admin).await?;
                drop_database(&mut admin, &name).await
            })?;
            Ok::<_, anyhow::Error>(())
        })
        .join();
    }
}

/// The private cluster the tests' server is, for demos that need the lab's own cluster
/// (`DemoContext::cluster`); `None` when the tests run on a `DATABASE_URL` server.
pub fn cluster() -> Result<Option<Cluster>, Error> {
    Ok(server()?.cluster.clone())
}

/// The server shared by every test in this process.
struct Server {
    /// Creates and drops the per-test databases.
    admin: PgConnectOptions,
    template: String,
    owner: PgConnectOptions,
    owner_password: String,
    learner: PgConnectOptions,
    owner_role: Option<&'static str>,
    /// The private cluster the tests run on; `None` under `DATABASE_URL`.
    cluster: Option<Cluster>,
}

fn server() -> Result<&'static Server, Error> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            // Boot on a thread of its own: tests run inside runtimes that cannot be blocked.
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(boot()).map_err(|e| e.to_string())
            })
            .join()
            .unwrap_or_else(|_| Err("the test server's boot thread panicked".into()))
        })
        .as_ref()
        .map_err(|why| Error::Unavailable(format!("(test server) {why}")))
}

async fn boot() -> Result<Server, Error> {
    match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => boot_external(&url).await,
        None => boot_private().await,
    }
}

async fn boot_private() -> Result<Server, Error> {
    let data_dir = std::env::temp_dir().join(format!("pglab-test-{}", std::process::id()));
    remove_finished_runs();
    let lab = Lab::open(&LabConfig {
        database_url: None,
        data_dir: data_dir.clone(),
        supervision: Supervision::InProcess,
    })
    .await?;
    let admin = lab
        .superuser
        .clone()
        .ok_or_else(|| Error::Unavailable("the private cluster has no superuser".into()))?;
    Ok(Server {
        admin,
        template: db::TEMPLATE_DATABASE.into(),
        owner: lab.owner.clone(),
        owner_password: password_in(lab.url(true)),
        learner: lab.learner.clone(),
        owner_role: Some(OWNER_ROLE),
        cluster: lab.cluster().cloned(),
    })
}

/// On someone else's server the template carries the schema version in its name, so test
/// runs of different pglab versions can share the server.
async fn boot_external(url: &str) -> Result<Server, Error> {
    let lab = Lab::external(url)?;
    let version = provision::template_version();
    let template = format!("pglab_test_{}", version.rsplit(' ').next().unwrap_or("0"));
    let mut admin = connect(&lab.owner).await?;
    let builder = lab.owner.clone().database(&template);
    ensure_template(&mut admin, &template, &builder, None::<LabRoles>).await?;
    Ok(Server {
        admin: lab.owner.clone(),
        template,
        owner: lab.owner.clone(),
        owner_password: password_in(url),
        learner: lab.learner.clone(),
        owner_role: None,
        cluster: None,
    })
}

/// The password of a `postgres://user:password@host/db` URL, percent-decoded.
fn password_in(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return String::new();
    };
    let password = parsed.password().unwrap_or_default();
    percent_encoding::percent_decode_str(password)
        .decode_utf8_lossy()
        .into_owned()
}

/// Removes `pglab-test-<pid>` folders whose process has ended (its server ended with it).
fn remove_finished_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("pglab-test-"))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
