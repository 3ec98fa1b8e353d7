//! The live tables view: chosen tables of the lessons' schema with their rows as they are
//! now, each row with its tenant (the organization it belongs to) and whether it is
//! soft-deleted, and the foreign keys between the chosen tables. Read by `db::tables`,
//! drawn as text by [`text`] for `pglab tables`, the lesson runner and the tables screen.
//!
//! Everything is bounded: at most [`MAX_TABLES`] tables, [`MAX_ROWS`] rows each (the rest
//! counted), cells cut to [`MAX_CELL`] display cells.

pub mod text;

/// The tables a view shows when nobody names them: the chapter's tenancy diagram.
pub const DEFAULT_TABLES: [&str; 3] = ["organizations", "users", "posts"];
/// [`DEFAULT_TABLES`] as owned names.
pub fn default_tables() -> Vec<String> {
    DEFAULT_TABLES.iter().map(|s| s.to_string()).collect()
}

/// Tables one view draws, at most.
pub const MAX_TABLES: usize = 4;
/// Rows read and drawn per table; more are counted.
pub const MAX_ROWS: usize = 20;
/// Display cells a value keeps; longer ones end in "…".
pub const MAX_CELL: usize = 20;

/// What the view draws, tables in the order they were asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TablesSnapshot {
    pub tables: Vec<RowsOfTable>,
    /// Foreign keys from one chosen table to another.
    pub links: Vec<TableLink>,
}

/// One table's shown columns and first rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsOfTable {
    pub name: String,
    /// The columns shown, in order; the tenant column among them when the table has one.
    pub columns: Vec<String>,
    /// Which of `columns` names the row's tenant (`organization_id`, or `id` of
    /// `organizations`).
    pub tenant_column: Option<usize>,
    /// Whether the table has `deleted_at` (its rows can be soft-deleted).
    pub soft_deletes: bool,
    /// By `id` (or the first column), at most [`MAX_ROWS`].
    pub rows: Vec<TableRow>,
    /// Rows beyond those read.
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// The organization the row belongs to; `None` for a table without tenants or a null.
    pub tenant: Option<i64>,
    /// `deleted_at` is set.
    pub deleted: bool,
    /// One per shown column, as text on one line and cut to [`MAX_CELL`]; `None` is null.
    pub cells: Vec<Option<String>>,
}

/// A foreign key between two chosen tables: `users.organization_id → organizations.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLink {
    pub from_table: String,
    pub from_columns: Vec<String>,
    pub to_table: String,
    pub to_columns: Vec<String>,
}

impl TableLink {
    /// `users.organization_id → organizations.id`.
    pub fn label(&self) -> String {
        let (from, to) = self.sides();
        format!("{from} → {to}")
    }

    /// The label's two sides: `users.organization_id`, `organizations.id`.
    pub fn sides(&self) -> (String, String) {
        let side = |table: &str, columns: &[String]| match columns {
            [one] => format!("{table}.{one}"),
            many => format!("{table}.({})", many.join(", ")),
        };
        (
            side(&self.from_table, &self.from_columns),
            side(&self.to_table, &self.to_columns),
        )
    }
}

/// A value as one line of at most [`MAX_CELL`] cells: line breaks and other control
/// characters become spaces, so a learner's multi-line text never breaks a row.
pub fn cell(value: &str) -> String {
    let one_line: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::text::clip(&one_line, MAX_CELL)
}

/// Why a list of table names cannot be a view: empty, too many, not a plain lowercase
/// identifier, or named twice. `None` when it can.
pub fn invalid_names(names: &[String]) -> Option<String> {
    if names.is_empty() || names.len() > MAX_TABLES {
        return Some(format!(
            "name 1 to {MAX_TABLES} tables, not {}",
            names.len()
        ));
    }
    for (index, name) in names.iter().enumerate() {
        let plain = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain {
            return Some(format!(
                "`{name}` is not a table name (lowercase letters, digits and _, \
                 starting with a letter)"
            ));
        }
        if names[..index].contains(name) {
            return Some(format!("`{name}` is named twice"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_stays_on_one_line_and_within_its_width() {
        assert_eq!(cell("two\nlines"), "two lines");
        let long = cell(&"x".repeat(40));
        assert_eq!(
            unicode_width::UnicodeWidthStr::width(long.as_str()),
            MAX_CELL
        );
        assert!(long.ends_with('…'));
    }

    #[test]
    fn names_are_checked_for_count_shape_and_repeats() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(invalid_names(&names(&DEFAULT_TABLES)), None);
        assert!(invalid_names(&[]).is_some());
        assert!(
            invalid_names(&names(&["a", "b", "c", "d", "e"])).is_some_and(|m| m.contains("1 to 4"))
        );
        assert!(invalid_names(&names(&["Users"])).is_some_and(|m| m.contains("`Users`")));
        assert!(invalid_names(&names(&["users; drop"])).is_some());
        assert!(invalid_names(&names(&["users", "users"])).is_some_and(|m| m.contains("twice")));
    }

    #[test]
    fn a_link_reads_as_an_arrow() {
        let link = TableLink {
            from_table: "users".into(),
            from_columns: vec!["organization_id".into()],
            to_table: "organizations".into(),
            to_columns: vec!["id".into()],
        };
        assert_eq!(link.label(), "users.organization_id → organizations.id");
    }
}
