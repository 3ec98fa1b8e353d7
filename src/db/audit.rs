//! The audit trail's SQL: the actor context an application sets per transaction, the
//! application's own log (`lab.audit_logs`), reading both logs back as [`audit::AuditEvent`]s,
//! live notifications of new events, and soft delete, restore and purge.
//!
//! The database's log (`audit.events`) is written by a trigger (migrations 0003 and 0004);
//! nothing here writes to it directly. Who acted and from where reach the trigger through
//! transaction-local settings, `pglab.actor_id` (a user) or `pglab.system_actor` (a job, the
//! lab itself: never a person) and `pglab.client_addr`: set with `set_config(…, true)`, they
//! end with the transaction and cannot leak to the next one on a pooled connection.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Postgres, QueryBuilder, Transaction};

use super::Error;
use crate::audit::{ActorOrgs, AuditEvent, Capture, Filter, Operation};

/// The channel the audit trigger notifies, with the new event's id as payload.
pub const CHANNEL: &str = "pglab_audit";

/// The most events one read returns.
pub const MAX_LIMIT: i64 = 10_000;

/// Who is acting, as an application's request middleware knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The application user's id.
    pub id: i64,
    /// Where the request came from; without it the log records the database client's
    /// address (the application server's, not the person's).
    pub client_addr: Option<IpAddr>,
}

/// The system actor the lab's own changes are recorded under (putting the story's rows back
/// before a replay): it reads as the lab, never as a person of the story.
pub const LAB_RESET: &str = "pglab (reset)";

/// Opens a transaction that the audit trigger attributes to `actor`. Everything run in it
/// is logged with the actor's id and address; committing or rolling back ends both.
pub async fn begin_as<'c>(
    conn: &'c mut PgConnection,
    actor: Actor,
) -> Result<Transaction<'c, Postgres>, Error> {
    let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
    sqlx::query(
        "select set_config('pglab.actor_id', $1, true),
                set_config('pglab.client_addr', coalesce($2, ''), true)",
    )
    .bind(actor.id.to_string())
    .bind(actor.client_addr.map(|a| a.to_string()))
    .execute(&mut *tx)
    .await
    .map_err(Error::sql("cannot declare who is acting"))?;
    Ok(tx)
}

/// Runs `work` in one transaction attributed to `actor` and commits it; when `work` fails,
/// the transaction is rolled back and the error returned.
pub async fn within_actor<T>(
    conn: &mut PgConnection,
    actor: Actor,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tx = begin_as(conn, actor).await?;
    let value = work(&mut tx).await?;
    tx.commit()
        .await
        .map_err(Error::sql("cannot commit the audited change"))?;
    Ok(value)
}

/// Opens a transaction that the audit trigger attributes to the system actor `name` (a job,
/// the lab itself) instead of a user: its events carry the name and no user id, and the
/// client's own address.
pub async fn begin_as_system<'c>(
    conn: &'c mut PgConnection,
    name: &str,
) -> Result<Transaction<'c, Postgres>, Error> {
    let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
    sqlx::query("select set_config('pglab.system_actor', $1, true)")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(Error::sql("cannot declare the system actor"))?;
    Ok(tx)
}

/// Runs `work` in one transaction attributed to the system actor `name` and commits it;
/// when `work` fails, the transaction is rolled back and the error returned.
pub async fn within_system<T>(
    conn: &mut PgConnection,
    name: &str,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tx = begin_as_system(conn, name).await?;
    let value = work(&mut tx).await?;
    tx.commit()
        .await
        .map_err(Error::sql("cannot commit the audited change"))?;
    Ok(value)
}

/// The verbs of the application's log (`lab.audit_logs.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAction {
    Create,
    Update,
    Delete,
    Restore,
}

impl AppAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AppAction::Create => "create",
            AppAction::Update => "update",
            AppAction::Delete => "delete",
            AppAction::Restore => "restore",
        }
    }

    /// The row-level action it amounts to: a restore updates `deleted_at`.
    pub fn row_action(self) -> Operation {
        match self {
            AppAction::Create => Operation::Insert,
            AppAction::Update | AppAction::Restore => Operation::Update,
            AppAction::Delete => Operation::Delete,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            AppAction::Create,
            AppAction::Update,
            AppAction::Delete,
            AppAction::Restore,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

/// One row of the application's log: what the application's code says it did.
#[derive(Debug, Clone, PartialEq)]
pub struct AppChange<'a> {
    pub action: AppAction,
    pub table: &'a str,
    pub record_id: i64,
    pub organization_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub ip: Option<IpAddr>,
    pub old: Option<&'a Value>,
    pub new: Option<&'a Value>,
}

/// Writes one row to `lab.audit_logs`, the way an application logs its own changes (and
/// only those it remembers to). Returns the row's id.
pub async fn log_app_change(conn: &mut PgConnection, change: &AppChange<'_>) -> Result<i64, Error> {
    let (id,): (i64,) = sqlx::query_as(
        "insert into audit_logs (organization_id, actor_id, action, table_name, record_id,
                                 old_values, new_values, ip_address)
         values ($1, $2, $3, $4, $5, $6, $7, $8::inet)
         returning id",
    )
    .bind(change.organization_id)
    .bind(change.actor_id)
    .bind(change.action.as_str())
    .bind(change.table)
    .bind(change.record_id)
    .bind(change.old)
    .bind(change.new)
    .bind(change.ip.map(|a| a.to_string()))
    .fetch_one(conn)
    .await
    .map_err(Error::sql("cannot write to audit_logs"))?;
    Ok(id)
}

/// Events the trigger wrote to `audit.events` that pass `filter` (its window counted back
/// from now), newest first, at most `limit` (clamped to 1..=[`MAX_LIMIT`]).
pub async fn events(
    conn: &mut PgConnection,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<AuditEvent>, Error> {
    let mut query = QueryBuilder::<Postgres>::new(format!("{TRIGGER_EVENTS} where true"));
    push_filter(&mut query, filter, limit, "occurred_at");
    let rows: Vec<EventRow> = query
        .build_query_as()
        .fetch_all(conn)
        .await
        .map_err(Error::sql("cannot read audit.events"))?;
    Ok(rows.into_iter().filter_map(trigger_event).collect())
}

/// The trigger's log, in the column order [`EventRow`] reads.
const TRIGGER_EVENTS: &str = "select id, occurred_at, table_name, record_id, action,
        organization_id, actor_id, system_actor, host(client_addr), db_user, old_values,
        new_values, changed_fields
   from audit.events";

/// Trigger events written after event `after` (by id), newest first, at most `limit`: what
/// a viewer following the log has not seen yet.
pub async fn events_after(
    conn: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEvent>, Error> {
    let mut query = QueryBuilder::<Postgres>::new(format!("{TRIGGER_EVENTS} where id > "));
    query
        .push_bind(after)
        .push(" order by id desc limit ")
        .push_bind(limit.clamp(1, MAX_LIMIT));
    let rows: Vec<EventRow> = query
        .build_query_as()
        .fetch_all(conn)
        .await
        .map_err(Error::sql("cannot read audit.events"))?;
    Ok(rows.into_iter().filter_map(trigger_event).collect())
}

/// Rows the application wrote to `lab.audit_logs`, newest first, as events with
/// [`Capture::App`]. The application's log has no database user and no list of changed
/// columns; `changed` is computed from its old and new values.
pub async fn app_events(
    conn: &mut PgConnection,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<AuditEvent>, Error> {
    let mut query = QueryBuilder::<Postgres>::new(
        "select id, created_at, table_name, record_id, action, organization_id, actor_id,
                null::text, host(ip_address), null::text, old_values, new_values, null::text[]
           from audit_logs where true",
    );
    push_filter(&mut query, filter, limit, "created_at");
    let rows: Vec<EventRow> = query
        .build_query_as()
        .fetch_all(conn)
        .await
        .map_err(Error::sql("cannot read audit_logs"))?;
    Ok(rows.into_iter().filter_map(app_event).collect())
}

/// Both logs share column names for the filter, except the time column.
fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &Filter, limit: i64, time_column: &str) {
    let filter = filter.resolved(Utc::now());
    if let Some((table, id)) = &filter.record {
        query.push(" and table_name = ").push_bind(table.clone());
        query.push(" and record_id = ").push_bind(*id);
    }
    if let Some(table) = &filter.table {
        query.push(" and table_name = ").push_bind(table.clone());
    }
    if let Some(actor) = filter.actor {
        query.push(" and actor_id = ").push_bind(actor);
    }
    if let Some(since) = filter.since {
        query
            .push(format!(" and {time_column} >= "))
            .push_bind(since);
    }
    query
        .push(" order by id desc limit ")
        .push_bind(limit.clamp(1, MAX_LIMIT));
}

/// Every user's organization, for the rule that flags a change to another tenant's row.
pub async fn actor_organizations(conn: &mut PgConnection) -> Result<ActorOrgs, Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("select id, organization_id from users")
        .fetch_all(conn)
        .await
        .map_err(Error::sql("cannot read the users' organizations"))?;
    Ok(rows.into_iter().collect())
}

type EventRow = (
    i64,
    DateTime<Utc>,
    String,
    Option<i64>,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Value>,
    Option<Value>,
    Option<Vec<String>>,
);

/// `None` only for a row the table's check constraint forbids (an unknown action).
fn trigger_event(row: EventRow) -> Option<AuditEvent> {
    let (id, at, table, record_id, action, org, actor, system, addr, db_user, old, new, changed) =
        row;
    Some(AuditEvent {
        id,
        at,
        capture: Capture::Trigger,
        table,
        record_id: record_id.unwrap_or_default(),
        action: Operation::parse(&action)?,
        organization_id: org,
        actor_id: actor,
        system_actor: system,
        client_addr: addr,
        db_user,
        old: old.and_then(into_object),
        new: new.and_then(into_object),
        changed: changed.unwrap_or_default(),
    })
}

fn app_event(row: EventRow) -> Option<AuditEvent> {
    let (id, at, table, record_id, action, org, actor, _, addr, _, old, new, _) = row;
    let action = AppAction::parse(&action)?.row_action();
    let old = old.and_then(into_object);
    let new = new.and_then(into_object);
    let changed = match (action, &old, &new) {
        (Operation::Update, Some(old), Some(new)) => changed_keys(old, new),
        _ => Vec::new(),
    };
    Some(AuditEvent {
        id,
        at,
        capture: Capture::App,
        table,
        record_id: record_id.unwrap_or_default(),
        action,
        organization_id: org,
        actor_id: actor,
        system_actor: None,
        client_addr: addr,
        db_user: None,
        old,
        new,
        changed,
    })
}

fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Keys whose values differ between `old` and `new` (present in only one counts): those of
/// `new` in its order, then those only `old` has.
pub fn changed_keys(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<String> {
    let in_new = new
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(*value))
        .map(|(key, _)| key.clone());
    let only_old = old.keys().filter(|key| !new.contains_key(*key)).cloned();
    in_new.chain(only_old).collect()
}

/// New events as they are committed: the ids the audit trigger announces on [`CHANNEL`].
/// An id arrives only once its transaction commits. If the connection drops, the listener
/// reconnects and listens again, but ids sent meanwhile are lost: after a gap, read
/// [`events`] again.
pub struct Listener {
    inner: PgListener,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("channel", &CHANNEL)
            .finish()
    }
}

/// Starts listening for new audit events on a connection of its own.
pub async fn listen(options: &PgConnectOptions) -> Result<Listener, Error> {
    // A pool of one that never pings: the listener uses it only to reconnect.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(Error::sql("cannot connect to listen for audit events"))?;
    let mut inner = PgListener::connect_with(&pool)
        .await
        .map_err(Error::sql("cannot connect to listen for audit events"))?;
    inner.ignore_pool_close_event(true);
    inner
        .listen(CHANNEL)
        .await
        .map_err(Error::sql("cannot listen for audit events"))?;
    Ok(Listener { inner })
}

impl Listener {
    /// Waits for the next event's id. Notifications on the channel that are not an id
    /// (anyone may `notify pglab_audit, 'hello'`) are skipped.
    pub async fn next_id(&mut self) -> Result<i64, Error> {
        loop {
            let notification = self
                .inner
                .recv()
                .await
                .map_err(Error::sql("lost the audit event listener"))?;
            if let Ok(id) = notification.payload().parse() {
                return Ok(id);
            }
        }
    }
}

/// The tables that have `deleted_at` (names from pglab's code, never from input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftTable {
    Users,
    Posts,
}

impl SoftTable {
    pub fn name(self) -> &'static str {
        match self {
            SoftTable::Users => "users",
            SoftTable::Posts => "posts",
        }
    }
}

/// Marks a live row deleted. `false` when there is no such live row.
pub async fn soft_delete(
    conn: &mut PgConnection,
    table: SoftTable,
    id: i64,
) -> Result<bool, Error> {
    // The table name comes from pglab's code (`SoftTable`), never from input.
    let sql = format!(
        "update {} set deleted_at = now() where id = $1 and deleted_at is null",
        table.name()
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .execute(conn)
        .await
        .map_err(Error::sql("cannot soft-delete the row"))?;
    Ok(done.rows_affected() == 1)
}

/// Brings a soft-deleted row back. `false` when there is no such deleted row. A user whose
/// email a live user has taken meanwhile cannot come back; the error names that user.
pub async fn restore(conn: &mut PgConnection, table: SoftTable, id: i64) -> Result<bool, Error> {
    if table == SoftTable::Users {
        let holder: Option<(i64, String)> = sqlx::query_as(
            "select live.id, live.email from users gone
               join users live on live.email = gone.email and live.deleted_at is null
              where gone.id = $1 and gone.deleted_at is not null",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::sql("cannot check the email of the user to restore"))?;
        if let Some((holder, email)) = holder {
            return Err(Error::Refused(format!(
                "user {id} cannot be restored: their email {email} now belongs to live user \
                 {holder}; change one of the two emails first"
            )));
        }
    }
    let sql = format!(
        "update {} set deleted_at = null where id = $1 and deleted_at is not null",
        table.name()
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .execute(conn)
        .await
        .map_err(Error::sql("cannot restore the row"))?;
    Ok(done.rows_affected() == 1)
}

/// What one purge moved to the archive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purged {
    pub posts: i64,
    pub users: i64,
    /// Users past retention that stay because posts still reference them.
    pub users_kept: Vec<i64>,
}

/// Moves rows soft-deleted more than `retention` ago to `users_archive` and
/// `posts_archive`, in one transaction (`purge_deleted` in migration 0003).
pub async fn purge(conn: &mut PgConnection, retention: Duration) -> Result<Purged, Error> {
    let (posts, users, users_kept): (i64, i64, Vec<i64>) = sqlx::query_as(
        "select posts_archived, users_archived, users_kept
           from purge_deleted(make_interval(secs => $1))",
    )
    .bind(retention.as_secs_f64())
    .fetch_one(conn)
    .await
    .map_err(Error::sql("cannot purge the soft-deleted rows"))?;
    Ok(Purged {
        posts,
        users,
        users_kept,
    })
}
