//! `tenant_security.naive` and `tenant_security.checked`: one `POST /posts` endpoint written
//! twice. The naive handler inserts whatever organization the body names; the checked one
//! fetches the current user, checks the organization exists, compares, and inserts only
//! then. Each request is measured on its own, inside a transaction that is rolled back.

use serde_json::{Value, json};

use super::*;

/// `POST /posts`: the body a client sends, trusted or not.
#[derive(Debug, Clone)]
pub(super) struct CreatePost {
    pub user_id: i64,
    pub organization_id: i64,
    pub title: String,
}

impl CreatePost {
    fn body(&self) -> Value {
        json!({
            "user_id": self.user_id,
            "organization_id": self.organization_id,
            "title": self.title,
        })
    }
}

/// What the handler answers: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Response {
    pub status: u16,
    pub body: Value,
}

impl Response {
    fn new(status: u16, body: Value) -> Self {
        Response { status, body }
    }
}

pub(super) const INSERT_POST: &str = "insert into posts (organization_id, author_id, title, body)
     values ($1, $2, $3, '') returning id";
const USER_BY_ID: &str = "select organization_id from users where id = $1 and deleted_at is null";
const ORGANIZATION_EXISTS: &str = "select exists (select 1 from organizations where id = $1)";

/// Trusts the body: whatever organization and author it names, the post is written there.
pub(super) async fn create_post_naive(
    conn: &mut PgConnection,
    request: &CreatePost,
) -> sqlx::Result<Response> {
    let id: i64 = sqlx::query_scalar(INSERT_POST)
        .bind(request.organization_id)
        .bind(request.user_id)
        .bind(&request.title)
        .fetch_one(conn)
        .await?;
    Ok(Response::new(
        201,
        json!({ "id": id, "organization_id": request.organization_id }),
    ))
}

/// Checks before it writes. The author is the signed-in user (`current`, from the session),
/// never the body's `user_id`; the body's organization must exist and be the user's own.
pub(super) async fn create_post_checked(
    conn: &mut PgConnection,
    current_user_id: i64,
    request: &CreatePost,
) -> sqlx::Result<Response> {
    // 1. who is asking, as the database knows them
    let Some(user_org): Option<i64> = sqlx::query_scalar(USER_BY_ID)
        .bind(current_user_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(Response::new(401, json!({ "message": "Not signed in" })));
    };
    // 2. the organization the body names must exist
    let exists: bool = sqlx::query_scalar(ORGANIZATION_EXISTS)
        .bind(request.organization_id)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Response::new(
            404,
            json!({ "message": "Organization not found" }),
        ));
    }
    // 3. and be the user's own
    if user_org != request.organization_id {
        return Ok(Response::new(
            403,
            json!({ "message": "User does not belong to this organization" }),
        ));
    }
    // 4. only now write
    let id: i64 = sqlx::query_scalar(INSERT_POST)
        .bind(user_org)
        .bind(current_user_id)
        .bind(&request.title)
        .fetch_one(conn)
        .await?;
    Ok(Response::new(
        201,
        json!({ "id": id, "organization_id": user_org }),
    ))
}

/// The request a learner would send to break in: the current user's id, another tenant's
/// organization.
fn attack(current: &Current, organization_id: i64) -> CreatePost {
    CreatePost {
        user_id: current.user_id,
        organization_id,
        title: "Hacked!".into(),
    }
}

/// `what, 2 round trips:`, then `  POST /posts {…}`, the `sql` it ran and `  → 201 {…}`.
fn exchange(
    what: &str,
    request: &CreatePost,
    sql: &str,
    response: &Response,
    round_trips: u64,
) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{what}, {}:",
            crate::text::plural(round_trips, "round trip", "round trips")
        ),
        format!("  POST /posts {}", request.body()),
    ];
    lines.extend(sql.lines().map(|line| format!("    {}", line.trim_start())));
    lines.push(format!("  → {} {}", response.status, response.body));
    lines
}

/// A tenant's list as lines, the post `marked` pointed at.
fn list_lines(name: &str, posts: &[(i64, String)], marked: Option<i64>, who: &str) -> Vec<String> {
    let mut lines = vec![format!("{name}'s list, read back ({} posts):", posts.len())];
    for (id, title) in posts {
        let mark = match marked == Some(*id) {
            true => format!("   ← written by {who}"),
            false => String::new(),
        };
        lines.push(format!("  #{id:<3} {title}{mark}"));
    }
    lines
}

pub(super) async fn naive(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "tenant_security.naive";
    let victim = current.victim();
    lab.begin(DEMO, POST_IDS).await?;
    let request = attack(current, victim);
    say(progress, "sending the request to the naive handler");
    let (response, round_trips) = lab
        .step("POST /posts (naive)", async |conn| {
            create_post_naive(conn, &request).await
        })
        .await;
    let response = response.map_err(sql(DEMO, "handling the request"))?;
    let mut lines = vec![format!("Signed in as {}.", current.label()), String::new()];
    lines.extend(exchange(
        "the naive handler",
        &request,
        INSERT_POST,
        &response,
        round_trips,
    ));
    lines.push(String::new());
    let written = response.body["id"].as_i64();
    let (list, _) = lab
        .step("the other tenant's list", async |conn| {
            tenant_list(conn, DEMO, victim).await
        })
        .await;
    let (name, posts) = list?;
    lines.extend(list_lines(&name, &posts, written, &current.username));
    lines.push(String::new());
    let landed = written.is_some_and(|id| posts.iter().any(|(post, _)| *post == id));
    lines.push(match landed {
        true => format!(
            "Breach: {} wrote into {name}'s blog. The handler never asked whose \
             organization {victim} is; the body said so and it believed it.",
            current.username
        ),
        false => format!(
            "The post is not in {name}'s list: the handler answered {}.",
            response.status
        ),
    });
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, DEMO, "rolling back", "rollback").await
        })
        .await;
    ended?;
    lines.push(
        "Rolled back: the post was only ever seen inside the demo's transaction.".to_string(),
    );
    Ok((format!("The naive handler writes into {name}"), lines))
}

pub(super) async fn checked(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "tenant_security.checked";
    lab.begin(DEMO, POST_IDS).await?;
    let mut lines = vec![
        format!("Signed in as {}.", current.label()),
        "  1. select organization_id from users where id = $1 and deleted_at is null".into(),
        "  2. select exists (select 1 from organizations where id = $1)".into(),
        "  3. compare the two in the handler (no round trip)".into(),
        "  4. insert into posts … (only if 1 to 3 passed)".into(),
        String::new(),
    ];
    let requests = [
        (
            "another tenant's organization",
            attack(current, current.victim()),
        ),
        ("an organization that does not exist", attack(current, 999)),
        (
            "the user's own organization",
            CreatePost {
                title: "My own post".into(),
                ..attack(current, current.organization_id)
            },
        ),
    ];
    let mut statuses = Vec::new();
    for (what, request) in &requests {
        say(progress, format!("POST /posts with {what}"));
        let (response, round_trips) = lab
            .step("POST /posts (checked)", async |conn| {
                create_post_checked(conn, current.user_id, request).await
            })
            .await;
        let response = response.map_err(sql(DEMO, "handling the request"))?;
        lines.extend(exchange(what, request, "", &response, round_trips));
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
        "The refusals wrote nothing; only the fair request reached the insert. A statement's \
         first use on a connection costs one more round trip, to prepare it (the query log \
         shows it as prepare), so the first request pays for the lookups the others reuse. \
         Rolled back at the end: the fair post was only a demonstration too."
            .to_string(),
    );
    Ok((
        format!("The checked handler answers {}", statuses.join(", ")),
        lines,
    ))
}
