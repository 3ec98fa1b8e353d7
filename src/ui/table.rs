//! Result sets as text lines: a header, a rule, the rows — only the window that is shown
//! (from `first_row`, `first_column`, up to `height` rows and `width` cells), so a table of
//! any length costs what fits on screen. Used by the console, the lesson player and the
//! plain-text lesson runner alike.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::data::ResultSet;

use super::theme::Theme;

/// Widest a column gets before its values are cut with `…`.
const MAX_COLUMN_WIDTH: usize = 40;
const NULL: &str = "∅";
const GAP: &str = " │ ";

/// Which part of a table to draw.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub first_row: usize,
    pub first_column: usize,
    pub height: usize,
    pub width: usize,
}

impl Window {
    /// The whole table, as wide as it likes.
    pub fn all(rows: usize) -> Self {
        Self {
            first_row: 0,
            first_column: 0,
            height: rows,
            width: usize::MAX,
        }
    }
}

/// The lines drawing `window` of `table`, and a caption saying which part is shown when it
/// is not all of it.
pub fn lines(
    table: &ResultSet,
    window: Window,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<String>) {
    let rows = table
        .rows
        .iter()
        .skip(window.first_row)
        .take(window.height)
        .collect::<Vec<_>>();
    let columns = table.columns.len();
    let first_column = window.first_column.min(columns.saturating_sub(1));
    let mut widths: Vec<usize> = (first_column..columns)
        .map(|c| {
            let values = rows.iter().map(|row| row.get(c).map_or(1, cell_width));
            values
                .chain(std::iter::once(table.columns[c].width()))
                .max()
                .unwrap_or(1)
                .min(MAX_COLUMN_WIDTH)
        })
        .collect();
    // Drop the columns that do not fit (at least one is always shown).
    let mut used = 0;
    let mut shown = 0;
    for (i, w) in widths.iter().enumerate() {
        let extra = if i == 0 { *w } else { w + GAP.len() - 2 };
        if i > 0 && used + extra > window.width {
            break;
        }
        used += extra;
        shown += 1;
    }
    widths.truncate(shown.max(1));
    if let (Some(first), true) = (widths.first_mut(), window.width < usize::MAX) {
        *first = (*first).min(window.width.max(1));
    }

    let mut out = Vec::with_capacity(rows.len() + 2);
    let header: Vec<String> = (first_column..first_column + widths.len())
        .map(|c| table.columns[c].clone())
        .collect();
    out.push(row_line(
        header.iter().map(|h| Some(h.as_str())),
        &widths,
        theme,
        true,
    ));
    let rule = widths
        .iter()
        .map(|w| "─".repeat(*w))
        .collect::<Vec<_>>()
        .join("─┼─");
    out.push(Line::styled(rule, theme.dim()));
    for row in &rows {
        let cells = (first_column..first_column + widths.len())
            .map(|c| row.get(c).and_then(|v| v.as_deref()));
        out.push(row_line(cells, &widths, theme, false));
    }

    let last_column = first_column + widths.len();
    let all_rows = window.first_row == 0 && rows.len() == table.rows.len();
    let all_columns = first_column == 0 && last_column == columns;
    let caption = (!all_rows || !all_columns).then(|| {
        let mut parts = Vec::new();
        if !all_rows {
            let first = (window.first_row + 1).min(table.rows.len());
            parts.push(format!(
                "rows {first}–{} of {}",
                window.first_row + rows.len(),
                table.rows.len()
            ));
        }
        if !all_columns {
            parts.push(format!(
                "columns {}–{last_column} of {columns}",
                first_column + 1
            ));
        }
        parts.join(" · ")
    });
    (out, caption)
}

fn cell_width(value: &Option<String>) -> usize {
    value.as_deref().map_or(NULL.width(), |v| {
        let line = first_line(v);
        line.width() + usize::from(line.len() != v.len())
    })
}

/// Values with line breaks show their first line (and `…`).
fn first_line(value: &str) -> &str {
    value.split('\n').next().unwrap_or("")
}

fn row_line<'a>(
    cells: impl Iterator<Item = Option<&'a str>>,
    widths: &[usize],
    theme: &Theme,
    header: bool,
) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (cell, width)) in cells.zip(widths).enumerate() {
        if i > 0 {
            spans.push(Span::styled(GAP, theme.dim()));
        }
        let (text, style) = match cell {
            None => (NULL.to_string(), theme.dim()),
            Some(value) => {
                let mut text = first_line(value).to_string();
                if text.len() != value.len() {
                    text.push('…');
                }
                let style = if header {
                    theme.text().add_modifier(Modifier::BOLD)
                } else {
                    theme.text()
                };
                (text, style)
            }
        };
        spans.push(Span::styled(fit(&text, *width), style));
    }
    Line::from(spans)
}

/// `text` cut or padded to exactly `width` columns.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let total = text.width();
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if total > width && used + w + 1 > width {
            out.push('…');
            used += 1;
            break;
        }
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::markdown::plain;

    fn table() -> ResultSet {
        ResultSet::new(
            vec!["id".into(), "username".into(), "note".into()],
            vec![
                vec![Some("1".into()), Some("alice".into()), None],
                vec![
                    Some("2".into()),
                    Some("bob".into()),
                    Some("two\nlines".into()),
                ],
            ],
        )
    }

    #[test]
    fn a_small_table_is_drawn_whole() {
        let (lines, caption) = lines(&table(), Window::all(10), &Theme::plain());
        assert_eq!(
            plain(&lines),
            [
                "id │ username │ note",
                "───┼──────────┼─────",
                "1  │ alice    │ ∅   ",
                "2  │ bob      │ two…",
            ]
        );
        assert_eq!(caption, None);
    }

    #[test]
    fn a_window_says_which_part_it_shows() {
        let window = Window {
            first_row: 1,
            first_column: 1,
            height: 1,
            width: 20,
        };
        let (lines, caption) = lines(&table(), window, &Theme::plain());
        assert_eq!(plain(&lines)[2], "bob      │ two…");
        assert_eq!(caption.as_deref(), Some("rows 2–2 of 2 · columns 2–3 of 3"));
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("ab", 4), "ab  ");
    }
}
