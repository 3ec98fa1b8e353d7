//! What kind of work a piece of SQL text asks for, as far as counting round trips and spotting
//! N+1 patterns care: real queries, transaction control, a driver's catalog lookups, a
//! connection check, a session reset, or nothing.
//!
//! Kinds come from what a statement touches, read with sqlparser, never from a list of known
//! texts: a SELECT of constants only touches nothing (a ping, as SQLAlchemy's `pool_pre_ping`
//! sends `SELECT 1`); one that reads only catalog relations (`pg_catalog`,
//! `information_schema`, `pg_*`) and calls only catalog and settings functions (`pg_get_expr`,
//! `format_type`, `current_setting`, `set_config`) is a catalog lookup, as asyncpg's type
//! introspection and psql's `\d` queries are; the forms that put a session back as new
//! (`DISCARD`, `RESET`, `CLOSE ALL`, `UNLISTEN *`, `DEALLOCATE ALL`, `pg_advisory_unlock_all()`)
//! are a session reset, as a pool sends between borrowers.
//!
//! This runs on every statement the proxy sees, so it answers lexically wherever it can and
//! parses only text whose words make one of the other kinds possible.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    CloseCursor, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName,
    Query, SelectItem, SetExpr, Statement, Visit, Visitor,
};

use super::lexer::{Token, TokenKind, statements, tokenize};

/// The kind of a whole text (all of its statements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// Anything that does work on data, `SELECT version()` included.
    Query,
    /// Every statement opens, ends or marks a transaction (`BEGIN`, `COMMIT`, `SAVEPOINT`, …).
    TransactionControl,
    /// Every statement only reads the system catalog or settings, like a driver's type lookups.
    CatalogLookup,
    /// Every statement selects constants only (`SELECT 1`): a client checking the connection.
    Ping,
    /// Every statement puts the session back as new (`DISCARD ALL`, `RESET ALL`, `CLOSE ALL`,
    /// `UNLISTEN *`, `DEALLOCATE ALL`, `SELECT pg_advisory_unlock_all()`): a pool between
    /// borrowers.
    SessionReset,
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
    let pieces: Vec<&[Token<'_>]> = statements.collect();
    if pieces.iter().all(|piece| is_transaction_control(piece)) {
        return StatementKind::TransactionControl;
    }
    let worth_parsing = mentions_catalog(&tokens)
        || pieces
            .iter()
            .all(|piece| may_be_ping(piece) || may_be_reset(piece));
    if !worth_parsing {
        return StatementKind::Query;
    }
    let Some(parsed) = super::parse(sql) else {
        return StatementKind::Query;
    };
    let mut kinds = parsed.iter().map(parsed_kind);
    match kinds.next() {
        Some(first) if kinds.all(|kind| kind == first) => first,
        _ => StatementKind::Query,
    }
}

/// One parsed statement's kind (transaction control is told apart lexically, before).
fn parsed_kind(statement: &Statement) -> StatementKind {
    if is_session_reset(statement) {
        StatementKind::SessionReset
    } else if statement_is_catalog_lookup(statement) {
        StatementKind::CatalogLookup
    } else if is_ping(statement) {
        StatementKind::Ping
    } else {
        StatementKind::Query
    }
}

/// Cheap pre-check for a ping: a short SELECT without words beyond `SELECT` and `AS`-aliases.
fn may_be_ping(statement: &[Token<'_>]) -> bool {
    statement.first().is_some_and(|t| t.is_word("select"))
        && statement.len() <= 8
        && !statement.iter().any(|t| t.is_word("from"))
}

/// Cheap pre-check for a session reset: its first word.
fn may_be_reset(statement: &[Token<'_>]) -> bool {
    statement.first().is_some_and(|first| {
        [
            "discard",
            "reset",
            "close",
            "unlisten",
            "deallocate",
            "select",
        ]
        .iter()
        .any(|word| first.is_word(word))
    })
}

/// `SELECT 1`, `SELECT 'ok' AS alive`: constants only, from nowhere.
fn is_ping(statement: &Statement) -> bool {
    let Some(select) = bare_select(statement) else {
        return false;
    };
    !select.projection.is_empty()
        && select.projection.iter().all(|item| match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                is_constant(expr)
            }
            _ => false,
        })
}

/// The forms that undo what a session set up: its settings, cursors, prepared statements,
/// listens, temporary objects and advisory locks.
fn is_session_reset(statement: &Statement) -> bool {
    match statement {
        Statement::Discard { .. } => true,
        Statement::Reset(_) => true,
        Statement::Close {
            cursor: CloseCursor::All,
        } => true,
        Statement::UNLISTEN { channel } => channel.value == "*",
        Statement::Deallocate { name, .. } => name.value.eq_ignore_ascii_case("all"),
        _ => bare_select(statement).is_some_and(|select| {
            !select.projection.is_empty()
                && select.projection.iter().all(|item| match item {
                    SelectItem::UnnamedExpr(Expr::Function(function))
                    | SelectItem::ExprWithAlias {
                        expr: Expr::Function(function),
                        ..
                    } => function_name(&function.name) == "pg_advisory_unlock_all",
                    _ => false,
                })
        }),
    }
}

/// A statement that is a plain SELECT with no FROM, WHERE, GROUP BY or HAVING.
fn bare_select(statement: &Statement) -> Option<&sqlparser::ast::Select> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let bare = query.with.is_none()
        && select.from.is_empty()
        && select.selection.is_none()
        && select.having.is_none()
        && select.into.is_none();
    bare.then_some(select.as_ref())
}

/// A literal, possibly signed or cast (`1`, `'ok'`, `-1`, `1::int`); `$n` is a value too.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) => true,
        Expr::TypedString(_) => true,
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::Cast { expr: inner, .. } => is_constant(inner),
        _ => false,
    }
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

/// What EXPLAIN shows plans of, for the refusal of anything else.
pub const EXPLAINABLE: &str =
    "SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, EXECUTE and CREATE TABLE … AS";

/// Why EXPLAIN cannot take `sql`: its first statement EXPLAIN has no plan for (DDL such as
/// `create table`, `vacuum`, `set`), named by its leading words, in a sentence. `None` when
/// every statement is one EXPLAIN takes, or the text is empty or unreadable (the server
/// answers those). Lexical: it looks at each statement's first words only.
pub fn explain_refusal(sql: &str) -> Option<String> {
    let tokens = tokenize(sql);
    let refused = statements(&tokens).find_map(unexplainable)?;
    Some(format!(
        "EXPLAIN shows the plans of {EXPLAINABLE}; `{refused}` is not one of them, so it has \
         no plan: run it as it is"
    ))
}

/// The leading words of `statement` when EXPLAIN cannot take it.
fn unexplainable(statement: &[Token<'_>]) -> Option<String> {
    let first = statement.first()?;
    if first.kind != TokenKind::Word {
        // `(select …)`, or something the server will word better.
        return None;
    }
    let word = first.text.to_ascii_lowercase();
    let takes = match word.as_str() {
        // CREATE [TEMP | UNLOGGED] TABLE … AS and CREATE MATERIALIZED VIEW … AS.
        "create" => {
            let object = statement[1..]
                .iter()
                .find(|t| !MODIFIERS.iter().any(|m| t.is_word(m)));
            object.is_some_and(|t| t.is_word("table") || t.is_word("materialized"))
                && statement.iter().any(|t| t.is_word("as"))
        }
        // A word no statement starts with (a typo: `selec`) is the server's to answer.
        other => !PLANLESS.contains(&other),
    };
    if takes {
        return None;
    }
    let mut words = vec![word.clone()];
    if matches!(word.as_str(), "create" | "alter" | "drop") {
        for token in statement[1..]
            .iter()
            .take_while(|t| t.kind == TokenKind::Word)
        {
            words.push(token.text.to_ascii_lowercase());
            if !MODIFIERS.iter().any(|m| token.is_word(m)) {
                break;
            }
        }
    }
    Some(words.join(" "))
}

/// The first words of PostgreSQL's statements that EXPLAIN has no plan for (CREATE only
/// sometimes, see above).
const PLANLESS: [&str; 42] = [
    "abort",
    "alter",
    "analyze",
    "begin",
    "call",
    "checkpoint",
    "close",
    "cluster",
    "comment",
    "commit",
    "copy",
    "create",
    "deallocate",
    "discard",
    "do",
    "drop",
    "end",
    "explain",
    "fetch",
    "grant",
    "import",
    "listen",
    "load",
    "lock",
    "move",
    "notify",
    "prepare",
    "reassign",
    "refresh",
    "reindex",
    "release",
    "reset",
    "revoke",
    "rollback",
    "savepoint",
    "security",
    "set",
    "show",
    "start",
    "truncate",
    "unlisten",
    "vacuum",
];

/// Words between CREATE and the kind of object it makes.
const MODIFIERS: [&str; 9] = [
    "or",
    "replace",
    "temp",
    "temporary",
    "unlogged",
    "global",
    "local",
    "unique",
    "recursive",
];

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
/// `pg_*` relation or function, `information_schema`, a settings function, or casts to an
/// OID type.
fn mentions_catalog(tokens: &[Token<'_>]) -> bool {
    tokens.iter().any(|token| {
        let text = match token.kind {
            TokenKind::Word => token.text,
            TokenKind::QuotedIdent => token.text.trim_matches('"'),
            _ => return false,
        };
        let lower = text.to_ascii_lowercase();
        lower.starts_with("pg_")
            || matches!(
                lower.as_str(),
                "information_schema" | "current_setting" | "set_config"
            )
            || is_oid_type(&lower)
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

/// A query (a UNION of them included) that writes nothing and reads only the catalog.
fn statement_is_catalog_lookup(statement: &Statement) -> bool {
    if !matches!(statement, Statement::Query(_)) || statement.visit(&mut FindsWrite).is_break() {
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
        // A FROM-less SELECT qualifies when its work is resolving a name to an OID or calling
        // catalog and settings functions, and nothing else.
        (reads.oid_casts > 0 || reads.catalog_functions > 0) && reads.other_functions == 0
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
    catalog_functions: usize,
    other_functions: usize,
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
            Expr::Function(function)
                if is_catalog_function(&function_name(&function.name))
                    && !sets_application_state(function) =>
            {
                self.catalog_functions += 1;
            }
            Expr::Function(_) => self.other_functions += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// A function's unqualified, lowercased name.
fn function_name(name: &ObjectName) -> String {
    name_parts(name).pop().unwrap_or_default()
}

/// Functions that read the catalog or the session's settings: `pg_*` ones except those that
/// act (sleep, take locks, signal, write files or change the server), `current_setting`,
/// `set_config` (asyncpg turns JIT off around its introspection with it), `format_type`, the
/// privilege checks and the comment readers.
fn is_catalog_function(name: &str) -> bool {
    const ACTING: [&str; 12] = [
        "pg_sleep",
        "pg_advisory",
        "pg_try_advisory",
        "pg_notify",
        "pg_cancel_backend",
        "pg_terminate_backend",
        "pg_reload_conf",
        "pg_switch_wal",
        "pg_create",
        "pg_drop",
        "pg_stat_reset",
        "pg_promote",
    ];
    if let Some(rest) = name.strip_prefix("pg_") {
        return !rest.is_empty() && !ACTING.iter().any(|acting| name.starts_with(acting));
    }
    matches!(
        name,
        "current_setting" | "set_config" | "format_type" | "obj_description" | "col_description"
    ) || name.starts_with("has_") && name.ends_with("_privilege")
}

/// `set_config` and `current_setting` on a custom, dotted setting (`'app.tenant_id'`, or a
/// name given as a parameter): the application's own state, such as the tenant a row-level
/// security policy reads or the actor an audit trigger records. A driver touches the server's
/// settings (`'jit'`, `'search_path'`) by literal name.
fn sets_application_state(function: &Function) -> bool {
    if !matches!(
        function_name(&function.name).as_str(),
        "set_config" | "current_setting"
    ) {
        return false;
    }
    let FunctionArguments::List(list) = &function.args else {
        return true;
    };
    let setting = list.args.first().and_then(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(value))) => {
            value.value.clone().into_string()
        }
        _ => None,
    });
    setting.is_none_or(|name| name.contains('.'))
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
    fn explain_refuses_statements_without_a_plan_by_their_leading_words() {
        for (sql, words) in [
            ("create table x(a int)", "create table"),
            (
                "CREATE UNIQUE INDEX ON users (email)",
                "create unique index",
            ),
            ("create view v as select 1", "create view"),
            ("drop table users", "drop table"),
            ("alter table users add column x int", "alter table"),
            ("vacuum analyze users", "vacuum"),
            ("set statement_timeout = 0", "set"),
            ("select 1; truncate posts", "truncate"),
            ("begin", "begin"),
        ] {
            let refusal = explain_refusal(sql).unwrap_or_else(|| panic!("{sql}"));
            assert!(
                refusal.contains(&format!("`{words}` is not one of them")),
                "{sql}: {refusal}"
            );
            assert!(refusal.starts_with("EXPLAIN shows the plans of SELECT, INSERT"));
        }
        for sql in [
            "select * from users",
            "  with x as (select 1) select * from x",
            "insert into posts default values",
            "update users set username = 'a'",
            "delete from posts",
            "values (1)",
            "(select 1)",
            "create table t as select 1",
            "create temp table t as select * from users",
            "create materialized view m as select 1",
            "",
            "-- nothing",
            // A typo is the server's to point at.
            "selec 1",
        ] {
            assert_eq!(explain_refusal(sql), None, "{sql}");
        }
    }

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
    fn pings_select_constants_only() {
        for sql in [
            "SELECT 1",
            "select 1;",
            "SELECT 'ok' AS alive",
            "select 1; select 2",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::Ping, "{sql:?}");
        }
        for sql in [
            "SELECT 1 FROM users",
            "select now()",
            "select 1 where false",
            "select 1; select * from users",
        ] {
            assert_ne!(statement_kind(sql), StatementKind::Ping, "{sql:?}");
        }
    }

    #[test]
    fn session_resets() {
        for sql in [
            // asyncpg's pool, between borrowers.
            "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;",
            // psycopg 3 after a prepared-statement failure, and by hand.
            "DEALLOCATE ALL",
            "DISCARD ALL",
            "discard temp",
            "RESET search_path",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::SessionReset, "{sql:?}");
        }
        for sql in [
            "CLOSE my_cursor",
            "UNLISTEN posts_changed",
            "DEALLOCATE my_statement",
            "SELECT pg_advisory_unlock(1)",
            "RESET ALL; DELETE FROM users",
        ] {
            assert_ne!(statement_kind(sql), StatementKind::SessionReset, "{sql:?}");
        }
    }

    #[test]
    fn settings_and_catalog_functions_are_catalog_lookups() {
        for sql in [
            // asyncpg turns JIT off around its type introspection, and back.
            "SELECT\n    current_setting('jit') AS cur,\n    set_config('jit', 'off', false) AS new",
            "SELECT\n    set_config('jit', $1, false)",
            "select pg_catalog.pg_get_userbyid(10)",
            "select format_type(23, null)",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::CatalogLookup, "{sql:?}");
        }
        for sql in [
            "select pg_sleep(1)",
            "select pg_advisory_lock(1)",
            "select set_config('app.tenant', '1', false), now()",
            // The tenant for row-level security and the actor for the audit trigger.
            "select set_config('app.current_org', $1, false)",
            "select set_config('pglab.actor_id', $1, true), set_config('pglab.client_addr', $2, true)",
            "select current_setting('app.current_org')",
            "select pg_notify('c', 'x')",
        ] {
            assert_eq!(statement_kind(sql), StatementKind::Query, "{sql:?}");
        }
    }

    #[test]
    fn what_drivers_send_to_read_the_catalog() {
        // Captured through `pglab proxy`: asyncpg's type introspection (for an enum), and the
        // publications query psql's `\d posts` sends.
        for sql in [
            include_str!("../../tests/fixtures/sql/asyncpg-typeinfo.sql"),
            include_str!("../../tests/fixtures/sql/psql-publications.sql"),
        ] {
            assert_eq!(statement_kind(sql), StatementKind::CatalogLookup, "{sql}");
        }
    }

    #[test]
    fn ordinary_queries() {
        for sql in [
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
