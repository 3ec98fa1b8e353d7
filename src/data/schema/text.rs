//! The schema map as text, one way for `pglab schema` and the schema map screen: the server
//! and its databases, this database's schemas, a box per table (each column's name, type,
//! null, default, and its keys: primary key, unique, the foreign key's arrow), then every
//! foreign key as an arrow `users.organization_id → organizations.id`. Lines are
//! pre-formatted: never wrapped, scrolled sideways where they are wider than the screen.
//! A line says which stretches of it belong to a table ([`TableColour`]) — a box's frame and
//! title, an arrow and the table it points at — for a view that draws each table in a
//! colour of its own; plain text ignores them.

use std::ops::Range;

use super::{Column, SchemaMap, Table};
use crate::text::size;

/// What a line is, for a view that styles it (plain text ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A section's first line.
    Heading,
    /// A table's box and its columns.
    Plain,
    /// Column headers, box separators, and what the role may not see.
    Muted,
}

/// One line of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapLine {
    pub role: Role,
    pub text: String,
    /// Stretches of `text` drawn in a table's colour, in order, not overlapping.
    pub table_colours: Vec<TableColour>,
}

/// A stretch of a line (byte offsets into its text) that takes `table`'s colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColour {
    pub bytes: Range<usize>,
    pub table: String,
}

impl MapLine {
    /// Appends `text`, in `table`'s colour when one is given.
    fn push(&mut self, text: &str, table: Option<&str>) {
        let start = self.text.len();
        self.text.push_str(text);
        if let Some(table) = table.filter(|_| !text.is_empty()) {
            self.table_colours.push(TableColour {
                bytes: start..self.text.len(),
                table: table.to_owned(),
            });
        }
    }
}

/// Said where the catalog keeps a fact from the learner's role.
pub const NOT_VISIBLE: &str = "not visible to this role";

fn line(role: Role, text: impl Into<String>) -> MapLine {
    MapLine {
        role,
        text: text.into(),
        table_colours: Vec::new(),
    }
}

/// A line wholly in `table`'s colour.
fn coloured(role: Role, text: &str, table: &str) -> MapLine {
    let mut out = line(role, "");
    out.push(text, Some(table));
    out
}

/// The whole map: server, databases, schemas, every table of the drawn schema, the
/// foreign keys. With `only` (table names), just those tables and the foreign keys that
/// start or end at one of them.
pub fn lines(map: &SchemaMap, only: &[String]) -> Vec<MapLine> {
    let mut out = Vec::new();
    let tables: Vec<&Table> = if only.is_empty() {
        out.extend(server_lines(map));
        out.push(line(Role::Plain, ""));
        map.tables.iter().collect()
    } else {
        only.iter().filter_map(|name| map.table(name)).collect()
    };
    if tables.is_empty() {
        out.push(line(
            Role::Muted,
            format!("schema {} has no tables yet", map.drawn_schema),
        ));
        return out;
    }
    out.push(line(
        Role::Heading,
        format!(
            "tables in schema {} (PK primary key · unique · → foreign key)",
            map.drawn_schema
        ),
    ));
    for table in &tables {
        out.extend(table_box(table));
    }
    if only.is_empty() && map.tables_left_out > 0 {
        out.push(line(
            Role::Muted,
            format!(
                "… and {} more tables, not drawn: the map draws the first {} by name \
                 (`pglab schema TABLE` draws any one)",
                map.tables_left_out,
                map.tables.len()
            ),
        ));
    }
    out.push(line(Role::Plain, ""));
    out.extend(arrows(map, &tables, !only.is_empty()));
    out
}

/// The names in `wanted` that are not tables of the drawn schema.
pub fn unknown<'a>(map: &SchemaMap, wanted: &'a [String]) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|name| map.table(name).is_none())
        .map(String::as_str)
        .collect()
}

/// The server, its databases and this database's schemas.
fn server_lines(map: &SchemaMap) -> Vec<MapLine> {
    let mut out = vec![line(Role::Heading, "server (what this role can read)")];
    out.push(line(
        Role::Plain,
        format!("  version         PostgreSQL {}", map.server.version),
    ));
    let directory = map.server.data_directory.as_deref().unwrap_or(NOT_VISIBLE);
    out.push(line(Role::Plain, format!("  data directory  {directory}")));
    let name_width = map
        .databases
        .iter()
        .map(|d| width(&d.name))
        .max()
        .unwrap_or(0);
    let sizes: Vec<String> = map
        .databases
        .iter()
        .map(|db| db.size_bytes.map_or_else(|| NOT_VISIBLE.to_owned(), size))
        .collect();
    for (index, (db, size)) in map.databases.iter().zip(&sizes).enumerate() {
        let label = if index == 0 { "databases" } else { "" };
        let this = if db.current { "  ← this one" } else { "" };
        out.push(line(
            Role::Plain,
            format!("  {label:<14}  {}  {size}{this}", pad(&db.name, name_width)),
        ));
    }
    if map.databases_left_out > 0 {
        out.push(line(
            Role::Muted,
            format!(
                "                  … and {} more databases, not listed",
                map.databases_left_out
            ),
        ));
    }
    let sizes: Vec<i64> = map.databases.iter().filter_map(|d| d.size_bytes).collect();
    if sizes.len() > 1 {
        let total: i64 = sizes.iter().sum();
        out.push(line(
            Role::Muted,
            format!(
                "                  together {} (arithmetic: the sum of the {} sizes above)",
                size(total),
                sizes.len()
            ),
        ));
    }
    let current = map
        .databases
        .iter()
        .find(|d| d.current)
        .map_or("this database", |d| d.name.as_str());
    out.push(line(Role::Plain, ""));
    out.push(line(Role::Heading, format!("schemas in {current}")));
    let name_width = map
        .schemas
        .iter()
        .map(|s| width(&s.name))
        .max()
        .unwrap_or(0);
    for schema in &map.schemas {
        let tables = if schema.name == map.drawn_schema {
            format!("{} tables, drawn below", schema.table_count)
        } else if schema.tables.is_empty() {
            "no tables".to_owned()
        } else if schema.table_count > schema.tables.len() {
            let more = schema.table_count - schema.tables.len();
            format!("{}, … and {more} more", schema.tables.join(", "))
        } else {
            schema.tables.join(", ")
        };
        out.push(line(
            Role::Plain,
            format!(
                "  {:<name_width$}  owner {}: {tables}",
                schema.name, schema.owner
            ),
        ));
    }
    out
}

/// A table as a box: its name on the top border, a header row, a row per column, its
/// multi-column unique constraints. The frame and title take the table's colour, each
/// column's arrow the colour of the table it points at.
fn table_box(table: &Table) -> Vec<MapLine> {
    let rows: Vec<([String; 5], Option<&str>)> = table
        .columns
        .iter()
        .map(|column| column_cells(table, column))
        .collect();
    let header = [
        "column".to_owned(),
        "type".to_owned(),
        "null".to_owned(),
        "default".to_owned(),
        "keys".to_owned(),
    ];
    let mut widths = [0usize; 5];
    for row in rows
        .iter()
        .map(|(cells, _)| cells)
        .chain(std::iter::once(&header))
    {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let groups: Vec<String> = table
        .unique_groups
        .iter()
        .map(|group| match &group.predicate {
            Some(predicate) => format!("unique ({}) where {predicate}", group.key.join(", ")),
            None => format!("unique ({})", group.key.join(", ")),
        })
        .collect();
    let header_width: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let inner = header_width
        .max(groups.iter().map(|g| width(g)).max().unwrap_or(0))
        .max(width(&table.name) + 2);
    let name = Some(table.name.as_str());
    // `│ cells │`, the borders in the table's colour; a key cell's arrow (the last thing in
    // it) in its target's.
    let boxed = |role: Role, cells: &[String], arrow: Option<&str>| {
        let mut out = line(role, "");
        out.push("│ ", name);
        let mut used = 0;
        for (index, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if index > 0 {
                out.push("  ", None);
                used += 2;
            }
            match (arrow, cell.find('→')) {
                (Some(target), Some(at)) if index == 4 => {
                    out.push(&cell[..at], None);
                    out.push(&cell[at..], Some(target));
                }
                _ => out.push(cell, None),
            }
            out.push(&" ".repeat(w.saturating_sub(width(cell))), None);
            used += w.max(width(cell));
        }
        out.push(&" ".repeat(inner.saturating_sub(used)), None);
        out.push(" │", name);
        out
    };
    let mut out = vec![line(Role::Plain, "")];
    out.push(coloured(
        Role::Heading,
        &format!(
            "┌─ {} {}┐",
            table.name,
            "─".repeat(inner.saturating_sub(width(&table.name) + 1))
        ),
        &table.name,
    ));
    out.push(boxed(Role::Muted, &header, None));
    out.push(coloured(
        Role::Muted,
        &format!("├{}┤", "─".repeat(inner + 2)),
        &table.name,
    ));
    for (row, arrow) in &rows {
        out.push(boxed(Role::Plain, row, *arrow));
    }
    for group in &groups {
        out.push(boxed(Role::Plain, std::slice::from_ref(group), None));
    }
    out.push(coloured(
        Role::Plain,
        &format!("└{}┘", "─".repeat(inner + 2)),
        &table.name,
    ));
    out
}

/// A column's cells, and the table its foreign key points at (the keys cell ends with
/// that arrow).
fn column_cells<'a>(table: &'a Table, column: &Column) -> ([String; 5], Option<&'a str>) {
    let mut keys = Vec::new();
    if column.primary_key {
        keys.push("PK".to_owned());
    }
    if column.unique {
        keys.push("unique".to_owned());
    }
    let fk = table.foreign_key_of(&column.name);
    if let Some(fk) = fk {
        keys.push(format!(
            "→ {}.{}",
            fk.references,
            fk.referenced_columns.join(", ")
        ));
    }
    let cells = [
        column.name.clone(),
        column.data_type.clone(),
        if column.not_null { "not null" } else { "null" }.to_owned(),
        column.default.clone().unwrap_or_default(),
        keys.join(" "),
    ];
    (cells, fk.map(|fk| fk.references.as_str()))
}

/// Every foreign key among `tables` (with `touching`, also those from other tables that
/// point at one of them), as arrows with what a delete of the referenced row does. Each
/// side takes its table's colour, the arrow its target's.
fn arrows(map: &SchemaMap, tables: &[&Table], touching: bool) -> Vec<MapLine> {
    struct Arrow<'a> {
        from_table: &'a str,
        from: String,
        to_table: &'a str,
        to: String,
        on_delete: &'a str,
    }
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut found = Vec::new();
    for table in &map.tables {
        for fk in &table.foreign_keys {
            let from_here = names.contains(&table.name.as_str());
            let to_here = touching && names.contains(&fk.references.as_str());
            if from_here || to_here {
                let cols = |table: &str, columns: &[String]| match columns {
                    [one] => format!("{table}.{one}"),
                    many => format!("{table}.({})", many.join(", ")),
                };
                found.push(Arrow {
                    from_table: &table.name,
                    from: cols(&table.name, &fk.columns),
                    to_table: &fk.references,
                    to: cols(&fk.references, &fk.referenced_columns),
                    on_delete: &fk.on_delete,
                });
            }
        }
    }
    if found.is_empty() {
        return vec![line(Role::Muted, "no foreign keys among these tables")];
    }
    let from_width = found.iter().map(|a| width(&a.from)).max().unwrap_or(0);
    let to_width = found.iter().map(|a| width(&a.to)).max().unwrap_or(0);
    let mut out = vec![line(
        Role::Heading,
        "foreign keys (referencing → referenced; on delete: what deleting the referenced row does)",
    )];
    for arrow in found {
        let mut shown = line(Role::Plain, "  ");
        shown.push(&arrow.from, Some(arrow.from_table));
        shown.push(&" ".repeat(from_width - width(&arrow.from) + 2), None);
        shown.push(&format!("→  {}", arrow.to), Some(arrow.to_table));
        shown.push(
            &format!(
                "{}  on delete {}",
                " ".repeat(to_width - width(&arrow.to)),
                arrow.on_delete
            ),
            None,
        );
        out.push(shown);
    }
    out
}

fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

fn pad(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

#[cfg(test)]
mod tests {
    use super::super::{Database, ForeignKey, Schema, Server, UniqueGroup};
    use super::*;

    fn column(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            not_null: true,
            default: None,
            primary_key: name == "id",
            unique: false,
        }
    }

    fn map() -> SchemaMap {
        SchemaMap {
            server: Server {
                version: "15.8".into(),
                data_directory: None,
            },
            databases: vec![
                Database {
                    name: "pglab".into(),
                    size_bytes: Some(8 * 1024 * 1024),
                    current: true,
                },
                Database {
                    name: "other".into(),
                    size_bytes: None,
                    current: false,
                },
            ],
            schemas: vec![Schema {
                name: "lab".into(),
                owner: "pglab_learner".into(),
                tables: vec!["organizations".into(), "users".into()],
                table_count: 2,
            }],
            databases_left_out: 0,
            tables_left_out: 0,
            drawn_schema: "lab".into(),
            tables: vec![
                Table {
                    name: "organizations".into(),
                    columns: vec![column("id", "bigint"), column("name", "text")],
                    unique_groups: vec![],
                    foreign_keys: vec![],
                },
                Table {
                    name: "users".into(),
                    columns: vec![column("id", "bigint"), column("organization_id", "bigint")],
                    unique_groups: vec![UniqueGroup {
                        key: vec!["organization_id".into(), "id".into()],
                        predicate: None,
                    }],
                    foreign_keys: vec![ForeignKey {
                        columns: vec!["organization_id".into()],
                        references: "organizations".into(),
                        referenced_columns: vec!["id".into()],
                        on_delete: "cascade".into(),
                    }],
                },
            ],
        }
    }

    fn text(lines: &[MapLine]) -> String {
        lines
            .iter()
            .map(|l| l.text.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_foreign_key_is_an_arrow_in_its_box_and_in_the_list() {
        let out = text(&lines(&map(), &[]));
        assert!(out.contains("→ organizations.id"), "{out}");
        assert!(out.contains("users.organization_id  →  organizations.id  on delete cascade"));
        assert!(out.contains("unique (organization_id, id)"));
        assert!(out.contains("other  not visible to this role"), "{out}");
        assert!(out.contains("data directory  not visible to this role"));
    }

    #[test]
    fn boxes_close_at_the_same_width_on_every_line() {
        let out = lines(&map(), &["users".into()]);
        let boxed: Vec<usize> = out
            .iter()
            .filter(|l| l.text.starts_with(['┌', '│', '├', '└']))
            .map(|l| width(&l.text))
            .collect();
        assert!(boxed.len() > 4);
        assert!(boxed.iter().all(|w| *w == boxed[0]), "{boxed:?}");
    }

    /// The text of each stretch of `line` in a table's colour, with the table.
    fn coloured(line: &MapLine) -> Vec<(&str, &str)> {
        line.table_colours
            .iter()
            .map(|c| (&line.text[c.bytes.clone()], c.table.as_str()))
            .collect()
    }

    #[test]
    fn frames_take_their_table_and_arrows_their_target() {
        let out = lines(&map(), &[]);
        let top = out.iter().find(|l| l.text.starts_with("┌─ users")).unwrap();
        assert_eq!(coloured(top), [(top.text.as_str(), "users")]);
        let row = out
            .iter()
            .find(|l| l.text.starts_with("│ organization_id"))
            .unwrap();
        let parts = coloured(row);
        assert_eq!(parts[0], ("│ ", "users"));
        assert_eq!(parts[1], ("→ organizations.id", "organizations"));
        assert_eq!(parts[2], (" │", "users"));
        let listed = out
            .iter()
            .find(|l| l.text.contains("users.organization_id  →"))
            .unwrap();
        assert_eq!(
            coloured(listed),
            [
                ("users.organization_id", "users"),
                ("→  organizations.id", "organizations")
            ]
        );
        assert!(
            out.iter()
                .filter(|l| l.text.starts_with("server"))
                .all(|l| l.table_colours.is_empty())
        );
    }

    #[test]
    fn chosen_tables_bring_the_arrows_that_reach_them() {
        let out = text(&lines(&map(), &["organizations".into()]));
        assert!(out.contains("users.organization_id  →  organizations.id"));
        assert!(!out.contains("server"));
        let wanted = ["users".to_owned(), "nope".to_owned()];
        assert_eq!(unknown(&map(), &wanted), vec!["nope"]);
    }
}
