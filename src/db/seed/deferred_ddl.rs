//! Dropping a table's indexes and key constraints before a bulk load and building them again
//! afterwards — PostgreSQL's own advice for populating a database, because sorting once is
//! far cheaper than inserting a million keys one by one.
//!
//! The audit trigger (`audit.capture`) is switched off for the load the same way, and back
//! on with the foreign keys.
//!
//! The rebuild statements come from the catalog (`pg_get_indexdef`, `pg_get_constraintdef`),
//! so indexes a learner added are rebuilt too. They are stored in `pglab.deferred_ddl` in the
//! same transaction as the drops, and deleted one by one as each succeeds: an interrupted
//! load loses nothing, and [`restore`] finishes it at the next start.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::db::Error;
use crate::db::lab::connect;

/// Memory for each index build; sorting in memory instead of on disk halves build time.
const INDEX_BUILD_MEMORY: &str = "256MB";

/// Drops the primary keys, unique constraints, plain indexes and foreign keys (both ways) of
/// `tables`, after saving the statements that recreate them. Check and exclusion constraints
/// stay: they cost little per row.
pub async fn defer(conn: &mut PgConnection, tables: &[String]) -> Result<(), Error> {
    let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
    // With only pg_catalog on the path, the catalog functions write every name qualified,
    // so the saved statements mean the same on any connection, whatever its search_path.
    sqlx::raw_sql("set local search_path = pg_catalog")
        .execute(&mut *tx)
        .await
        .map_err(Error::sql("cannot prepare the index drops"))?;
    sqlx::query(SAVE_REBUILDS)
        .bind(tables)
        .execute(&mut *tx)
        .await
        .map_err(Error::sql("cannot record the indexes to rebuild"))?;
    let drops: Vec<(String,)> = sqlx::query_as(LIST_DROPS)
        .bind(tables)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::sql("cannot list the indexes to drop"))?;
    for (statement,) in drops {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await
            .map_err(Error::sql("cannot drop an index before loading"))?;
    }
    tx.commit()
        .await
        .map_err(Error::sql("cannot commit the index drops"))
}

/// How many rebuild statements are waiting (non-zero after an interrupted load).
pub async fn pending(conn: &mut PgConnection) -> Result<i64, Error> {
    let (count,): (i64,) = sqlx::query_as("select count(*) from pglab.deferred_ddl")
        .fetch_one(conn)
        .await
        .map_err(Error::sql("cannot read pglab.deferred_ddl"))?;
    Ok(count)
}

/// Runs every waiting rebuild statement: index builds on `workers` connections side by side,
/// then the constraints in order. `progress` gets (done, total) after each statement.
pub async fn restore(
    options: &PgConnectOptions,
    workers: usize,
    progress: impl FnMut(i64, i64),
) -> Result<(), Error> {
    let mut conns = Vec::with_capacity(workers.max(1));
    for _ in 0..workers.max(1) {
        conns.push(connect(options).await?);
    }
    restore_on(&mut conns, progress).await?;
    for conn in conns {
        let _ = conn.close().await;
    }
    Ok(())
}

/// Finishes an interrupted load's rebuilds on one connection (at start-up). Does nothing
/// while a load is running: its rebuilds are its own.
pub async fn finish_interrupted(conn: &mut PgConnection) -> Result<(), Error> {
    if pending(conn).await? == 0 {
        return Ok(());
    }
    let (is_mine,): (bool,) = sqlx::query_as("select pg_try_advisory_lock($1)")
        .bind(LOAD_LOCK)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::sql("cannot check for a running load"))?;
    if !is_mine {
        return Ok(());
    }
    let finished = restore_on(std::slice::from_mut(conn), |_, _| {}).await;
    let _ = sqlx::query("select pg_advisory_unlock($1)")
        .bind(LOAD_LOCK)
        .execute(&mut *conn)
        .await;
    finished
}

/// Held (session-level) by a running load, from before it reads the tables until its
/// indexes are back: one load at a time, and nobody else rebuilds under its feet.
pub const LOAD_LOCK: i64 = 0x70_67_6c_61_62_73; // "pglabs"

/// Waits until no other load runs, then holds [`LOAD_LOCK`] until `conn` closes.
pub async fn lock_load(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::query("select pg_advisory_lock($1)")
        .bind(LOAD_LOCK)
        .execute(conn)
        .await
        .map_err(Error::sql("cannot take the load lock"))?;
    Ok(())
}

async fn restore_on(
    conns: &mut [PgConnection],
    mut progress: impl FnMut(i64, i64),
) -> Result<(), Error> {
    let side_by_side = conns.len() > 1;
    for conn in conns.iter_mut() {
        sqlx::query(
            "select set_config('maintenance_work_mem', $1, false),
                    set_config('max_parallel_maintenance_workers', $2, false),
                    set_config('synchronous_commit', 'off', false)",
        )
        .bind(INDEX_BUILD_MEMORY)
        // Several builds side by side already use the cores.
        .bind(if side_by_side { "0" } else { "2" })
        .execute(&mut *conn)
        .await
        .map_err(Error::sql("cannot configure an index build"))?;
    }
    let Some((first, _)) = conns.split_first_mut() else {
        return Ok(());
    };
    let total = pending(first).await?;
    progress(0, total);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let builds = async {
        let runs = conns
            .iter_mut()
            .map(|conn| run_phase(conn, 1, done_tx.clone()));
        futures::future::try_join_all(runs).await?;
        run_phase(&mut conns[0], 2, done_tx.clone()).await?;
        run_phase(&mut conns[0], 3, done_tx.clone()).await?;
        drop(done_tx);
        Ok::<_, Error>(())
    };
    let report = async {
        let mut done = 0;
        while done_rx.recv().await.is_some() {
            done += 1;
            progress(done, total);
        }
    };
    let (result, ()) = tokio::join!(builds, report);
    result
}

/// Takes statements of `phase` one at a time (`skip locked`: each connection gets a
/// different one) until none is left.
async fn run_phase(
    conn: &mut PgConnection,
    phase: i16,
    done: tokio::sync::mpsc::UnboundedSender<()>,
) -> Result<(), Error> {
    loop {
        let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
        let next: Option<(i64, String)> = sqlx::query_as(
            "select id, statement from pglab.deferred_ddl where phase = $1
              order by id limit 1 for update skip locked",
        )
        .bind(phase)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::sql("cannot read pglab.deferred_ddl"))?;
        let Some((id, statement)) = next else {
            return tx
                .rollback()
                .await
                .map_err(Error::sql("cannot end a transaction"));
        };
        if let Err(cause) = sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut *tx)
            .await
        {
            return Err(Error::Rebuild { statement, cause });
        }
        sqlx::query("delete from pglab.deferred_ddl where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(Error::sql("cannot update pglab.deferred_ddl"))?;
        tx.commit()
            .await
            .map_err(Error::sql("cannot commit a rebuild"))?;
        let _ = done.send(());
    }
}

/// Phase 1: every index of the tables (those behind primary keys and unique constraints
/// included); phase 2: attach those as constraints again; phase 3: foreign keys from and to
/// the tables, and the audit trigger back on. `$1` is the list of table names.
const SAVE_REBUILDS: &str = "
insert into pglab.deferred_ddl (phase, statement)
select phase, statement from (
    select 1 as phase, pg_get_indexdef(i.indexrelid) as statement, i.indexrelid::int8 as seq
      from pg_index i
      left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = i.indrelid
     where i.indrelid = any($1::regclass[])
       and (c.oid is null or (c.contype in ('p', 'u') and not c.condeferrable))
    union all
    select 2, format('alter table %s add constraint %I %s using index %I',
                     c.conrelid::regclass, c.conname,
                     case c.contype when 'p' then 'primary key' else 'unique' end,
                     c.conname), c.oid::int8
      from pg_constraint c
     where c.conrelid = any($1::regclass[]) and c.contype in ('p', 'u') and not c.condeferrable
    union all
    select 3, format('alter table %s add constraint %I %s',
                     c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)), c.oid::int8
      from pg_constraint c
     where c.contype = 'f'
       and (c.conrelid = any($1::regclass[]) or c.confrelid = any($1::regclass[]))
    union all
    select 3, format('alter table %s enable trigger %I', t.tgrelid::regclass, t.tgname),
           t.oid::int8
      from pg_trigger t
     where t.tgrelid = any($1::regclass[]) and t.tgenabled = 'O'
       and t.tgfoid = to_regprocedure('audit.capture()')
) rebuilds
order by phase, seq";

/// The audit trigger off first (a generated load is not a change anyone made, and a million
/// events would dwarf it), then foreign keys (they depend on the keys), then keys, then the
/// remaining indexes.
const LIST_DROPS: &str = "
select statement from (
    select 0 as step,
           format('alter table %s disable trigger %I', t.tgrelid::regclass, t.tgname) as statement
      from pg_trigger t
     where t.tgrelid = any($1::regclass[]) and t.tgenabled = 'O'
       and t.tgfoid = to_regprocedure('audit.capture()')
    union all
    select 1, format('alter table %s drop constraint if exists %I',
                     c.conrelid::regclass, c.conname)
      from pg_constraint c
     where c.contype = 'f'
       and (c.conrelid = any($1::regclass[]) or c.confrelid = any($1::regclass[]))
    union all
    select 2, format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname)
      from pg_constraint c
     where c.conrelid = any($1::regclass[]) and c.contype in ('p', 'u') and not c.condeferrable
    union all
    select 3, format('drop index %s', i.indexrelid::regclass)
      from pg_index i
     where i.indrelid = any($1::regclass[])
       and not exists (select 1 from pg_constraint c
                        where c.conindid = i.indexrelid and c.conrelid = i.indrelid)
) drops
order by step";
