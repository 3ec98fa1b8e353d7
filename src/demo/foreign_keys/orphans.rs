//! `foreign_keys.orphan`: the database refuses a user whose organization does not exist.
//! First the bare statement and the server's error (SQLSTATE 23503 and its detail line); then
//! the sign-up endpoint written twice: one handler lets the error escape (the framework
//! answers 500 and the client learns nothing), one maps the violation to a 422 that names
//! the field. A fair sign-up follows. All in a transaction rolled back, each refused insert
//! in a savepoint; the user id sequence, which a refused insert still moves, is put back.

use serde_json::{Value, json};

use super::*;
use crate::demo::requests::Told;
use crate::demo::{exec, refusal, refusal_lines, say};

const DEMO: &str = "foreign_keys.orphan";
const MISSING: i64 = 999;

const INSERT_USER: &str = "insert into users (organization_id, username, email)
     values ($1, $2, $3) returning id";

/// `POST /signup`: an invitation's organization and the new user's name and email.
struct Signup {
    organization_id: i64,
    username: &'static str,
    email: &'static str,
}

impl Signup {
    fn body(&self) -> Value {
        json!({
            "organization_id": self.organization_id,
            "username": self.username,
            "email": self.email,
        })
    }
}

/// An HTTP status and a JSON body.
struct Response {
    status: u16,
    body: Value,
}

/// Lets a database error escape: the framework turns it into a bare 500.
async fn signup_unhandled(conn: &mut PgConnection, request: &Signup) -> Response {
    let created: sqlx::Result<i64> = sqlx::query_scalar(INSERT_USER)
        .bind(request.organization_id)
        .bind(request.username)
        .bind(request.email)
        .fetch_one(conn)
        .await;
    match created {
        Ok(id) => Response {
            status: 201,
            body: json!({ "id": id }),
        },
        // What `?` into a framework's error handler amounts to: logged, and a 500.
        Err(_) => Response {
            status: 500,
            body: json!({ "error": "Internal Server Error" }),
        },
    }
}

/// Maps a foreign-key violation on the organization to a 422 naming the field; anything
/// else stays a 500.
async fn signup(conn: &mut PgConnection, request: &Signup) -> Response {
    let created: sqlx::Result<i64> = sqlx::query_scalar(INSERT_USER)
        .bind(request.organization_id)
        .bind(request.username)
        .bind(request.email)
        .fetch_one(conn)
        .await;
    match created {
        Ok(id) => Response {
            status: 201,
            body: json!({ "id": id }),
        },
        Err(sqlx::Error::Database(e))
            if e.code().as_deref() == Some("23503")
                && e.constraint() == Some("users_organization_id_fkey") =>
        {
            Response {
                status: 422,
                body: json!({
                    "field": "organization_id",
                    "error": "no such organization",
                }),
            }
        }
        Err(_) => Response {
            status: 500,
            body: json!({ "error": "Internal Server Error" }),
        },
    }
}

pub(super) async fn run(
    lab: &mut RequestRun,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    lab.begin(DEMO, "users_id_seq").await?;
    let orphan = Signup {
        organization_id: MISSING,
        username: "mal",
        email: "mal@nowhere.test",
    };
    say(progress, "inserting a user into organization 999");
    let (bare, _) = lab
        .step("the bare insert", async |conn| {
            exec(conn, DEMO, "setting a savepoint", "savepoint orphan").await?;
            let ran = sqlx::query(INSERT_USER)
                .bind(orphan.organization_id)
                .bind(orphan.username)
                .bind(orphan.email)
                .execute(&mut *conn)
                .await;
            let refused = refusal(DEMO, "inserting the user", ran)?;
            exec(conn, DEMO, "undoing it", "rollback to savepoint orphan").await?;
            Ok::<_, Error>(refused)
        })
        .await;
    let mut lines = vec!["the statement, organization 999 (no such row):".to_string()];
    lines.extend(INSERT_USER.lines().map(|l| format!("  {}", l.trim_start())));
    lines.push(format!(
        "  ($1, $2, $3) = ({MISSING}, '{}', '{}')",
        orphan.username, orphan.email
    ));
    match bare? {
        Some(failure) => lines.extend(refusal_lines(&failure)),
        None => lines.push("  accepted (!): the foreign key is missing".to_string()),
    }
    lines.push(String::new());
    let fair = Signup {
        organization_id: 1,
        username: "zoe",
        email: "zoe@acme.test",
    };
    let requests: [(&str, bool, &Signup); 3] = [
        ("the error left to the framework", false, &orphan),
        ("the violation mapped by the handler", true, &orphan),
        ("a fair sign-up, organization 1", true, &fair),
    ];
    let mut statuses = Vec::new();
    for (what, mapped, request) in requests {
        say(progress, format!("POST /signup: {what}"));
        let (saved, _) = lab
            .step("savepoint", async |conn| {
                exec(conn, DEMO, "setting a savepoint", "savepoint request").await
            })
            .await;
        saved?;
        let (response, round_trips) = lab
            .step("POST /signup", async |conn| match mapped {
                true => signup(conn, request).await,
                false => signup_unhandled(conn, request).await,
            })
            .await;
        if response.status >= 400 {
            let (undone, _) = lab
                .step("rollback to savepoint", async |conn| {
                    exec(conn, DEMO, "undoing it", "rollback to savepoint request").await
                })
                .await;
            undone?;
        }
        lines.push(format!(
            "{what}, {}:",
            crate::text::plural(round_trips, "round trip", "round trips")
        ));
        lines.push("  POST /signup".to_string());
        lines.push(format!("    {}", request.body()));
        lines.push(format!("  → {} {}", response.status, response.body));
        statuses.push(response.status.to_string());
    }
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, DEMO, "rolling back", "rollback").await
        })
        .await;
    ended?;
    lines.push(String::new());
    lines.push(
        "The database refused the orphan whatever the handler did; the handler decides \
         only what the client hears. Left alone, the error becomes a 500 that says nothing \
         (and pages someone at night); mapped by its SQLSTATE and constraint name, it \
         becomes a 422 the form can show next to the field. A refused insert still draws \
         an id from the sequence, so zoe's is not the next after the story's users. \
         Rolled back: zoe was only a demonstration, and the ids drawn are given back."
            .to_string(),
    );
    Ok((
        format!(
            "A user in organization 999: refused, answered {}",
            statuses.join(", ")
        ),
        lines,
    ))
}
