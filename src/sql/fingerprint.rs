//! Statement fingerprints: the normalised shape of a statement and a stable hash of it, so the
//! recorder can tell "the same query with other values" from "a different query".
//!
//! The shape comes from sqlparser (every literal and `$n` turned into `?`, `IN` lists and
//! multi-row `VALUES` cut to one element, statements printed back and joined with `"; "`), or
//! from the lexical normaliser when sqlparser cannot read the text. Parsing is the expensive
//! part, and a proxy sees the same few statements thousands of times with different values, so
//! the [`Fingerprinter`] caches parsed shapes under the cheap lexical shape.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{Expr, InTarget, Query, SetExpr, Value, ValueWithSpan, VisitMut, VisitorMut};

use super::lexical::lexical_shape;
use crate::hash::fnv1a_64;

/// The cache is cleared when it grows past this many shapes: a client that sends endless
/// distinct statements (generated DDL, say) must not grow the proxy without bound.
pub const CACHE_CAPACITY: usize = 4096;

/// What a statement looks like once its values are taken out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The normalised SQL, e.g. `SELECT * FROM users WHERE id = ?`.
    pub shape: Arc<str>,
    /// FNV-1a 64 of `shape`: stable across runs and machines, unlike `DefaultHasher`.
    pub hash: u64,
    /// How many literal values (numbers and strings) this very text contained; `$n`, `NULL`,
    /// `TRUE` and `FALSE` are not counted.
    pub literals: usize,
}

/// How well the cache is doing, for a status line or a benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Fingerprints answered from the cache.
    pub hits: u64,
    /// Fingerprints that had to be computed (one sqlparser run each).
    pub misses: u64,
}

/// Computes fingerprints, remembering the shapes of statements it has parsed.
#[derive(Debug, Default)]
pub struct Fingerprinter {
    /// Lexical shape → (parsed shape, its hash).
    cache: HashMap<String, (Arc<str>, u64)>,
    stats: CacheStats,
}

impl Fingerprinter {
    /// An empty cache; one per recorder is enough (it is not shared between threads).
    pub fn new() -> Self {
        Self::default()
    }

    /// The fingerprint of `sql`, which may hold several statements.
    pub fn fingerprint(&mut self, sql: &str) -> Fingerprint {
        let lexical = lexical_shape(sql);
        if let Some((shape, hash)) = self.cache.get(&lexical.text) {
            self.stats.hits += 1;
            return Fingerprint {
                shape: Arc::clone(shape),
                hash: *hash,
                literals: lexical.literals,
            };
        }
        self.stats.misses += 1;
        let shape: Arc<str> = match parsed_shape(sql) {
            Some(parsed) => parsed.into(),
            None => lexical.text.as_str().into(),
        };
        let hash = fnv1a_64(shape.as_bytes());
        if self.cache.len() >= CACHE_CAPACITY {
            self.cache.clear();
        }
        self.cache.insert(lexical.text, (Arc::clone(&shape), hash));
        Fingerprint {
            shape,
            hash,
            literals: lexical.literals,
        }
    }

    /// Hits and misses since creation.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }
}

/// The shape as sqlparser sees it, or `None` when it cannot parse the text.
fn parsed_shape(sql: &str) -> Option<String> {
    let mut statements = super::parse(sql)?;
    // The visitor never breaks, so the result carries nothing.
    let _ = statements.visit(&mut Normaliser);
    let printed: Vec<String> = statements.iter().map(ToString::to_string).collect();
    Some(printed.join("; "))
}

/// Rewrites an AST in place into its fingerprint shape.
struct Normaliser;

impl VisitorMut for Normaliser {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::In {
            target: InTarget::List(list),
            ..
        } = expr
        {
            list.truncate(1);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Values(values) = query.body.as_mut() {
            values.rows.truncate(1);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        // NULL stays: `x = NULL` is a different (wrong) query, not a different value.
        if value.value != Value::Null {
            value.value = Value::Placeholder("?".into());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(sql: &str) -> Fingerprint {
        Fingerprinter::new().fingerprint(sql)
    }

    #[test]
    fn fingerprint_table() {
        let table = [
            (
                "SELECT * FROM authors WHERE id = 7",
                "SELECT * FROM authors WHERE id = ?",
            ),
            (
                "SELECT * FROM authors WHERE id = $1",
                "SELECT * FROM authors WHERE id = ?",
            ),
            (
                "select * from authors where id in (1,2,3)",
                "SELECT * FROM authors WHERE id IN (?)",
            ),
            (
                "SELECT * FROM authors WHERE id IN ($1, $2, $3)",
                "SELECT * FROM authors WHERE id IN (?)",
            ),
            (
                "SELECT * FROM authors WHERE id = ANY($1) LIMIT 10 OFFSET 20",
                "SELECT * FROM authors WHERE id = ANY(?) LIMIT ? OFFSET ?",
            ),
            (
                "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
                "INSERT INTO t (a, b) VALUES (?, ?)",
            ),
            (
                "SELECT * FROM t WHERE name = 'O''Brien' AND active = true AND score > -1.5e3",
                "SELECT * FROM t WHERE name = ? AND active = ? AND score > -?",
            ),
            (
                "select * from t where a is null and b = null",
                "SELECT * FROM t WHERE a IS NULL AND b = NULL",
            ),
            ("SELECT 1; SELECT 'two';", "SELECT ?; SELECT ?"),
            (
                "select /* why */ a -- trailing\n from t where b = 1",
                "SELECT a FROM t WHERE b = ?",
            ),
        ];
        for (sql, shape) in table {
            assert_eq!(&*fp(sql).shape, shape, "shape of {sql:?}");
        }
    }

    #[test]
    fn literal_counts() {
        assert_eq!(fp("SELECT * FROM t WHERE a = 1 AND b = 'x'").literals, 2);
        assert_eq!(fp("SELECT * FROM t WHERE a = $1").literals, 0);
        assert_eq!(
            fp("SELECT * FROM t WHERE a IS NULL AND b = true").literals,
            0
        );
    }

    #[test]
    fn same_query_other_literals_same_hash() {
        let a = fp("SELECT * FROM users WHERE email = 'a@example.com' AND age > 30");
        let b = fp("SELECT * FROM users WHERE email = 'b@example.com' AND age > 41");
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.shape, b.shape);
    }

    #[test]
    fn parameter_and_literal_same_shape() {
        assert_eq!(
            fp("SELECT * FROM users WHERE id = $1").shape,
            fp("SELECT * FROM users WHERE id = 42").shape
        );
    }

    #[test]
    fn different_tables_different_hashes() {
        assert_ne!(
            fp("SELECT * FROM users WHERE id = 1").hash,
            fp("SELECT * FROM posts WHERE id = 1").hash
        );
    }

    #[test]
    fn in_list_length_does_not_matter() {
        assert_eq!(
            fp("SELECT * FROM users WHERE id IN (1)").hash,
            fp("SELECT * FROM users WHERE id IN (1, 2, 3, 4, 5)").hash
        );
    }

    #[test]
    fn comments_and_whitespace_are_ignored() {
        assert_eq!(
            fp("SELECT *\n  FROM users -- all of them\n WHERE id = 1").hash,
            fp("/* lookup */ SELECT * FROM users WHERE id = 2").hash
        );
    }

    #[test]
    fn unparsable_text_falls_back_to_the_lexical_shape() {
        // sqlparser does not know this statement form, so the fallback must normalise it.
        let a = fp("FROBNICATE users WITH 'secret', 42 WHERE x IN (1, 2, 3) -- c");
        let b = fp("FROBNICATE  users WITH 'other', 7 WHERE x IN ($1)");
        assert_eq!(&*a.shape, "FROBNICATE users WITH ?, ? WHERE x IN (?)");
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.literals, 5);
        assert_eq!(b.literals, 2);
    }

    #[test]
    fn the_hash_is_the_shape_s_stable_hash() {
        assert_eq!(fp("SELECT ?").hash, fnv1a_64(b"SELECT ?"));
    }

    #[test]
    fn cache_answers_repeated_shapes_with_this_texts_literal_count() {
        let mut fingerprinter = Fingerprinter::new();
        let first = fingerprinter.fingerprint("SELECT * FROM t WHERE a = 1");
        let second = fingerprinter.fingerprint("SELECT * FROM t WHERE a = 2 AND b = 'x'");
        let third = fingerprinter.fingerprint("SELECT * FROM t WHERE a = $1");
        assert_eq!(first.literals, 1);
        assert_eq!(second.literals, 2);
        assert_eq!(third.literals, 0);
        assert_eq!(first.hash, third.hash);
        assert_eq!(fingerprinter.stats(), CacheStats { hits: 1, misses: 2 });
    }

    #[test]
    fn cache_stays_bounded() {
        let mut fingerprinter = Fingerprinter::new();
        for n in 0..(CACHE_CAPACITY + 10) {
            fingerprinter.fingerprint(&format!("SELECT c{n} FROM t"));
        }
        assert!(fingerprinter.cache.len() <= CACHE_CAPACITY);
    }

    /// The proxy's hot path: pgbench-style statements differing only in a literal must be
    /// answered from the cache, with one sqlparser run in total.
    #[test]
    fn literal_varying_traffic_is_served_from_the_cache() {
        let mut fingerprinter = Fingerprinter::new();
        let mut hashes = std::collections::HashSet::new();
        for aid in 0..20_000 {
            let sql = format!("SELECT abalance FROM pgbench_accounts WHERE aid = {aid};");
            let fingerprint = fingerprinter.fingerprint(&sql);
            assert_eq!(fingerprint.literals, 1);
            hashes.insert(fingerprint.hash);
        }
        assert_eq!(hashes.len(), 1);
        assert_eq!(
            fingerprinter.stats(),
            CacheStats {
                hits: 19_999,
                misses: 1
            }
        );
    }
}
