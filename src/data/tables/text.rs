//! The tables view as text, one way for `pglab tables`, the lesson runner and the tables
//! screen: a box per table (its name and row count on the top border, the shown columns,
//! a row per table row), the boxes side by side as far as the width allows and on further
//! shelves below, then the foreign keys between them as arrows. Each row starts with its
//! marks, so nothing rests on colour: `✗` a soft-deleted row, `·` a row of another tenant
//! than the viewer's; the tenant itself is the row's `organization_id` (or `id` in
//! `organizations`). Lines are pre-formatted: never wrapped, scrolled sideways. Pieces that
//! belong to a table — its box's frame and title, an arrow pointing at it — name it, for a
//! view that draws each table in a colour of its own (apart from the tenants' row colours).

use unicode_width::UnicodeWidthStr;

use super::{RowsOfTable, TablesSnapshot};
use crate::data::acting::ActingAs;

/// What a piece of a line is, for a view that styles it (plain text ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A box's top border with the table's name.
    Heading,
    /// Borders, the space between boxes, the arrows.
    Plain,
    /// Column names and notes.
    Muted,
    /// A table row: its tenant, whether it is soft-deleted, whether it belongs to a
    /// tenant other than the viewer's, and whether this piece is the tenant's own cell
    /// (which keeps the tenant's colour when the rest of the row is greyed).
    Row {
        tenant: Option<i64>,
        deleted: bool,
        other_tenant: bool,
        tenant_cell: bool,
    },
}

/// A run of text with one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub role: Role,
    pub text: String,
    /// The table whose colour the piece takes: a box's frame and title, an arrow's sides.
    pub table: Option<String>,
}

/// One line of the view: pieces side by side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewLine {
    pub pieces: Vec<Piece>,
    /// A sentence (the legend) that a pane may wrap; every other line keeps its shape.
    pub prose: bool,
}

impl ViewLine {
    fn one(role: Role, text: impl Into<String>) -> Self {
        Self {
            pieces: vec![piece(role, text)],
            prose: false,
        }
    }

    /// The line's text, its trailing spaces left out.
    pub fn text(&self) -> String {
        let whole: String = self.pieces.iter().map(|p| p.text.as_str()).collect();
        whole.trim_end().to_owned()
    }
}

/// Cells between two boxes on a shelf.
const GAP: usize = 2;

/// The whole view laid out for `width` cells: the legend, the boxes on shelves, the
/// foreign keys. With `viewer`, rows of other tenants are marked `·`.
pub fn lines(snapshot: &TablesSnapshot, width: usize, viewer: Option<&ActingAs>) -> Vec<ViewLine> {
    let mut out = legend(snapshot, viewer);
    out.push(ViewLine::default());
    let boxes: Vec<Boxed> = snapshot
        .tables
        .iter()
        .map(|table| table_box(table, viewer))
        .collect();
    // Boxes stacked into columns up to some height, the columns side by side: of the
    // heights a run of boxes can make (0: no stacking), the one that makes the view
    // lowest (organizations above users, posts beside them); the least stacking on a tie.
    let heights: Vec<usize> = boxes.iter().map(|b| b.lines.len()).collect();
    let mut limits = vec![0];
    for start in 0..heights.len() {
        for end in start + 1..heights.len() {
            limits.push(heights[start..=end].iter().sum::<usize>() + end - start);
        }
    }
    limits.sort_unstable();
    limits.dedup();
    let stacked = limits
        .into_iter()
        .map(|limit| stacks(&boxes, limit))
        .min_by_key(|columns| height(&shelves(columns, width)))
        .unwrap_or_default();
    let layout = shelves(&stacked, width);
    for (index, shelf) in layout.iter().enumerate() {
        if index > 0 {
            out.push(ViewLine::default());
        }
        out.extend(side_by_side(shelf));
    }
    out.push(ViewLine::default());
    if snapshot.links.is_empty() {
        out.push(ViewLine::one(
            Role::Muted,
            "no foreign keys between these tables",
        ));
    } else {
        out.push(ViewLine::one(
            Role::Muted,
            "foreign keys (referencing → referenced):",
        ));
        // The link's label in pieces: each side in its table's colour, the arrow in its
        // target's.
        for link in &snapshot.links {
            let (from, to) = link.sides();
            out.push(ViewLine {
                pieces: vec![
                    piece(Role::Plain, "  "),
                    framed(&link.from_table, Role::Plain, from),
                    framed(&link.to_table, Role::Plain, format!(" → {to}")),
                ],
                prose: false,
            });
        }
    }
    out
}

/// What the marks and colours mean, in as few words as the snapshot needs.
fn legend(snapshot: &TablesSnapshot, viewer: Option<&ActingAs>) -> Vec<ViewLine> {
    let mut out = Vec::new();
    let tenants = snapshot.tables.iter().any(|t| t.tenant_column.is_some());
    let deletes = snapshot.tables.iter().any(|t| t.soft_deletes);
    let mut parts = Vec::new();
    if tenants {
        parts.push("tenant: organization_id (id in organizations)".to_owned());
    }
    if deletes {
        parts.push("✗ soft-deleted (deleted_at set)".to_owned());
    }
    if !parts.is_empty() {
        out.push(ViewLine::one(Role::Muted, parts.join("; ")));
    }
    if let (Some(viewer), true) = (viewer, tenants) {
        out.push(ViewLine::one(
            Role::Muted,
            format!(
                "· greyed: not {}'s tenant (org {}), rows {} should not see",
                viewer.username, viewer.organization_id, viewer.username
            ),
        ));
    }
    for line in &mut out {
        line.prose = true;
    }
    out
}

/// A table drawn as a box (or boxes stacked), every line `width` cells wide.
struct Boxed {
    width: usize,
    lines: Vec<Vec<Piece>>,
}

/// The lines of boxes side by side, each padded to its width.
fn side_by_side(shelf: &[&Boxed]) -> Vec<ViewLine> {
    let rows = shelf.iter().map(|b| b.lines.len()).max().unwrap_or(0);
    (0..rows)
        .map(|row| {
            let mut line = ViewLine::default();
            for (index, boxed) in shelf.iter().enumerate() {
                if index > 0 {
                    line.pieces.push(piece(Role::Plain, " ".repeat(GAP)));
                }
                match boxed.lines.get(row) {
                    Some(pieces) => line.pieces.extend(pieces.iter().cloned()),
                    None => line
                        .pieces
                        .push(piece(Role::Plain, " ".repeat(boxed.width))),
                }
            }
            line
        })
        .collect()
}

/// Consecutive boxes stacked (a blank line between) while a stack stays within `limit`
/// lines.
fn stacks(boxes: &[Boxed], limit: usize) -> Vec<Boxed> {
    let mut out: Vec<Boxed> = Vec::new();
    for boxed in boxes {
        match out.last_mut() {
            Some(stack) if stack.lines.len() + 1 + boxed.lines.len() <= limit => {
                let width = stack.width.max(boxed.width);
                let pad = |mut pieces: Vec<Piece>, from: usize| {
                    if width > from {
                        pieces.push(piece(Role::Plain, " ".repeat(width - from)));
                    }
                    pieces
                };
                let old = stack.width;
                stack.lines = std::mem::take(&mut stack.lines)
                    .into_iter()
                    .map(|line| pad(line, old))
                    .collect();
                stack.lines.push(pad(Vec::new(), 0));
                stack.lines.extend(
                    boxed
                        .lines
                        .iter()
                        .map(|line| pad(line.clone(), boxed.width)),
                );
                stack.width = width;
            }
            _ => out.push(Boxed {
                width: boxed.width,
                lines: boxed.lines.clone(),
            }),
        }
    }
    out
}

/// Lines a layout takes: each shelf as tall as its tallest, a blank line between shelves.
fn height(shelves: &[Vec<&Boxed>]) -> usize {
    let tallest: usize = shelves
        .iter()
        .map(|s| s.iter().map(|b| b.lines.len()).max().unwrap_or(0))
        .sum();
    tallest + shelves.len().saturating_sub(1)
}

fn piece(role: Role, text: impl Into<String>) -> Piece {
    Piece {
        role,
        text: text.into(),
        table: None,
    }
}

/// A piece in `table`'s colour.
fn framed(table: &str, role: Role, text: impl Into<String>) -> Piece {
    Piece {
        table: Some(table.to_owned()),
        ..piece(role, text)
    }
}

fn table_box(table: &RowsOfTable, viewer: Option<&ActingAs>) -> Boxed {
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            row.cells
                .iter()
                .map(|c| c.clone().unwrap_or_else(|| "null".to_owned()))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| width(c)).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    // Mark cells before the columns, where they can be set: `·` another tenant's row (with
    // a viewer), `✗` a soft-deleted one.
    let tenant_marks = viewer.is_some() && table.tenant_column.is_some();
    let mark_width = usize::from(tenant_marks) + usize::from(table.soft_deletes);
    let joined = |marks: &str, cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| pad(cell, *w))
            .collect();
        if mark_width == 0 {
            cells.join("  ")
        } else {
            format!("{marks} {}", cells.join("  "))
        }
    };
    let header = joined(&" ".repeat(mark_width), &table.columns);
    let total = table.rows.len() + table.more;
    let title = format!(
        "{} ({})",
        table.name,
        crate::text::plural(total, "row", "rows")
    );
    let notes: Vec<String> = match (table.rows.is_empty(), table.more) {
        (true, _) => vec!["(no rows)".to_owned()],
        (false, 0) => Vec::new(),
        (false, more) => vec![format!(
            "+{}",
            crate::text::plural(more, "more row", "more rows")
        )],
    };
    let inner = width(&header)
        .max(width(&title) + 2)
        .max(notes.iter().map(|n| width(n)).max().unwrap_or(0));
    let name = table.name.as_str();
    let boxed = |role: Role, text: &str| {
        vec![
            framed(name, Role::Plain, "│ "),
            piece(role, pad(text, inner)),
            framed(name, Role::Plain, " │"),
        ]
    };
    let mut lines = vec![vec![framed(
        name,
        Role::Heading,
        format!(
            "┌─ {title} {}┐",
            "─".repeat(inner.saturating_sub(width(&title) + 1))
        ),
    )]];
    lines.push(boxed(Role::Muted, &header));
    lines.push(vec![framed(
        name,
        Role::Muted,
        format!("├{}┤", "─".repeat(inner + 2)),
    )]);
    for (row, cells) in table.rows.iter().zip(&cells) {
        let other_tenant = tenant_marks && row.tenant != viewer.map(|v| v.organization_id);
        let mut marks = String::new();
        if tenant_marks {
            marks.push(if other_tenant { '·' } else { ' ' });
        }
        if table.soft_deletes {
            marks.push(if row.deleted { '✗' } else { ' ' });
        }
        let role = |tenant_cell| Role::Row {
            tenant: row.tenant,
            deleted: row.deleted,
            other_tenant,
            tenant_cell,
        };
        // Only the row's own text takes its style, not the border or the padding; the
        // tenant's cell a piece of its own.
        let mut pieces = vec![framed(name, Role::Plain, "│ ")];
        let mut run = if mark_width == 0 {
            String::new()
        } else {
            format!("{marks} ")
        };
        for (index, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if index > 0 {
                run.push_str("  ");
            }
            if Some(index) == table.tenant_column {
                pieces.push(piece(role(false), std::mem::take(&mut run)));
                pieces.push(piece(role(true), cell.clone()));
                run = " ".repeat(w.saturating_sub(width(cell)));
            } else {
                run.push_str(&pad(cell, *w));
            }
        }
        pieces.push(piece(role(false), run.trim_end()));
        pieces.retain(|p| !p.text.is_empty());
        let used: usize = pieces.iter().map(|p| width(&p.text)).sum();
        pieces.push(piece(
            Role::Plain,
            " ".repeat((inner + 2).saturating_sub(used)),
        ));
        pieces.push(framed(name, Role::Plain, " │"));
        lines.push(pieces);
    }
    for note in &notes {
        lines.push(boxed(Role::Muted, note));
    }
    lines.push(vec![framed(
        name,
        Role::Plain,
        format!("└{}┘", "─".repeat(inner + 2)),
    )]);
    Boxed {
        width: inner + 4,
        lines,
    }
}

/// The boxes in order, as many on each shelf as fit in `width` (a wider box alone).
fn shelves(boxes: &[Boxed], width: usize) -> Vec<Vec<&Boxed>> {
    let mut out: Vec<Vec<&Boxed>> = Vec::new();
    let mut used = 0;
    for boxed in boxes {
        match out.last_mut() {
            Some(shelf) if used + GAP + boxed.width <= width => {
                shelf.push(boxed);
                used += GAP + boxed.width;
            }
            _ => {
                out.push(vec![boxed]);
                used = boxed.width;
            }
        }
    }
    out
}

fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

fn pad(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

#[cfg(test)]
mod tests {
    use super::super::{TableLink, TableRow};
    use super::*;

    fn row(id: i64, org: i64, name: &str, deleted: bool) -> TableRow {
        TableRow {
            tenant: Some(org),
            deleted,
            cells: vec![
                Some(id.to_string()),
                Some(org.to_string()),
                Some(name.into()),
            ],
        }
    }

    /// Two tenants' users, one of them deleted, and the organizations they point at.
    pub(crate) fn snapshot() -> TablesSnapshot {
        TablesSnapshot {
            tables: vec![
                RowsOfTable {
                    name: "organizations".into(),
                    columns: vec!["id".into(), "name".into()],
                    tenant_column: Some(0),
                    soft_deletes: false,
                    rows: vec![
                        TableRow {
                            tenant: Some(1),
                            deleted: false,
                            cells: vec![Some("1".into()), Some("Acme Corp".into())],
                        },
                        TableRow {
                            tenant: Some(2),
                            deleted: false,
                            cells: vec![Some("2".into()), Some("TechCo".into())],
                        },
                    ],
                    more: 0,
                },
                RowsOfTable {
                    name: "users".into(),
                    columns: vec!["id".into(), "organization_id".into(), "username".into()],
                    tenant_column: Some(1),
                    soft_deletes: true,
                    rows: vec![
                        row(1, 1, "alice", false),
                        row(3, 2, "charlie", false),
                        row(5, 1, "erin", true),
                    ],
                    more: 7,
                },
            ],
            links: vec![TableLink {
                from_table: "users".into(),
                from_columns: vec!["organization_id".into()],
                to_table: "organizations".into(),
                to_columns: vec!["id".into()],
            }],
        }
    }

    fn alice() -> ActingAs {
        ActingAs {
            user_id: 1,
            username: "alice".into(),
            organization_id: 1,
            organization: "Acme Corp".into(),
        }
    }

    fn text(lines: &[ViewLine]) -> String {
        lines
            .iter()
            .map(ViewLine::text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn boxes_stand_side_by_side_when_they_fit_and_on_shelves_when_not() {
        let wide = lines(&snapshot(), 120, None);
        let top = wide.iter().find(|l| l.text().starts_with('┌')).unwrap();
        assert!(
            top.text().contains("organizations (2 rows)"),
            "{}",
            text(&wide)
        );
        assert!(top.text().contains("users (10 rows)"), "{}", text(&wide));
        let narrow = lines(&snapshot(), 30, None);
        let tops = narrow.iter().filter(|l| l.text().starts_with('┌')).count();
        assert_eq!(tops, 2, "{}", text(&narrow));
        // Every line of a shelf is as wide as the shelf: the boxes close in one column.
        let boxed: Vec<usize> = wide
            .iter()
            .filter(|l| l.text().starts_with(['┌', '│', '├', '└']))
            .map(|l| width(&l.pieces.iter().map(|p| p.text.as_str()).collect::<String>()))
            .collect();
        assert!(boxed.iter().all(|w| *w == boxed[0]), "{boxed:?}");
    }

    #[test]
    fn frames_name_their_table_and_links_their_sides() {
        let out = lines(&snapshot(), 120, None);
        let owner = |line: &ViewLine, text: &str| {
            line.pieces
                .iter()
                .find(|p| p.text == text)
                .and_then(|p| p.table.clone())
        };
        let rows: Vec<&ViewLine> = out
            .iter()
            .filter(|l| l.text().contains("charlie"))
            .collect();
        assert_eq!(rows.len(), 1, "{}", text(&out));
        let last = rows[0].pieces.last().unwrap();
        assert_eq!(
            (last.text.as_str(), last.table.as_deref()),
            (" │", Some("users"))
        );
        let top = out.iter().find(|l| l.text().starts_with('┌')).unwrap();
        assert!(top.pieces[0].text.contains("organizations"));
        assert_eq!(top.pieces[0].table.as_deref(), Some("organizations"));
        let link = out
            .iter()
            .find(|l| l.text().contains("users.organization_id →"))
            .unwrap();
        assert_eq!(
            owner(link, "users.organization_id").as_deref(),
            Some("users")
        );
        assert_eq!(
            owner(link, " → organizations.id").as_deref(),
            Some("organizations")
        );
        // Cells keep their tenant's role: a table's colour is never a row's.
        assert!(
            rows[0]
                .pieces
                .iter()
                .filter(|p| matches!(p.role, Role::Row { .. }))
                .all(|p| p.table.is_none())
        );
    }

    #[test]
    fn rows_carry_their_marks_and_the_legend_names_the_viewer() {
        let out = text(&lines(&snapshot(), 120, Some(&alice())));
        assert!(out.contains("greyed: not alice's tenant (org 1)"), "{out}");
        assert!(out.contains("│  ✗ 5   1                erin"), "{out}");
        assert!(out.contains("│ ·  3   2                charlie"), "{out}");
        assert!(out.contains("│ · 2   TechCo"), "{out}");
        assert!(out.contains("+7 more rows"), "{out}");
        assert!(
            out.contains("users.organization_id → organizations.id"),
            "{out}"
        );
        let plain = text(&lines(&snapshot(), 120, None));
        assert!(!plain.contains('·'), "{plain}");
        assert!(
            plain.contains("│   3   2                charlie"),
            "{plain}"
        );
        assert!(plain.contains("│ id  name"), "{plain}");
    }
}
