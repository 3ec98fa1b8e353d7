//! `tenant_security.composite_fk`: the database refuses what the naive handler lets
//! through. `posts.author_id` references `users (id)` alone, so a post in one tenant may
//! name an author of another; a foreign key on `(organization_id, author_id)` referencing
//! `users (organization_id, id)` makes the pair a fact the database checks on every write.
//! The constraint is added inside the demo's transaction and rolled back with it.

use super::handlers::{CreatePost, create_post_naive};
use super::*;

const UNIQUE_PAIR: &str = "alter table users
  add constraint users_organization_id_id_key unique (organization_id, id)";
const SAME_TENANT: &str = "alter table posts
  add constraint posts_author_same_tenant
  foreign key (organization_id, author_id)
  references users (organization_id, id)";

pub(super) async fn run(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "tenant_security.composite_fk";
    let request = CreatePost {
        user_id: current.user_id,
        organization_id: current.victim(),
        title: "Hacked!".into(),
    };
    lab.begin(DEMO, POST_IDS).await?;
    let mut lines = vec![
        format!(
            "The naive handler again: {} asks for a post in org {}.",
            current.label(),
            request.organization_id
        ),
        String::new(),
        "without the constraint:".to_string(),
    ];
    say(progress, "the naive handler, no composite key");
    let (first, _) = lab
        .step("naive insert", async |conn| {
            exec(conn, DEMO, "setting a savepoint", "savepoint naive").await?;
            let response = create_post_naive(conn, &request).await;
            let refused = refusal(DEMO, "inserting the post", response)?;
            exec(
                conn,
                DEMO,
                "undoing the insert",
                "rollback to savepoint naive",
            )
            .await?;
            Ok::<_, Error>(refused)
        })
        .await;
    lines.push(match first? {
        None => "  → 201: accepted, a post in one tenant by an author of another".to_string(),
        Some(failure) => format!("  → refused already (!): {}", failure.message),
    });
    lines.push(String::new());
    say(progress, "adding the composite foreign key");
    let (added, _) = lab
        .step("add the composite key", async |conn| {
            exec(conn, DEMO, "adding the unique pair", UNIQUE_PAIR).await?;
            exec(conn, DEMO, "adding the composite foreign key", SAME_TENANT).await
        })
        .await;
    added?;
    lines.extend(UNIQUE_PAIR.lines().map(|l| format!("  {l}")));
    lines.extend(SAME_TENANT.lines().map(|l| format!("  {l}")));
    lines.push("  (every existing post already satisfies it: the key was added)".to_string());
    lines.push(String::new());
    lines.push("the same request, the same naive handler:".to_string());
    let (second, _) = lab
        .step("naive insert", async |conn| {
            exec(conn, DEMO, "setting a savepoint", "savepoint naive").await?;
            let response = create_post_naive(conn, &request).await;
            let refused = refusal(DEMO, "inserting the post", response)?;
            exec(
                conn,
                DEMO,
                "undoing the insert",
                "rollback to savepoint naive",
            )
            .await?;
            Ok::<_, Error>(refused)
        })
        .await;
    match second? {
        Some(failure) => {
            lines.push("  → the database refused the insert, and the handler fails:".to_string());
            lines.extend(refusal_lines(&failure));
        }
        None => lines.push("  → 201: accepted (!)".to_string()),
    }
    let own = CreatePost {
        organization_id: current.organization_id,
        title: "My own post".into(),
        ..request.clone()
    };
    let (fair, _) = lab
        .step("fair insert", async |conn| {
            create_post_naive(conn, &own).await
        })
        .await;
    let fair = refusal(DEMO, "inserting a fair post", fair)?;
    lines.push(format!(
        "a post in the user's own org {}: {}",
        own.organization_id,
        match fair {
            None => "accepted".to_string(),
            Some(failure) => format!("refused (!): {}", failure.message),
        }
    ));
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, DEMO, "rolling back", "rollback").await
        })
        .await;
    ended?;
    lines.push(String::new());
    lines.push(
        "The handler still has the bug; the database no longer lets it write the breach. \
         Rolled back: the constraints and the fair post are gone again."
            .to_string(),
    );
    Ok((
        "A composite foreign key refuses the cross-tenant author".to_string(),
        lines,
    ))
}
