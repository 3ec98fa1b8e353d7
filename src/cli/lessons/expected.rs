//! What `pglab lessons check` holds a lesson to beyond running it: every wrong answer an
//! exercise declares fails and is explained by the diagnosis it names (so feedback is
//! tested, not assumed), and every warning rule a step says it is about is raised when the
//! step runs.

use anyhow::bail;
use sqlx::postgres::PgConnectOptions;

use super::grade_answer;
use crate::data::warning::{Raised, WarningRule};
use crate::lesson::Exercise;

/// Grades each of `exercise`'s wrong answers as the lab would; each must fail, explained by
/// the diagnosis it expects. Returns how many were checked.
pub(super) async fn wrong_answers(
    learner: &PgConnectOptions,
    exercise: &Exercise,
) -> anyhow::Result<usize> {
    for (index, wrong) in exercise.wrong.iter().enumerate() {
        let place = format!("wrong answer {} (expect = \"{}\")", index + 1, wrong.expect);
        let graded = grade_answer(learner, exercise, &wrong.answer).await?;
        let verdict = match graded.verdict {
            Ok(verdict) => verdict,
            Err(problem) => bail!("{place} could not be graded: {problem}"),
        };
        if verdict.passed() {
            bail!("{place} passes the check: it is not wrong");
        }
        let why = verdict.why.as_ref().map(|w| w.diagnosis.as_str());
        if why == Some(wrong.expect.as_str()) {
            continue;
        }
        let found: Vec<String> = verdict.findings.iter().map(ToString::to_string).collect();
        let told = match why {
            Some(other) => {
                format!("diagnosis `{other}` explains it instead (diagnoses are tried in order)")
            }
            None => "no diagnosis explains it".to_string(),
        };
        let failed: Vec<String> = graded
            .diagnosis_failures
            .iter()
            .map(|(sql, why)| format!("the query `{sql}` failed: {why}"))
            .collect();
        let failed = match failed.as_slice() {
            [] => String::new(),
            _ => format!("; {}", failed.join("; ")),
        };
        bail!(
            "{place}: {told}; the check found: {}{failed}",
            found.join("; ")
        );
    }
    Ok(exercise.wrong.len())
}

/// Each rule in `declared` (a step's `warnings`) is among the warnings `raised` when it ran.
pub(super) fn declared_warnings(
    declared: Option<&[WarningRule]>,
    raised: &[Raised],
) -> anyhow::Result<()> {
    let missing: Vec<&str> = declared
        .unwrap_or_default()
        .iter()
        .filter(|rule| !raised.iter().any(|r| r.rule == **rule))
        .map(|rule| rule.name())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "the step says it is about the {} warning(s) (`warnings`), and running it raised none",
        missing.join(", ")
    )
}
