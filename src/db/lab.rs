//! Resolving the lab's database: `DATABASE_URL` when given, otherwise the private cluster
//! (initialised on first use, started or reused), then brought to the current schema.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection};

use super::binaries::MIN_MAJOR_VERSION;
use super::cluster::{self, Cluster, Endpoint, LabLock, Layout, Supervision};
use super::credentials::Credentials;
use super::provision::Purpose;
use super::{
    Error, LAB_DATABASE, LEARNER_ROLE, LEARNER_STATEMENT_TIMEOUT, LESSON_SCHEMA, OWNER_ROLE,
    provision,
};

/// A server that does not answer within this long is reported, not waited for.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What decides where the lab's database lives.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// `--database-url` / `DATABASE_URL`: use that server instead of the private cluster.
    pub database_url: Option<String>,
    /// The lab's data directory (private cluster, credentials, logs).
    pub data_dir: PathBuf,
    pub supervision: Supervision,
}

/// Where the database came from.
#[derive(Debug)]
pub enum Source {
    /// The private cluster in the data directory.
    Private {
        cluster: Cluster,
        endpoint: Endpoint,
        /// Keeps the server up while this lab runs.
        _lock: Option<LabLock>,
    },
    /// A server named by `DATABASE_URL`; the lab uses that URL's database and role.
    External,
}

/// An open, migrated lab database and how to reach it as each role.
#[derive(Debug)]
pub struct Lab {
    pub source: Source,
    /// Migrations, seeding and resets.
    pub owner: PgConnectOptions,
    /// The learner's SQL: not a superuser on the private cluster, statement timeout set.
    pub learner: PgConnectOptions,
    /// Creates roles and databases (private cluster only).
    pub(crate) superuser: Option<PgConnectOptions>,
    /// URLs as given to other programs (psql), passwords included.
    learner_url: String,
    owner_url: String,
    /// Problems found while opening that do not stop the lab (shown by `db status`).
    pub warnings: Vec<String>,
}

impl Lab {
    /// Finds or starts the database and brings its schema up to date.
    pub async fn open(config: &LabConfig) -> Result<Self, Error> {
        Self::open_for(config, Purpose::Use).await
    }

    /// Like [`Lab::open`]; with [`Purpose::Reset`] the lab database is left as it is, however
    /// broken, because it is about to be replaced.
    pub async fn open_for(config: &LabConfig, purpose: Purpose) -> Result<Self, Error> {
        match &config.database_url {
            Some(url) => Self::open_external(url, purpose).await,
            None => Self::open_private(config, purpose).await,
        }
    }

    async fn open_external(url: &str, purpose: Purpose) -> Result<Self, Error> {
        let mut lab = Self::external(url)?;
        let mut conn = connect(&lab.owner).await?;
        lab.warnings = provision::prepare_external(&mut conn, purpose).await?;
        Ok(lab)
    }

    /// How to reach the server named by `url`, without touching it. The URL's role serves
    /// as owner and learner: pglab does not create roles on someone else's server.
    pub(crate) fn external(url: &str) -> Result<Self, Error> {
        let base: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| {
            Error::Refused(format!(
                "DATABASE_URL is not a valid PostgreSQL URL ({e}); expected \
                 postgres://user:password@host:5432/dbname"
            ))
        })?;
        let base = with_lab_search_path(base);
        Ok(Self {
            source: Source::External,
            learner_url: url.to_string(),
            owner_url: url.to_string(),
            learner: base
                .clone()
                .options([("statement_timeout", LEARNER_STATEMENT_TIMEOUT)]),
            owner: base,
            superuser: None,
            warnings: Vec::new(),
        })
    }

    async fn open_private(config: &LabConfig, purpose: Purpose) -> Result<Self, Error> {
        let layout = Layout::new(&config.data_dir);
        let supervision = config.supervision;
        let (cluster, endpoint, credentials, lock) =
            tokio::task::spawn_blocking(move || start_private(layout, supervision))
                .await
                .map_err(|e| Error::Unavailable(format!("the start-up task failed: {e}")))??;
        let superuser = private_options(&endpoint, "postgres", &credentials.superuser, "postgres");
        let mut lab = Self {
            owner: with_lab_search_path(private_options(
                &endpoint,
                OWNER_ROLE,
                &credentials.owner,
                LAB_DATABASE,
            )),
            learner: with_lab_search_path(private_options(
                &endpoint,
                LEARNER_ROLE,
                &credentials.learner,
                LAB_DATABASE,
            ))
            .options([("statement_timeout", LEARNER_STATEMENT_TIMEOUT)]),
            superuser: Some(superuser.clone()),
            learner_url: plain_url(LEARNER_ROLE, &credentials.learner, endpoint.port),
            owner_url: plain_url(OWNER_ROLE, &credentials.owner, endpoint.port),
            warnings: Vec::new(),
            source: Source::Private {
                cluster,
                endpoint,
                _lock: lock,
            },
        };
        lab.warnings = provision::prepare_private(&lab, &credentials, purpose).await?;
        Ok(lab)
    }

    /// The private cluster the lab runs on; `None` on a `DATABASE_URL` server.
    pub fn cluster(&self) -> Option<&Cluster> {
        match &self.source {
            Source::Private { cluster, .. } => Some(cluster),
            Source::External => None,
        }
    }

    /// The URL other programs use to connect as the learner (or the owner); it carries the
    /// password, so it is printed only on request.
    pub fn url(&self, owner: bool) -> &str {
        if owner {
            &self.owner_url
        } else {
            &self.learner_url
        }
    }

    /// The learner's connection URL with the password replaced by `****`.
    pub fn masked_url(&self) -> String {
        mask_password(&self.learner_url)
    }

    /// Options for another database on the same server as the same role (tests, resets).
    pub fn owner_for(&self, database: &str) -> PgConnectOptions {
        self.owner.clone().database(database)
    }
}

/// Everything the private cluster needs before SQL: the data directory, initdb on first use,
/// a running server. Blocking; holds the start lock so two labs do not race.
fn start_private(
    layout: Layout,
    supervision: Supervision,
) -> Result<(Cluster, Endpoint, Credentials, Option<LabLock>), Error> {
    let cluster = Cluster::open(layout)?;
    let lock = match supervision {
        Supervision::Keeper => Some(LabLock::acquire(&cluster.layout)?),
        Supervision::InProcess => None,
    };
    let _starting = cluster::lock_start(&cluster.layout)?;
    let mut initdb = None;
    let credentials = if cluster.is_initialised() {
        Credentials::load(&cluster.layout.credentials())?
    } else {
        let fresh = Credentials::load_or_create(&cluster.layout.credentials())?;
        let started = std::time::Instant::now();
        cluster.initialise(&fresh)?;
        initdb = Some(started.elapsed());
        fresh
    };
    let started = std::time::Instant::now();
    let endpoint = cluster.start(supervision)?;
    if let Some(initdb) = initdb {
        // Lesson 3 shows what creating this cluster took; a lab that cannot write the
        // record still runs, and the lesson says the figure was not recorded.
        let record = cluster::Creation::new(initdb, started.elapsed());
        let _ = record.write(&cluster.layout);
    }
    Ok((cluster, endpoint, credentials, lock))
}

/// The URL of the private server on `port`, as the learner or the owner.
pub fn private_url(layout: &Layout, port: u16, owner: bool) -> Result<String, Error> {
    let credentials = Credentials::load(&layout.credentials())?;
    Ok(if owner {
        plain_url(OWNER_ROLE, &credentials.owner, port)
    } else {
        plain_url(LEARNER_ROLE, &credentials.learner, port)
    })
}

/// A URL any PostgreSQL client understands. Roles and passwords are ASCII identifiers and
/// hex, so nothing needs escaping; search path and timeout are role settings on the server.
fn plain_url(role: &str, password: &str, port: u16) -> String {
    format!("postgres://{role}:{password}@127.0.0.1:{port}/{LAB_DATABASE}")
}

fn private_options(
    endpoint: &Endpoint,
    user: &str,
    password: &str,
    database: &str,
) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .port(endpoint.port)
        .username(user)
        .password(password)
        .database(database)
        .ssl_mode(PgSslMode::Disable)
        .application_name("pglab")
}

fn with_lab_search_path(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("search_path", format!("{LESSON_SCHEMA}, public"))])
}

/// Connects within [`CONNECT_TIMEOUT`] and refuses servers older than PostgreSQL 13.
pub async fn connect(options: &PgConnectOptions) -> Result<PgConnection, Error> {
    let target = describe(options);
    let conn = match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(cause)) => {
            return Err(Error::Connect {
                advice: advice_for(&cause),
                target,
                cause,
            });
        }
        Err(_) => {
            return Err(Error::ConnectTimeout {
                target,
                secs: CONNECT_TIMEOUT.as_secs(),
            });
        }
    };
    check_version(conn, &target).await
}

async fn check_version(mut conn: PgConnection, target: &str) -> Result<PgConnection, Error> {
    let number = match conn.server_version_num() {
        Some(n) => n,
        None => {
            let (n,): (String,) = sqlx::query_as("show server_version_num")
                .fetch_one(&mut conn)
                .await
                .map_err(Error::sql("cannot read the server version"))?;
            n.parse().unwrap_or(0)
        }
    };
    if number / 10_000 < MIN_MAJOR_VERSION {
        let _ = conn.close().await;
        return Err(Error::ServerTooOld {
            target: target.to_string(),
            version: format!("{}.{}", number / 10_000, number % 10_000),
        });
    }
    Ok(conn)
}

fn advice_for(error: &sqlx::Error) -> &'static str {
    match error {
        sqlx::Error::Io(_) => "Is the server running, and are the host and port right?",
        sqlx::Error::Database(db) if db.code().as_deref() == Some("28P01") => {
            "The password was refused: check the user and password in DATABASE_URL."
        }
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
            "That database does not exist on the server: check the name at the end of the URL."
        }
        sqlx::Error::Tls(_) => "TLS failed: try adding ?sslmode=require (or disable) to the URL.",
        _ => "Check the server, and DATABASE_URL if you set one.",
    }
}

/// `user@host:port/db`, never the password.
pub fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

/// The URL with its password replaced by `****` (see [`crate::conninfo::mask_password`]).
pub fn mask_password(url: &str) -> String {
    crate::conninfo::mask_password(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_a_target_without_its_password() {
        let options: PgConnectOptions = "postgres://ana:s3cret@db.example.com:6543/app"
            .parse()
            .unwrap();
        let text = describe(&options);
        assert_eq!(text, "ana@db.example.com:6543/app");
    }
}
