//! `orm.tradeoffs`: two costs a mapper hides, each measured on the story. A lazy
//! relationship (`post.author`, loaded when first touched) costs a round trip per post,
//! against one for the same page loaded eagerly with a join; and `select *`, the default of
//! `User.query.all()`, brings every column (password hashes and timestamps included) where
//! the page shows two, counted in bytes the server sent.

use sqlx::postgres::PgConnection;

use super::*;
use crate::demo::sql;
use crate::query_log::bytes;

const POSTS: &str = "select id, author_id, title from posts
 where organization_id = $1 and deleted_at is null order by id";
const AUTHOR: &str = "select username from users
 where id = $1 and organization_id = $2 and deleted_at is null";
const POSTS_WITH_AUTHORS: &str = "select p.id, p.title, u.username
  from posts p join users u on u.id = p.author_id
 where p.organization_id = $1 and p.deleted_at is null
   and u.organization_id = $1 and u.deleted_at is null order by p.id";
const EVERY_COLUMN: &str = "select * from users where organization_id = $1 and deleted_at is null";
const TWO_COLUMNS: &str =
    "select id, username from users where organization_id = $1 and deleted_at is null";

/// The page's rows: each post's title and author.
type Page = Vec<(String, String)>;

/// `for post in posts: post.author.username`: the author read when first touched.
async fn page_lazy(conn: &mut PgConnection, org: i64) -> sqlx::Result<Page> {
    let posts: Vec<(i64, i64, String)> = sqlx::query_as(POSTS)
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
    let mut page = Vec::new();
    for (_, author_id, title) in posts {
        let author: String = sqlx::query_scalar(AUTHOR)
            .bind(author_id)
            .bind(org)
            .fetch_one(&mut *conn)
            .await?;
        page.push((title, author));
    }
    Ok(page)
}

/// The same page with the authors joined in (`selectinload`, `include`, `preload`).
async fn page_joined(conn: &mut PgConnection, org: i64) -> sqlx::Result<Page> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(POSTS_WITH_AUTHORS)
        .bind(org)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(_, t, u)| (t, u)).collect())
}

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "orm.tradeoffs";
    let org = current.organization_id;
    say(progress, "the page with lazy authors");
    let (lazy, lazy_totals) = lab
        .step_totals("lazy relationship", async |conn| page_lazy(conn, org).await)
        .await;
    let lazy = lazy.map_err(sql(DEMO, "loading the page lazily"))?;
    say(progress, "the page with the authors joined");
    let (joined, joined_totals) = lab
        .step_totals("joined", async |conn| page_joined(conn, org).await)
        .await;
    let joined = joined.map_err(sql(DEMO, "loading the page with a join"))?;
    let trips = |n: u64| crate::text::plural(n, "round trip", "round trips");
    let mut lines = vec![
        format!(
            "Organization {org}'s post list with each author's name ({}):",
            crate::text::plural(lazy.len(), "post", "posts")
        ),
        format!("  {:<36}{:>16}", "", "round trips"),
        format!(
            "  {:<36}{:>16}",
            "lazy: posts, then post.author each", lazy_totals.round_trips
        ),
        format!(
            "  {:<36}{:>16}",
            "eager: one join", joined_totals.round_trips
        ),
        format!(
            "  same page both ways: {}",
            if lazy == joined { "yes" } else { "no" }
        ),
        String::new(),
        format!(
            "The lazy page is what `for post in posts: post.author.name` does when the \
             relationship loads on first touch: the code reads like one query and sends {} \
             (the first use of each statement adds a prepare). The N+1 lesson measures this \
             at scale and with a cloud's latency.",
            trips(lazy_totals.round_trips)
        ),
        String::new(),
    ];
    say(progress, "select * against the columns the page shows");
    let (every, every_totals) = lab
        .step_totals("select *", async |conn| {
            sqlx::query(EVERY_COLUMN).bind(org).fetch_all(conn).await
        })
        .await;
    let every = every.map_err(sql(DEMO, "reading every column"))?;
    let (two, two_totals) = lab
        .step_totals("two columns", async |conn| {
            sqlx::query(TWO_COLUMNS).bind(org).fetch_all(conn).await
        })
        .await;
    let two = two.map_err(sql(DEMO, "reading two columns"))?;
    let columns = |rows: &[sqlx::postgres::PgRow]| {
        use sqlx::Row;
        rows.first().map_or(0, |row| row.columns().len())
    };
    lines.push(format!(
        "The users page, {}:",
        crate::text::plural(every.len(), "user", "users")
    ));
    lines.push(format!("  {:<36}{:>8}{:>12}", "", "columns", "received"));
    lines.push(format!(
        "  {:<36}{:>8}{:>12}",
        "select * (User.query.all())",
        columns(&every),
        bytes(every_totals.received)
    ));
    lines.push(format!(
        "  {:<36}{:>8}{:>12}",
        "select id, username",
        columns(&two),
        bytes(two_totals.received)
    ));
    lines.push(String::new());
    lines.push(
        "The wider answer carries columns the page never shows, the password hashes among \
         them: bytes on the wire, memory in the app, and a secret one log line away from \
         leaking. Mappers can load only some columns (load_only, select, defer); the \
         default is all of them. Bytes include each round trip's protocol framing."
            .into(),
    );
    Ok((
        format!(
            "A lazy relationship: {}; select *: {}",
            trips(lazy_totals.round_trips),
            bytes(every_totals.received)
        ),
        lines,
    ))
}
