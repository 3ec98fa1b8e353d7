//! Grading an exercise attempt: the learner's result, round trips and plan against the
//! exercise's [`Check`] and the reference solution's result. Pure: `db::grading` runs both
//! queries and measures and the proxy counts; this only decides ([`judge`] on what they
//! gathered and counted, [`grade`] on an [`Attempt`]), and every failure says what is wrong
//! (the rows that differ, by value; "right rows, wrong order"; the round-trip count against
//! the limit; the plan node at fault). Why it is wrong is the exercise's diagnoses' to say
//! (`diagnose`): the first whose conditions hold explains a failing verdict.
//!
//! Columns are compared by count, not by name: an alias is a matter of taste, and rejecting a
//! right answer over one frustrates learners (pgexercises made the same call). Values are
//! compared as PostgreSQL's text, so `1` and `1.0` differ, as they would on screen.

use std::collections::HashMap;
use std::fmt;

use super::{Check, Failure, RowOrder};
use crate::data::grading::Gathered;
use crate::data::warning::WarningRule;
use crate::data::{ResultSet, ServerError};
use crate::query_log::{ScopeReport, Warning, warning_messages};

mod diagnose;

/// At most this many rows are listed in a missing or extra rows finding.
const SAMPLE_ROWS: usize = 5;

type Row = Vec<Option<String>>;

/// What the learner's SQL produced, as far as the caller measured it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempt<'a> {
    /// The rows returned; `None` when the SQL failed or returned no row set (e.g. an UPDATE).
    pub result: Option<&'a ResultSet>,
    /// The server's refusal of the check's query, run after the answer (a constraint the
    /// answer left refused its delete): the rows are then not compared.
    pub refused: Option<&'a ServerError>,
    /// Round trips the attempt took; `None` if not measured.
    pub round_trips: Option<u64>,
    /// The `Node Type` of every node of the checked statement's plan; `None` if not explained.
    pub plan_nodes: Option<&'a [String]>,
    /// How many times faster the checked statement ran as planned than with index scans
    /// switched off; `None` if not measured.
    pub speedup: Option<f64>,
    /// The warnings the lab's query log raised for the attempt's round trips (lint, N+1),
    /// as their messages; `None` if not watched.
    pub warnings: Option<&'a [String]>,
}

/// The outcome of grading: passed when nothing is wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// What is wrong, in check order: rows, round trips, plan, speed-up.
    pub findings: Vec<Finding>,
    /// What held, in the same order and in words ("no Seq Scan in the plan"), measured
    /// numbers included: what a pass is told.
    pub held: Vec<String>,
    /// Why the attempt fails, when one of the exercise's diagnoses explains it.
    pub why: Option<Why>,
}

/// A diagnosis that explains a failing attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// The diagnosis's name, as the lesson file gives it.
    pub diagnosis: String,
    /// Its sentence, with the attempt's rows and round trips put in.
    pub text: String,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One reason an attempt fails; `Display` is the sentence shown to the learner.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The check's query, run after the answer, was refused by the server.
    Refused {
        sqlstate: String,
        message: String,
        detail: Option<String>,
    },
    /// The check compares rows but the attempt returned none (failed or not a query).
    NoRows {
        expected_rows: usize,
    },
    /// The attempt returned a different number of columns; their names as returned.
    ColumnCount {
        expected: Vec<String>,
        got: Vec<String>,
    },
    /// Expected rows the attempt lacks; `sample` holds up to 5 of `count`.
    MissingRows {
        count: usize,
        sample: Vec<Row>,
    },
    /// Rows the attempt has beyond the expected ones; `sample` holds up to 5 of `count`.
    ExtraRows {
        count: usize,
        sample: Vec<Row>,
    },
    /// The same rows, but the first difference in order is at `position` (0-based).
    WrongOrder {
        position: usize,
        expected: Row,
        got: Row,
    },
    TooManyRoundTrips {
        max: u64,
        got: u64,
    },
    /// A check needs a measurement the caller did not provide (`"round trips"`, `"plan"`).
    NotMeasured {
        what: &'static str,
    },
    PlanLacks {
        node: String,
    },
    PlanHas {
        node: String,
    },
    TooLittleSpeedup {
        min: u32,
        got: f64,
    },
    /// The check asks for no warnings, and the log raised these.
    Warned {
        messages: Vec<String>,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Refused {
                sqlstate,
                message,
                detail,
            } => {
                write!(
                    f,
                    "after your answer, the check's statements were refused: {message} \
                     (SQLSTATE {sqlstate})"
                )?;
                match detail {
                    Some(detail) => write!(f, "; {detail}"),
                    None => Ok(()),
                }
            }
            Finding::NoRows { expected_rows } => write!(
                f,
                "your SQL returned no rows at all (did it fail, or is it not a query?); \
                 expected {}",
                crate::text::plural(*expected_rows, "row", "rows")
            ),
            Finding::ColumnCount { expected, got } => write!(
                f,
                "column count differs: expected {} ({}), got {} ({}); \
                 names are not compared, only how many and their values",
                crate::text::plural(expected.len(), "column", "columns"),
                names(expected),
                got.len(),
                names(got)
            ),
            Finding::MissingRows { count, sample } => {
                let missing = crate::text::plural(*count, "row", "rows");
                write!(f, "{missing} missing: {}", list_rows(*count, sample))
            }
            Finding::ExtraRows { count, sample } => {
                let extra = crate::text::plural(*count, "extra row", "extra rows");
                write!(f, "{extra}: {}", list_rows(*count, sample))
            }
            Finding::WrongOrder {
                position,
                expected,
                got,
            } => write!(
                f,
                "the rows are right but not their order: row {} should be {} but is {}; \
                 check the ORDER BY",
                position + 1,
                show_row(expected),
                show_row(got)
            ),
            Finding::TooManyRoundTrips { max, got } => write!(
                f,
                "too many round trips: {got}, the limit is {max}; \
                 fetch what the page needs in fewer queries"
            ),
            Finding::NotMeasured { what } => {
                write!(f, "the {what} was not measured, so this check cannot pass")
            }
            Finding::PlanLacks { node } => write!(f, "the plan has no {node} node"),
            Finding::PlanHas { node } => write!(f, "the plan still has a {node} node"),
            Finding::TooLittleSpeedup { min, got } => write!(
                f,
                "it ran {got:.1}× as fast as without indexes; the check asks for at least \
                 {min}× (does the index lead with the column the query filters by equality?)"
            ),
            Finding::Warned { messages } => write!(
                f,
                "the lab's query log flagged your SQL: {}",
                messages.join("; ")
            ),
        }
    }
}

impl Finding {
    /// The family a diagnosis's `fails` names; `None` for a missing measurement, which no
    /// answer is to blame for.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            Finding::Refused { .. }
            | Finding::NoRows { .. }
            | Finding::MissingRows { .. }
            | Finding::ExtraRows { .. } => Some(Failure::Rows),
            Finding::ColumnCount { .. } => Some(Failure::Columns),
            Finding::WrongOrder { .. } => Some(Failure::Order),
            Finding::TooManyRoundTrips { .. } => Some(Failure::RoundTrips),
            Finding::NotMeasured { .. } => None,
            Finding::PlanLacks { .. } | Finding::PlanHas { .. } => Some(Failure::Plan),
            Finding::TooLittleSpeedup { .. } => Some(Failure::Speedup),
            Finding::Warned { .. } => Some(Failure::Lint),
        }
    }
}

/// Grades `attempt` against `check`; `expected` is the reference solution's result (only used
/// when the check compares rows). Column names are not compared, only how many columns there
/// are; values are compared as text, NULL equal only to NULL; duplicate rows count.
pub fn grade(check: &Check, expected: &ResultSet, attempt: &Attempt) -> Verdict {
    graded(check, expected, attempt).0
}

/// The rows an attempt has beyond the reference's and lacks of them, every one, compared on
/// `width` columns: what a diagnosis looks at.
#[derive(Debug, Default)]
struct RowDiff {
    width: usize,
    missing: Vec<Row>,
    extra: Vec<Row>,
}

/// [`grade`], and the row difference behind its findings.
fn graded(check: &Check, expected: &ResultSet, attempt: &Attempt) -> (Verdict, RowDiff) {
    let mut findings = Vec::new();
    let mut held = Vec::new();
    let mut diff = RowDiff::default();
    if let (Some(_), Some(refused)) = (check.rows, attempt.refused) {
        findings.push(Finding::Refused {
            sqlstate: refused.sqlstate.clone(),
            message: refused.message.clone(),
            detail: refused.detail.clone(),
        });
    } else if let Some(order) = check.rows {
        let before = findings.len();
        diff = compare_rows(order, expected, attempt.result, &mut findings);
        if findings.len() == before {
            let after = match check.query {
                Some(_) => " after the check's statements",
                None => "",
            };
            held.push(match order {
                RowOrder::Ordered => format!("the reference's rows{after}, in its order"),
                RowOrder::Unordered => format!("the reference's rows{after}"),
            });
        }
    }
    if let Some(max) = check.max_round_trips {
        match attempt.round_trips {
            Some(got) if got > max => findings.push(Finding::TooManyRoundTrips { max, got }),
            Some(got) => held.push(format!(
                "{} (at most {max})",
                crate::text::plural(got as usize, "round trip", "round trips")
            )),
            None => findings.push(Finding::NotMeasured {
                what: "round-trip count",
            }),
        }
    }
    if check.needs_plan() {
        match attempt.plan_nodes {
            None => findings.push(Finding::NotMeasured { what: "plan" }),
            Some(nodes) => {
                let has = |node: &String| nodes.iter().any(|n| n == node);
                for node in &check.plan_contains {
                    match has(node) {
                        true => held.push(format!("a {node} in the plan")),
                        false => findings.push(Finding::PlanLacks { node: node.clone() }),
                    }
                }
                for node in &check.plan_excludes {
                    match has(node) {
                        true => findings.push(Finding::PlanHas { node: node.clone() }),
                        false => held.push(format!("no {node} in the plan")),
                    }
                }
            }
        }
    }
    if let Some(min) = check.min_speedup {
        match attempt.speedup {
            Some(got) if got < f64::from(min) => {
                findings.push(Finding::TooLittleSpeedup { min, got });
            }
            Some(got) => held.push(format!(
                "{got:.0}× as fast as without indexes (at least {min}×)"
            )),
            None => findings.push(Finding::NotMeasured { what: "speed-up" }),
        }
    }
    if check.lint_free {
        match attempt.warnings {
            Some([]) => held.push("no warning from the lab's lint".to_string()),
            Some(messages) => findings.push(Finding::Warned {
                messages: messages.to_vec(),
            }),
            None => findings.push(Finding::NotMeasured {
                what: "query log's lint",
            }),
        }
    }
    let verdict = Verdict {
        findings,
        held,
        why: None,
    };
    (verdict, diff)
}

/// Grades one gathered attempt (`db::grading` reads it the same way for the lab and for
/// `pglab lessons check`) with what the proxy counted while the answer ran: the one place an
/// [`Attempt`] is built, so both grade an answer alike. `Err` says why there is no verdict
/// (the answer failed, the reference solution or the measurements could not run); the
/// answer does not pass then either.
pub fn judge(
    check: &Check,
    gathered: &Gathered,
    counted: Option<&ScopeReport>,
) -> Result<Verdict, String> {
    let outcome = match &gathered.ran {
        Ok(outcome) => outcome,
        Err(failure) => return Err(format!("Your statement failed: {}", failure.message)),
    };
    let expected = match &gathered.expected {
        Ok(expected) => expected,
        Err(problem) => return Err(format!("The reference solution could not run: {problem}")),
    };
    // An empty reference would pass an answer that finds nothing: that is no check at all.
    // It happens when what the exercise asks about is not in the database yet (the story
    // reset, the demo that writes it not run).
    if check.rows.is_some() && expected.rows.is_empty() {
        return Err(
            "The reference solution finds no rows on this database, so there is \
                    nothing to compare your answer with yet: run this lesson's earlier steps \
                    (they write what the exercise asks about), then check again."
                .into(),
        );
    }
    let measured = match &gathered.measured {
        Ok(measured) => measured,
        Err(problem) => return Err(format!("The plan could not be measured: {problem}")),
    };
    // The attempt's scope holds the warnings its round trips raised.
    let warnings = counted.map(|c| warning_messages(&c.warnings));
    let round_trips = counted.map(|c| c.totals.round_trips);
    // With a query of its own, the check compares that query's rows (or its refusal).
    let (result, refused) = match &gathered.checked {
        Some(Ok(rows)) => (Some(rows), None),
        Some(Err(refusal)) => (None, Some(refusal)),
        None => (outcome.statements.last().map(|s| &s.result), None),
    };
    let attempt = Attempt {
        result,
        refused,
        round_trips,
        plan_nodes: measured.plan_nodes.as_deref(),
        speedup: measured.speedup,
        warnings: warnings.as_deref(),
    };
    let (mut verdict, diff) = graded(check, expected, &attempt);
    if !verdict.passed() {
        let warned: Vec<WarningRule> = counted
            .map(|c| c.warnings.iter().map(Warning::rule).collect())
            .unwrap_or_default();
        let evidence = diagnose::Evidence {
            answer: &gathered.answer,
            verdict: &verdict,
            width: diff.width,
            extra: &diff.extra,
            missing: &diff.missing,
            round_trips,
            warned: &warned,
            rows: &gathered.diagnosis_rows,
        };
        verdict.why = diagnose::first(&check.diagnoses, &evidence);
    }
    Ok(verdict)
}

fn compare_rows(
    order: RowOrder,
    expected: &ResultSet,
    got: Option<&ResultSet>,
    findings: &mut Vec<Finding>,
) -> RowDiff {
    let Some(got) = got else {
        findings.push(Finding::NoRows {
            expected_rows: expected.rows.len(),
        });
        return RowDiff::default();
    };
    // A result without rows has no column names either (they come from the rows), so its
    // width is unknown: it lacks every expected row, whatever it selected.
    let width = expected.columns.len();
    if got.columns.len() != width && !got.rows.is_empty() && !expected.rows.is_empty() {
        findings.push(Finding::ColumnCount {
            expected: expected.columns.clone(),
            got: got.columns.clone(),
        });
        return RowDiff::default();
    }
    // A multiset difference: every expected row cancels one equal attempt row, so duplicates
    // count (a missing DISTINCT shows up as extra rows).
    let mut unmatched: HashMap<&Row, usize> = HashMap::new();
    for row in &got.rows {
        *unmatched.entry(row).or_default() += 1;
    }
    let mut missing = Vec::new();
    for row in &expected.rows {
        match unmatched.get_mut(row) {
            Some(count) if *count > 0 => *count -= 1,
            _ => missing.push(row),
        }
    }
    let mut extra = Vec::new();
    for row in &got.rows {
        if let Some(count) = unmatched.get_mut(row)
            && *count > 0
        {
            // Equal rows are interchangeable, so listing the first copies is as true as any.
            *count -= 1;
            extra.push(row);
        }
    }
    if !missing.is_empty() {
        findings.push(Finding::MissingRows {
            count: missing.len(),
            sample: sample(&missing),
        });
    }
    if !extra.is_empty() {
        findings.push(Finding::ExtraRows {
            count: extra.len(),
            sample: sample(&extra),
        });
    }
    let diff = RowDiff {
        width: width.max(got.columns.len()),
        missing: missing.iter().map(|row| (*row).clone()).collect(),
        extra: extra.iter().map(|row| (*row).clone()).collect(),
    };
    if missing.is_empty() && extra.is_empty() && order == RowOrder::Ordered {
        let first_difference = expected
            .rows
            .iter()
            .zip(&got.rows)
            .position(|(want, have)| want != have);
        if let Some(position) = first_difference {
            findings.push(Finding::WrongOrder {
                position,
                expected: expected.rows[position].clone(),
                got: got.rows[position].clone(),
            });
        }
    }
    diff
}

fn sample(rows: &[&Row]) -> Vec<Row> {
    rows.iter()
        .take(SAMPLE_ROWS)
        .map(|row| (*row).clone())
        .collect()
}

/// Column names, the first few: `id, title, … and 11 more`.
fn names(columns: &[String]) -> String {
    const SHOWN: usize = 6;
    match columns.len().checked_sub(SHOWN) {
        Some(more) if more > 1 => format!("{}, … and {more} more", columns[..SHOWN].join(", ")),
        _ => columns.join(", "),
    }
}

/// `(1, alice, NULL)`: values as PostgreSQL prints them, NULL spelt out.
pub(super) fn show_row(row: &Row) -> String {
    let values: Vec<&str> = row
        .iter()
        .map(|value| value.as_deref().unwrap_or("NULL"))
        .collect();
    format!("({})", values.join(", "))
}

fn list_rows(count: usize, sample: &[Row]) -> String {
    let shown: Vec<String> = sample.iter().map(show_row).collect();
    let more = count.saturating_sub(sample.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(" "))
    } else {
        shown.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(columns: usize, rows: &[&[Option<&str>]]) -> ResultSet {
        ResultSet::new(
            (0..columns).map(|i| format!("c{i}")).collect(),
            rows.iter()
                .map(|row| row.iter().map(|v| v.map(str::to_string)).collect())
                .collect(),
        )
    }

    fn rows_check(order: RowOrder) -> Check {
        Check {
            rows: Some(order),
            ..Check::default()
        }
    }

    fn messages(verdict: &Verdict) -> Vec<String> {
        verdict.findings.iter().map(ToString::to_string).collect()
    }

    const A: &[Option<&str>] = &[Some("1"), Some("alice")];
    const B: &[Option<&str>] = &[Some("2"), Some("bob")];
    const N: &[Option<&str>] = &[Some("3"), None];

    #[test]
    fn row_comparisons() {
        use RowOrder::{Ordered, Unordered};
        type Case<'a> = (
            &'a str,
            RowOrder,
            ResultSet,
            Option<ResultSet>,
            &'a [&'a str],
        );
        let cases: &[Case] = &[
            (
                "same rows",
                Unordered,
                rs(2, &[A, B]),
                Some(rs(2, &[A, B])),
                &[],
            ),
            (
                "any order",
                Unordered,
                rs(2, &[A, B]),
                Some(rs(2, &[B, A])),
                &[],
            ),
            (
                "in order",
                Ordered,
                rs(2, &[A, B, N]),
                Some(rs(2, &[A, B, N])),
                &[],
            ),
            (
                "nulls equal",
                Unordered,
                rs(2, &[N]),
                Some(rs(2, &[N])),
                &[],
            ),
            ("empty both", Ordered, rs(2, &[]), Some(rs(2, &[])), &[]),
            (
                "wrong order",
                Ordered,
                rs(2, &[A, B]),
                Some(rs(2, &[B, A])),
                &[
                    "the rows are right but not their order: row 1 should be (1, alice) but is \
                   (2, bob); check the ORDER BY",
                ],
            ),
            (
                "null is not the empty string",
                Unordered,
                rs(2, &[N]),
                Some(rs(2, &[&[Some("3"), Some("")]])),
                &["1 row missing: (3, NULL)", "1 extra row: (3, )"],
            ),
            (
                "missing a row",
                Unordered,
                rs(2, &[A, B]),
                Some(rs(2, &[B])),
                &["1 row missing: (1, alice)"],
            ),
            (
                "duplicates count",
                Unordered,
                rs(2, &[A, B]),
                Some(rs(2, &[A, B, A])),
                &["1 extra row: (1, alice)"],
            ),
            (
                "a duplicate expected",
                Ordered,
                rs(2, &[A, A]),
                Some(rs(2, &[A])),
                &["1 row missing: (1, alice)"],
            ),
            (
                "column count",
                Unordered,
                rs(2, &[A]),
                Some(rs(1, &[&[Some("1")]])),
                &[
                    "column count differs: expected 2 columns (c0, c1), got 1 (c0); names are \
                   not compared, only how many and their values",
                ],
            ),
            (
                "an empty result lacks every row, whatever it selected",
                Unordered,
                rs(2, &[A, B]),
                Some(rs(0, &[])),
                &["2 rows missing: (1, alice) (2, bob)"],
            ),
            (
                "no result",
                Unordered,
                rs(2, &[A]),
                None,
                &[
                    "your SQL returned no rows at all (did it fail, or is it not a query?); \
                   expected 1 row",
                ],
            ),
        ];
        for (name, order, expected, got, want) in cases {
            let attempt = Attempt {
                result: got.as_ref(),
                ..Attempt::default()
            };
            let verdict = grade(&rows_check(*order), expected, &attempt);
            assert_eq!(messages(&verdict), *want, "case: {name}");
            assert_eq!(verdict.passed(), want.is_empty(), "case: {name}");
        }
    }

    #[test]
    fn missing_rows_list_five_and_count_the_rest() {
        let expected: Vec<Vec<Option<String>>> =
            (0..8).map(|i| vec![Some(i.to_string())]).collect();
        let expected = ResultSet::new(vec!["id".into()], expected);
        let got = rs(1, &[]);
        let attempt = Attempt {
            result: Some(&got),
            ..Attempt::default()
        };
        let verdict = grade(&rows_check(RowOrder::Unordered), &expected, &attempt);
        assert_eq!(
            messages(&verdict),
            ["8 rows missing: (0) (1) (2) (3) (4) and 3 more"]
        );
    }

    #[test]
    fn round_trips_and_plan() {
        let nodes = vec!["Hash Join".to_string(), "Seq Scan".to_string()];
        let check = Check {
            rows: None,
            max_round_trips: Some(1),
            plan_contains: vec!["Hash Join".into(), "Index Scan".into()],
            plan_excludes: vec!["Nested Loop".into(), "Seq Scan".into()],
            ..Check::default()
        };
        let empty = ResultSet::default();
        type Case<'a> = (Option<u64>, Option<&'a [String]>, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                Some(11),
                Some(&nodes),
                &[
                    "too many round trips: 11, the limit is 1; fetch what the page needs in \
                     fewer queries",
                    "the plan has no Index Scan node",
                    "the plan still has a Seq Scan node",
                ],
            ),
            (
                None,
                None,
                &[
                    "the round-trip count was not measured, so this check cannot pass",
                    "the plan was not measured, so this check cannot pass",
                ],
            ),
            (
                Some(1),
                Some(&["Hash Join".to_string(), "Index Scan".to_string()]),
                &[],
            ),
        ];
        for (round_trips, plan_nodes, want) in cases {
            let attempt = Attempt {
                round_trips: *round_trips,
                plan_nodes: *plan_nodes,
                ..Attempt::default()
            };
            let verdict = grade(&check, &empty, &attempt);
            assert_eq!(messages(&verdict), *want);
        }
    }

    #[test]
    fn rows_are_ignored_when_the_check_does_not_compare_them() {
        let check = Check {
            max_round_trips: Some(2),
            ..Check::default()
        };
        let attempt = Attempt {
            round_trips: Some(2),
            ..Attempt::default()
        };
        assert!(grade(&check, &rs(1, &[&[Some("x")]]), &attempt).passed());
    }

    #[test]
    fn a_speedup_below_the_minimum_fails_and_an_unmeasured_one_cannot_pass() {
        let check = Check {
            query: Some("select 1".into()),
            min_speedup: Some(10),
            ..Check::default()
        };
        let empty = ResultSet::default();
        let with = |speedup| Attempt {
            speedup,
            ..Attempt::default()
        };
        assert!(grade(&check, &empty, &with(Some(10.0))).passed());
        assert_eq!(
            messages(&grade(&check, &empty, &with(Some(1.04)))),
            [
                "it ran 1.0× as fast as without indexes; the check asks for at least 10× \
              (does the index lead with the column the query filters by equality?)"
            ]
        );
        assert_eq!(
            messages(&grade(&check, &empty, &with(None))),
            ["the speed-up was not measured, so this check cannot pass"]
        );
    }

    #[test]
    fn lint_free_fails_on_any_warning_and_names_it() {
        let check = Check {
            lint_free: true,
            ..Check::default()
        };
        let empty = ResultSet::default();
        let warned = ["posts is read without a deleted_at condition".to_string()];
        let with = |warnings| Attempt {
            warnings,
            ..Attempt::default()
        };
        let verdict = grade(&check, &empty, &with(Some(&[])));
        assert!(verdict.passed());
        assert_eq!(verdict.held, ["no warning from the lab's lint"]);
        assert_eq!(
            messages(&grade(&check, &empty, &with(Some(&warned)))),
            [
                "the lab's query log flagged your SQL: posts is read without a deleted_at \
                 condition"
            ]
        );
        assert_eq!(
            messages(&grade(&check, &empty, &with(None))),
            ["the query log's lint was not measured, so this check cannot pass"]
        );
        // Without the key, warnings do not matter.
        assert!(grade(&Check::default(), &empty, &with(Some(&warned))).passed());
    }

    #[test]
    fn an_empty_reference_grades_nothing_and_says_what_to_run() {
        use crate::data::console::{Outcome, StatementResult};
        use crate::data::grading::{Gathered, Measured};
        let nothing = Outcome {
            statements: vec![StatementResult {
                result: rs(2, &[]),
                rows_affected: 0,
                truncated: false,
            }],
            elapsed: std::time::Duration::ZERO,
        };
        let gathered = Gathered {
            answer: "select 1, 2 where false".into(),
            ran: Ok(nothing),
            expected: Ok(rs(2, &[])),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        };
        let judged = judge(&rows_check(RowOrder::Unordered), &gathered, None);
        assert!(
            judged
                .as_ref()
                .is_err_and(|why| why.contains("run this lesson's earlier steps")),
            "{judged:?}"
        );
    }

    #[test]
    fn a_check_with_a_query_compares_its_rows_after_the_answer_or_says_what_refused_it() {
        use crate::data::console::Outcome;
        use crate::data::grading::{Gathered, Measured};
        let check = Check {
            query: Some("delete from ex_users where id = 2; select id from ex_posts".into()),
            ..rows_check(RowOrder::Unordered)
        };
        let survivors = rs(1, &[&[Some("1")], &[Some("2")]]);
        let gathered = |checked| Gathered {
            // DDL: no rows of its own, which must not matter.
            answer: "alter table ex_posts …".into(),
            ran: Ok(Outcome {
                statements: Vec::new(),
                elapsed: std::time::Duration::ZERO,
            }),
            expected: Ok(survivors.clone()),
            checked: Some(checked),
            measured: Ok(Measured::default()),
            diagnosis_rows: Vec::new(),
        };
        let passed = judge(&check, &gathered(Ok(survivors.clone())), None).unwrap();
        assert!(passed.passed(), "{passed:?}");
        assert_eq!(
            passed.held,
            ["the reference's rows after the check's statements"]
        );
        let fewer = judge(&check, &gathered(Ok(rs(1, &[&[Some("1")]]))), None).unwrap();
        assert_eq!(messages(&fewer), ["1 row missing: (2)"]);
        let refusal = ServerError {
            sqlstate: "23503".into(),
            message: "update or delete on table \"ex_users\" violates foreign key constraint"
                .into(),
            detail: Some("Key (id)=(2) is still referenced from table \"ex_posts\".".into()),
            ..ServerError::default()
        };
        let refused = judge(&check, &gathered(Err(refusal)), None).unwrap();
        assert_eq!(
            messages(&refused),
            [
                "after your answer, the check's statements were refused: update or delete on \
              table \"ex_users\" violates foreign key constraint (SQLSTATE 23503); Key \
              (id)=(2) is still referenced from table \"ex_posts\"."
            ]
        );
        assert_eq!(refused.findings[0].failure(), Some(Failure::Rows));
    }
}
