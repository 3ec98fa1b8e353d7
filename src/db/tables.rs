//! Reading the live tables view: chosen tables of the lessons' schema with their first
//! rows, as whoever is connected (the learner, in the lab), on a connection the caller
//! opened for it. The columns shown are chosen from the catalog — `id`, the tenant column
//! `organization_id`, the other foreign-key columns, one naming column — so the rows fit
//! side by side; `deleted_at` becomes the row's deleted mark. Table names come from the
//! learner or a lesson: they are checked, found in the catalog first and quoted.

use sqlx::postgres::PgConnection;

use super::Error;
use crate::data::schema::Table;
use crate::data::tables::{
    MAX_CELL, MAX_ROWS, RowsOfTable, TableLink, TableRow, TablesSnapshot, cell, invalid_names,
};

/// Columns that name a row, in the order one is looked for.
const NAMING_COLUMNS: [&str; 5] = ["name", "username", "title", "slug", "email"];
/// Columns shown of a table that has none of the usual ones.
const FALLBACK_COLUMNS: usize = 3;
/// Table names listed when a wanted one is not there.
const LISTED_TABLES: i64 = 30;
/// Characters of a value read: enough to fill a cell of [`MAX_CELL`] display cells and know
/// it was cut, with room for zero-width characters.
const CELL_CHARS: usize = 4 * MAX_CELL;

/// `names` of `schema` with their rows, in that order, and the foreign keys among them.
/// A name that is not a table of `schema` is refused with the tables it has.
pub async fn read(
    conn: &mut PgConnection,
    schema: &str,
    names: &[String],
) -> Result<TablesSnapshot, Error> {
    if let Some(why) = invalid_names(names) {
        return Err(Error::Refused(format!("the tables view: {why}")));
    }
    let found = super::schema::tables(conn, schema, names).await?;
    let unknown: Vec<&str> = names
        .iter()
        .filter(|name| !found.iter().any(|t| &t.name == *name))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let (known,): (Vec<String>,) = sqlx::query_as(
            "select coalesce(array_agg(relname order by relname), '{}')
               from (select c.relname::text as relname
                       from pg_class c join pg_namespace n on n.oid = c.relnamespace
                      where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
                      order by c.relname limit $2) t",
        )
        .bind(schema)
        .bind(LISTED_TABLES)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::sql("cannot read the tables' names"))?;
        let known = if known.is_empty() {
            "none yet".to_owned()
        } else {
            known.join(", ")
        };
        return Err(Error::Refused(format!(
            "no table {} in schema {schema}; its tables are: {known}",
            unknown.join(", ")
        )));
    }
    let mut tables = Vec::new();
    for name in names {
        if let Some(table) = found.iter().find(|t| &t.name == name) {
            tables.push(rows(conn, schema, table).await?);
        }
    }
    let mut links = Vec::new();
    for name in names {
        let Some(table) = found.iter().find(|t| &t.name == name) else {
            continue;
        };
        for fk in &table.foreign_keys {
            if names.contains(&fk.references) {
                links.push(TableLink {
                    from_table: table.name.clone(),
                    from_columns: fk.columns.clone(),
                    to_table: fk.references.clone(),
                    to_columns: fk.referenced_columns.clone(),
                });
            }
        }
    }
    Ok(TablesSnapshot { tables, links })
}

/// The columns a table's rows show: `id`, `organization_id`, its other single-column
/// foreign keys, then one naming column; a table with none of them, its first columns.
/// `deleted_at` is never a column: it is the row's mark.
fn shown_columns(table: &Table) -> Vec<String> {
    let has = |name: &str| table.columns.iter().any(|c| c.name == name);
    let mut out: Vec<String> = ["id", "organization_id"]
        .into_iter()
        .filter(|name| has(name))
        .map(str::to_owned)
        .collect();
    for column in &table.columns {
        if table.foreign_key_of(&column.name).is_some() && !out.contains(&column.name) {
            out.push(column.name.clone());
        }
    }
    if let Some(naming) = NAMING_COLUMNS.into_iter().find(|name| has(name)) {
        out.push(naming.to_owned());
    }
    if out.is_empty() {
        out = table
            .columns
            .iter()
            .filter(|c| c.name != "deleted_at")
            .take(FALLBACK_COLUMNS)
            .map(|c| c.name.clone())
            .collect();
    }
    out
}

/// The column holding a row's tenant: `organization_id`, or `id` of `organizations`
/// itself; only a whole-number column can be one.
fn tenant_column(table: &Table, shown: &[String]) -> Option<usize> {
    let wanted = if table.name == "organizations" {
        "id"
    } else {
        "organization_id"
    };
    let column = table.columns.iter().find(|c| c.name == wanted)?;
    if !matches!(column.data_type.as_str(), "bigint" | "integer" | "smallint") {
        return None;
    }
    shown.iter().position(|c| c == wanted)
}

/// The first [`MAX_ROWS`] rows of `table` by `id` (or by its first shown column), and how
/// many there are in all.
async fn rows(conn: &mut PgConnection, schema: &str, table: &Table) -> Result<RowsOfTable, Error> {
    let columns = shown_columns(table);
    let tenant_column = tenant_column(table, &columns);
    let soft_deletes = table.columns.iter().any(|c| c.name == "deleted_at");
    let cells: Vec<String> = columns
        .iter()
        // Only the start of a value crosses: a cell shows a few characters of it.
        .map(|c| format!("left({}::text, {CELL_CHARS})", super::quote_ident(c)))
        .collect();
    let tenant = tenant_column.map_or_else(
        || "null::bigint".to_owned(),
        |i| format!("{}::bigint", super::quote_ident(&columns[i])),
    );
    let deleted = if soft_deletes {
        "deleted_at is not null"
    } else {
        "false"
    };
    let order = if columns.iter().any(|c| c == "id") {
        super::quote_ident("id")
    } else {
        "1".to_owned()
    };
    // Identifiers cannot be bound: they come from the catalog and are quoted. The count is
    // a subquery of its own: `count(*) over ()` would hold every row before the limit.
    let relation = format!(
        "{}.{}",
        super::quote_ident(schema),
        super::quote_ident(&table.name)
    );
    let sql = format!(
        "select array[{}], {tenant}, {deleted}, (select count(*) from {relation})
           from {relation} order by {order} limit $1",
        cells.join(", "),
    );
    // The shown cells, the tenant, deleted, and how many rows the table has.
    type RowRead = (Vec<Option<String>>, Option<i64>, bool, i64);
    let read: Vec<RowRead> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(MAX_ROWS as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::sql("cannot read the tables' rows"))?;
    let total = read.first().map_or(0, |r| r.3);
    let rows: Vec<TableRow> = read
        .into_iter()
        .map(|(cells, tenant, deleted, _)| TableRow {
            tenant,
            deleted,
            cells: cells.iter().map(|c| c.as_deref().map(cell)).collect(),
        })
        .collect();
    Ok(RowsOfTable {
        name: table.name.clone(),
        columns,
        tenant_column,
        soft_deletes,
        more: usize::try_from(total)
            .unwrap_or(0)
            .saturating_sub(rows.len()),
        rows,
    })
}
