//! What `pglab db status` reports: where the database lives, what runs it, how big it is.

use sqlx::postgres::PgConnection;

use super::lab::connect;
use super::{Error, Lab, Source};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// "private cluster" or "DATABASE_URL".
    pub source: &'static str,
    pub data_dir: Option<String>,
    pub socket_dir: Option<String>,
    pub server_log: Option<String>,
    pub binaries: Option<String>,
    pub server_version: String,
    pub url: String,
    pub learner: String,
    pub learner_is_superuser: bool,
    pub statement_timeout: String,
    pub database_size: String,
    pub organizations: i64,
    pub users: i64,
    pub posts: i64,
}

/// Reads the status of an open lab, connected as the learner.
pub async fn read(lab: &Lab) -> Result<Status, Error> {
    let mut conn = connect(&lab.learner).await?;
    let facts = facts(&mut conn).await?;
    let (data_dir, socket_dir, server_log, binaries) = match &lab.source {
        Source::Private {
            cluster, endpoint, ..
        } => (
            Some(cluster.layout.root.display().to_string()),
            Some(endpoint.socket_dir.display().to_string()),
            Some(cluster.layout.server_log().display().to_string()),
            Some(cluster.binaries.dir.display().to_string()),
        ),
        Source::External => (None, None, None, None),
    };
    Ok(Status {
        source: match lab.source {
            Source::Private { .. } => "private cluster",
            Source::External => "DATABASE_URL",
        },
        data_dir,
        socket_dir,
        server_log,
        binaries,
        url: lab.masked_url(),
        server_version: facts.0,
        learner: facts.1,
        learner_is_superuser: facts.2,
        statement_timeout: facts.3,
        database_size: facts.4,
        organizations: facts.5,
        users: facts.6,
        posts: facts.7,
    })
}

type Facts = (String, String, bool, String, String, i64, i64, i64);

async fn facts(conn: &mut PgConnection) -> Result<Facts, Error> {
    sqlx::query_as(
        "select current_setting('server_version'),
                current_user::text,
                (select rolsuper from pg_roles where rolname = current_user),
                current_setting('statement_timeout'),
                pg_size_pretty(pg_database_size(current_database())),
                (select count(*) from organizations),
                (select count(*) from users),
                (select count(*) from posts)",
    )
    .fetch_one(conn)
    .await
    .map_err(Error::sql("cannot read the lab database's status"))
}
