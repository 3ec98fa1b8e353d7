//! Reading SQL without running it: fingerprints that group statements by shape, the kind of a
//! statement (query, transaction control, catalog lookup), lints against the tenant and
//! soft-delete rules of the lab's schema, and an N+1 detector fed a session's statements.
//!
//! Everything here is pure and never panics on input: text sqlparser cannot read falls back to
//! a small PostgreSQL tokeniser that cannot fail.

pub mod fingerprint;
pub mod kind;
mod lexer;
mod lexical;
pub mod lint;
pub mod n_plus_one;

pub use fingerprint::{Fingerprint, Fingerprinter};
pub use kind::{StatementKind, statement_count, statement_kind};
pub use lint::{Lint, TableFacts, lint};
pub use n_plus_one::{BurstDetector, Finding, Observed};

#[cfg(test)]
mod tests {
    use super::*;

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
                sql: &sql,
                fingerprint: &fingerprint,
                params: 0,
                kind,
            });
        }
        let _ = detector.finish();
    }
}
