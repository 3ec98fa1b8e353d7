//! `audit.compare_capture` and `audit.immutability`: the application's own log against the
//! trigger's, and which of the two the learner can rewrite.

use super::*;

pub(super) async fn compare_capture(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    const POST: i64 = 1;
    const TITLES: [&str; 2] = ["Welcome to the Acme blog", "Welcome to Acme's blog"];
    const BODIES: [&str; 2] = [
        "Who we are and what we ship.",
        "Who we are, what we ship and why.",
    ];
    let demo = "audit.compare_capture";
    let (title, body): (String, String) =
        sqlx::query_as("select title, body from posts where id = $1")
            .bind(POST)
            .fetch_one(&mut *lab)
            .await
            .map_err(sql(demo, "reading post 1"))?;
    let new_title = if title == TITLES[0] {
        TITLES[1]
    } else {
        TITLES[0]
    };
    let new_body = if body == BODIES[0] {
        BODIES[1]
    } else {
        BODIES[0]
    };
    let before_trigger = newest_event(lab).await?;
    let before_app: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from audit_logs")
        .fetch_one(&mut *lab)
        .await
        .map_err(sql(demo, "reading the app log's newest id"))?;

    // 1. Through the application: the handler changes the row and writes its own log row,
    // in the same transaction.
    within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        exec(
            tx,
            "cannot retitle the post",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[new_title],
            POST,
        )
        .await?;
        log::log_app_change(
            tx,
            &AppChange {
                action: AppAction::Update,
                table: "posts",
                record_id: POST,
                organization_id: Some(1),
                actor_id: Some(ALICE),
                ip: Some(ALICE_OFFICE),
                old: Some(&json!({ "title": title })),
                new: Some(&json!({ "title": new_title })),
            },
        )
        .await
    })
    .await?;
    // 2. Directly, as a script or psql would: no handler, so no app log row.
    exec(
        conn,
        "cannot edit the post directly",
        "update posts set body = $1 where id = $2 and organization_id = $3",
        &[new_body],
        POST,
    )
    .await?;

    let trigger = events_after(lab, before_trigger).await?;
    let filter = crate::audit::Filter {
        record: Some(("posts".to_string(), POST)),
        ..Default::default()
    };
    let mut app: Vec<AuditEvent> = log::app_events(lab, &filter, log::MAX_LIMIT)
        .await?
        .into_iter()
        .filter(|e| e.id > before_app)
        .collect();
    app.reverse();
    let mut lines = para(
        "Two changes to post 1: its title through the application (alice, from the office), \
         its body directly, with no application in between.",
    );
    lines.extend([
        String::new(),
        format!("{:<34} {:>6}", "log", "new rows"),
        format!("{:<34} {:>6}", "audit.events (the trigger)", trigger.len()),
        format!(
            "{:<34} {:>6}",
            "lab.audit_logs (the application)",
            app.len()
        ),
        String::new(),
        "audit.events:".to_string(),
    ]);
    lines.extend(blocks(lab, &trigger).await?);
    lines.push("lab.audit_logs:".to_string());
    lines.extend(blocks(lab, &app).await?);
    let missed = trigger.len().saturating_sub(app.len());
    lines.extend(para(&format!(
        "The application's log missed {missed} change(s): the body edit never passed through \
         the code that writes it. It also has no database role and only the columns the \
         handler chose to record."
    )));
    Ok(("Two logs, one direct change".to_string(), lines))
}

pub(super) async fn immutability(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let demo = "audit.immutability";
    let (me, events): (String, i64) =
        sqlx::query_as("select current_user::text, count(*) from audit.events")
            .fetch_one(&mut *lab)
            .await
            .map_err(sql(demo, "counting the events"))?;
    let mut lines = para(&format!(
        "Connected as {me}, the role your own SQL runs as. audit.events holds {events} event(s)."
    ));
    lines.push(String::new());
    for attempt in [
        "update audit.events set actor_id = null where id = (select max(id) from audit.events)",
        "delete from audit.events where occurred_at < now()",
    ] {
        let outcome = sqlx::raw_sql(sqlx::AssertSqlSafe(attempt))
            .execute(&mut *conn)
            .await;
        // Shown on two lines where it is long, so the report keeps its width.
        match attempt.split_once(" where ") {
            Some((head, tail)) if attempt.len() > WIDTH - 2 => {
                lines.push(format!("> {head}"));
                lines.push(format!("    where {tail}"));
            }
            _ => lines.push(format!("> {attempt}")),
        }
        // The server's refusal can be long (its wording depends on who owns the log).
        lines.extend(super::para_under(
            &match outcome {
                Err(error) => format!("  refused: {}", refusal(&error)),
                Ok(done) => format!("  NOT refused: {} row(s) affected", done.rows_affected()),
            },
            "    ",
        ));
    }
    lines.push(String::new());

    // The application's own table, owned by the learner: every change goes through, so
    // the demo undoes them.
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(sql(demo, "opening a transaction"))?;
    let id = log::log_app_change(
        &mut tx,
        &AppChange {
            action: AppAction::Update,
            table: "users",
            record_id: BOB,
            organization_id: Some(1),
            actor_id: Some(BOB),
            ip: Some(BOB_ELSEWHERE),
            old: Some(&json!({ "is_admin": false })),
            new: Some(&json!({ "is_admin": true })),
        },
    )
    .await?;
    let rewritten = sqlx::query("update audit_logs set actor_id = $1 where id = $2")
        .bind(ALICE)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(sql(demo, "rewriting the app log"))?
        .rows_affected();
    let deleted = sqlx::query("delete from audit_logs")
        .execute(&mut *tx)
        .await
        .map_err(sql(demo, "emptying the app log"))?
        .rows_affected();
    tx.rollback()
        .await
        .map_err(sql(demo, "rolling the app log back"))?;
    lines.extend([
        "lab.audit_logs, in a transaction that is then rolled back:".to_string(),
        format!("> update audit_logs set actor_id = {ALICE} where id = {id}"),
        format!("  allowed: {rewritten} row(s): bob's entry now blames alice"),
        "> delete from audit_logs".to_string(),
        format!("  allowed: {deleted} row(s) gone"),
        "(rolled back: nothing changed)".to_string(),
        String::new(),
    ]);
    let owners: Vec<(String, String)> = sqlx::query_as(
        "select schemaname || '.' || tablename, tableowner::text from pg_tables
          where (schemaname, tablename) in (('audit', 'events'), ('lab', 'audit_logs'))
          order by 1",
    )
    .fetch_all(&mut *lab)
    .await
    .map_err(sql(demo, "reading the tables' owners"))?;
    for (table, owner) in owners {
        lines.push(format!("{table:<16} owned by {owner}"));
    }
    lines.extend(para(
        "A table's owner may change it at will. The log the trigger writes belongs to another \
         role, and you were only granted SELECT on it.",
    ));
    Ok(("Append-only, and for whom".to_string(), lines))
}
