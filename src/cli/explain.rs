//! `pglab explain "SQL"`: the plan of one statement as plain text, run as the learner: the
//! rendered tree, then each insight with its reason and SQL fix, and a note when the
//! statement changed data (those changes were rolled back). With `--before "OTHER SQL"`,
//! the diff of OTHER SQL's plan (before) against SQL's (after) instead, its execution times
//! measured fairly: both statements warmed up, then timed in alternating order with per-node
//! timing off, medians compared, and a difference within the runs' spread called no
//! measurable change. Server errors end the command with exit code 1 and the server's message.
//!
//! Either statement may come from a file or standard input (`--file`, `--before-file`, `-`),
//! for statements longer than a command line takes, read up to [`MAX_STATEMENT_BYTES`]. A
//! statement EXPLAIN has no plan for (`create table`) is refused before anything connects.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow, bail};

use super::{ExplainArgs, Refused};
use crate::bounded_read::{self, Unreadable, size_words};
use crate::db::console::ExecuteError;
use crate::db::explain::{self as fetch, Analyze, Planner};
use crate::db::{Lab, LabConfig};
use crate::explain::{self, text};
use crate::ui::plan::insight_lines;

/// The most `--file` or standard input may hold: far longer than any statement typed (a
/// command line takes 128 KiB at most), small enough that a file named by mistake is refused
/// rather than sent to the server.
const MAX_STATEMENT_BYTES: u64 = 8 * 1024 * 1024;

pub async fn run(config: &LabConfig, args: &ExplainArgs) -> anyhow::Result<()> {
    let stdin = Path::new("-");
    if args.file.as_deref() == Some(stdin) && args.before_file.as_deref() == Some(stdin) {
        return Err(Refused(
            "--file and --before-file cannot both read standard input; give one of them a file"
                .into(),
        )
        .into());
    }
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(file)) => read_statement(file)?,
        (None, None) => bail!("give the statement, or --file FILE"),
    };
    let before = match (&args.before, &args.before_file) {
        (Some(before), _) => Some(before.clone()),
        (None, Some(file)) => Some(read_statement(file)?),
        (None, None) => None,
    };
    for statement in std::iter::once(&sql).chain(&before) {
        if let Some(refusal) = crate::sql::kind::explain_refusal(statement) {
            return Err(Refused(refusal).into());
        }
    }
    explain(config, args.no_analyze, &sql, before.as_deref()).await
}

/// The statement in `path` (`-`: standard input), at most [`MAX_STATEMENT_BYTES`] of UTF-8.
fn read_statement(path: &Path) -> anyhow::Result<String> {
    let (named, read) = if path == Path::new("-") {
        let stdin = std::io::stdin().lock();
        (
            "standard input".to_string(),
            bounded_read::read_at_most(stdin, MAX_STATEMENT_BYTES),
        )
    } else {
        let read = std::fs::File::open(path)
            .map_err(Unreadable::Io)
            .and_then(|file| bounded_read::read_at_most(file, MAX_STATEMENT_BYTES));
        (path.display().to_string(), read)
    };
    let bytes = read.map_err(|why| match why {
        Unreadable::TooLarge(_) => anyhow::Error::from(Refused(format!(
            "{named} holds more than {}, the most pglab explain reads as one statement",
            size_words(MAX_STATEMENT_BYTES)
        ))),
        Unreadable::Io(error) => anyhow!("cannot read {named}: {error}"),
        Unreadable::NotFound | Unreadable::NotRegular => anyhow!("cannot read {named}"),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{named} is not UTF-8 text; save it as UTF-8"))?;
    if text.trim().is_empty() {
        bail!("{named} holds no statement");
    }
    Ok(text)
}

async fn explain(
    config: &LabConfig,
    no_analyze: bool,
    sql: &str,
    before: Option<&str>,
) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let analyze = if no_analyze {
        Analyze::No
    } else {
        Analyze::Yes
    };
    if let Some(before_sql) = before {
        let before = fetch::explain(&mut conn, before_sql, analyze)
            .await
            .map_err(|error| explain_failed(before_sql, error))?;
        let after = fetch::explain(&mut conn, sql, analyze)
            .await
            .map_err(|error| explain_failed(sql, error))?;
        let mut diff = explain::compare(&before.plan, &after.plan);
        if analyze == Analyze::Yes {
            let runs = alternated_runs(&mut conn, before_sql, sql).await?;
            diff = diff.timed(&runs.before_ms, &runs.after_ms);
            // Planning is timed the same way: the first plan of a statement pays for reading
            // the catalog into the session's caches.
            if let Some(planning) =
                explain::diff::timed_change(&runs.before_planning_ms, &runs.after_planning_ms)
            {
                diff.planning = planning;
            }
        }
        return print_diff((before_sql, &before), (sql, &after), &diff);
    }
    let fetched = fetch::explain(&mut conn, sql, analyze)
        .await
        .map_err(|error| explain_failed(sql, error))?;
    let catalog = fetch::catalog(&mut conn, &fetched.plan).await?;
    let insights = explain::insights(&fetched.plan, &catalog);
    let width = super::output_width();

    let mut out = super::stdout();
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

/// Timed runs per statement for `--before`: enough for a median that one slow run does not
/// move, few enough to stay quick on a laptop.
const TIMED_RUNS: usize = 7;

/// Execution and planning times of both statements' timed runs, ms, in the order they ran.
#[derive(Default)]
struct Runs {
    before_ms: Vec<f64>,
    after_ms: Vec<f64>,
    before_planning_ms: Vec<f64>,
    after_planning_ms: Vec<f64>,
}

/// Each statement's times over [`TIMED_RUNS`] `TIMING OFF` runs, after one warm-up run each
/// (which reads the pages into the cache), in alternating order so that neither always runs
/// first.
async fn alternated_runs(
    conn: &mut sqlx::PgConnection,
    before_sql: &str,
    after_sql: &str,
) -> anyhow::Result<Runs> {
    let mut runs = Runs::default();
    for round in 0..=TIMED_RUNS {
        let order = if round % 2 == 0 {
            [(before_sql, true), (after_sql, false)]
        } else {
            [(after_sql, false), (before_sql, true)]
        };
        for (sql, is_before) in order {
            let timed = fetch::compare_runs(conn, sql, 1, Planner::AsIs)
                .await
                .map_err(|error| explain_failed(sql, error))?;
            // Round 0 is the warm-up.
            if round > 0 {
                let (execution, planning) = if is_before {
                    (&mut runs.before_ms, &mut runs.before_planning_ms)
                } else {
                    (&mut runs.after_ms, &mut runs.after_planning_ms)
                };
                execution.push(timed.median_ms);
                planning.extend(timed.plan.planning_ms);
            }
        }
    }
    Ok(runs)
}

/// The two statements, then the diff of their plans; each fetched plan is (SQL, plan).
fn print_diff(
    before: (&str, &fetch::Fetched),
    after: (&str, &fetch::Fetched),
    diff: &explain::PlanDiff,
) -> anyhow::Result<()> {
    let width = super::output_width();
    let mut out = super::stdout();
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
    if let Some(spread) = diff.execution.spread {
        let note = format!(
            "execution and planning: medians of {TIMED_RUNS} runs each, per-node timing off, \
             alternated after a warm-up; execution varied by up to {} (a difference within \
             the runs' spread is no measurable change)",
            text::ms(spread)
        );
        for line in crate::text::wrap(&note, width, "  ") {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out)?;
    for line in text::diff_lines(diff, &before.1.plan, &after.1.plan, width) {
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
        let (text, column) = around(caret.text, caret.column);
        message.push_str(&format!(
            "\nline {}: {}\n{}{}^",
            caret.line,
            text,
            " ".repeat(format!("line {}: ", caret.line).len()),
            " ".repeat(column)
        ));
    }
    anyhow::anyhow!(message)
}

/// Characters of a line shown around an error's caret: a statement read from a file may be
/// one line of a megabyte.
const CARET_CONTEXT: usize = 30;

/// The part of `line` around character `column` (at most [`CARET_CONTEXT`] characters either
/// side, `…` where it was cut) and the caret's column in it.
fn around(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let start = column.saturating_sub(CARET_CONTEXT);
    let end = (column + CARET_CONTEXT).min(chars.len());
    let mut text: String = chars[start..end].iter().collect();
    let mut at = column - start;
    if start > 0 {
        text.insert(0, '…');
        at += 1;
    }
    if end < chars.len() {
        text.push('…');
    }
    (text, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_around_the_caret() {
        assert_eq!(around("selec 1", 0), ("selec 1".to_string(), 0));
        let line = format!("select {} frm users", "1 + ".repeat(1000));
        let column = line.find("frm").unwrap();
        let (text, at) = around(&line, column);
        assert!(text.starts_with('…') && !text.ends_with('…'), "{text}");
        assert_eq!(text.chars().nth(at), Some('f'), "{text}");
        assert!(text.chars().count() <= 2 * CARET_CONTEXT + 2);
    }
}
