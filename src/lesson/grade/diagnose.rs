//! Which of an exercise's diagnoses explains a failing attempt: the first whose conditions all
//! hold, its sentence filled with the attempt's own rows and round trips. Pure: the rows a
//! condition compares with were read by `db::grading` and arrive with the evidence.

use std::collections::HashMap;

use super::{Row, Verdict, Why, show_row};
use crate::data::ResultSet;
use crate::data::warning::WarningRule;
use crate::lesson::{Condition, Diagnosis, Failure};

/// Rows named in a sentence before "and N more".
const ROWS_NAMED: usize = 3;

/// What a diagnosis may look at.
pub(super) struct Evidence<'a> {
    pub answer: &'a str,
    pub verdict: &'a Verdict,
    /// The columns the rows below are compared on.
    pub width: usize,
    pub extra: &'a [Row],
    pub missing: &'a [Row],
    pub round_trips: Option<u64>,
    pub warned: &'a [WarningRule],
    /// Each diagnosis query's rows, by its SQL.
    pub rows: &'a [(String, Result<ResultSet, String>)],
}

/// The first diagnosis whose conditions all hold, explained.
pub(super) fn first(diagnoses: &[Diagnosis], evidence: &Evidence) -> Option<Why> {
    diagnoses
        .iter()
        .find(|d| d.when.iter().all(|c| holds(c, evidence)))
        .map(|d| Why {
            diagnosis: d.name.clone(),
            text: fill(d, evidence),
        })
}

fn holds(condition: &Condition, evidence: &Evidence) -> bool {
    let has = |patterns: &[String]| {
        patterns
            .iter()
            .any(|p| crate::sql::pattern::holds(evidence.answer, p))
    };
    match condition {
        Condition::AnswerHas(patterns) => has(patterns),
        Condition::AnswerLacks(patterns) => !has(patterns),
        Condition::ExtraRowsIn(sql) => all_in(evidence.extra, sql, evidence),
        Condition::MissingRowsIn(sql) => all_in(evidence.missing, sql, evidence),
        Condition::Fails(failure) => evidence.verdict.findings.iter().any(|f| {
            let family = f.failure();
            family == Some(*failure)
                || (*failure == Failure::Rows
                    && matches!(family, Some(Failure::Columns | Failure::Order)))
        }),
        Condition::Warned(rule) => evidence.warned.contains(rule),
    }
}

/// `rows` is not empty and each of them is a row `sql` returned.
fn all_in(rows: &[Row], sql: &str, evidence: &Evidence) -> bool {
    let Some(known) = known_rows(sql, evidence) else {
        return false;
    };
    !rows.is_empty() && rows.iter().all(|row| known.contains_key(row))
}

/// The rows `sql` returned, cut to the compared columns, each with the name its extra column
/// gives it (when it has one). `None` when the query failed or its width does not fit.
fn known_rows(sql: &str, evidence: &Evidence) -> Option<HashMap<Row, Option<String>>> {
    let (_, Ok(result)) = evidence.rows.iter().find(|(query, _)| query == sql)? else {
        return None;
    };
    let width = evidence.width;
    let columns = result.columns.len();
    if columns != width && columns != width + 1 {
        return None;
    }
    Some(
        result
            .rows
            .iter()
            .map(|row| {
                let name = (row.len() > width).then(|| row[width].clone()).flatten();
                (row[..width.min(row.len())].to_vec(), name)
            })
            .collect(),
    )
}

/// The diagnosis's sentence with `{extra}`, `{missing}` and `{round_trips}` put in.
fn fill(diagnosis: &Diagnosis, evidence: &Evidence) -> String {
    let query_of = |wanted: fn(&Condition) -> Option<&String>| {
        diagnosis.when.iter().find_map(wanted).map(String::as_str)
    };
    let extra_query = query_of(|c| match c {
        Condition::ExtraRowsIn(sql) => Some(sql),
        _ => None,
    });
    let missing_query = query_of(|c| match c {
        Condition::MissingRowsIn(sql) => Some(sql),
        _ => None,
    });
    let round_trips = evidence
        .round_trips
        .map_or_else(|| "?".to_string(), |n| n.to_string());
    diagnosis
        .why
        .replace("{extra}", &named(evidence.extra, extra_query, evidence))
        .replace(
            "{missing}",
            &named(evidence.missing, missing_query, evidence),
        )
        .replace("{round_trips}", &round_trips)
}

/// Up to three rows, each by the name its diagnosis query gives it, else by its values.
fn named(rows: &[Row], query: Option<&str>, evidence: &Evidence) -> String {
    if rows.is_empty() {
        return "no row".to_string();
    }
    let names = query.and_then(|sql| known_rows(sql, evidence));
    let shown: Vec<String> = rows
        .iter()
        .take(ROWS_NAMED)
        .map(
            |row| match names.as_ref().and_then(|n| n.get(row)).cloned().flatten() {
                Some(name) => name,
                None => show_row(row),
            },
        )
        .collect();
    let more = rows.len().saturating_sub(ROWS_NAMED);
    match more {
        0 => shown.join(", "),
        _ => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::data::console::{Outcome, StatementResult};
    use crate::data::grading::{Gathered, Measured};
    use crate::lesson::{Check, Condition, Diagnosis, Failure, RowOrder, judge};
    use crate::query_log::{ScopeReport, Totals, Warning};
    use crate::sql::{Finding, Lint};

    use super::*;

    fn rows(columns: &[&str], rows: &[&[&str]]) -> ResultSet {
        ResultSet::new(
            columns.iter().map(|c| c.to_string()).collect(),
            rows.iter()
                .map(|row| row.iter().map(|v| Some(v.to_string())).collect())
                .collect(),
        )
    }

    /// Acme's live posts, newest first: the reference.
    fn live() -> ResultSet {
        rows(&["title"], &[&["Spring release notes"], &["Q1 roadmap"]])
    }

    const DELETED: &str = "select title, 'label' from posts where deleted_at is not null";

    fn diagnosis(name: &str, when: Vec<Condition>, why: &str) -> Diagnosis {
        Diagnosis {
            name: name.into(),
            when,
            why: why.into(),
        }
    }

    fn check() -> Check {
        Check {
            rows: Some(RowOrder::Ordered),
            max_round_trips: Some(1),
            diagnoses: vec![
                diagnosis(
                    "equals-null",
                    vec![Condition::AnswerHas(vec!["= null".into()])],
                    "never true",
                ),
                diagnosis(
                    "deleted",
                    vec![Condition::ExtraRowsIn(DELETED.into())],
                    "deleted: {extra}",
                ),
                diagnosis(
                    "loop",
                    vec![Condition::Warned(WarningRule::NPlusOne)],
                    "a loop of {round_trips}",
                ),
                diagnosis(
                    "trips",
                    vec![Condition::Fails(Failure::RoundTrips)],
                    "{round_trips} round trips",
                ),
                diagnosis(
                    "rows",
                    vec![
                        Condition::Fails(Failure::Rows),
                        Condition::AnswerLacks(vec!["deleted_at".into()]),
                    ],
                    "missing {missing}",
                ),
            ],
            ..Check::default()
        }
    }

    fn gathered(answer: &str, got: ResultSet, deleted: Result<ResultSet, String>) -> Gathered {
        Gathered {
            answer: answer.into(),
            ran: Ok(Outcome {
                statements: vec![StatementResult {
                    result: got,
                    rows_affected: 0,
                    truncated: false,
                }],
                elapsed: Duration::ZERO,
            }),
            expected: Ok(live()),
            checked: None,
            measured: Ok(Measured::default()),
            diagnosis_rows: vec![(DELETED.to_string(), deleted)],
        }
    }

    fn counted(round_trips: u64, warnings: Vec<Warning>) -> ScopeReport {
        ScopeReport {
            name: "answer".into(),
            totals: Totals {
                round_trips,
                ..Totals::default()
            },
            wall: Duration::ZERO,
            warnings,
            reconnected: false,
        }
    }

    fn why(gathered: &Gathered, counted: &ScopeReport) -> Option<(String, String)> {
        let verdict = judge(&check(), gathered, Some(counted)).expect("a verdict");
        verdict.why.map(|w| (w.diagnosis, w.text))
    }

    fn deleted_rows() -> Result<ResultSet, String> {
        Ok(rows(
            &["title", "label"],
            &[&["Draft: pricing ideas", "“Draft: pricing ideas” (deleted)"]],
        ))
    }

    #[test]
    fn the_first_diagnosis_that_holds_explains_the_answer() {
        let answer = "select title from posts where deleted_at = NULL";
        let got = gathered(answer, rows(&["title"], &[]), deleted_rows());
        assert_eq!(
            why(&got, &counted(1, Vec::new())),
            Some(("equals-null".into(), "never true".into()))
        );
    }

    #[test]
    fn extra_rows_are_named_by_the_diagnosis_query() {
        let with_draft = rows(
            &["title"],
            &[
                &["Spring release notes"],
                &["Draft: pricing ideas"],
                &["Q1 roadmap"],
            ],
        );
        let answer = "select title from posts";
        let got = gathered(answer, with_draft.clone(), deleted_rows());
        assert_eq!(
            why(&got, &counted(1, Vec::new())),
            Some((
                "deleted".into(),
                "deleted: “Draft: pricing ideas” (deleted)".into()
            ))
        );
        // Without a naming column the row is shown by its values.
        let bare = Ok(rows(&["title"], &[&["Draft: pricing ideas"]]));
        let got = gathered(answer, with_draft.clone(), bare);
        assert_eq!(
            why(&got, &counted(1, Vec::new())).map(|w| w.1),
            Some("deleted: (Draft: pricing ideas)".into())
        );
        // A failed query, or an extra row the query does not return: not this diagnosis (and
        // the answer says deleted_at, so not the last one either).
        let answer = "select title from posts where deleted_at is null or true";
        let got = gathered(answer, with_draft, Err("syntax error".into()));
        assert_eq!(why(&got, &counted(1, Vec::new())), None);
        let stranger = rows(
            &["title"],
            &[&["Spring release notes"], &["Q1 roadmap"], &["x"]],
        );
        let got = gathered(answer, stranger, deleted_rows());
        assert_eq!(why(&got, &counted(1, Vec::new())), None);
    }

    #[test]
    fn warnings_round_trips_and_findings_are_conditions_too() {
        let right = live();
        let lookup: Arc<str> = Arc::from("select username from users where id = $1");
        let loop_warning = Warning::Pattern(Finding::NPlusOne {
            source: Arc::from("select id from posts"),
            repeated: lookup.clone(),
            count: 3,
            distinct: 3,
            span: Default::default(),
        });
        let got = gathered(
            "select 1; select title from posts",
            right.clone(),
            deleted_rows(),
        );
        assert_eq!(
            why(&got, &counted(4, vec![loop_warning])),
            Some(("loop".into(), "a loop of 4".into()))
        );
        let lint = Warning::Lint {
            lint: Lint::MissingSoftDeleteFilter {
                table: "posts".into(),
                by_key: false,
            },
            sql: lookup,
        };
        assert_eq!(
            why(&got, &counted(2, vec![lint])),
            Some(("trips".into(), "2 round trips".into()))
        );
        // Both conditions must hold: rows are wrong, and the answer never says deleted_at.
        let short = rows(&["title"], &[&["Q1 roadmap"]]);
        let got = gathered(
            "select title from posts limit 1",
            short.clone(),
            deleted_rows(),
        );
        assert_eq!(
            why(&got, &counted(1, Vec::new())),
            Some(("rows".into(), "missing (Spring release notes)".into()))
        );
        let got = gathered(
            "select title from posts where deleted_at is null",
            short,
            deleted_rows(),
        );
        assert_eq!(why(&got, &counted(1, Vec::new())), None);
    }

    #[test]
    fn a_passing_answer_is_never_diagnosed() {
        let got = gathered(
            "select title from posts where deleted_at = null",
            live(),
            deleted_rows(),
        );
        let verdict = judge(&check(), &got, Some(&counted(1, Vec::new()))).expect("a verdict");
        assert!(verdict.passed());
        assert_eq!(verdict.why, None);
    }
}
