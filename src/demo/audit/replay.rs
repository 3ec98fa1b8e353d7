//! `audit.replay`: the week before the support call, as committed changes by several
//! people from several addresses, after putting back what an earlier replay changed.

use super::*;

/// The story's rows as the replay starts them: each differing one is put back by the lab
/// itself, declared as the system actor [`LAB_RESET`], so the reset never reads as a person
/// of the story (it is no part of it). Returns how many events that wrote.
async fn rewind(conn: &mut PgConnection, lab: &mut PgConnection) -> Result<u64, Error> {
    let (email, is_admin, title, body): (String, bool, String, String) = sqlx::query_as(
        "select u.email, u.is_admin, r.title, o.body
           from users u, posts r, posts o
          where u.id = $1 and r.id = $2 and o.id = $3",
    )
    .bind(BOB)
    .bind(ROADMAP_POST)
    .bind(OUTAGE_POST)
    .fetch_one(&mut *lab)
    .await
    .map_err(sql("audit.replay", "reading the story's rows"))?;
    if email == BOB_EMAIL && !is_admin && title == ROADMAP_TITLE && body == OUTAGE_BODY {
        return Ok(0);
    }
    let before = newest_event(lab).await?;
    within_system(conn, LAB_RESET, async |tx| {
        exec(
            tx,
            "cannot put bob's account back",
            "update users set email = $1, is_admin = false\n          where id = $2 and organization_id = $3",
            &[BOB_EMAIL],
            BOB,
        )
        .await?;
        exec(
            tx,
            "cannot put a post back",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[ROADMAP_TITLE],
            ROADMAP_POST,
        )
        .await?;
        exec(
            tx,
            "cannot put a post back",
            "update posts set body = $1 where id = $2 and organization_id = $3",
            &[OUTAGE_BODY],
            OUTAGE_POST,
        )
        .await
    })
    .await?;
    Ok(events_after(lab, before).await?.len() as u64)
}

pub(super) async fn replay(conn: &mut PgConnection, lab: &mut PgConnection) -> Outcome {
    let rewound = rewind(conn, lab).await?;
    let before = newest_event(lab).await?;
    // Monday: alice, Acme's administrator, retitles her roadmap from the office.
    within_actor(conn, actor(ALICE, ALICE_OFFICE), async |tx| {
        exec(
            tx,
            "cannot retitle the post",
            "update posts set title = $1 where id = $2 and organization_id = $3",
            &[ROADMAP_EDITED],
            ROADMAP_POST,
        )
        .await
    })
    .await?;
    // Tuesday: bob changes his email, from home.
    within_actor(conn, actor(BOB, BOB_HOME), async |tx| {
        exec(
            tx,
            "cannot change the email",
            "update users set email = $1 where id = $2 and organization_id = $3",
            &[BOB_NEW_EMAIL],
            BOB,
        )
        .await
    })
    .await?;
    // Wednesday night: bob's account grants itself administrator rights, from elsewhere.
    within_actor(conn, actor(BOB, BOB_ELSEWHERE), async |tx| {
        exec(
            tx,
            "cannot change the admin flag",
            "update users set is_admin = true where id = $1 and organization_id = $2",
            &[],
            BOB,
        )
        .await
    })
    .await?;
    // Thursday: someone with the database password fixes a post by hand in psql: no
    // application, so nobody declares an actor.
    exec(
        conn,
        "cannot edit the post directly",
        "update posts set body = $1 where id = $2 and organization_id = $3",
        &[OUTAGE_HOTFIX],
        OUTAGE_POST,
    )
    .await?;

    let events = events_after(lab, before).await?;
    let mut lines = para(
        "Who is who: user 1 = alice (Acme's administrator), user 2 = bob (Acme, not an \
         administrator in the story).",
    );
    if rewound > 0 {
        lines.extend(para(&format!(
            "An earlier replay had changed these rows: the lab put them back first, which wrote \
             {rewound} more event(s), recorded as {LAB_RESET} (no user of the story). Nothing \
             was removed from the log; it only grows."
        )));
    }
    lines.extend(para(&format!(
        "Four changes committed, {} event(s) written by the trigger, oldest first:",
        events.len()
    )));
    lines.push(String::new());
    // Where to look next (the lab's timeline, or `pglab audit`) is the lesson's to say: a
    // demo's lines are printed by `pglab lessons run` too, where no key works.
    lines.extend(blocks(lab, &events).await?);
    Ok(("The week before the support call".to_string(), lines))
}
