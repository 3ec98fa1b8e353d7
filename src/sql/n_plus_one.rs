//! Spots the round-trip patterns of one session as its statements arrive: the N+1 (one query,
//! then the same query once per row it returned), exact duplicates (the same query with the
//! same parameters, again and again), and values spliced into SQL text instead of bound.
//!
//! A burst is a run of consecutive statements with the same fingerprint. Only queries take
//! part: transaction control, catalog lookups, pings, session resets and empty statements are
//! invisible to it, so a driver that wraps each lookup in `BEGIN`/`COMMIT`, resolves a type or
//! checks the connection in between is still running one loop.
//!
//! N+1 is about round trips, so a burst is measured in round trips: statements pipelined in
//! one round trip (pipeline mode, `executemany`) count once, and a burst that took fewer round
//! trips than the threshold is no N+1 however many statements it holds. Duplicates too are
//! repeats in a later round trip: a client that sends the same row twice in one batch did
//! not wait twice.

use std::collections::HashMap;
use std::sync::Arc;

use super::fingerprint::Fingerprint;
use super::kind::StatementKind;
use crate::hash::fnv1a_64;
use crate::text::abbreviate;

/// Teaching default for the smallest N worth reporting (Sentry uses 5, Prosopite 2).
pub const DEFAULT_THRESHOLD: usize = 3;
/// SQL quoted in a finding's message is cut at this many characters.
const MESSAGE_SQL_WIDTH: usize = 80;

/// How many fingerprints a session remembers for the spliced-literals rule before it forgets
/// them all; a session is long-lived and its statements are not.
const SPLICE_MEMORY: usize = 1024;

/// How many distinct (text, parameters) pairs a burst remembers; past this, a burst of
/// 10,000 lookups is counted as if every further statement were distinct.
const DISTINCT_MEMORY: usize = 10_000;

/// One statement as the recorder saw it.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// The session it ran on and the number of the round trip that carried it.
    pub session: u64,
    pub seq: u64,
    /// The raw SQL text, as sent.
    pub sql: &'a str,
    pub fingerprint: &'a Fingerprint,
    /// A hash of the bound parameter bytes, 0 when there are none.
    pub params: u64,
    pub kind: StatementKind,
}

/// The round trips a finding is about: a session and the first and last sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub session: u64,
    pub first: u64,
    pub last: u64,
}

impl Span {
    /// `s3 #12–#21`, as the logs name what a warning is about.
    pub fn label(&self) -> String {
        if self.first == self.last {
            format!("s{} #{}", self.session, self.first)
        } else {
            format!("s{} #{}–#{}", self.session, self.first, self.last)
        }
    }
}

/// A pattern found in a session's traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// `source` ran once, then `repeated` ran in `count` round trips in a row with `distinct`
    /// different (text, parameters) pairs. Both are raw SQL texts; `span` runs from the
    /// source's round trip to the burst's last.
    NPlusOne {
        source: Arc<str>,
        repeated: Arc<str>,
        count: usize,
        distinct: usize,
        span: Span,
    },
    /// A burst of `sql` (raw text of its first statement) contained `count` exact repeats,
    /// each in a later round trip than the first.
    Duplicates {
        sql: Arc<str>,
        count: usize,
        span: Span,
    },
    /// Statements of shape `sql` (the fingerprint shape) arrived with different literal values
    /// written into the text: `first` and `example` are two raw texts that differ in them.
    SplicedLiterals {
        sql: Arc<str>,
        first: Arc<str>,
        example: Arc<str>,
    },
}

impl Finding {
    /// The round trips an N+1 or duplicate finding is about.
    pub fn span(&self) -> Option<Span> {
        match self {
            Finding::NPlusOne { span, .. } | Finding::Duplicates { span, .. } => Some(*span),
            Finding::SplicedLiterals { .. } => None,
        }
    }

    /// What happened and the fix, in one sentence.
    pub fn message(&self) -> String {
        match self {
            Finding::NPlusOne {
                repeated, count, ..
            } => format!(
                "N+1: 1 query then {count} × `{}`: fetch them in one round trip with a JOIN or \
                 `WHERE id = ANY($1)`",
                abbreviate(repeated, MESSAGE_SQL_WIDTH)
            ),
            Finding::Duplicates { sql, count, .. } => format!(
                "`{}` ran again with the same parameters ({}): run it once and reuse the result",
                abbreviate(sql, MESSAGE_SQL_WIDTH),
                if *count == 1 {
                    "once more".to_string()
                } else {
                    format!("{count} more times")
                }
            ),
            Finding::SplicedLiterals { first, example, .. } => {
                let (before, after) = where_they_differ(first, example);
                format!(
                    "values arrive inside the SQL text (`{before}`, then `{after}`): either the \
                     driver interpolates parameters client-side, as psycopg2 does (safe), or the \
                     code builds SQL strings (check it: input written into SQL can become SQL)"
                )
            }
        }
    }
}

/// The N+1 detector for one session (one client connection).
#[derive(Debug)]
pub struct BurstDetector {
    threshold: usize,
    /// The last statement before the current burst: the candidate "1" of an N+1.
    /// With its fingerprint hash (a burst split by a pause is not its own source) and the
    /// round trip it ran in.
    source: Option<(Arc<str>, u64, u64)>,
    burst: Option<Burst>,
    /// The session the statements come from (the detector follows one).
    session: u64,
    /// Fingerprint hash → hash of the first raw text seen with literals and the text, or
    /// `None` once reported: the memory behind the spliced-literals rule.
    spliced: HashMap<u64, Option<(u64, Arc<str>)>>,
}

#[derive(Debug)]
struct Burst {
    hash: u64,
    first: Arc<str>,
    last: Arc<str>,
    /// Round trips the burst took.
    round_trips: usize,
    first_seq: u64,
    last_seq: u64,
    /// (hash of the raw text, parameter hash) of the statements seen, with the round trip
    /// each was first seen in.
    pairs: HashMap<(u64, u64), u64>,
    /// Statements past `DISTINCT_MEMORY`, assumed distinct.
    overflow: usize,
    /// Statements that repeated a pair seen in an earlier round trip.
    repeats: usize,
}

impl Burst {
    /// `pair`: the hash of the raw text and of the parameters.
    fn start(sql: &str, hash: u64, pair: (u64, u64), seq: u64) -> Self {
        let text: Arc<str> = sql.into();
        let mut burst = Self {
            hash,
            first: Arc::clone(&text),
            last: text,
            round_trips: 1,
            first_seq: seq,
            last_seq: seq,
            pairs: HashMap::new(),
            overflow: 0,
            repeats: 0,
        };
        burst.count_pair(pair, seq);
        burst
    }

    fn extend(&mut self, sql: &str, pair: (u64, u64), seq: u64) {
        if *self.last != *sql {
            self.last = sql.into();
        }
        if seq != self.last_seq {
            self.round_trips += 1;
            self.last_seq = seq;
        }
        self.count_pair(pair, seq);
    }

    fn count_pair(&mut self, pair: (u64, u64), seq: u64) {
        match self.pairs.get(&pair) {
            Some(first) if *first != seq => self.repeats += 1,
            Some(_) => {}
            None if self.pairs.len() < DISTINCT_MEMORY => {
                self.pairs.insert(pair, seq);
            }
            None => self.overflow += 1,
        }
    }

    fn distinct(&self) -> usize {
        self.pairs.len() + self.overflow
    }
}

impl Default for BurstDetector {
    fn default() -> Self {
        Self::new(DEFAULT_THRESHOLD)
    }
}

impl BurstDetector {
    /// `threshold` is the smallest N reported; below 2 a single follow-up query would count as
    /// a "loop", so it is raised to 2.
    pub fn new(threshold: usize) -> Self {
        Self {
            threshold: threshold.max(2),
            source: None,
            burst: None,
            session: 0,
            spliced: HashMap::new(),
        }
    }

    /// Feeds the next statement of the session; returns what it completed or revealed.
    pub fn observe(&mut self, statement: Observed<'_>) -> Vec<Finding> {
        if statement.kind != StatementKind::Query {
            return Vec::new();
        }
        // Both rules tell texts apart by this hash: compute it once.
        let text_hash = fnv1a_64(statement.sql.as_bytes());
        let mut findings = Vec::new();
        findings.extend(self.check_spliced(&statement, text_hash));
        let hash = statement.fingerprint.hash;
        let pair = (text_hash, statement.params);
        match &mut self.burst {
            Some(burst) if burst.hash == hash => burst.extend(statement.sql, pair, statement.seq),
            _ => {
                findings.extend(self.finish());
                let burst = Burst::start(statement.sql, hash, pair, statement.seq);
                self.burst = Some(burst);
                self.session = statement.session;
            }
        }
        findings
    }

    /// Forgets the literals seen so far: statements from now on are compared only with each
    /// other for splicing.
    pub fn forget_literals(&mut self) {
        self.spliced.clear();
    }

    /// Ends the current burst (session end, end of a recorded scope, idle) and reports it.
    /// Its last statement stays the source for whatever burst comes next.
    pub fn finish(&mut self) -> Vec<Finding> {
        let Some(burst) = self.burst.take() else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        let distinct = burst.distinct();
        let span = Span {
            session: self.session,
            first: burst.first_seq,
            last: burst.last_seq,
        };
        if let Some((source, source_hash, source_seq)) = &self.source
            && *source_hash != burst.hash
            && burst.round_trips >= self.threshold
            && distinct >= self.threshold
        {
            findings.push(Finding::NPlusOne {
                source: Arc::clone(source),
                repeated: Arc::clone(&burst.first),
                count: burst.round_trips,
                distinct,
                span: Span {
                    first: *source_seq,
                    ..span
                },
            });
        }
        if burst.repeats > 0 {
            findings.push(Finding::Duplicates {
                sql: Arc::clone(&burst.first),
                count: burst.repeats,
                span,
            });
        }
        self.source = Some((burst.last, burst.hash, burst.last_seq));
        findings
    }

    fn check_spliced(&mut self, statement: &Observed<'_>, text_hash: u64) -> Option<Finding> {
        if statement.fingerprint.literals == 0 {
            return None;
        }
        let hash = statement.fingerprint.hash;
        match self.spliced.get(&hash) {
            None => {
                if self.spliced.len() >= SPLICE_MEMORY {
                    self.spliced.clear();
                }
                self.spliced
                    .insert(hash, Some((text_hash, statement.sql.into())));
                None
            }
            Some(Some((first_hash, _))) if *first_hash != text_hash => {
                let first = self
                    .spliced
                    .insert(hash, None)
                    .flatten()
                    .map(|(_, text)| text);
                Some(Finding::SplicedLiterals {
                    sql: Arc::clone(&statement.fingerprint.shape),
                    first: first.unwrap_or_default(),
                    example: statement.sql.into(),
                })
            }
            Some(_) => None,
        }
    }
}

/// Characters of context kept on each side of the first difference between two spliced texts.
const DIFFERENCE_CONTEXT: usize = 30;

/// The parts of `first` and `second` (whitespace collapsed) around the first place they
/// differ: where the spliced values are, however far into a long statement that is.
fn where_they_differ(first: &str, second: &str) -> (String, String) {
    let first: Vec<char> = abbreviate(first, usize::MAX).chars().collect();
    let second: Vec<char> = abbreviate(second, usize::MAX).chars().collect();
    let at = first
        .iter()
        .zip(&second)
        .take_while(|(a, b)| a == b)
        .count();
    let around = |text: &[char]| {
        let start = at.saturating_sub(DIFFERENCE_CONTEXT);
        let end = (at + DIFFERENCE_CONTEXT).min(text.len());
        let mut out: String = text[start.min(end)..end].iter().collect();
        if start > 0 {
            out.insert(0, '…');
        }
        if end < text.len() {
            out.push('…');
        }
        out
    };
    (around(&first), around(&second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::fingerprint::Fingerprinter;

    /// Feeds `(sql, params)` pairs through a fingerprinter and a detector, collecting every
    /// finding, with `finish` at the end. Each `run` is a round trip of its own; findings are
    /// returned without their span, which `spans` keeps.
    struct Session {
        fingerprinter: Fingerprinter,
        detector: BurstDetector,
        findings: Vec<Finding>,
        spans: Vec<Span>,
        seq: u64,
    }

    impl Session {
        fn new(threshold: usize) -> Self {
            Self {
                fingerprinter: Fingerprinter::new(),
                detector: BurstDetector::new(threshold),
                findings: Vec::new(),
                spans: Vec::new(),
                seq: 0,
            }
        }

        fn run(&mut self, sql: &str, params: u64) -> Vec<Finding> {
            self.pipeline(&[(sql, params)])
        }

        /// Statements sent in one round trip.
        fn pipeline(&mut self, statements: &[(&str, u64)]) -> Vec<Finding> {
            self.seq += 1;
            let mut found = Vec::new();
            for (sql, params) in statements {
                let fingerprint = self.fingerprinter.fingerprint(sql);
                found.extend(self.detector.observe(Observed {
                    session: 3,
                    seq: self.seq,
                    sql,
                    fingerprint: &fingerprint,
                    params: *params,
                    kind: crate::sql::statement_kind(sql),
                }));
            }
            self.keep(found)
        }

        fn keep(&mut self, found: Vec<Finding>) -> Vec<Finding> {
            let found: Vec<Finding> = found.into_iter().map(|f| self.unspan(f)).collect();
            self.findings.extend(found.clone());
            found
        }

        fn unspan(&mut self, finding: Finding) -> Finding {
            self.spans.extend(finding.span());
            match finding {
                Finding::NPlusOne {
                    source,
                    repeated,
                    count,
                    distinct,
                    ..
                } => Finding::NPlusOne {
                    source,
                    repeated,
                    count,
                    distinct,
                    span: Span::default(),
                },
                Finding::Duplicates { sql, count, .. } => Finding::Duplicates {
                    sql,
                    count,
                    span: Span::default(),
                },
                other => other,
            }
        }

        fn end(mut self) -> Vec<Finding> {
            let found = self.detector.finish();
            self.keep(found);
            self.findings
        }
    }

    const POSTS: &str = "SELECT * FROM posts WHERE organization_id = $1";
    const AUTHOR: &str = "SELECT * FROM users WHERE id = $1";

    fn n_plus_one(count: usize, distinct: usize) -> Finding {
        Finding::NPlusOne {
            source: POSTS.into(),
            repeated: AUTHOR.into(),
            count,
            distinct,
            span: Span::default(),
        }
    }

    #[test]
    fn a_pipeline_or_executemany_is_one_round_trip_and_never_n_plus_one() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        let batch: Vec<(&str, u64)> = (1..=10).map(|a| (AUTHOR, a)).collect();
        session.pipeline(&batch);
        session.run("SELECT now()", 0);
        assert_eq!(session.end(), vec![]);
    }

    #[test]
    fn ten_lookups_then_the_same_ten_in_one_pipeline_are_eleven_round_trips() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=10 {
            session.run(AUTHOR, author);
        }
        let batch: Vec<(&str, u64)> = (11..=20).map(|a| (AUTHOR, a)).collect();
        session.pipeline(&batch);
        assert_eq!(session.end(), vec![n_plus_one(11, 20)]);
    }

    #[test]
    fn findings_name_the_session_and_round_trips_they_are_about() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run("SELECT now()", 0);
        session.run(POSTS, 1);
        for author in [1, 2, 3, 3] {
            session.run(AUTHOR, author);
        }
        session.run("SELECT now()", 0);
        let spans = session.spans.clone();
        session.end();
        let label: Vec<String> = spans.iter().map(Span::label).collect();
        assert_eq!(label, ["s3 #2–#6", "s3 #3–#6"]);
    }

    #[test]
    fn housekeeping_between_two_identical_queries_does_not_hide_the_duplicate() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(AUTHOR, 1);
        session.run("SELECT typname FROM pg_catalog.pg_type WHERE oid = $1", 25);
        session.run("BEGIN", 0);
        session.run(AUTHOR, 1);
        assert!(matches!(
            &session.end()[..],
            [Finding::Duplicates { count: 1, .. }]
        ));
    }

    #[test]
    fn the_same_row_twice_in_one_batch_is_no_duplicate() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.pipeline(&[(AUTHOR, 1), (AUTHOR, 1), (AUTHOR, 1)]);
        assert_eq!(session.end(), vec![]);
    }

    #[test]
    fn one_plus_ten_is_reported_once_when_the_burst_ends() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=10 {
            assert_eq!(session.run(AUTHOR, author), vec![], "reported mid-burst");
        }
        assert_eq!(session.end(), vec![n_plus_one(10, 10)]);
    }

    #[test]
    fn a_different_statement_ends_the_burst() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=4 {
            session.run(AUTHOR, author);
        }
        assert_eq!(session.run("SELECT now()", 0), vec![n_plus_one(4, 4)]);
        assert_eq!(
            session.end(),
            vec![n_plus_one(4, 4)],
            "and nothing more at the end"
        );
    }

    #[test]
    fn a_join_alone_is_fine() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(
            "SELECT p.*, u.* FROM posts p JOIN users u ON u.id = p.author_id WHERE p.organization_id = $1",
            1,
        );
        assert_eq!(session.end(), vec![]);
    }

    #[test]
    fn threshold_is_respected_and_configurable() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        session.run(AUTHOR, 1);
        session.run(AUTHOR, 2);
        assert_eq!(session.end(), vec![]);

        let mut session = Session::new(2);
        session.run(POSTS, 1);
        session.run(AUTHOR, 1);
        session.run(AUTHOR, 2);
        assert_eq!(session.end(), vec![n_plus_one(2, 2)]);

        let mut session = Session::new(5);
        session.run(POSTS, 1);
        for author in 1..=4 {
            session.run(AUTHOR, author);
        }
        assert_eq!(session.end(), vec![]);
    }

    #[test]
    fn transactions_and_catalog_lookups_do_not_break_a_burst() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=3 {
            session.run("BEGIN", 0);
            session.run(AUTHOR, author);
            session.run(
                "SELECT typname, typtype FROM pg_catalog.pg_type WHERE oid = $1",
                author,
            );
            session.run("COMMIT", 0);
            session.run("", 0);
        }
        assert_eq!(session.end(), vec![n_plus_one(3, 3)]);
    }

    #[test]
    fn identical_repeats_are_duplicates_not_n_plus_one() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for _ in 0..10 {
            session.run(AUTHOR, 7);
        }
        assert_eq!(
            session.end(),
            vec![Finding::Duplicates {
                span: Span::default(),
                sql: AUTHOR.into(),
                count: 9
            }]
        );
    }

    #[test]
    fn n_plus_one_with_some_duplicates_reports_both() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in [1, 2, 1, 3, 2] {
            session.run(AUTHOR, author);
        }
        assert_eq!(
            session.end(),
            vec![
                n_plus_one(5, 3),
                Finding::Duplicates {
                    sql: AUTHOR.into(),
                    count: 2,
                    span: Span::default(),
                }
            ]
        );
    }

    #[test]
    fn a_burst_at_session_start_has_no_source() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        for author in 1..=10 {
            session.run(AUTHOR, author);
        }
        assert_eq!(session.end(), vec![]);
    }

    #[test]
    fn two_bursts_two_reports() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=3 {
            session.run(AUTHOR, author);
        }
        session.run(POSTS, 2);
        for author in 4..=6 {
            session.run(AUTHOR, author);
        }
        assert_eq!(session.end(), vec![n_plus_one(3, 3), n_plus_one(3, 3)]);
    }

    #[test]
    fn back_to_back_bursts_use_the_previous_burst_as_source() {
        const COMMENTS: &str = "SELECT * FROM comments WHERE post_id = $1";
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(POSTS, 1);
        for author in 1..=3 {
            session.run(AUTHOR, author);
        }
        for post in 1..=3 {
            session.run(COMMENTS, post);
        }
        let findings = session.end();
        assert_eq!(findings.len(), 2);
        assert_eq!(
            findings[1],
            Finding::NPlusOne {
                source: AUTHOR.into(),
                repeated: COMMENTS.into(),
                count: 3,
                distinct: 3,
                span: Span::default(),
            }
        );
    }

    #[test]
    fn spliced_literals_are_reported_once_per_shape() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        assert_eq!(session.run("select * from users where id = 1", 0), vec![]);
        assert_eq!(
            session.run("select * from users where id = 2", 0),
            vec![Finding::SplicedLiterals {
                sql: "SELECT * FROM users WHERE id = ?".into(),
                first: "select * from users where id = 1".into(),
                example: "select * from users where id = 2".into()
            }]
        );
        assert_eq!(session.run("select * from users where id = 3", 0), vec![]);
    }

    #[test]
    fn repeating_the_same_literal_text_is_not_splicing() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run("select * from users where id = 1", 0);
        assert_eq!(session.run("select * from users where id = 1", 0), vec![]);
    }

    #[test]
    fn bound_parameters_are_not_splicing() {
        let mut session = Session::new(DEFAULT_THRESHOLD);
        session.run(AUTHOR, 1);
        session.run(AUTHOR, 2);
        assert!(
            session
                .end()
                .iter()
                .all(|finding| !matches!(finding, Finding::SplicedLiterals { .. }))
        );
    }

    #[test]
    fn spliced_values_are_shown_on_both_sides_around_where_they_differ() {
        // What SQLAlchemy over psycopg2 sends: the driver writes the bound values in.
        let columns = "posts.id AS posts_id, posts.title AS posts_title, posts.author_id AS \
                       posts_author_id, posts.created_at AS posts_created_at";
        let first = format!(
            "SELECT {columns} FROM posts WHERE posts.organization_id = 1 AND posts.title = 'a'"
        );
        let example = first.replace("'a'", "'b'");
        let message = Finding::SplicedLiterals {
            sql: "SELECT … = ?".into(),
            first: first.as_str().into(),
            example: example.as_str().into(),
        }
        .message();
        assert!(message.contains("posts.title = 'a'`"), "{message}");
        assert!(message.contains("posts.title = 'b'`"), "{message}");
        assert!(
            message.starts_with("values arrive inside the SQL text"),
            "{message}"
        );
        assert!(message.contains("psycopg2"), "{message}");
        assert!(message.contains("builds SQL strings"), "{message}");
        assert!(!message.contains("injectable"), "{message}");
        let long = format!("select * from t where a = '{}' and b = 1", "x".repeat(500));
        let message = Finding::SplicedLiterals {
            sql: "".into(),
            first: long.as_str().into(),
            example: long.replace("b = 1", "b = 2").as_str().into(),
        }
        .message();
        assert!(message.contains("b = 1"), "{message}");
        assert!(message.contains("b = 2"), "{message}");
        assert!(message.chars().count() < 400, "{message}");
    }

    #[test]
    fn messages() {
        let message = n_plus_one(10, 10).message();
        assert_eq!(
            message,
            "N+1: 1 query then 10 × `SELECT * FROM users WHERE id = $1`: fetch them in one \
             round trip with a JOIN or `WHERE id = ANY($1)`"
        );
        let long = format!("SELECT {} FROM t", "a, ".repeat(100));
        assert!(abbreviate(&long, MESSAGE_SQL_WIDTH).ends_with('…'));
        assert!(abbreviate(&long, MESSAGE_SQL_WIDTH).chars().count() <= 81);
    }
}
