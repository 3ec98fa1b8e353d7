//! Reading SQL without running it: fingerprints that group statements by shape, the kind of a
//! statement (query, transaction control, catalog lookup), lints against the tenant and
//! soft-delete rules of the lab's schema, an N+1 detector fed a session's statements, and
//! token patterns an exercise's diagnosis looks for in an answer; and whether a statement
//! whose connection was lost may be run again on a new one.
//!
//! Everything here is pure and never panics on input: text sqlparser cannot read falls back to
//! a small PostgreSQL tokeniser that cannot fail.

pub mod fingerprint;
pub mod kind;
mod lexer;
mod lexical;
pub mod lint;
pub mod n_plus_one;
pub mod pattern;
pub mod rerun;

pub use fingerprint::{Fingerprint, Fingerprinter};
pub use kind::{StatementKind, changes_data, split_statements, statement_count, statement_kind};
pub use lint::{Lint, TableFacts, lint};
pub use n_plus_one::{BurstDetector, Finding, Observed, Span};

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Most operator tokens in a text handed to sqlparser. Its parser builds long chains
/// (`a = 1 OR a = 2 OR …`) in a loop, but printing, visiting and dropping the tree recurse
/// once per link: thousands of links would overflow a thread's stack, which aborts the
/// process instead of failing. Longer texts get the lexical fallbacks. Commas, dots,
/// parentheses and brackets are not counted: lists and names are vectors, not chains, and a
/// driver's catalog query (asyncpg's type introspection) has hundreds of them.
const MAX_PARSED_OPERATORS: usize = 256;

/// Parses `sql` as PostgreSQL, unless it fails or is too deeply chained to handle safely.
pub(crate) fn parse(sql: &str) -> Option<Vec<Statement>> {
    let operators = lexer::tokenize(sql)
        .iter()
        .filter(|t| {
            (t.kind == lexer::TokenKind::Punct
                && !matches!(t.text, "," | "." | "(" | ")" | "[" | "]"))
                || t.is_word("and")
                || t.is_word("or")
        })
        .count();
    if operators > MAX_PARSED_OPERATORS {
        return None;
    }
    Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ORM's `id = 1 OR id = 2 OR …` with thousands of terms must not reach sqlparser,
    /// whose printing and dropping of such a chain would overflow the stack.
    #[test]
    fn long_chains_fall_back_instead_of_overflowing_the_stack() {
        let terms: Vec<String> = (0..20_000).map(|i| format!("id = {i}")).collect();
        let sql = format!("select * from users where {}", terms.join(" or "));
        assert!(parse(&sql).is_none());
        // Run where a tokio worker would: a 2 MiB stack.
        let shape = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let facts = TableFacts::new(["users"], ["users"]);
                let _ = lint(&sql, &facts);
                let _ = statement_kind(&sql);
                let _ = statement_count(&sql);
                Fingerprinter::new().fingerprint(&sql)
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(
            shape.shape.starts_with("select * from users where id = ?"),
            "{}",
            &shape.shape[..60]
        );
        assert!(parse("select * from users where id = 1 or id = 2").is_some());
    }

    /// Random splices of the fragments that make tokenisers stumble (unterminated quotes,
    /// dollar tags, nested comments, multi-byte characters) must never panic anywhere.
    #[test]
    fn no_input_panics() {
        const FRAGMENTS: &[&str] = &[
            "'",
            "''",
            "\"",
            "$",
            "$$",
            "$a$",
            "$1",
            "--",
            "/*",
            "*/",
            "E'",
            "\\",
            ";",
            "(",
            ")",
            "IN",
            "VALUES",
            ",",
            "1",
            "1.5e",
            ".",
            "::",
            "0x",
            "U&",
            "é",
            "ß'",
            " ",
            "\n",
            "select",
            "from",
            "users",
            "where",
            "organization_id",
            "=",
            "join",
            "on",
            "p.",
            "update",
            "set",
            "delete",
            "insert into",
            "BEGIN",
            "pg_type",
            "::regtype",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let facts = TableFacts::new(["users"], ["users"]);
        let mut fingerprinter = Fingerprinter::new();
        let mut detector = BurstDetector::new(3);
        for _ in 0..3000 {
            let len = rng.usize(0..12);
            let sql: String = (0..len)
                .map(|_| FRAGMENTS[rng.usize(..FRAGMENTS.len())])
                .collect();
            let fingerprint = fingerprinter.fingerprint(&sql);
            let kind = statement_kind(&sql);
            let _ = statement_count(&sql);
            let _ = lint(&sql, &facts);
            let _ = detector.observe(Observed {
                session: 1,
                seq: 1,
                sql: &sql,
                fingerprint: &fingerprint,
                params: 0,
                kind,
            });
        }
        let _ = detector.finish();
    }
}
