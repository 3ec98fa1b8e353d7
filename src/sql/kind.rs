//! What kind of work a piece of SQL text asks for, as far as counting round trips and spotting
//! N+1 patterns care: real queries, transaction control, a driver's catalog lookups, or nothing.
//!
//! This runs on every statement the proxy sees, so it answers lexically wherever it can and
//! parses only text that mentions the catalog.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Query, SetExpr, Statement, Visit, Visitor};

use super::lexer::{Token, TokenKind, statements, tokenize};

/// The kind of a whole text (all of its statements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// Anything that does work on data, `SELECT 1` and `SELECT version()` included.
    Query,
    /// Every statement opens, ends or marks a transaction (`BEGIN`, `COMMIT`, `SAVEPOINT`, …).
    TransactionControl,
    /// Every statement only reads the system catalog, like a driver's type lookups.
    CatalogLookup,
    /// No statement at all: whitespace, `;` and comments.
    Empty,
}

/// Classifies `sql`, which may hold several statements.
pub fn statement_kind(sql: &str) -> StatementKind {
    let tokens = tokenize(sql);
    let mut statements = statements(&tokens).peekable();
    if statements.peek().is_none() {
        return StatementKind::Empty;
    }
    if statements.all(is_transaction_control) {
        return StatementKind::TransactionControl;
    }
    if mentions_catalog(&tokens) && is_catalog_lookup(sql) {
        return StatementKind::CatalogLookup;
    }
    StatementKind::Query
}

/// How many non-empty statements `sql` holds.
///
/// The lexical split is right except where a `;` sits inside a statement outside any quote
/// (a `BEGIN ATOMIC … END` function body), so sqlparser is asked only when the split finds
/// more than one statement.
pub fn statement_count(sql: &str) -> usize {
    let tokens = tokenize(sql);
    let lexical = statements(&tokens).count();
    if lexical <= 1 {
        return lexical;
    }
    super::parse(sql).map_or(lexical, |parsed| parsed.len())
}

/// The statements of `sql`, each with the byte offset where it starts in `sql`: the text from
/// its first token to its last (the `;` and the comments between statements left out), so a
/// client can send them one at a time, as an application or interactive psql does. Empty
/// text gives none. Where the lexical split disagrees with the parser (a `;` inside a
/// `BEGIN ATOMIC … END` body), the whole text is one statement.
pub fn split_statements(sql: &str) -> Vec<(usize, &str)> {
    let tokens = tokenize(sql);
    let pieces: Vec<&[Token]> = statements(&tokens).collect();
    if pieces.len() > 1 && statement_count(sql) != pieces.len() {
        let start = offset_in(sql, &tokens[0]);
        return vec![(start, sql[start..].trim_end())];
    }
    pieces
        .into_iter()
        .filter_map(|piece| {
            let (first, last) = (piece.first()?, piece.last()?);
            let start = offset_in(sql, first);
            let end = offset_in(sql, last) + last.text.len();
            Some((start, &sql[start..end]))
        })
        .collect()
}

/// Where `token`, a slice of `sql`, starts in it.
fn offset_in(sql: &str, token: &Token) -> usize {
    (token.text.as_ptr() as usize).saturating_sub(sql.as_ptr() as usize)
}

/// Whether running `sql` may change data, as far as its text shows: INSERT, UPDATE, DELETE or
/// MERGE anywhere (a data-modifying CTE included), `SELECT … INTO` (creates a table), and any
/// statement that is not a plain query (CREATE TABLE AS, EXECUTE, …). Text sqlparser cannot
/// read counts as changing data: a wrong "yes" costs a rolled-back transaction, a wrong "no"
/// costs the learner's rows. A function called by a SELECT can still write; callers that run
/// the text should undo it regardless (see `db::explain`).
pub fn changes_data(sql: &str) -> bool {
    let Some(parsed) = super::parse(sql) else {
        return true;
    };
    parsed.iter().any(|statement| match statement {
        Statement::Query(_) => statement.visit(&mut FindsWrite).is_break(),
        _ => true,
    })
}

/// Stops at the first statement or clause inside a query that writes.
struct FindsWrite;

impl Visitor for FindsWrite {
    type Break = ();

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        match statement {
            Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
            | Statement::Merge { .. } => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        match query.body.as_ref() {
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                ControlFlow::Break(())
            }
            SetExpr::Select(select) if select.into.is_some() => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn is_transaction_control(statement: &[Token<'_>]) -> bool {
    let word = |index: usize| statement.get(index).filter(|t| t.kind == TokenKind::Word);
    let Some(first) = word(0) else {
        return false;
    };
    let second_is = |expected: &str| word(1).is_some_and(|t| t.is_word(expected));
    ["begin", "commit", "end", "rollback", "abort", "savepoint", "release"]
        .iter()
        .any(|keyword| first.is_word(keyword))
        || (first.is_word("start") && second_is("transaction"))
        || (first.is_word("set") && second_is("transaction"))
        // Two-phase commit: `PREPARE TRANSACTION 'id'`, unlike `PREPARE name AS …`.
        || (first.is_word("prepare") && second_is("transaction"))
}

/// Cheap pre-check so ordinary queries never pay for a parse: a catalog lookup names a
/// `pg_*` relation, `information_schema`, or casts to an OID type.
fn mentions_catalog(tokens: &[Token<'_>]) -> bool {
    tokens.iter().any(|token| {
        let text = match token.kind {
            TokenKind::Word => token.text,
            TokenKind::QuotedIdent => token.text.trim_matches('"'),
            _ => return false,
        };
        let lower = text.to_ascii_lowercase();
        lower.starts_with("pg_") || lower == "information_schema" || is_oid_type(&lower)
    })
}

/// Type names whose casts resolve a name to a catalog OID (`'int4'::regtype`).
fn is_oid_type(name: &str) -> bool {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    matches!(
        name,
        "oid"
            | "regtype"
            | "regclass"
            | "regproc"
            | "regprocedure"
            | "regnamespace"
            | "regoper"
            | "regoperator"
            | "regrole"
            | "regcollation"
            | "regconfig"
            | "regdictionary"
    )
}

fn is_catalog_lookup(sql: &str) -> bool {
    let Some(parsed) = super::parse(sql) else {
        return false;
    };
    !parsed.is_empty() && parsed.iter().all(statement_is_catalog_lookup)
}

fn statement_is_catalog_lookup(statement: &Statement) -> bool {
    let Statement::Query(query) = statement else {
        return false;
    };
    if !matches!(query.body.as_ref(), SetExpr::Select(_) | SetExpr::Query(_)) {
        return false;
    }
    let mut reads = CatalogReads::default();
    let _ = statement.visit(&mut reads);
    let relations: Vec<&ObjectName> = reads
        .relations
        .iter()
        .filter(|relation| !is_cte_reference(relation, &reads.cte_names))
        .collect();
    if relations.is_empty() {
        // A FROM-less SELECT qualifies only when its work is resolving a name to an OID.
        reads.oid_casts > 0 && reads.function_calls == 0
    } else {
        relations
            .iter()
            .all(|relation| is_catalog_relation(relation))
    }
}

/// What a statement reads and does, collected in one walk.
#[derive(Default)]
struct CatalogReads {
    relations: Vec<ObjectName>,
    cte_names: HashSet<String>,
    oid_casts: usize,
    function_calls: usize,
}

impl Visitor for CatalogReads {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.cte_names.insert(cte.alias.name.value.to_lowercase());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.relations.push(relation.clone());
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Cast { data_type, .. } if is_oid_type(&data_type.to_string().to_lowercase()) => {
                self.oid_casts += 1;
            }
            Expr::Function(_) => self.function_calls += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn name_parts(relation: &ObjectName) -> Vec<String> {
    relation
        .0
        .iter()
        .filter_map(|part| part.as_ident())
        .map(|ident| ident.value.to_lowercase())
        .collect()
}

fn is_cte_reference(relation: &ObjectName, cte_names: &HashSet<String>) -> bool {
    let parts = name_parts(relation);
    parts.len() == 1 && parts.first().is_some_and(|name| cte_names.contains(name))
}

fn is_catalog_relation(relation: &ObjectName) -> bool {
    let parts = name_parts(relation);
    let Some(table) = parts.last() else {
        return false;
    };
    let schema = parts
        .len()
        .checked_sub(2)
        .and_then(|index| parts.get(index));
    matches!(
        schema.map(String::as_str),
        Some("pg_catalog" | "information_schema")
    ) || table.starts_with("pg_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_splits_into_its_statements_with_their_offsets() {
        let sql = "select 1;\n-- the authors\nselect 'a;b' from t ;  ;select 3";
        let pieces = split_statements(sql);
        assert_eq!(
            pieces,
            [
                (0, "select 1"),
                (25, "select 'a;b' from t"),
                (49, "select 3")
            ]
        );
        for (start, text) in &pieces {
            assert!(sql[*start..].starts_with(text));
        }
        assert_eq!(split_statements(" ;-- nothing\n"), []);
        let atomic = "create function f() returns int language sql begin atomic select 1; end";
        assert_eq!(split_statements(atomic), [(0, atomic)]);
    }

    #[test]
    fn empty_text() {
        for sql in ["", "   \n", ";", " ; ;; ", "-- only a comment", "/* x */ ;"] {
            assert_eq!(statement_kind(sql), StatementKind::Empty, "{sql:?}");
        }
    }

    #[test]
    fn transaction_control() {
        for sql in [
            "BEGIN",
            "begin isolation level serializable",
            "START TRANSACTION READ ONLY",
            "COMMIT",
            "end",
            "ROLLBACK",
            "abort",
            "SAVEPOINT sp1",
            "RELEASE SAVEPOINT sp1",
            "release sp1",
            "ROLLBACK TO SAVEPOINT sp1",
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "BEGIN; SAVEPOINT a; RELEASE a; COMMIT;",
            "/* driver */ commit",
        ] {
            assert_eq!(
                statement_kind(sql),
                StatementKind::TransactionControl,
                "{sql:?}"
            );
        }
    }

    #[test]
    fn transaction_control_mixed_with_work_is_a_query() {
        assert_eq!(
            statement_kind("BEGIN; UPDATE t SET a = 1; COMMIT"),
            StatementKind::Query
        );
        assert_eq!(
            statement_kind("SET search_path = lab"),
            StatementKind::Query
        );
        assert_eq!(
            statement_kind("DO $$ BEGIN PERFORM 1; END $$"),
            StatementKind::Query
        );
    }

    #[test]
    fn catalog_lookups() {
        for sql in [
            "SELECT typname, typtype FROM pg_catalog.pg_type WHERE oid = $1",
            "SELECT oid FROM pg_catalog.pg_type WHERE typname ILIKE $1",
            "SELECT $1::text::regtype::oid",
            "select 'users'::regclass",
            "SELECT attname, atttypid FROM pg_catalog.pg_attribute \
             WHERE attrelid = $1 AND NOT attisdropped AND attnum > 0 ORDER BY attnum",
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'lab'",
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
            "WITH t AS (SELECT oid FROM pg_type) SELECT * FROM t",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::CatalogLookup, "{sql:?}");
        }
    }

    #[test]
    fn ordinary_queries() {
        for sql in [
            "SELECT 1",
            "SELECT version()",
            "SELECT * FROM users WHERE id = $1",
            "SELECT abalance FROM pgbench_accounts WHERE aid = 1",
            "SELECT u.* FROM users u JOIN pg_catalog.pg_type t ON t.oid = u.id",
            "SELECT pg_sleep(1)",
            "INSERT INTO pg_things VALUES (1)",
            "this is not sql at all pg_type",
            "SELECT $1::text::regtype::oid; DELETE FROM users",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::Query, "{sql:?}");
        }
    }

    #[test]
    fn writes_are_found_even_inside_a_query() {
        for sql in [
            "insert into users (email) values ('a@b.c')",
            "update users set username = 'x' where id = 1",
            "delete from users where id = 1",
            "merge into users u using (select 1 as id) s on u.id = s.id \
             when matched then delete",
            "with gone as (delete from posts where id = 1 returning *) select * from gone",
            "select * into copy_of_users from users",
            "create table t as select 1",
            "execute prepared_thing",
            "this is not sql",
        ] {
            assert!(changes_data(sql), "{sql:?}");
        }
        for sql in [
            "select * from users where id = 1",
            "with recent as (select * from posts) select count(*) from recent",
            "select u.email from users u join posts p on p.author_id = u.id",
            "values (1), (2)",
        ] {
            assert!(!changes_data(sql), "{sql:?}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(statement_count(""), 0);
        assert_eq!(statement_count(" ;; -- c\n"), 0);
        assert_eq!(statement_count("SELECT 1"), 1);
        assert_eq!(statement_count("SELECT 1; SELECT 2;"), 2);
        assert_eq!(statement_count("SELECT ';'; SELECT $$;$$ -- ;"), 2);
        assert_eq!(statement_count("not sql; also not sql ;"), 2);
    }
}
