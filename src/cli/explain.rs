//! `pglab explain "SQL"`: the plan of one statement as plain text, run as the learner: the
//! rendered tree, then each insight with its reason and SQL fix, and a note when the
//! statement changed data (those changes were rolled back). With `--before "OTHER SQL"`,
//! the diff of OTHER SQL's plan (before) against SQL's (after) instead. Server errors end the
//! command with exit code 1 and the server's message.

use std::io::Write;

use anyhow::Context;

use super::ExplainArgs;
use crate::db::console::ExecuteError;
use crate::db::explain::{self as fetch, Analyze};
use crate::db::{Lab, LabConfig};
use crate::explain::{self, text};
use crate::ui::plan::insight_lines;

pub async fn run(config: &LabConfig, args: &ExplainArgs) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let analyze = if args.no_analyze {
        Analyze::No
    } else {
        Analyze::Yes
    };
    if let Some(before_sql) = &args.before {
        let before = fetch::explain(&mut conn, before_sql, analyze)
            .await
            .map_err(|error| explain_failed(before_sql, error))?;
        let after = fetch::explain(&mut conn, &args.sql, analyze)
            .await
            .map_err(|error| explain_failed(&args.sql, error))?;
        return print_diff((before_sql, &before), (&args.sql, &after));
    }
    let fetched = fetch::explain(&mut conn, &args.sql, analyze)
        .await
        .map_err(|error| explain_failed(&args.sql, error))?;
    let catalog = fetch::catalog(&mut conn, &fetched.plan).await?;
    let insights = explain::insights(&fetched.plan, &catalog);
    let width = super::output_width();

    let mut out = std::io::stdout().lock();
    for line in text::render(&fetched.plan, width) {
        writeln!(out, "{line}")?;
    }
    for line in insight_lines(&fetched.plan, &insights, width) {
        writeln!(out, "{line}")?;
    }
    if fetched.rolled_back {
        writeln!(out)?;
        writeln!(out, "this statement changed data; it was rolled back")?;
    }
    out.flush()
        .context("cannot write the plan to standard output")?;
    Ok(())
}

/// The two statements, then the diff of their plans; each fetched plan is (SQL, plan).
fn print_diff(
    before: (&str, &fetch::Fetched),
    after: (&str, &fetch::Fetched),
) -> anyhow::Result<()> {
    let width = super::output_width();
    let mut out = std::io::stdout().lock();
    for (label, (sql, fetched)) in [("before", before), ("after ", after)] {
        let sql = crate::text::clip(
            &crate::text::abbreviate(sql, width),
            width.saturating_sub(7),
        );
        writeln!(out, "{label} {sql}")?;
        if fetched.rolled_back {
            writeln!(out, "       (changed data; rolled back)")?;
        }
    }
    writeln!(out)?;
    let diff = explain::compare(&before.1.plan, &after.1.plan);
    for line in text::diff_lines(&diff, &before.1.plan, &after.1.plan, width) {
        writeln!(out, "{line}")?;
    }
    out.flush()
        .context("cannot write the plans' diff to standard output")?;
    Ok(())
}

/// The server's message with its detail, hint and a caret under the position it points at.
fn explain_failed(sql: &str, error: ExecuteError) -> anyhow::Error {
    let ExecuteError::Sql(failure) = &error else {
        return error.into();
    };
    let mut message = failure.to_string();
    for (label, extra) in [("detail", &failure.detail), ("hint", &failure.hint)] {
        if let Some(extra) = extra {
            message.push_str(&format!("\n{label}: {extra}"));
        }
    }
    if let Some(caret) = failure.caret_line(sql) {
        message.push_str(&format!(
            "\nline {}: {}\n{}{}^",
            caret.line,
            caret.text,
            " ".repeat(format!("line {}: ", caret.line).len()),
            " ".repeat(caret.column)
        ));
    }
    anyhow::anyhow!(message)
}
