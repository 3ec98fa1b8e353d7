//! `soft_delete.purge`: rows deleted longer ago than the retention period, archived, then
//! removed.

use super::*;

pub(super) async fn purge(
    conn: &mut PgConnection,
    days: i64,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.purge";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    // Some history to purge: heidi (TechCo) left 120 days ago and her post went with her;
    // frank (Acme) left as long ago, but his post is still up; bob's on-call post was
    // deleted just now.
    say(
        progress,
        "setting the scene: three deletions of different ages",
    );
    exec(
        conn,
        DEMO,
        "setting the scene",
        "update users set deleted_at = now() - interval '120 days'
          where organization_id = 2 and id = 8;
         update posts set deleted_at = now() - interval '120 days'
          where organization_id = 2 and author_id = 8;
         update users set deleted_at = now() - interval '120 days'
          where organization_id = 1 and id = 6;
         update posts set deleted_at = now()
          where organization_id = 1 and id = 2",
    )
    .await?;
    lines.push(
        "Inside the demo's transaction: heidi (TechCo) left 120 days ago with her post; frank \
         (Acme) left 120 days ago, his post still up; bob's \"Our on-call rotation\" was \
         deleted a moment ago. The story's withdrawn draft was deleted on 2026-02-26."
            .to_string(),
    );
    let due: (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from posts where deleted_at is not null),
                (select count(*) from posts where deleted_at < now() - make_interval(days => $1)),
                (select count(*) from users where deleted_at is not null),
                (select count(*) from users where deleted_at < now() - make_interval(days => $1))",
    )
    .bind(days as i32)
    .fetch_one(&mut *conn)
    .await
    .map_err(sql(DEMO, "counting the deleted rows"))?;
    lines.push(format!(
        "soft-deleted now: {} posts ({} older than {days} days), {} users ({} older)",
        due.0, due.1, due.2, due.3
    ));

    say(progress, "purging");
    let (posts, users, kept): (i64, i64, Vec<i64>) = sqlx::query_as(
        "select posts_archived, users_archived, users_kept
           from purge_deleted(make_interval(days => $1))",
    )
    .bind(days as i32)
    .fetch_one(&mut *conn)
    .await
    .map_err(sql(DEMO, "purging"))?;
    let kept_names: Vec<String> = sqlx::query_scalar(
        "select username || ' (' || id || ')' from users where id = any($1) order by id",
    )
    .bind(&kept)
    .fetch_all(&mut *conn)
    .await
    .map_err(sql(DEMO, "naming the users kept"))?;
    lines.push(format!(
        "select * from purge_deleted(interval '{days} days')  → {} and {} archived; users \
         kept: {}",
        crate::text::plural(posts, "post", "posts"),
        crate::text::plural(users, "user", "users"),
        if kept.is_empty() {
            "none".to_string()
        } else {
            kept_names.join(", ")
        }
    ));
    let archived: Vec<String> = sqlx::query_scalar(
        "select title from posts_archive where deleted_at is not null order by id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(sql(DEMO, "reading the archive"))?;
    for title in &archived {
        lines.push(format!("  archived: \"{title}\""));
    }
    if !kept.is_empty() {
        lines.push(
            "  a user past retention whose posts are still up stays: the posts reference them"
                .to_string(),
        );
    }
    let left: i64 = sqlx::query_scalar("select count(*) from posts where deleted_at is not null")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(DEMO, "counting what is left"))?;
    lines.push(format!(
        "still soft-deleted in posts: {left} (deleted too recently to purge; still restorable)"
    ));
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "Rolled back at the end: nothing was archived for real. A retention job runs for every \
         tenant at once, so the log's tenancy lint notes the missing organization_id: expected \
         here."
            .to_string(),
    );
    Ok((
        format!(
            "Purged after {days} days: {} and {} archived",
            crate::text::plural(posts, "post", "posts"),
            crate::text::plural(users, "user", "users")
        ),
        lines,
    ))
}
