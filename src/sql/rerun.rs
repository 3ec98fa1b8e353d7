//! Whether a statement whose connection was lost may be run again, unasked, on a new one:
//! only a plain read outside a transaction. Anything that may have changed something when
//! the server ran it before the connection broke, or that belonged to a transaction the lost
//! session took with it, is the learner's to run again.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Query, SetExpr, Statement, TableFactor, Visit, Visitor};

use super::lexer::{TokenKind, statements, tokenize};

/// Functions a statement may call and still be run again: aggregates that only read.
/// Any other function may write (`nextval`, `setval`, the learner's own).
const READ_ONLY_FUNCTIONS: [&str; 5] = ["count", "sum", "avg", "min", "max"];

/// Why a statement is not run again after its connection was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRunAgain {
    /// The lost session had a transaction open: it ended with the session (rolled back),
    /// and the statement alone on a new session would not be part of it.
    InTransaction,
    /// Something other than a single query, or a query that writes.
    MayWrite,
    /// A function call other than a plain aggregate: it may write.
    CallsFunction,
    /// `FOR UPDATE` or `FOR SHARE`: row locks mean a transaction is going on.
    LocksRows,
}

impl NotRunAgain {
    /// The reason in the learner's words, to follow "was not run again because".
    pub fn because(self) -> &'static str {
        match self {
            Self::InTransaction => {
                "the transaction open on the lost connection was rolled back with it, and the \
                 statement alone would run outside it"
            }
            Self::MayWrite => "it may change data, and the server may have run it already",
            Self::CallsFunction => {
                "it calls a function, which may change data, and the server may have run it \
                 already"
            }
            Self::LocksRows => "it locks rows for a transaction that the lost connection ended",
        }
    }
}

/// `Ok` when `sql`, whose connection was lost, may be run again on a new one: the lost
/// session was not inside a transaction (`in_transaction`) and `sql` only reads, calling no
/// function but a plain aggregate and locking nothing.
pub fn may_run_again(sql: &str, in_transaction: bool) -> Result<(), NotRunAgain> {
    if in_transaction {
        return Err(NotRunAgain::InTransaction);
    }
    let Some(parsed) = super::parse(sql) else {
        return Err(NotRunAgain::MayWrite);
    };
    if !parsed.iter().all(|s| matches!(s, Statement::Query(_))) {
        return Err(NotRunAgain::MayWrite);
    }
    match parsed.visit(&mut FindsRisk) {
        ControlFlow::Break(why) => Err(why),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Whether a transaction is open after `sql` ran in full on a session where one was open
/// (`was_open`) or not: `BEGIN` and `START TRANSACTION` open one; `COMMIT`, `END`,
/// `ROLLBACK` (but not `ROLLBACK TO` a savepoint), `ABORT` and `PREPARE TRANSACTION` end it.
pub fn transaction_open_after(sql: &str, was_open: bool) -> bool {
    let tokens = tokenize(sql);
    statements(&tokens).fold(was_open, |open, statement| {
        let word = |index: usize| statement.get(index).filter(|t| t.kind == TokenKind::Word);
        let is = |index: usize, expected: &str| word(index).is_some_and(|t| t.is_word(expected));
        if is(0, "begin") || (is(0, "start") && is(1, "transaction")) {
            true
        } else if is(0, "commit")
            || is(0, "end")
            || is(0, "abort")
            || (is(0, "rollback") && !is(1, "to") && !is(2, "to"))
            || (is(0, "prepare") && is(1, "transaction"))
        {
            false
        } else {
            open
        }
    })
}

/// Stops at the first write, function call or row lock.
struct FindsRisk;

impl Visitor for FindsRisk {
    type Break = NotRunAgain;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<NotRunAgain> {
        match statement {
            Statement::Query(_) => ControlFlow::Continue(()),
            _ => ControlFlow::Break(NotRunAgain::MayWrite),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<NotRunAgain> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(NotRunAgain::LocksRows);
        }
        match query.body.as_ref() {
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                ControlFlow::Break(NotRunAgain::MayWrite)
            }
            SetExpr::Select(select) if select.into.is_some() => {
                ControlFlow::Break(NotRunAgain::MayWrite)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<NotRunAgain> {
        match expr {
            Expr::Function(function) if !is_read_only(&function.name.to_string()) => {
                ControlFlow::Break(NotRunAgain::CallsFunction)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<NotRunAgain> {
        match factor {
            TableFactor::Table { args: Some(_), .. }
            | TableFactor::TableFunction { .. }
            | TableFactor::Function { .. } => ControlFlow::Break(NotRunAgain::CallsFunction),
            _ => ControlFlow::Continue(()),
        }
    }
}

/// `count`, `COUNT`, `"count"` and `pg_catalog.count` alike.
fn is_read_only(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
    READ_ONLY_FUNCTIONS
        .iter()
        .any(|allowed| last.eq_ignore_ascii_case(allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_read_outside_a_transaction_runs_again() {
        for sql in [
            "select count(*) as articles_now from articles",
            "select id, title from articles where id = 3 order by id",
            "select a.id, max(c.id) from authors a join comments c on c.author_id = a.id group by a.id",
            "select * from articles where author_id in (select id from authors)",
        ] {
            assert_eq!(may_run_again(sql, false), Ok(()), "{sql}");
        }
    }

    #[test]
    fn a_read_inside_a_transaction_does_not() {
        assert_eq!(
            may_run_again("select count(*) from articles", true),
            Err(NotRunAgain::InTransaction)
        );
    }

    #[test]
    fn function_calls_locks_and_writes_do_not() {
        for (sql, why) in [
            (
                "select nextval('articles_id_seq')",
                NotRunAgain::CallsFunction,
            ),
            (
                "select setval('articles_id_seq', 10)",
                NotRunAgain::CallsFunction,
            ),
            ("select my_fn()", NotRunAgain::CallsFunction),
            ("select now()", NotRunAgain::CallsFunction),
            (
                "select * from generate_series(1, 3)",
                NotRunAgain::CallsFunction,
            ),
            (
                "select id from articles where id = (select my_fn())",
                NotRunAgain::CallsFunction,
            ),
            ("select * from articles for update", NotRunAgain::LocksRows),
            ("select * from articles for share", NotRunAgain::LocksRows),
            (
                "insert into articles (title) values ('x')",
                NotRunAgain::MayWrite,
            ),
            (
                "with gone as (delete from articles returning id) select count(*) from gone",
                NotRunAgain::MayWrite,
            ),
            ("select * into copy from articles", NotRunAgain::MayWrite),
            ("begin; select 1", NotRunAgain::MayWrite),
            ("not sql at all", NotRunAgain::MayWrite),
        ] {
            assert_eq!(may_run_again(sql, false), Err(why), "{sql}");
        }
    }

    #[test]
    fn the_transaction_state_follows_the_statements_that_ran() {
        assert!(transaction_open_after("begin", false));
        assert!(transaction_open_after("START TRANSACTION; select 1", false));
        assert!(transaction_open_after("select 1", true));
        assert!(transaction_open_after("savepoint a; rollback to a", true));
        assert!(transaction_open_after("rollback to savepoint a", true));
        assert!(!transaction_open_after(
            "begin; update t set x = 1; commit",
            false
        ));
        assert!(!transaction_open_after("rollback", true));
        assert!(!transaction_open_after("end", true));
        assert!(!transaction_open_after("prepare transaction 'x'", true));
        assert!(!transaction_open_after("select 1", false));
    }
}
