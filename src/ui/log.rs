//! The query log pane: a line per round trip (kind, time, rows, SQL) with warnings beneath,
//! and the totals in its title. Only the lines that fit are built, however long the log.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::log::{Line as LogLine, Notice};
use crate::app::{Action, App};
use crate::data::proxy::Kind;
use crate::keymap::Context;
use crate::query_log::Entry;
use crate::text::abbreviate;

use super::theme::Theme;
use crate::text::{duration, plural};

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let totals = app.log.log.totals();
    let title = format!(
        " Query log · {} · {} ",
        plural(totals.round_trips, "round trip", "round trips"),
        plural(totals.statements, "statement", "statements"),
    );
    let follow = if app.log.offset == 0 {
        ""
    } else {
        " scrolled · End follows "
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(Span::styled(follow, theme.dim()))
        .border_style(theme.border(app.log_focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    // The focused log marks the round trip Enter opens.
    let marked = app
        .log_focused
        .then(|| app.log.marked())
        .flatten()
        .map(|e| e.seq);
    let lines: Vec<Line> = app
        .log
        .visible(usize::from(inner.height))
        .iter()
        .map(|line| match line {
            LogLine::RoundTrip(entry) => entry_line(entry, Some(entry.seq) == marked, width, theme),
            LogLine::Notice { notice, .. } => notice_line(notice, width, theme),
        })
        .collect();
    if lines.is_empty() {
        let hint = "Every round trip the lab makes shows up here.";
        frame.render_widget(Paragraph::new(Line::styled(hint, theme.dim())), inner);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// Presenting mode's query log: a strip of one or two rows without a border. The counters
/// (round trips, statements, warnings) first, then the newest round trip, cut to the width:
/// beside the counters on one row, under them on two.
pub fn render_strip(app: &App, frame: &mut Frame, area: Rect, theme: &Theme) {
    let totals = app.log.log.totals();
    let mut counters = vec![
        Span::styled(
            format!(
                " ⇄ {}",
                plural(totals.round_trips, "round trip", "round trips")
            ),
            theme.meter(),
        ),
        Span::styled(
            format!(
                " · {}",
                plural(totals.statements, "statement", "statements")
            ),
            theme.dim(),
        ),
    ];
    if totals.warnings > 0 {
        counters.push(Span::styled(
            format!(" · ⚠ {}", plural(totals.warnings, "warning", "warnings")),
            theme.warning(),
        ));
    }
    let width = usize::from(area.width);
    let latest = app.log.log.entries().next_back();
    let mut lines = vec![Line::from(counters)];
    if let Some(entry) = latest {
        if area.height >= 2 {
            lines.push(entry_line(entry, false, width, theme));
        } else {
            // One row: the statement alone, after the counters.
            let room = width.saturating_sub(lines[0].width() + 3);
            lines[0].push_span(Span::styled(" │ ", theme.dim()));
            lines[0].push_span(Span::raw(abbreviate(&sql_of(entry), room)));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn notice_line(notice: &Notice, width: usize, theme: &Theme) -> Line<'static> {
    let (text, style) = match notice {
        Notice::Warning(warning) => (format!("  ⚠ {}", warning.line()), theme.warning()),
        Notice::ConsoleLost(why) => (
            match why {
                Some(why) => format!("✕ the server closed the console's connection: {why}"),
                None => "✕ the server closed the console's connection".to_string(),
            },
            theme.warning(),
        ),
        Notice::ConsoleReconnected { backend_pid } => (
            match backend_pid {
                Some(pid) => format!("↻ the console connected again: server process {pid}"),
                None => "↻ the console connected again".to_string(),
            },
            theme.dim(),
        ),
    };
    Line::styled(abbreviate(&text, width), style)
}

fn entry_line(entry: &Entry, marked: bool, width: usize, theme: &Theme) -> Line<'static> {
    let rt = &entry.round_trip;
    let rows: u64 = rt.statements.iter().map(|s| s.rows).sum();
    let sql = sql_of(entry);
    let kind_style = match entry.kind {
        Kind::Query => theme.text(),
        Kind::Ping | Kind::CatalogLookup | Kind::TransactionControl | Kind::SessionReset => {
            theme.dim()
        }
        Kind::Prepare => theme.code(),
    };
    let head = format!(
        "{}{:>3} {:<7} {:>7} {:>4}r ",
        if marked { '▶' } else { ' ' },
        entry.seq,
        short_label(entry.kind),
        duration(rt.duration).replace(' ', ""),
        rows
    );
    let rest = width.saturating_sub(head.chars().count());
    let kind_style = if marked { theme.selected() } else { kind_style };
    let mut spans = vec![Span::styled(head, kind_style)];
    if let Some(error) = &rt.error {
        spans.push(Span::styled(
            abbreviate(&format!("✗ {} {}", error.sqlstate, error.message), rest),
            theme.bad(),
        ));
    } else {
        spans.push(Span::raw(abbreviate(&sql, rest)));
    }
    Line::from(spans)
}

/// The statements of a round trip, on one line.
fn sql_of(entry: &Entry) -> String {
    let sql = entry
        .round_trip
        .statements
        .iter()
        .map(|s| s.sql.as_ref())
        .collect::<Vec<_>>()
        .join("; ");
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Kinds in at most seven letters, so the SQL keeps the width.
fn short_label(kind: Kind) -> &'static str {
    match kind {
        Kind::TransactionControl => "txn",
        other => other.label(),
    }
}

/// The opened round trip over `area`: when, what kind, time and rows, the whole SQL of
/// each statement (its lines kept, long ones wrapped), its error and warnings.
pub fn render_opened(entry: &Entry, frame: &mut Frame, area: Rect, theme: &Theme) {
    use super::page::Page;
    let rt = &entry.round_trip;
    let mut page = Page::<()>::default();
    let rows: u64 = rt.statements.iter().map(|s| s.rows).sum();
    page.prose(Line::styled(
        format!(
            "{} · {} · {}",
            entry.kind.label(),
            duration(rt.duration),
            plural(rows, "row", "rows")
        ),
        theme.dim(),
    ));
    for statement in &rt.statements {
        page.blank();
        if statement.skipped {
            page.prose(Line::styled(
                "skipped: an earlier statement of the pipeline failed",
                theme.dim(),
            ));
        }
        // Each line of the SQL is prose here: the point is to read all of it.
        page.prose_lines(
            statement
                .sql
                .lines()
                .map(|l| Line::styled(l.to_string(), theme.code())),
        );
    }
    if let Some(error) = &rt.error {
        page.blank();
        page.prose(Line::styled(
            format!("✗ {} {}", error.sqlstate, error.message),
            theme.bad(),
        ));
    }
    for warning in &entry.warnings {
        page.prose(Line::styled(
            format!("⚠ {}", warning.message()),
            theme.warning(),
        ));
    }
    let popup = area;
    let block = Block::bordered()
        .title(Span::styled(
            format!(
                " Round trip {} · {} or {} closes ",
                entry.seq,
                crate::keymap::key_for(Context::Log, &Action::Activate),
                crate::keymap::key_for(Context::Log, &Action::ToggleLogFocus)
            ),
            theme.title(),
        ))
        .border_style(theme.border(true));
    let inner = block.inner(popup);
    let laid = page.lay_out(usize::from(inner.width));
    frame.render_widget(ratatui::widgets::Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(
        Paragraph::new(laid.window(0, usize::from(inner.height), 0)),
        inner,
    );
}
