//! `pglab explain "SQL"`: the plan of one statement as plain text, run as the learner: the
//! rendered tree, then each insight with its reason and SQL fix, and a note when the
//! statement changed data (those changes were rolled back). Server errors end the command
//! with exit code 1 and the server's message.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use super::ExplainArgs;
use crate::db::console::ExecuteError;
use crate::db::explain::{self as fetch, Analyze};
use crate::db::{Lab, LabConfig};
use crate::explain::{self, Insight, text};

/// Width for output that is not going to a terminal (a pipe, a file, a test).
const DEFAULT_WIDTH: usize = 80;

pub async fn run(config: &LabConfig, args: &ExplainArgs) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let analyze = if args.no_analyze {
        Analyze::No
    } else {
        Analyze::Yes
    };
    let fetched = fetch::explain(&mut conn, &args.sql, analyze)
        .await
        .map_err(|error| explain_failed(&args.sql, error))?;
    let catalog = fetch::catalog(&mut conn, &fetched.plan).await?;
    let insights = explain::insights(&fetched.plan, &catalog);
    let width = width();

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

/// The terminal's width, or [`DEFAULT_WIDTH`] when standard output is not a terminal.
fn width() -> usize {
    if !std::io::stdout().is_terminal() {
        return DEFAULT_WIDTH;
    }
    ratatui::crossterm::terminal::size()
        .map(|(columns, _)| usize::from(columns).max(40))
        .unwrap_or(DEFAULT_WIDTH)
}

/// The insights section: "Why:" and "Fix:" for each, wrapped to `width`.
fn insight_lines(plan: &explain::Plan, insights: &[Insight], width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    if !plan.analyzed {
        lines.push("insights need a measured run: drop --no-analyze to get them".to_owned());
        return lines;
    }
    if insights.is_empty() {
        lines.push("insights: none; nothing in this plan crosses a threshold".to_owned());
        return lines;
    }
    lines.push("insights (the costliest first):".to_owned());
    for (number, insight) in insights.iter().enumerate() {
        let node = plan.node(insight.node);
        let cost = insight
            .cost_ms
            .map_or_else(String::new, |cost| format!(" ({})", text::ms(cost)));
        lines.push(format!("{}. {}{cost}", number + 1, node.title()));
        lines.extend(wrap(&format!("Why: {}.", insight.reason), width, "   "));
        lines.extend(wrap(&format!("Fix: `{}`", insight.fix), width, "   "));
    }
    lines
}

/// `text` in lines of at most `width` characters, each starting with `indent`; a word
/// longer than a line gets a line of its own.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(indent.len()).max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole_and_indents() {
        let lines = wrap("Why: one two three four five six", 31, "   ");
        assert_eq!(lines, ["   Why: one two three four five", "   six"]);
        assert!(wrap("", 30, "  ").is_empty());
    }
}
