//! `soft_delete.unique_email`: a deleted user's email taken again, and `ON CONFLICT` with
//! and without the partial index's predicate.

use super::*;

const INSERT_ACCOUNT: &str = "insert into users (id, organization_id, username, email) \
     overriding system value values ($1, $2, $3, $4)";

pub(super) async fn unique_email(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "soft_delete.unique_email";
    const EMAIL: &str = "bob@acme.test";
    let mut lines = Vec::new();
    exec(conn, DEMO, "opening its transaction", "begin").await?;
    say(progress, "soft-deleting bob");
    sqlx::query(
        "update users set deleted_at = now()
          where id = $1 and organization_id = $2 and deleted_at is null",
    )
    .bind(BOB)
    .bind(ACME)
    .execute(&mut *conn)
    .await
    .map_err(sql(DEMO, "soft-deleting bob"))?;
    lines.push(format!("bob (user {BOB}, {EMAIL}) is soft-deleted."));

    // Every account this demo tries: bob's email again, with an ON CONFLICT clause or none.
    let account = |id: i64, username: &'static str, conflict: &'static str| {
        sqlx::query(sqlx::AssertSqlSafe(format!("{INSERT_ACCOUNT}{conflict}")))
            .bind(id)
            .bind(ACME)
            .bind(username)
            .bind(EMAIL)
    };
    let username = "bob.again";
    let created = account(NEW_ACCOUNT, username, "").execute(&mut *conn).await;
    match refusal(DEMO, "creating a new account", created)? {
        None => lines.push(format!(
            "a new account {username} with {EMAIL} → created: the unique index \
             users_email_key only counts rows where deleted_at is null"
        )),
        Some(failure) => {
            lines.push(format!("a new account with {EMAIL} → refused (!)"));
            lines.extend(refusal_lines(&failure));
        }
    }

    say(progress, "a second live account with the same email");
    exec(conn, DEMO, "setting a savepoint", "savepoint twice").await?;
    let twice = account(NEW_ACCOUNT + 1, "bob.twice", "")
        .execute(&mut *conn)
        .await;
    match refusal(DEMO, "creating a duplicate account", twice)? {
        Some(failure) => {
            lines.push("a second live account with the same email → refused:".to_string());
            lines.extend(refusal_lines(&failure));
        }
        None => lines.push("a second live account with the same email → created (!)".into()),
    }
    exec(
        conn,
        DEMO,
        "undoing to the savepoint",
        "rollback to savepoint twice",
    )
    .await?;
    lines.push(String::new());

    say(progress, "ON CONFLICT with the index's predicate");
    let with_predicate = account(
        NEW_ACCOUNT + 1,
        "bob.twice",
        " on conflict (email) where deleted_at is null do nothing",
    )
    .execute(&mut *conn)
    .await;
    lines.push("insert … on conflict (email) where deleted_at is null do nothing".to_string());
    match refusal(DEMO, "inserting with ON CONFLICT", with_predicate)? {
        None => lines
            .push("  → accepted; 0 rows inserted: the conflict was found and skipped".to_string()),
        Some(failure) => lines.extend(refusal_lines(&failure)),
    }

    say(progress, "ON CONFLICT without the predicate");
    exec(conn, DEMO, "setting a savepoint", "savepoint no_predicate").await?;
    let without = account(
        NEW_ACCOUNT + 1,
        "bob.twice",
        " on conflict (email) do nothing",
    )
    .execute(&mut *conn)
    .await;
    lines.push("insert … on conflict (email) do nothing".to_string());
    match refusal(DEMO, "inserting with ON CONFLICT", without)? {
        Some(failure) => {
            lines.extend(refusal_lines(&failure));
            lines.push(
                "  the only unique index on email is partial: ON CONFLICT must repeat its \
                 WHERE for PostgreSQL to pick it"
                    .to_string(),
            );
        }
        None => lines.push("  → accepted (!)".to_string()),
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(String::new());
    lines.push(
        "Rolled back at the end: bob is live again and the new accounts never existed.".into(),
    );
    Ok(("Unique among live rows".to_string(), lines))
}
