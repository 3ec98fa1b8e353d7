//! `orm.model`: what a mapper does underneath, small enough to read whole. A model declares
//! its table once (columns, key, tenant, soft-delete column); its methods write the SQL: an
//! insert of the fields set, a select with a filter and the model's default scope, an update
//! of only the fields that changed. Every value is bound, never written into the text. The
//! demo runs them on the story's users and shows each generated statement beside the one the
//! proxy saw, which is what SQLAlchemy's `echo=True`, Django's `connection.queries` or
//! Prisma's query log would show for the same calls.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgConnection;

use super::*;
use crate::data::proxy::Statement;
use crate::demo::sql;

/// A model's declaration: what an ORM reads from `class User(Base)` or `#[derive(Model)]`.
struct Model {
    table: &'static str,
    key: &'static str,
    /// Every statement carries the tenant: the lesson before this one is why.
    tenant: &'static str,
    /// Reads leave out soft-deleted rows by default (a "default scope").
    deleted: &'static str,
    columns: &'static [&'static str],
}

const USER: Model = Model {
    table: "users",
    key: "id",
    tenant: "organization_id",
    deleted: "deleted_at",
    columns: &["id", "organization_id", "username", "email"],
};

/// A value the model binds.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A statement the model wrote and the values that go with it.
struct Generated {
    sql: String,
    values: Vec<Value>,
}

impl Model {
    /// `insert into users (a, b) values ($1, $2) returning id`.
    fn insert(&self, fields: &BTreeMap<&'static str, Value>) -> Generated {
        let names: Vec<&str> = fields.keys().copied().collect();
        let marks: Vec<String> = (1..=names.len()).map(|n| format!("${n}")).collect();
        Generated {
            sql: format!(
                "insert into {} ({}) values ({}) returning {}",
                self.table,
                names.join(", "),
                marks.join(", "),
                self.key
            ),
            values: fields.values().cloned().collect(),
        }
    }

    /// `select <columns> from users where organization_id = $1 and <filter> = $2 and
    /// deleted_at is null order by id`.
    fn select(&self, tenant: i64, filter: Option<(&'static str, Value)>) -> Generated {
        let mut conditions = vec![format!("{} = $1", self.tenant)];
        let mut values = vec![Value::Int(tenant)];
        if let Some((column, value)) = filter {
            conditions.push(format!("{column} = $2"));
            values.push(value);
        }
        conditions.push(format!("{} is null", self.deleted));
        Generated {
            sql: format!(
                "select {} from {} where {} order by {}",
                self.columns.join(", "),
                self.table,
                conditions.join(" and "),
                self.key
            ),
            values,
        }
    }

    /// `update users set a = $1 where id = $2 and organization_id = $3`: only `changed`.
    fn update(&self, id: i64, tenant: i64, changed: &BTreeMap<&'static str, Value>) -> Generated {
        let sets: Vec<String> = changed
            .keys()
            .enumerate()
            .map(|(n, column)| format!("{column} = ${}", n + 1))
            .collect();
        let n = changed.len();
        let mut values: Vec<Value> = changed.values().cloned().collect();
        values.extend([Value::Int(id), Value::Int(tenant)]);
        Generated {
            sql: format!(
                "update {} set {} where {} = ${} and {} = ${}",
                self.table,
                sets.join(", "),
                self.key,
                n + 1,
                self.tenant,
                n + 2
            ),
            values,
        }
    }
}

/// A user loaded by the model, remembering what was set since.
struct UserRecord {
    id: i64,
    organization_id: i64,
    fields: BTreeMap<&'static str, Value>,
    changed: BTreeMap<&'static str, Value>,
}

impl UserRecord {
    fn set(&mut self, column: &'static str, value: Value) {
        if self.fields.get(column) != Some(&value) {
            self.changed.insert(column, value.clone());
        }
        self.fields.insert(column, value);
    }
}

/// Runs a generated statement with its values bound; the rows it returned.
async fn execute(
    conn: &mut PgConnection,
    generated: &Generated,
) -> sqlx::Result<Vec<sqlx::postgres::PgRow>> {
    // Safe to send as text: it is built from the model's declared names only; every value
    // is bound below.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(generated.sql.clone()));
    for value in &generated.values {
        query = match value {
            Value::Int(n) => query.bind(*n),
            Value::Text(s) => query.bind(s.clone()),
        };
    }
    query.fetch_all(conn).await
}

/// `call (n round trips)`, the generated statement and its values, what the proxy saw.
fn shown(
    lines: &mut Vec<String>,
    call: &str,
    generated: &Generated,
    seen: Vec<Statement>,
    round_trips: u64,
) {
    lines.push(String::new());
    lines.push(format!(
        "{call}   ({})",
        crate::text::plural(round_trips, "round trip", "round trips")
    ));
    lines.push(format!("  generated: {}", generated.sql));
    let values: Vec<String> = generated.values.iter().map(Value::to_string).collect();
    lines.push(format!("  values:    {}", values.join(", ")));
    let executed: Vec<&Statement> = seen.iter().filter(|s| s.completed > 0).collect();
    for statement in &executed {
        lines.push(format!("  proxy saw: {}", statement.sql));
    }
    let same = executed.iter().any(|s| *s.sql == *generated.sql);
    lines.push(format!(
        "  same text: {}",
        if same { "yes, values bound" } else { "no" }
    ));
}

/// The users' id sequence as the demo found it: the insert moves it and a rollback does not
/// move it back.
const SEQUENCE: &str = "select last_value, is_called from users_id_seq";
const RESTORE: &str = "select setval('users_id_seq', $1, $2)";

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "orm.model";
    let org = current.organization_id;
    let (sequence, _) = lab
        .step("the id sequence", async |conn| {
            sqlx::query_as::<_, (i64, bool)>(SEQUENCE)
                .fetch_one(conn)
                .await
        })
        .await;
    let sequence = sequence.map_err(sql(DEMO, "reading the id sequence"))?;
    let (_, mut mark) = lab.seen_after(0);
    let mut lines = vec![
        format!(
            "The model: table {}, key {}, tenant {},",
            USER.table, USER.key, USER.tenant
        ),
        format!("  columns {},", USER.columns.join(", ")),
        format!("  default scope {} is null.", USER.deleted),
    ];

    // 1. user = User(username="zoe", email=…, organization_id=…); session.add(user)
    let mut fields = BTreeMap::new();
    fields.insert("organization_id", Value::Int(org));
    fields.insert("username", Value::Text("zoe".into()));
    fields.insert("email", Value::Text("zoe@lab.test".into()));
    let insert = USER.insert(&fields);
    say(progress, "the model inserts a user");
    let (inserted, round_trips) = lab
        .step("model insert", async |conn| execute(conn, &insert).await)
        .await;
    let id: i64 = inserted
        .map_err(sql(DEMO, "inserting through the model"))?
        .first()
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(sql(DEMO, "reading the new id"))?
        .unwrap_or_default();
    let (seen, last) = lab.seen_after(mark);
    mark = last;
    shown(&mut lines, "User::create(zoe)", &insert, seen, round_trips);

    // 2. User.query.filter_by(username="zoe").all()
    let select = USER.select(org, Some(("username", Value::Text("zoe".into()))));
    let (found, round_trips) = lab
        .step("model select", async |conn| execute(conn, &select).await)
        .await;
    let found = found.map_err(sql(DEMO, "selecting through the model"))?;
    let (seen, last) = lab.seen_after(mark);
    mark = last;
    shown(
        &mut lines,
        "User::filter(username = zoe)",
        &select,
        seen,
        round_trips,
    );
    lines.push(format!(
        "  → {}",
        crate::text::plural(found.len(), "user", "users")
    ));

    // 3. user.email = …; session.commit(): only the changed field is written
    let mut record = UserRecord {
        id,
        organization_id: org,
        fields,
        changed: BTreeMap::new(),
    };
    record.set("username", Value::Text("zoe".into()));
    record.set("email", Value::Text("zoe@acme.example".into()));
    let update = USER.update(record.id, record.organization_id, &record.changed);
    let (updated, round_trips) = lab
        .step("model update", async |conn| execute(conn, &update).await)
        .await;
    updated.map_err(sql(DEMO, "updating through the model"))?;
    let (seen, _) = lab.seen_after(mark);
    shown(
        &mut lines,
        "user.email = …; save()  (username set to the same value)",
        &update,
        seen,
        round_trips,
    );

    let (restored, _) = lab
        .step("the id sequence back", async |conn| {
            sqlx::query(RESTORE)
                .bind(sequence.0)
                .bind(sequence.1)
                .execute(conn)
                .await
        })
        .await;
    restored.map_err(sql(DEMO, "putting the id sequence back"))?;
    lines.push(String::new());
    lines.push(
        "Every value reached the server as a bound parameter, never inside the SQL text. \
         The update names only the field that changed: setting username to the value it \
         had wrote nothing."
            .into(),
    );
    Ok(("A model writes its own SQL".into(), lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_writes_its_statements_with_placeholders() {
        let mut fields = BTreeMap::new();
        fields.insert("username", Value::Text("zoe".into()));
        fields.insert("email", Value::Text("z@x".into()));
        let insert = USER.insert(&fields);
        assert_eq!(
            insert.sql,
            "insert into users (email, username) values ($1, $2) returning id"
        );
        assert_eq!(
            USER.select(1, Some(("username", Value::Text("zoe".into()))))
                .sql,
            "select id, organization_id, username, email from users \
             where organization_id = $1 and username = $2 and deleted_at is null order by id"
        );
        let mut changed = BTreeMap::new();
        changed.insert("email", Value::Text("new".into()));
        let update = USER.update(7, 1, &changed);
        assert_eq!(
            update.sql,
            "update users set email = $1 where id = $2 and organization_id = $3"
        );
        assert_eq!(
            update.values,
            vec![Value::Text("new".into()), Value::Int(7), Value::Int(1)]
        );
    }

    #[test]
    fn setting_a_field_to_its_value_is_not_a_change() {
        let mut record = UserRecord {
            id: 1,
            organization_id: 1,
            fields: BTreeMap::from([("username", Value::Text("zoe".into()))]),
            changed: BTreeMap::new(),
        };
        record.set("username", Value::Text("zoe".into()));
        assert!(record.changed.is_empty());
        record.set("username", Value::Text("zed".into()));
        assert_eq!(record.changed.len(), 1);
    }
}
