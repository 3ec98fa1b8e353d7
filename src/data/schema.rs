//! The schema map: the structure of the lab's database as its live catalog describes it to
//! the learner — the server, its databases, the schemas of this database, the tables of the
//! lessons' schema with their columns, and the foreign keys between them. Read by
//! `db::schema`, drawn as text by [`text`] for `pglab schema` and the schema map screen.
//!
//! Facts the learner's role may not read (a superuser-only setting, the size of a database
//! it cannot connect to) are `None`, and shown as "not visible to this role".

pub mod text;

/// The whole map, in the order it is drawn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaMap {
    pub server: Server,
    /// The server's databases, this one first, then by name; at most
    /// [`MAX_DATABASES`] (a shared server may hold hundreds).
    pub databases: Vec<Database>,
    /// Databases beyond [`MAX_DATABASES`], counted, not listed.
    pub databases_left_out: usize,
    /// The schemas of the connected database, system schemas left out, by name.
    pub schemas: Vec<Schema>,
    /// The schema whose tables are drawn in full: the lessons' own, first on the search path.
    pub drawn_schema: String,
    /// The tables of `drawn_schema`, by name; at most [`MAX_DRAWN_TABLES`].
    pub tables: Vec<Table>,
    /// Tables of `drawn_schema` beyond [`MAX_DRAWN_TABLES`], counted, not drawn.
    pub tables_left_out: usize,
}

/// Everything the map reads is bounded: a learner may create thousands of tables, and a
/// shared server may hold hundreds of databases.
pub const MAX_DATABASES: usize = 20;
/// Tables drawn as boxes, the first by name.
pub const MAX_DRAWN_TABLES: usize = 60;
/// Table names listed on a schema's line.
pub const MAX_LISTED_TABLES: usize = 12;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server {
    /// `server_version`, as the server reports it.
    pub version: String,
    /// The data directory; `None` when the role may not read the setting.
    pub data_directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub name: String,
    /// On disk, in bytes; `None` when the role may not connect to it.
    pub size_bytes: Option<i64>,
    /// The database this map was read from.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub name: String,
    pub owner: String,
    /// Its tables' names, in order; the first [`MAX_LISTED_TABLES`].
    pub tables: Vec<String>,
    /// How many tables it has in all.
    pub table_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// In their order in the table.
    pub columns: Vec<Column>,
    /// Unique indexes over more than one column or over some rows only (a unique column
    /// of every row is marked on the column).
    pub unique_groups: Vec<UniqueGroup>,
    /// The foreign keys this table declares (its arrows point out of it).
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// As `format_type` writes it, long names shortened to PostgreSQL's own aliases
    /// (`timestamptz`).
    pub data_type: String,
    pub not_null: bool,
    /// The default expression, or `identity` for an identity column.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Unique on its own.
    pub unique: bool,
}

/// A unique index that is not one plain column: several columns, an expression, or a
/// partial index (unique among the rows its predicate keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueGroup {
    /// The index's key, as `pg_get_indexdef` writes each column or expression.
    pub key: Vec<String>,
    /// The partial index's predicate.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing columns, in the constraint's order.
    pub columns: Vec<String>,
    /// The referenced table, schema-qualified when it is not in the drawn schema.
    pub references: String,
    pub referenced_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_delete: String,
}

impl SchemaMap {
    /// The drawn table named `name` (case as written in the catalog).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    /// The foreign key starting at `column`, when `column` is its only column.
    pub fn foreign_key_of(&self, column: &str) -> Option<&ForeignKey> {
        self.foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column)
    }
}

/// `format_type`'s long names, shortened to the aliases PostgreSQL also accepts.
pub fn short_type(data_type: &str) -> String {
    const ALIASES: [(&str, &str); 5] = [
        ("timestamp with time zone", "timestamptz"),
        ("timestamp without time zone", "timestamp"),
        ("time with time zone", "timetz"),
        ("time without time zone", "time"),
        ("character varying", "varchar"),
    ];
    for (long, short) in ALIASES {
        if let Some(rest) = data_type.strip_prefix(long) {
            return format!("{short}{rest}");
        }
    }
    data_type.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_type_names_take_their_aliases_and_keep_their_modifiers() {
        assert_eq!(short_type("timestamp with time zone"), "timestamptz");
        assert_eq!(short_type("character varying(20)"), "varchar(20)");
        assert_eq!(short_type("bigint"), "bigint");
        assert_eq!(short_type("timestamp with time zone[]"), "timestamptz[]");
    }
}
