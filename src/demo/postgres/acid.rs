//! ACID, live: `postgres.atomicity` (a transfer refused halfway, without and inside a
//! transaction), `postgres.isolation` (an uncommitted insert another session cannot see),
//! `postgres.consistency` (constraints refusing bad rows).

use sqlx::Row;

use super::*;

/// The transfer: 130 from alice (who has 100) to bob. The credit runs first, so the
/// refused debit comes after money already moved: the half a crash or a bug would leave.
const CREDIT: &str = "update accounts set balance = balance + 130 where owner = 'bob'";
const DEBIT: &str = "update accounts set balance = balance - 130 where owner = 'alice'";

pub(super) async fn atomicity(
    conn: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "postgres.atomicity";
    let mut lines = Vec::new();
    // A table of this session only (dropped when the session closes): the story's tables
    // have no money in them.
    exec(
        conn,
        DEMO,
        "creating the accounts",
        "create temporary table accounts (
             owner text primary key,
             balance numeric not null check (balance >= 0))",
    )
    .await?;
    let fill = "insert into accounts values ('alice', 100), ('bob', 50)";
    exec(conn, DEMO, "opening the accounts", fill).await?;
    lines.push(format!("accounts:  {}", balances(conn, DEMO).await?));
    lines.push(String::new());

    say(progress, "the transfer without a transaction");
    lines.push("1. Without a transaction: each statement commits on its own.".into());
    lines.extend(transfer(conn, DEMO).await?);
    lines.push(format!("   after:  {}", balances(conn, DEMO).await?));
    lines.push(
        "   Bob was paid, alice was not charged: 130 appeared from nowhere. The half that ran \
         stays."
            .into(),
    );
    exec(conn, DEMO, "resetting the accounts", "truncate accounts").await?;
    exec(conn, DEMO, "resetting the accounts", fill).await?;
    lines.push(String::new());

    say(progress, "the same transfer inside a transaction");
    lines.push("2. Inside a transaction: begin, then the same two updates.".into());
    exec(conn, DEMO, "opening the transaction", "begin").await?;
    lines.push("   begin".into());
    lines.extend(transfer(conn, DEMO).await?);
    let after_error = sqlx::query("select 1").execute(&mut *conn).await;
    if let Some(failure) = refusal(DEMO, "reading after the error", after_error)? {
        lines.push("   select 1 (any statement, after the error)".into());
        lines.extend(
            refusal_lines(&failure)
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    // A program would commit here: a failed transaction ends in a rollback whatever it is
    // sent, which the balances after it show.
    exec(conn, DEMO, "committing", "commit").await?;
    lines.push("   commit".into());
    lines.push(format!("   after:  {}", balances(conn, DEMO).await?));
    lines.push(
        "   The commit saved nothing: the transaction had failed as a whole, and bob's \
         credit was undone with it. Nothing is left behind. That is atomicity; the check (balance >= 0) that refused the debit is \
         consistency."
            .into(),
    );
    Ok(("A transfer that fails halfway".into(), lines))
}

/// The credit, then the debit the check refuses, as lines.
async fn transfer(conn: &mut PgConnection, demo: &'static str) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    let credited = sqlx::query(CREDIT)
        .execute(&mut *conn)
        .await
        .map_err(super::super::sql(demo, "crediting bob"))?
        .rows_affected();
    lines.push(format!("   {CREDIT}  → {credited} row"));
    lines.push(format!(
        "          inside:  {}",
        balances(conn, demo).await?
    ));
    let debit = sqlx::query(DEBIT).execute(&mut *conn).await;
    lines.push(format!("   {DEBIT}"));
    match refusal(demo, "charging alice", debit)? {
        Some(failure) => lines.extend(
            refusal_lines(&failure)
                .into_iter()
                .map(|l| format!("  {l}")),
        ),
        None => lines.push("     → charged (!)".into()),
    }
    Ok(lines)
}

/// `alice 100 · bob 50 · total 150`; in a failed transaction, that it cannot be read.
async fn balances(conn: &mut PgConnection, demo: &'static str) -> Result<String, Error> {
    let read = sqlx::query("select owner, balance::text from accounts order by owner")
        .fetch_all(&mut *conn)
        .await;
    let rows = match read {
        Ok(rows) => rows,
        Err(error) => {
            return match refusal(demo, "reading the balances", Err::<(), _>(error))? {
                Some(failure) => Ok(format!("(cannot be read: {})", failure.message)),
                None => Ok(String::new()),
            };
        }
    };
    let mut parts = Vec::new();
    let mut total = 0.0;
    for row in rows {
        let owner: String = row.get(0);
        let balance: String = row.get(1);
        total += balance.parse::<f64>().unwrap_or(0.0);
        parts.push(format!("{owner} {balance}"));
    }
    parts.push(format!("total {total}"));
    Ok(parts.join(" · "))
}

pub(super) async fn isolation(
    a: &mut PgConnection,
    b: &mut PgConnection,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    const DEMO: &str = "postgres.isolation";
    let count = "select count(*) from posts where organization_id = $1 and deleted_at is null";
    let mut lines = Vec::new();
    let acme_a: i64 = sqlx::query_scalar(count)
        .bind(ACME)
        .fetch_one(&mut *a)
        .await
        .map_err(super::super::sql(DEMO, "counting Acme's posts"))?;
    lines.push(format!(
        "before:     both sessions count {acme_a} Acme posts"
    ));
    say(progress, "session A inserts a post and does not commit");
    exec(a, DEMO, "opening session A's transaction", "begin").await?;
    sqlx::query(
        "insert into posts (id, organization_id, author_id, title)
         overriding system value values ($1, $2, $3, 'Draft: not committed yet')",
    )
    .bind(DEMO_POST)
    .bind(ACME)
    .bind(ALICE)
    .execute(&mut *a)
    .await
    .map_err(super::super::sql(DEMO, "inserting session A's post"))?;
    lines.push(format!(
        "session A:  begin; insert into posts … (id {DEMO_POST}, not committed)"
    ));
    let seen = "select count(*) from posts where id = $1 and organization_id = $2 \
                and deleted_at is null";
    let a_sees: i64 = sqlx::query_scalar(seen)
        .bind(DEMO_POST)
        .bind(ACME)
        .fetch_one(&mut *a)
        .await
        .map_err(super::super::sql(DEMO, "reading in session A"))?;
    let b_sees: i64 = sqlx::query_scalar(seen)
        .bind(DEMO_POST)
        .bind(ACME)
        .fetch_one(&mut *b)
        .await
        .map_err(super::super::sql(DEMO, "reading in session B"))?;
    let b_count: i64 = sqlx::query_scalar(count)
        .bind(ACME)
        .fetch_one(&mut *b)
        .await
        .map_err(super::super::sql(DEMO, "counting in session B"))?;
    lines.push(format!(
        "session A:  select … where id = {DEMO_POST}  → {a_sees} row (its own insert)"
    ));
    lines.push(format!(
        "session B:  select … where id = {DEMO_POST}  → {b_sees} rows; Acme has {b_count} posts"
    ));
    exec(a, DEMO, "rolling back session A", "rollback").await?;
    let after: i64 = sqlx::query_scalar(seen)
        .bind(DEMO_POST)
        .bind(ACME)
        .fetch_one(&mut *b)
        .await
        .map_err(super::super::sql(DEMO, "reading in session B again"))?;
    lines.push(format!(
        "session A:  rollback;  session B: select … where id = {DEMO_POST}  → {after} rows"
    ));
    lines.push(String::new());
    lines.push(format!(
        "Session B saw {b_sees} rows of session A's uncommitted insert and counted {b_count} \
         Acme posts, as before it. That is isolation: another session sees a change when it \
         commits, never half-way. Both sessions are in the log, each with its own connection."
    ));
    Ok(("Two sessions, one uncommitted insert".into(), lines))
}

pub(super) async fn consistency(conn: &mut PgConnection) -> Result<Told, Error> {
    const DEMO: &str = "postgres.consistency";
    let attempts: [(&str, &str, &str); 3] = [
        (
            "a post by user 999, who does not exist",
            "insert into posts (id, organization_id, author_id, title)
             overriding system value values ($1, 1, 999, 'Ghost writer')",
            "foreign key on posts.author_id",
        ),
        (
            "a tenant on plan 'gold', which does not exist",
            "insert into organizations (id, name, slug, plan)
             overriding system value values ($1, 'Gold Inc', 'gold-inc', 'gold')",
            "check on organizations.plan",
        ),
        (
            "a post without a title",
            "insert into posts (id, organization_id, author_id, title)
             overriding system value values ($1, 1, 1, null)",
            "not null on posts.title",
        ),
    ];
    let mut lines = Vec::new();
    // The learner owns these tables and may have dropped a rule: an accepted row must not
    // stay (nor reach the append-only audit log). All three run in one transaction that is
    // rolled back, each under its own savepoint so one refusal does not abort the rest.
    exec(conn, DEMO, "opening the transaction", "begin").await?;
    let mut accepted = 0;
    for (what, sql, rule) in attempts {
        exec(conn, DEMO, "setting a savepoint", "savepoint attempt").await?;
        let outcome = sqlx::query(sql).bind(DEMO_POST).execute(&mut *conn).await;
        lines.push(format!("{what}  ({rule})"));
        match refusal(DEMO, "inserting a bad row", outcome)? {
            Some(failure) => lines.extend(refusal_lines(&failure)),
            None => {
                accepted += 1;
                lines.push("  → accepted (!): rolled back, not kept".into());
            }
        }
        exec(
            conn,
            DEMO,
            "rolling back to the savepoint",
            "rollback to savepoint attempt",
        )
        .await?;
        lines.push(String::new());
    }
    exec(conn, DEMO, "rolling back", "rollback").await?;
    lines.push(match accepted {
        0 => "Each row was refused by the database itself, whatever program sent it: the \
              rules live beside the data. A refused insert changes nothing."
            .into(),
        // A capital first: the sentence is wrapped to the pane like the others.
        1 => "The database accepted 1 of the bad rows: the rule that should refuse it is \
              missing from the table. The demo ran the attempts in a transaction and rolled \
              it back, so nothing was kept."
            .into(),
        _ => format!(
            "The database accepted {accepted} of the bad rows: the rules that should refuse \
             them are missing from the tables. The demo ran the attempts in a transaction and \
             rolled it back, so nothing was kept."
        ),
    });
    Ok(("Constraints refuse bad data".into(), lines))
}
