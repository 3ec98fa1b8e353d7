//! `audit.redaction` and `audit.pooled_actor`: a secret named but never stored, and an
//! actor that must not outlive its transaction on a pooled connection.

use super::*;

pub(super) async fn redaction(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let demo = "audit.redaction";
    // A fake hash with the time in it: every run really changes the column.
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let hash = format!("$argon2id$v=19$m=19456,t=2,p=1$fake-salt$demo-{nanos:x}");
    let before = newest_event(lab).await?;
    within_actor(conn, actor(ERIN, ERIN_LAPTOP), async |tx| {
        exec(
            tx,
            "cannot change the password",
            "update users set password_hash = $1 where id = $2 and organization_id = $3",
            &[&hash],
            ERIN,
        )
        .await
    })
    .await?;
    let events = events_after(lab, before).await?;
    let Some(event) = events.first() else {
        return Err(Error::Refused {
            demo,
            why: "the password change wrote no event: is the users_audit trigger enabled?"
                .to_string(),
        });
    };
    let (changed, old, new): (Vec<String>, Option<String>, Option<String>) = sqlx::query_as(
        "select changed_fields, old_values ->> 'password_hash', new_values ->> 'password_hash'
           from audit.events where id = $1",
    )
    .bind(event.id)
    .fetch_one(&mut *lab)
    .await
    .map_err(sql(demo, "reading the event back"))?;
    let mut lines =
        para("erin (user 5) changed her password from her laptop. The event the trigger wrote:");
    lines.push(String::new());
    lines.extend(blocks(lab, &events).await?);
    lines.extend([
        "The same event, as stored:".to_string(),
        format!(
            "  changed_fields                  {{{}}}",
            changed.join(", ")
        ),
        format!(
            "  old_values ->> 'password_hash'  {}",
            old.as_deref().unwrap_or("null")
        ),
        format!(
            "  new_values ->> 'password_hash'  {}",
            new.as_deref().unwrap_or("null")
        ),
        String::new(),
    ]);
    lines.extend(para(
        "The log says that the password changed, by whom and when; the hash itself stays in \
         users. The columns kept out are listed in audit.redacted_columns.",
    ));
    Ok(("A secret, named but not copied".to_string(), lines))
}

pub(super) async fn pooled_actor(conn: &mut PgConnection) -> Outcome {
    let demo = "audit.pooled_actor";
    // Each read names its moment: the same read with the same parameters again would be
    // flagged as a duplicate, and these three are deliberately not one.
    const READ: &str = "select $1::text, pg_backend_pid(),
                               coalesce(current_setting('pglab.actor_id', true), '')";
    let seen = |(_, pid, actor): (String, i32, String)| {
        let actor = if actor.is_empty() {
            "(not set)".to_string()
        } else {
            actor
        };
        format!("server process {pid}: pglab.actor_id = {actor}")
    };
    let mut lines = vec![
        "One connection, used by two requests one after the other, as a pool does.".to_string(),
        String::new(),
        "Request 1 (alice), inside its transaction:".to_string(),
        "  select set_config('pglab.actor_id', '1', true)".to_string(),
    ];
    let inside = within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        sqlx::query_as(READ)
            .bind("during request 1")
            .fetch_one(tx)
            .await
            .map_err(DbError::sql("cannot read the setting"))
    })
    .await?;
    lines.push(format!("  during it:  {}", seen(inside)));
    let after: (String, i32, String) = sqlx::query_as(READ)
        .bind("request 2")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(demo, "reading the setting after the transaction"))?;
    lines.push(format!("  request 2:  {}", seen(after)));
    lines.push(String::new());

    lines.push(
        "The same with set_config('pglab.actor_id', '1', false): for the session".to_string(),
    );
    sqlx::query("select set_config('pglab.actor_id', '1', false)")
        .execute(&mut *conn)
        .await
        .map_err(sql(demo, "setting the actor for the session"))?;
    let leaked: (String, i32, String) = sqlx::query_as(READ)
        .bind("request 2 after a session setting")
        .fetch_one(&mut *conn)
        .await
        .map_err(sql(demo, "reading the leaked setting"))?;
    lines.push(format!("  request 2:  {}", seen(leaked)));
    lines.push("              ← anything request 2 changes is blamed on alice".to_string());
    sqlx::query("reset pglab.actor_id")
        .execute(&mut *conn)
        .await
        .map_err(sql(demo, "resetting the setting"))?;
    lines.push("(the demo then ran `reset pglab.actor_id`)".to_string());
    Ok(("Whose request is this?".to_string(), lines))
}
