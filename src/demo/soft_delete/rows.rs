//! What happens to a row: `soft_delete.hard_delete`, `soft_delete.lifecycle` and
//! `soft_delete.forgotten_filter`.

use super::*;

pub(super) async fn hard_delete(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.hard_delete";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    let before = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(format!(
        "before:  {}",
        before.as_deref().unwrap_or("(no such post)")
    ));
    say(progress, "deleting a post with DELETE");
    let gone = sqlx::query("delete from posts where id = $1 and organization_id = $2")
        .bind(ROADMAP)
        .bind(ACME)
        .execute(&mut *conn)
        .await
        .map_err(sql(DEMO, "deleting the post"))?
        .rows_affected();
    lines.push(format!(
        "delete from posts where id = {ROADMAP} …  → {gone} row deleted"
    ));
    let after = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(format!(
        "after:   {}",
        after.as_deref().unwrap_or(
            "no row at all, deleted or not: nothing to restore, only a backup has it now"
        )
    ));
    lines.push(String::new());

    say(progress, "deleting a user who still has posts");
    exec(conn, DEMO, "setting a savepoint", "savepoint before_user").await?;
    let outcome = sqlx::query("delete from users where id = $1 and organization_id = $2")
        .bind(BOB)
        .bind(ACME)
        .execute(&mut *conn)
        .await;
    match refusal(DEMO, "deleting a user", outcome)? {
        Some(failure) => {
            lines.push(format!(
                "delete from users where id = {BOB} (bob, author of Acme posts) → refused:"
            ));
            lines.extend(refusal_lines(&failure));
            lines.push(
                "  posts.author_id references users.id (ON DELETE RESTRICT): the user cannot go \
                 while their posts stay."
                    .to_string(),
            );
        }
        None => lines.push(format!("delete from users where id = {BOB} → deleted (!)")),
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    let restored = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(String::new());
    lines.push(format!(
        "The demo ran in a transaction and rolled it back; the post is back: {}",
        restored.as_deref().unwrap_or("no, it is still missing (!)")
    ));
    Ok(("DELETE is forever".to_string(), lines))
}

pub(super) async fn lifecycle(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.lifecycle";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    let state = |label: &str, row: Option<String>, listed: i64| {
        format!(
            "{label:<10}{}  (Acme's list shows {listed} posts)",
            row.unwrap_or_else(|| "(no such post)".to_string())
        )
    };
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("live:", row, listed(conn, DEMO).await?));

    say(progress, "soft-deleting the post");
    let marked = sqlx::query(
        "update posts set deleted_at = now()
          where id = $1 and organization_id = $2 and deleted_at is null",
    )
    .bind(ROADMAP)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "soft-deleting the post"))?
    .rows_affected();
    lines.push(format!(
        "  update posts set deleted_at = now() where id = {ROADMAP} and deleted_at is null → \
         {marked} row"
    ));
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("deleted:", row, listed(conn, DEMO).await?));

    say(progress, "restoring the post");
    let back = sqlx::query(
        "update posts set deleted_at = null
          where id = $1 and organization_id = $2 and deleted_at is not null",
    )
    .bind(ROADMAP)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "restoring the post"))?
    .rows_affected();
    lines.push(format!(
        "  update posts set deleted_at = null where id = {ROADMAP} and deleted_at is not null → \
         {back} row"
    ));
    let row = post_state(conn, DEMO, ROADMAP).await?;
    lines.push(state("restored:", row, listed(conn, DEMO).await?));
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "The row never left the table: deleting and restoring are one UPDATE each. \
         (Rolled back at the end, so the story is as it was.)"
            .to_string(),
    );
    Ok(("Deleted, then restored".to_string(), lines))
}

/// Acme's list as a careless page writes it, and as it should be.
const LIST_UNFILTERED: &str = "select id, title from posts where organization_id = $1 \
     order by created_at desc, id desc";
const LIST_FILTERED: &str = "select id, title from posts where organization_id = $1 \
     and deleted_at is null order by created_at desc, id desc";

pub(super) async fn forgotten_filter(conn: &mut PgConnection) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.forgotten_filter";
    let unfiltered = sqlx::query_as::<_, (i64, String)>(LIST_UNFILTERED)
        .bind(ACME)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "listing without the filter"))?;
    let filtered = sqlx::query_as::<_, (i64, String)>(LIST_FILTERED)
        .bind(ACME)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql(DEMO, "listing with the filter"))?;
    let extra: Vec<&(i64, String)> = unfiltered
        .iter()
        .filter(|post| !filtered.contains(post))
        .collect();
    let mut lines = vec![
        "select id, title from posts where organization_id = 1 order by created_at desc"
            .to_string(),
        format!(
            "  → {} posts, {} of them deleted:",
            unfiltered.len(),
            extra.len()
        ),
    ];
    lines.extend(
        extra
            .iter()
            .map(|(id, title)| format!("    #{id} \"{title}\" ← deleted, shown anyway")),
    );
    lines.push(
        "select … where organization_id = 1 and deleted_at is null order by created_at desc"
            .to_string(),
    );
    lines.push(format!("  → {} posts, none deleted", filtered.len()));
    lines.push(String::new());
    lines.push(
        "The lab read both statements as they passed its proxy: the first reads posts with no \
         deleted_at condition, and its lint says so in the warning below. The second raised \
         none."
            .to_string(),
    );
    let title = format!(
        "The forgotten filter shows {} deleted post{}",
        extra.len(),
        if extra.len() == 1 { "" } else { "s" }
    );
    Ok((title, lines))
}
