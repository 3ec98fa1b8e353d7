//! `cloud.local_vs_managed`: running PostgreSQL yourself against renting it, with this
//! lab's own numbers where it has them: what creating the private cluster took (recorded
//! when the lab created it), how big it is, and who can reach it (`listen_addresses`, read
//! from the server). What a managed service adds is stated in words, never measured. On a
//! `DATABASE_URL` server the lab says which figures it cannot have and why.

use std::path::Path;

use tokio::sync::mpsc;

use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport};
use crate::db::cluster::Creation;
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error};
use crate::text::size as pretty;

const DEMO: &str = "cloud.local_vs_managed";

/// The database's size and, when this role may see it, `listen_addresses`.
const SIZE_AND_ADDRESSES: &str = "select pg_database_size(current_database()), \
     (select setting from pg_settings where name = 'listen_addresses')";

/// What the lab knows of its own cluster: the creation record and the data directory's size.
struct Own {
    creation: Option<Creation>,
    data_dir_bytes: Option<u64>,
}

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let own = match &ctx.cluster {
        Some(cluster) => {
            let layout = cluster.layout.clone();
            let _ = progress.send(DemoProgress::Message(
                "measuring the private cluster's data directory".into(),
            ));
            let own = tokio::task::spawn_blocking(move || Own {
                creation: Creation::read(&layout),
                data_dir_bytes: size_of(&layout.pgdata()),
            })
            .await
            .map_err(|e| Error::Refused {
                demo: DEMO,
                why: format!("measuring the data directory failed: {e}"),
            })?;
            Some(own)
        }
        None => None,
    };
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: local or managed").await?;
    let (asked, measured) = meter
        .measure(
            DEMO,
            sqlx::query_as::<_, (i64, Option<String>)>(SIZE_AND_ADDRESSES).fetch_one(&mut conn),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let (db_bytes, listen) = asked.map_err(crate::demo::sql(DEMO, "reading the server's size"))?;

    let mut lines = super::which_server(ctx);
    lines.extend(crate::demo::wrapped(explained(
        own.as_ref(),
        db_bytes,
        listen.as_deref(),
    )));
    let mut report = DemoReport::measured(
        "Local or managed: this lab's own numbers".into(),
        lines,
        &measured,
        sessions,
    );
    report.table = Some(table(own.as_ref(), db_bytes, listen.as_deref()));
    Ok(report)
}

/// The trade-off table: this lab's figures beside what a managed service does instead.
fn table(own: Option<&Own>, db_bytes: i64, listen: Option<&str>) -> ResultSet {
    let created = match own {
        Some(Own {
            creation: Some(c), ..
        }) => format!(
            "initdb {} + start {}",
            crate::text::duration(c.initdb()),
            crate::text::duration(c.first_start())
        ),
        Some(_) => "not recorded (see below)".into(),
        None => "not available (see below)".into(),
    };
    let size = match own.and_then(|o| o.data_dir_bytes) {
        Some(dir) => format!("data dir {}, db {}", dir_size(dir), db_size(db_bytes)),
        None => format!("db {}", db_size(db_bytes)),
    };
    let runs = match own {
        Some(_) => "while a pglab uses it",
        None => "as its owner runs it",
    };
    let rows = [
        ("created", created, "a form on the provider's site"),
        ("size", size, "on the provider's disks"),
        ("reachable", reach(listen).0, "from anywhere you allow"),
        (
            "backups",
            "none unless you make them".into(),
            "taken by the provider",
        ),
        ("running", runs.into(), "all the time"),
        (
            "looked at",
            "this terminal, psql".into(),
            "a web dashboard too",
        ),
    ];
    ResultSet::new(
        ["", "this lab, measured", "a managed service"]
            .map(String::from)
            .to_vec(),
        rows.into_iter()
            .map(|(what, lab, managed)| vec![Some(what.into()), Some(lab), Some(managed.into())])
            .collect(),
    )
}

/// Where each of the lab's figures comes from, and what it means.
fn explained(own: Option<&Own>, db_bytes: i64, listen: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    match own {
        Some(Own {
            creation: Some(c), ..
        }) => lines.push(format!(
            "Created: initdb took {} and the first start, until the server accepted \
             connections, {}; the lab measured both when it created this cluster ({}) and \
             kept them in creation.toml in its data directory.",
            crate::text::duration(c.initdb()),
            crate::text::duration(c.first_start()),
            c.created_at
        )),
        Some(_) => lines.push(
            "Created: not recorded. This data directory was made by a pglab that did not yet \
             measure it; a lab creating a new one records it."
                .into(),
        ),
        None => lines.push(
            "Created: the lab did not create this server, so how long that took is not \
             available, and neither are its files; what follows is what SQL can ask."
                .into(),
        ),
    }
    let dir = match own.and_then(|o| o.data_dir_bytes) {
        Some(dir) => format!(
            "the data directory holds {} on disk (every database of the cluster and its \
             write-ahead log); ",
            dir_size(dir)
        ),
        None => String::new(),
    };
    lines.push(format!(
        "Size: {dir}pg_database_size() of the lab's database says {}.",
        db_size(db_bytes)
    ));
    lines.push(format!("Reachable: {}", reach(listen).1));
    lines.push(
        "What a managed service adds is not measured here, only named: backups it takes for \
         you, an address your team and your deployed app can reach, a dashboard to browse \
         tables and run SQL. What it takes away: the machine. You never see its files."
            .into(),
    );
    lines
}

/// `listen_addresses` in a table cell, and in a sentence.
fn reach(listen: Option<&str>) -> (String, String) {
    let Some(listen) = listen else {
        return (
            "not visible to this role".into(),
            "listen_addresses is not visible to the lab's role on this server.".into(),
        );
    };
    let addresses: Vec<&str> = listen.split(',').map(str::trim).collect();
    let loopback = |a: &&str| matches!(*a, "127.0.0.1" | "localhost" | "::1");
    let said = format!("listen_addresses = '{listen}', read from the server: ");
    if listen.trim().is_empty() {
        (
            "no TCP: a unix socket only".into(),
            format!("{said}no TCP address at all, only a unix socket on its machine."),
        )
    } else if addresses.iter().all(loopback) {
        (
            format!("{listen}: this machine only"),
            format!(
                "{said}it accepts TCP connections on the loopback address only, so nothing \
                 outside this machine reaches it: not a teammate, not a deployed app."
            ),
        )
    } else {
        (
            format!("{}: the network", crate::text::clip(listen, 14)),
            format!(
                "{said}it accepts connections on the network, and its pg_hba.conf rules and \
                 firewalls decide who gets in."
            ),
        )
    }
}

/// Sizes as `pg_size_pretty` writes them, so the lab's own count of the data directory
/// reads like the server's `pg_database_size`.
fn db_size(n: i64) -> String {
    pretty(n)
}

fn dir_size(n: u64) -> String {
    pretty(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The bytes of every file under `dir`, symlinks not followed; `None` if `dir` itself
/// cannot be read.
fn size_of(dir: &Path) -> Option<u64> {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let listing = match std::fs::read_dir(&next) {
            Ok(listing) => listing,
            Err(_) if next == dir => return None,
            // A folder the server removed meanwhile (its temporary ones come and go) is
            // skipped, not a reason to give up the whole size.
            Err(_) => continue,
        };
        for entry in listing {
            let Ok(entry) = entry else { continue };
            // A file the server removed meanwhile is simply not counted.
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_root_gives_up_the_size() {
        let root = std::env::temp_dir().join(format!("pglab-size-of-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a"), [0; 10]).unwrap();
        std::fs::write(root.join("sub/b"), [0; 5]).unwrap();
        assert_eq!(size_of(&root), Some(15));
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(size_of(&root), None);
    }

    #[test]
    fn listen_addresses_say_who_can_connect() {
        assert_eq!(reach(Some("127.0.0.1")).0, "127.0.0.1: this machine only");
        assert_eq!(
            reach(Some("localhost, ::1")).0,
            "localhost, ::1: this machine only"
        );
        assert_eq!(reach(Some("*")).0, "*: the network");
        assert_eq!(reach(Some("")).0, "no TCP: a unix socket only");
        assert_eq!(reach(None).0, "not visible to this role");
    }
}
