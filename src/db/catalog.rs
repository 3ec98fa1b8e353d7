//! Facts about the lab's tables read from the live catalog, for the proxy's lint: which
//! tables belong to a tenant (they have `organization_id`) and which are soft-deleted (they
//! have `deleted_at`). Read, never assumed: a table a lesson adds counts as soon as it exists.
//!
//! pglab's own schemas are not the application's tables and are left out: `audit.events` has
//! an `organization_id`, but it is written by a trigger, never by a statement through the
//! proxy, and its own triggers refuse every update and delete, so "one tenant can change
//! another's rows" would be false there; `pglab` is the lab's bookkeeping.

use sqlx::postgres::PgConnection;

use super::Error;
use crate::sql::lint::TableFacts;

/// The tables (not views) in every schema but the system's and pglab's own, by name, with
/// their tenancy and soft-delete columns.
pub async fn table_facts(conn: &mut PgConnection) -> Result<TableFacts, Error> {
    let tables: Vec<(String, bool, bool)> = sqlx::query_as(
        "select c.relname::text,
                bool_or(a.attname = 'organization_id'),
                bool_or(a.attname = 'deleted_at')
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
          where c.relkind in ('r', 'p')
            and n.nspname not in ('pg_catalog', 'information_schema', 'audit', 'pglab')
            and n.nspname not like 'pg\\_%'
          group by c.relname",
    )
    .fetch_all(conn)
    .await
    .map_err(Error::sql(
        "cannot read which tables have tenants and soft deletes",
    ))?;
    let tenant = tables.iter().filter(|t| t.1).map(|t| t.0.clone());
    let soft_delete = tables.iter().filter(|t| t.2).map(|t| t.0.clone());
    Ok(TableFacts::new(tenant, soft_delete))
}
