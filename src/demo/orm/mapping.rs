//! `orm.mapping`: the model ↔ table mapping read from the catalog. Each column of `users`
//! with its PostgreSQL type, nullability, key, uniqueness and default, then the type a model
//! field takes for it in Rust (sqlx), SQLAlchemy and TypeScript (Prisma's client). Then what
//! a mismatch looks like from both sides: the chapter's model (`username String(80)`,
//! unique, not null) as a temporary table, refusing a value too long, a NULL and a duplicate
//! with the server's SQLSTATE; and a nullable column read into a field that cannot hold NULL.

use sqlx::postgres::PgConnection;

use super::*;
use crate::demo::{refusal, refusal_lines, sql};

/// Every column of `users` and what the catalog says about it.
const COLUMNS: &str = "select a.attname::text as name,
       format_type(a.atttypid, a.atttypmod) as pg_type, a.attnotnull as not_null,
       coalesce(case when a.attidentity <> '' then 'identity' end,
                pg_get_expr(d.adbin, d.adrelid), '') as default_value,
       coalesce((select case when i.indisprimary then 'pk'
                             when i.indpred is not null then 'unique*'
                             else 'unique' end
                   from pg_index i
                  where i.indrelid = a.attrelid and i.indisunique and i.indnkeyatts = 1
                    and i.indkey[0] = a.attnum
                  order by i.indisprimary desc limit 1), '') as key
  from pg_attribute a
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where a.attrelid = 'users'::regclass and a.attnum > 0 and not a.attisdropped
 order by a.attnum";

/// The chapter's model, as the table SQLAlchemy's `create_all()` would make for it.
const MODEL_TABLE: &str = "create temp table model_users (
    id bigint generated always as identity primary key,
    username varchar(80) not null unique,
    email varchar(120) not null)";

/// A column as the catalog has it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Column {
    name: String,
    pg_type: String,
    not_null: bool,
    default_value: String,
    key: String,
}

/// The field types for a column of type `pg_type`: Rust, SQLAlchemy, TypeScript.
fn field_types(pg_type: &str, not_null: bool) -> [String; 3] {
    let (rust, alchemy, ts) = match pg_type {
        "bigint" => ("i64", "BigInteger".to_string(), "bigint"),
        "integer" => ("i32", "Integer".into(), "number"),
        "boolean" => ("bool", "Boolean".into(), "boolean"),
        "text" => ("String", "Text".into(), "string"),
        "timestamp with time zone" => ("DateTime<Utc>", "DateTime(True)".into(), "Date"),
        other => match other.strip_prefix("character varying") {
            Some(length) => ("String", format!("String{length}"), "string"),
            None => ("?", "?".into(), "?"),
        },
    };
    match not_null {
        true => [rust.into(), alchemy, ts.into()],
        false => [
            format!("Option<{rust}>"),
            format!("{alchemy}, null"),
            format!("{ts} | null"),
        ],
    }
}

/// `timestamp with time zone` is too wide for the table: `timestamptz`, as psql users say.
fn short(pg_type: &str) -> &str {
    match pg_type {
        "timestamp with time zone" => "timestamptz",
        other => other,
    }
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "orm.mapping";
    let org = current.organization_id;
    say(progress, "reading users from the catalog");
    let (columns, _) = lab
        .step("the catalog", async |conn| {
            sqlx::query_as::<_, Column>(COLUMNS).fetch_all(conn).await
        })
        .await;
    let columns = columns.map_err(sql(DEMO, "reading the catalog"))?;
    let mut lines = vec![
        "users, from the catalog:".to_string(),
        format!(
            "  {:<16}{:<13}{:<10}{:<9}{}",
            "column", "postgres", "nullable", "key", "default"
        ),
    ];
    for c in &columns {
        lines.push(format!(
            "  {:<16}{:<13}{:<10}{:<9}{}",
            c.name,
            short(&c.pg_type),
            if c.not_null { "no" } else { "yes" },
            c.key,
            c.default_value
        ));
    }
    if columns.iter().any(|c| c.key == "unique*") {
        lines.push("  unique*: unique among the rows the index covers (a partial index)".into());
    }
    lines.push(String::new());
    lines.push("The model's field for each, in three languages:".into());
    lines.push(format!(
        "  {:<16}{:<22}{:<22}{}",
        "field", "Rust (sqlx)", "SQLAlchemy", "TypeScript"
    ));
    for c in &columns {
        let [rust, alchemy, ts] = field_types(&c.pg_type, c.not_null);
        lines.push(format!("  {:<16}{rust:<22}{alchemy:<22}{ts}", c.name));
    }
    if let Some(username) = columns.iter().find(|c| c.name == "username") {
        lines.push(String::new());
        lines.push(format!(
            "The chapter's model says username String(80); this table says {}, which \
             has no length limit. A model and its table can disagree, and then the table \
             decides. Here is the chapter's table, as a temporary one:",
            username.pg_type
        ));
    }
    lines.extend(sql_lines(MODEL_TABLE, "  "));
    let (made, _) = lab
        .step("the model's table", async |conn| {
            exec(conn, DEMO, "creating the model's table", MODEL_TABLE).await
        })
        .await;
    made?;
    let long = "a".repeat(81);
    let attempts: [(&str, Option<&str>, usize); 3] = [
        ("a username of 81 characters", Some(long.as_str()), 1),
        ("no username (None in the model)", None, 1),
        ("the username alice, twice", Some("alice"), 2),
    ];
    say(progress, "values that do not fit");
    for (what, username, times) in attempts {
        let (outcome, _) = lab
            .step(what, async |conn| {
                insert_model_user(conn, username, times).await
            })
            .await;
        let refused = refusal(DEMO, "inserting into the model's table", outcome)?;
        lines.push(String::new());
        lines.push(format!("insert {what}:"));
        match refused {
            Some(failure) => lines.extend(refusal_lines(&failure)),
            None => lines.push("  ✓ inserted".into()),
        }
    }
    lines.push(String::new());
    lines.push("And from the other side, a nullable column read into a field that is not:".into());
    lines.push("  let deleted: DateTime<Utc> = query_scalar(\"select deleted_at …\")".into());
    lines.push("  (of a live user: deleted_at is NULL)".into());
    let (read, _) = lab
        .step("NULL into a non-Option field", async |conn| {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
                "select deleted_at from users
                  where organization_id = $1 and deleted_at is null order by id limit 1",
            )
            .bind(org)
            .fetch_one(conn)
            .await
        })
        .await;
    match read {
        Ok(_) => lines.push("  ✓ read".into()),
        Err(e) => lines.push(format!("  ✗ sqlx: {e}")),
    }
    lines.push(String::new());
    lines.push(
        "The server checked every value against the table, whatever the model said; the \
         driver refused the NULL before the code saw it. Option<…>, nullable=True and \
         `| null` are the same fact written three ways."
            .into(),
    );
    Ok(("The model and the table, side by side".into(), lines))
}

/// Inserts a user `times` times into the model's table inside a savepoint, so a refusal
/// does not end the demo's transaction.
async fn insert_model_user(
    conn: &mut PgConnection,
    username: Option<&str>,
    times: usize,
) -> sqlx::Result<()> {
    sqlx::raw_sql("savepoint attempt")
        .execute(&mut *conn)
        .await?;
    let mut outcome = Ok(());
    for n in 1..=times {
        outcome = sqlx::query("insert into model_users (username, email) values ($1, $2)")
            .bind(username)
            .bind(format!("user{n}@lab.test"))
            .execute(&mut *conn)
            .await
            .map(|_| ());
        if outcome.is_err() {
            break;
        }
    }
    sqlx::raw_sql("rollback to savepoint attempt")
        .execute(&mut *conn)
        .await?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_each_language_and_null_to_an_option() {
        assert_eq!(field_types("bigint", true), ["i64", "BigInteger", "bigint"]);
        assert_eq!(
            field_types("character varying(80)", true),
            ["String", "String(80)", "string"]
        );
        assert_eq!(
            field_types("timestamp with time zone", false),
            [
                "Option<DateTime<Utc>>",
                "DateTime(True), null",
                "Date | null"
            ]
        );
    }
}
