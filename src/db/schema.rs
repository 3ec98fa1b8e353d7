//! Reading the schema map from the live catalog, as whoever is connected (the learner, in
//! the lab): what that role can see is what the map shows. A setting or a size the role may
//! not read comes back as `None` rather than failing the read — `pg_settings` leaves out
//! the settings a role may not see, and a database's size is asked for only when the role
//! may connect to it.

use sqlx::postgres::PgConnection;

use super::Error;
use crate::data::schema::{
    Column, Database, ForeignKey, MAX_DATABASES, MAX_DRAWN_TABLES, MAX_LISTED_TABLES, Schema,
    SchemaMap, Server, Table, UniqueGroup, short_type,
};

/// The map of the connected database, drawing the tables of `drawn_schema` in full: those
/// named in `only`, or when it is empty the first [`MAX_DRAWN_TABLES`] by name.
pub async fn read(
    conn: &mut PgConnection,
    drawn_schema: &str,
    only: &[String],
) -> Result<SchemaMap, Error> {
    let (version, data_directory): (String, Option<String>) = sqlx::query_as(
        "select current_setting('server_version'),
                (select setting from pg_settings where name = 'data_directory')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the server's version"))?;
    // One more than shown, to know whether any were left out; sizes are asked only of
    // the databases shown (each size walks that database's files).
    let (databases, databases_left_out): (Vec<(String, Option<i64>, bool)>, i64) = {
        let shown: Vec<(String, Option<i64>, bool)> = sqlx::query_as(
            "select datname::text,
                    case when has_database_privilege(oid, 'connect')
                         then pg_database_size(oid) end,
                    datname = current_database()
               from (select oid, datname from pg_database
                      order by datname <> current_database(), datname
                      limit $1) d
              order by datname",
        )
        .bind(MAX_DATABASES as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(Error::sql("cannot read the server's databases"))?;
        let (all,): (i64,) = sqlx::query_as("select count(*) from pg_database")
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::sql("cannot count the server's databases"))?;
        let left_out = all - shown.len() as i64;
        (shown, left_out)
    };
    let schemas: Vec<(String, String, Vec<String>, i64)> = sqlx::query_as(
        "select n.nspname::text, pg_get_userbyid(n.nspowner)::text,
                coalesce((array_agg(c.relname::text order by c.relname)
                          filter (where c.oid is not null))[1:$2], '{}'),
                count(c.oid)
           from pg_namespace n
           left join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'p')
                               and not c.relispartition
          where n.nspname not in ('information_schema', 'pg_catalog', 'pg_toast')
            and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
          group by n.oid, n.nspname, n.nspowner
          order by n.nspname <> $1, n.nspname",
    )
    .bind(drawn_schema)
    .bind(MAX_LISTED_TABLES as i32)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the database's schemas"))?;
    let drawn_count = schemas
        .iter()
        .find(|(name, ..)| name == drawn_schema)
        .map_or(0, |(.., count)| *count as usize);
    let tables = tables(conn, drawn_schema, only).await?;
    Ok(SchemaMap {
        server: Server {
            version,
            data_directory,
        },
        databases: databases
            .into_iter()
            .map(|(name, size_bytes, current)| Database {
                name,
                size_bytes,
                current,
            })
            .collect(),
        databases_left_out: usize::try_from(databases_left_out).unwrap_or(0),
        schemas: schemas
            .into_iter()
            .map(|(name, owner, tables, count)| Schema {
                name,
                owner,
                tables,
                table_count: usize::try_from(count).unwrap_or(0),
            })
            .collect(),
        drawn_schema: drawn_schema.to_owned(),
        tables_left_out: drawn_count.saturating_sub(tables.len()),
        tables,
    })
}

/// The tables of `schema`, with their columns, keys and foreign keys (also the tables
/// view's catalog read).
pub(super) async fn tables(
    conn: &mut PgConnection,
    schema: &str,
    only: &[String],
) -> Result<Vec<Table>, Error> {
    // The tables drawn: every query below reads only these.
    let (drawn,): (Vec<String>,) = sqlx::query_as(
        "select coalesce(array_agg(relname order by relname), '{}')
           from (select c.relname::text as relname
                   from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
                    and (cardinality($3::text[]) = 0 or c.relname::text = any ($3))
                  order by c.relname limit $2) t",
    )
    .bind(schema)
    .bind(MAX_DRAWN_TABLES as i64)
    .bind(only)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the tables' names"))?;
    type ColumnRow = (String, String, String, bool, Option<String>, bool, bool);
    let columns: Vec<ColumnRow> = sqlx::query_as(
        "select c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                a.attnotnull,
                case when a.attidentity <> '' then 'identity'
                     when a.attgenerated <> '' then 'generated: ' || pg_get_expr(d.adbin, d.adrelid)
                     else pg_get_expr(d.adbin, d.adrelid) end,
                exists (select from pg_constraint k
                         where k.conrelid = c.oid and k.contype = 'p' and a.attnum = any (k.conkey)),
                exists (select from pg_index i
                         where i.indrelid = c.oid and i.indisunique and not i.indisprimary
                           and i.indnkeyatts = 1 and i.indkey[0] = a.attnum
                           and i.indpred is null and i.indexprs is null)
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
          where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
            and c.relname::text = any ($2)
          order by c.relname, a.attnum",
    )
    .bind(schema)
    .bind(&drawn)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the tables' columns"))?;
    type KeyRow = (String, String, Vec<String>, String, Vec<String>, String);
    let keys: Vec<KeyRow> = sqlx::query_as(
        "select c.relname::text, k.contype::text,
                array(select a.attname::text
                        from unnest(k.conkey) with ordinality as u(attnum, i)
                        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum
                       order by u.i),
                coalesce(case when rn.nspname = $1 then r.relname::text
                              else rn.nspname || '.' || r.relname end, ''),
                array(select a.attname::text
                        from unnest(coalesce(k.confkey, '{}')) with ordinality as u(attnum, i)
                        join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum
                       order by u.i),
                case k.confdeltype when 'a' then 'no action' when 'r' then 'restrict'
                     when 'c' then 'cascade' when 'n' then 'set null'
                     when 'd' then 'set default' else '' end
           from pg_constraint k
           join pg_class c on c.oid = k.conrelid
           join pg_namespace n on n.oid = c.relnamespace
           left join pg_class r on r.oid = k.confrelid
           left join pg_namespace rn on rn.oid = r.relnamespace
          where n.nspname = $1 and k.contype = 'f' and not c.relispartition
            and c.relname::text = any ($2)
          order by c.relname, k.contype, k.conname",
    )
    .bind(schema)
    .bind(&drawn)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the tables' keys"))?;
    let mut tables: Vec<Table> = Vec::new();
    for (table, name, data_type, not_null, default, primary_key, unique) in columns {
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(Table {
                name: table,
                columns: Vec::new(),
                unique_groups: Vec::new(),
                foreign_keys: Vec::new(),
            });
        }
        if let Some(t) = tables.last_mut() {
            t.columns.push(Column {
                name,
                data_type: short_type(&data_type),
                not_null,
                default,
                primary_key,
                unique,
            });
        }
    }
    for (table, _, columns, references, referenced_columns, on_delete) in keys {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.foreign_keys.push(ForeignKey {
                columns,
                references,
                referenced_columns,
                on_delete,
            });
        }
    }
    let groups: Vec<(String, Vec<String>, Option<String>)> = sqlx::query_as(
        "select c.relname::text,
                array(select pg_get_indexdef(i.indexrelid, k, true)
                        from generate_series(1, i.indnkeyatts) as k),
                pg_get_expr(i.indpred, i.indrelid, true)
           from pg_index i
           join pg_class c on c.oid = i.indrelid
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and i.indisunique and not i.indisprimary
            and (i.indnkeyatts > 1 or i.indpred is not null or i.indexprs is not null)
            and c.relname::text = any ($2)
          order by c.relname, i.indexrelid",
    )
    .bind(schema)
    .bind(&drawn)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot read the tables' unique indexes"))?;
    for (table, key, predicate) in groups {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.unique_groups.push(UniqueGroup { key, predicate });
        }
    }
    Ok(tables)
}
