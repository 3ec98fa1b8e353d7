//! What an exercise says about wrong answers: its diagnoses (`[[step.diagnosis]]`: conditions
//! on an answer and the sentence that explains it) and the wrong answers that prove each one
//! fires (`[[step.wrong]]`). Read after the check, because a condition must be one the check
//! can produce (`fails = "round_trips"` needs `max_round_trips`); every diagnosis must be
//! expected by some wrong answer, so none is left untested. Also the `warnings` key of run and
//! demo steps, which names warning rules too.

use std::ops::Range;

use crate::data::warning::WarningRule;
use crate::lesson::document::{Document, Need, Table, unknown_key};
use crate::lesson::{Check, Condition, Diagnosis, Failure, RowOrder, WrongAnswer};

const DIAGNOSIS_KEYS: [&str; 8] = [
    "name",
    "why",
    "answer_has",
    "answer_lacks",
    "extra_rows_in",
    "missing_rows_in",
    "fails",
    "warned",
];
/// The keys that are conditions.
const CONDITION_KEYS: [&str; 6] = [
    "answer_has",
    "answer_lacks",
    "extra_rows_in",
    "missing_rows_in",
    "fails",
    "warned",
];
const WRONG_KEYS: [&str; 2] = ["answer", "expect"];
/// What `why` may say in braces, replaced when the diagnosis is shown.
pub(in crate::lesson) const PLACEHOLDERS: [&str; 3] = ["extra", "missing", "round_trips"];
/// A name is short: it is typed in `expect`.
const MAX_NAME_LEN: usize = 32;

/// The exercise's diagnoses, in order, each with the span of its name; `None` when any is
/// wrong (each problem recorded).
pub(super) fn read_diagnoses(
    doc: &mut Document,
    table: &Table,
    check: &Check,
) -> Option<Vec<(Diagnosis, Range<usize>)>> {
    let Some(found) = table.array(doc, "diagnosis", Need::Optional) else {
        return (!table.has("diagnosis")).then(Vec::new);
    };
    let mut good = true;
    let mut diagnoses: Vec<(Diagnosis, Range<usize>)> = Vec::new();
    // Names seen, each with the diagnosis number that took it, so a repeat is found even
    // when the diagnosis that first used the name is wrong in another way.
    let mut names: Vec<(String, usize)> = Vec::new();
    for (index, item) in found.value.iter().enumerate() {
        let prefix = format!("{}diagnosis {}: ", table.prefix(), index + 1);
        let Some(entry) = Table::from_value(doc, item, prefix, "a diagnosis") else {
            good = false;
            continue;
        };
        if let Some((name, span)) = name_of(&entry) {
            if let Some((_, first)) = names.iter().find(|(seen, _)| *seen == name) {
                let message = format!(
                    "{}the name `{name}` is taken by diagnosis {first}; give each diagnosis its own",
                    entry.prefix()
                );
                doc.at(span, message);
                good = false;
            }
            names.push((name, index + 1));
        }
        match read_diagnosis(doc, &entry, check) {
            Some(read) => diagnoses.push(read),
            None => good = false,
        }
    }
    good.then_some(diagnoses)
}

/// The `name` of a diagnosis table when it is a string, before it is vetted.
fn name_of(table: &Table) -> Option<(String, Range<usize>)> {
    let (_, value) = table.raw("name")?;
    let name = value.get_ref().as_str()?;
    Some((name.to_string(), value.span()))
}

fn read_diagnosis(
    doc: &mut Document,
    table: &Table,
    check: &Check,
) -> Option<(Diagnosis, Range<usize>)> {
    table.reject_unknown(doc, &DIAGNOSIS_KEYS, |key| {
        unknown_key(key, "a diagnosis", &DIAGNOSIS_KEYS)
    });
    let name = table
        .string(
            doc,
            "name",
            Need::Required(" (what a wrong answer's `expect` names)"),
        )
        .and_then(|found| {
            let good = found.value.len() <= MAX_NAME_LEN
                && found
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if good {
                return Some(found);
            }
            let message = format!(
                "{}`name` must be lowercase letters, digits and `-`, at most {MAX_NAME_LEN} \
                 characters, not `{}`",
                table.prefix(),
                found.value
            );
            doc.at(found.span, message);
            None
        });
    let why = table
        .string(
            doc,
            "why",
            Need::Required(" (the sentence that explains the mistake)"),
        )
        .and_then(|found| match placeholder_problem(&found.value, check) {
            None => Some(found),
            Some(bad) => {
                doc.at(found.span, format!("{}`why` {bad}", table.prefix()));
                None
            }
        });
    let mut good = true;
    let mut when = Vec::new();
    for key in CONDITION_KEYS {
        if !table.has(key) {
            continue;
        }
        match read_condition(doc, table, key, check) {
            Some(condition) => when.push(condition),
            None => good = false,
        }
    }
    if good && when.is_empty() {
        let all = CONDITION_KEYS.join(", ");
        table.complain(
            doc,
            format_args!("has no condition; set at least one of {all}"),
        );
        good = false;
    }
    let name = name?;
    let span = name.key.clone();
    let why = why?;
    good.then_some((
        Diagnosis {
            name: name.value,
            when,
            why: why.value,
        },
        span,
    ))
}

/// One condition key, checked against what the check can produce.
fn read_condition(
    doc: &mut Document,
    table: &Table,
    key: &str,
    check: &Check,
) -> Option<Condition> {
    let prefix = table.prefix().to_string();
    let needs_rows = |doc: &mut Document, span: Range<usize>| {
        let message = format!(
            "{prefix}`{key}` looks at the answer's rows, but the check compares none; add \
             rows = \"unordered\" or \"ordered\" to the check"
        );
        doc.at(span, message);
    };
    match key {
        "answer_has" | "answer_lacks" => {
            let patterns = one_or_many(doc, table, key)?;
            let mut good = true;
            for (pattern, span) in &patterns {
                if let Some(why) = crate::sql::pattern::problem(pattern) {
                    doc.at(
                        span.clone(),
                        format!("{prefix}`{key}` pattern `{pattern}` {why}"),
                    );
                    good = false;
                }
            }
            let patterns = patterns.into_iter().map(|(p, _)| p).collect();
            good.then_some(match key {
                "answer_has" => Condition::AnswerHas(patterns),
                _ => Condition::AnswerLacks(patterns),
            })
        }
        "extra_rows_in" | "missing_rows_in" => {
            let found = table.string(doc, key, Need::Optional)?;
            if check.rows.is_none() {
                needs_rows(doc, found.key);
                return None;
            }
            let count = crate::sql::statement_count(&found.value);
            if count != 1 {
                let message =
                    format!("{prefix}`{key}` must hold exactly one query, not {count} statements");
                doc.at(found.span, message);
                return None;
            }
            Some(match key {
                "extra_rows_in" => Condition::ExtraRowsIn(found.value),
                _ => Condition::MissingRowsIn(found.value),
            })
        }
        "fails" => {
            let found = table.string(doc, key, Need::Optional)?;
            let Some(failure) = Failure::ALL.into_iter().find(|f| f.name() == found.value) else {
                let names: Vec<&str> = Failure::ALL.iter().map(|f| f.name()).collect();
                let message = format!(
                    "{prefix}`fails` must be one of {}, not \"{}\"",
                    names.join(", "),
                    found.value
                );
                doc.at(found.span, message);
                return None;
            };
            if let Some(missing) = unchecked(failure, check) {
                let message = format!(
                    "{prefix}`fails = \"{}\"` can never hold: the check {missing}",
                    failure.name()
                );
                doc.at(found.span, message);
                return None;
            }
            Some(Condition::Fails(failure))
        }
        _ => read_rule(doc, table, key).map(Condition::Warned),
    }
}

/// What the check lacks for `failure` to be possible, if anything.
fn unchecked(failure: Failure, check: &Check) -> Option<&'static str> {
    match failure {
        Failure::Rows | Failure::Columns if check.rows.is_none() => Some("compares no rows"),
        Failure::Order if check.rows != Some(RowOrder::Ordered) => {
            Some("does not compare the rows' order (rows = \"ordered\")")
        }
        Failure::RoundTrips if check.max_round_trips.is_none() => Some("sets no max_round_trips"),
        Failure::Plan if !check.needs_plan() => Some("has no plan_contains or plan_excludes"),
        Failure::Speedup if check.min_speedup.is_none() => Some("sets no min_speedup"),
        Failure::Lint if !check.lint_free => Some("does not ask for lint_free = true"),
        _ => None,
    }
}

/// Why `why` cannot be shown as written: an unknown `{placeholder}`, or one about rows when the
/// check compares none.
fn placeholder_problem(why: &str, check: &Check) -> Option<String> {
    let mut rest = why;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Some("has a `{` that is never closed".into());
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Some(format!(
                "names `{{{name}}}`; the placeholders are {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        if name != "round_trips" && check.rows.is_none() {
            return Some(format!(
                "names `{{{name}}}`, but the check compares no rows, so there are none to show"
            ));
        }
        rest = &after[close + 1..];
    }
    None
}

/// A string or an array of strings, each with its span.
fn one_or_many(
    doc: &mut Document,
    table: &Table,
    key: &str,
) -> Option<Vec<(String, Range<usize>)>> {
    let (_, value) = table.raw(key)?;
    if value.get_ref().as_str().is_some() {
        return table
            .string(doc, key, Need::Optional)
            .map(|f| vec![(f.value, f.span)]);
    }
    let found = table.strings(doc, key, Need::Optional)?;
    if found.value.is_empty() {
        doc.at(found.span, format!("{}`{key}` is empty", table.prefix()));
        return None;
    }
    Some(found.value)
}

/// A warning rule named under `key`.
fn read_rule(doc: &mut Document, table: &Table, key: &str) -> Option<WarningRule> {
    let found = table.string(doc, key, Need::Optional)?;
    match WarningRule::from_name(&found.value) {
        Some(rule) => Some(rule),
        None => {
            let message = format!(
                "{}`{key}` must name a warning rule ({}), not \"{}\"",
                table.prefix(),
                WarningRule::names(),
                found.value
            );
            doc.at(found.span, message);
            None
        }
    }
}

/// The exercise's wrong answers; each `expect` names one of `diagnoses`, and each diagnosis is
/// expected by at least one answer.
/// With `diagnoses` unknown (some were wrong), only the answers' own keys are checked.
pub(super) fn read_wrong(
    doc: &mut Document,
    table: &Table,
    diagnoses: Option<&[(Diagnosis, Range<usize>)]>,
) -> Option<Vec<WrongAnswer>> {
    let mut good = !table.has("wrong");
    let mut wrong = Vec::new();
    if let Some(found) = table.array(doc, "wrong", Need::Optional) {
        good = true;
        for (index, item) in found.value.iter().enumerate() {
            let prefix = format!("{}wrong answer {}: ", table.prefix(), index + 1);
            match Table::from_value(doc, item, prefix, "a wrong answer")
                .and_then(|entry| read_one_wrong(doc, &entry, diagnoses))
            {
                Some(read) => wrong.push(read),
                None => good = false,
            }
        }
    }
    // Counted on the answers that were read: one with a bad `expect` tests nothing.
    for (diagnosis, span) in diagnoses.unwrap_or_default() {
        if !wrong.iter().any(|w| w.expect == diagnosis.name) {
            let message = format!(
                "{}diagnosis `{}` is never tested: add a [[step.wrong]] answer with \
                 expect = \"{}\" that it explains",
                table.prefix(),
                diagnosis.name,
                diagnosis.name
            );
            doc.at(span.clone(), message);
            good = false;
        }
    }
    good.then_some(wrong)
}

fn read_one_wrong(
    doc: &mut Document,
    table: &Table,
    diagnoses: Option<&[(Diagnosis, Range<usize>)]>,
) -> Option<WrongAnswer> {
    table.reject_unknown(doc, &WRONG_KEYS, |key| {
        unknown_key(key, "a wrong answer", &WRONG_KEYS)
    });
    let answer = table.string(doc, "answer", Need::Required(" (the wrong SQL)"));
    let expect = table
        .string(
            doc,
            "expect",
            Need::Required(" (the diagnosis that explains it)"),
        )
        .and_then(|found| {
            let Some(diagnoses) = diagnoses else {
                return Some(found.value);
            };
            if diagnoses.iter().any(|(d, _)| d.name == found.value) {
                return Some(found.value);
            }
            let names: Vec<&str> = diagnoses.iter().map(|(d, _)| d.name.as_str()).collect();
            let known = match names.as_slice() {
                [] => "the exercise has no [[step.diagnosis]]".to_string(),
                _ => format!("its diagnoses are {}", names.join(", ")),
            };
            let message = format!(
                "{}`expect` names no diagnosis of this exercise: `{}`; {known}",
                table.prefix(),
                found.value
            );
            doc.at(found.span, message);
            None
        });
    Some(WrongAnswer {
        answer: answer?.value,
        expect: expect?,
    })
}

/// A run or demo step's `warnings`: the rules it is about, each known, none twice.
pub(super) fn read_step_warnings(
    doc: &mut Document,
    table: &Table,
) -> Option<Option<Vec<WarningRule>>> {
    if !table.has("warnings") {
        return Some(None);
    }
    let found = table.strings(doc, "warnings", Need::Optional)?;
    let mut rules = Vec::new();
    let mut good = true;
    for (name, span) in found.value {
        match WarningRule::from_name(&name) {
            Some(rule) if !rules.contains(&rule) => rules.push(rule),
            Some(_) => {
                doc.at(
                    span,
                    format!("{}`warnings` names `{name}` twice", table.prefix()),
                );
                good = false;
            }
            None => {
                let message = format!(
                    "{}`warnings` item `{name}` is not a warning rule; the rules are {}",
                    table.prefix(),
                    WarningRule::names()
                );
                doc.at(span, message);
                good = false;
            }
        }
    }
    good.then_some(Some(rules))
}
