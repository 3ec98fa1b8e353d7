//! `tenant_security.idor`: an insecure direct object reference. The current user asks for
//! another tenant's post by its id, then changes its title; the handlers that find the post
//! by `id` alone serve both, the ones that add the user's tenant find no row and answer 404.
//! The update happens inside a transaction that is rolled back.

use serde_json::json;

use super::handlers::Response;
use super::*;

const GET_BY_ID: &str = "select title from posts where id = $1 and deleted_at is null";
const GET_SCOPED: &str = "select title from posts
     where id = $1 and organization_id = $2 and deleted_at is null";
const UPDATE_BY_ID: &str = "update posts set title = $2 where id = $1";
const UPDATE_SCOPED: &str = "update posts set title = $2 where id = $1 and organization_id = $3";

/// `GET /posts/:id`, with the tenant in the query (`scoped`) or not.
async fn get_post(
    conn: &mut PgConnection,
    current: &Current,
    id: i64,
    scoped: bool,
) -> sqlx::Result<Response> {
    let title: Option<String> = match scoped {
        false => sqlx::query_scalar(GET_BY_ID).bind(id).fetch_optional(conn),
        true => sqlx::query_scalar(GET_SCOPED)
            .bind(id)
            .bind(current.organization_id)
            .fetch_optional(conn),
    }
    .await?;
    Ok(match title {
        Some(title) => Response {
            status: 200,
            body: json!({ "id": id, "title": title }),
        },
        None => not_found(),
    })
}

/// `PATCH /posts/:id {"title": …}`, with the tenant in the `WHERE` (`scoped`) or not.
async fn update_post(
    conn: &mut PgConnection,
    current: &Current,
    id: i64,
    title: &str,
    scoped: bool,
) -> sqlx::Result<Response> {
    let done = match scoped {
        false => sqlx::query(UPDATE_BY_ID).bind(id).bind(title).execute(conn),
        true => sqlx::query(UPDATE_SCOPED)
            .bind(id)
            .bind(title)
            .bind(current.organization_id)
            .execute(conn),
    }
    .await?;
    // No row updated is indistinguishable from no such post: the answer must not tell an
    // attacker that the id exists elsewhere.
    Ok(match done.rows_affected() {
        0 => not_found(),
        _ => Response {
            status: 200,
            body: json!({ "id": id, "title": title }),
        },
    })
}

fn not_found() -> Response {
    Response {
        status: 404,
        body: json!({ "message": "Post not found" }),
    }
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "tenant_security.idor";
    let victim = current.victim();
    let (target, _) = lab
        .step("begin", async |conn| {
            exec(conn, DEMO, "opening its transaction", "begin").await?;
            sqlx::query_as(
                "select p.id, o.name from posts p join organizations o on o.id = p.organization_id
                  where p.organization_id = $1 and p.deleted_at is null order by p.id limit 1",
            )
            .bind(victim)
            .fetch_one(conn)
            .await
            .map_err(sql(DEMO, "finding the other tenant's first post"))
        })
        .await;
    let (id, name): (i64, String) = target?;
    let mut lines = vec![
        format!(
            "Signed in as {}; post #{id} belongs to {name} (org {victim}).",
            current.label()
        ),
        String::new(),
    ];
    // The statuses of GET and PATCH, by id alone and then scoped to the tenant.
    let mut statuses = Vec::new();
    for scoped in [false, true] {
        let (query, update) = match scoped {
            false => (GET_BY_ID, UPDATE_BY_ID),
            true => (GET_SCOPED, UPDATE_SCOPED),
        };
        lines.push(match scoped {
            false => "found by id alone:".to_string(),
            true => "found by id and the user's tenant:".to_string(),
        });
        say(progress, format!("GET and PATCH /posts/{id}"));
        let (read, trips) = lab
            .step("GET /posts/:id", async |conn| {
                get_post(conn, current, id, scoped).await
            })
            .await;
        let read = read.map_err(sql(DEMO, "reading the post"))?;
        statuses.push(read.status);
        lines.extend(exchange(&format!("GET /posts/{id}"), query, &read, trips));
        let (patched, trips) = lab
            .step("PATCH /posts/:id", async |conn| {
                update_post(conn, current, id, "Hacked!", scoped).await
            })
            .await;
        let patched = patched.map_err(sql(DEMO, "updating the post"))?;
        statuses.push(patched.status);
        lines.extend(exchange(
            &format!("PATCH /posts/{id} {{\"title\":\"Hacked!\"}}"),
            update,
            &patched,
            trips,
        ));
        lines.push(String::new());
    }
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, DEMO, "rolling back", "rollback").await
        })
        .await;
    ended?;
    lines.push(match statuses[..] {
        [200, 200, 404, 404] => format!(
            "By id alone, {} read and renamed {name}'s post. With the tenant in the WHERE, \
             the same ids find no row and the answer is 404, the same as for an id that does \
             not exist. Rolled back: the title is as it was.",
            current.username
        ),
        _ => format!(
            "The answers were {statuses:?} (GET and PATCH by id alone, then with the tenant). \
             Rolled back: the title is as it was."
        ),
    });
    Ok(("Another tenant's post, by id".to_string(), lines))
}

/// The request and its round trips, the handler's SQL, the response.
fn exchange(request: &str, sql: &str, response: &Response, round_trips: u64) -> Vec<String> {
    let mut lines = vec![format!(
        "  {request:<38} {}",
        crate::text::plural(round_trips, "round trip", "round trips")
    )];
    lines.extend(sql.lines().map(|line| format!("    {}", line.trim_start())));
    lines.push(format!("    → {} {}", response.status, response.body));
    lines
}
