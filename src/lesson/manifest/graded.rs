//! The graded steps of a lesson: an exercise (starter, solution, hints and the check it is
//! graded by; its diagnoses and wrong answers are read by `diagnosis`) and a quiz (options,
//! exactly one right, each with its why). Called by `manifest` once the step's kind is known
//! and its keys are vetted.

use super::vet;
use crate::lesson::document::{Document, Need, SpannedStrings, Table, unknown_key};
use crate::lesson::text::Shown;
use crate::lesson::{Check, Exercise, Quiz, QuizOption, RowOrder};

const CHECK_KEYS: [&str; 8] = [
    "rows",
    "max_round_trips",
    "plan_contains",
    "plan_excludes",
    "query",
    "min_speedup",
    "lint_free",
    "inputs",
];
/// Keys that check something; `query` only says what the other checks look at.
const CHECKING_KEYS: [&str; 6] = [
    "rows",
    "max_round_trips",
    "plan_contains",
    "plan_excludes",
    "min_speedup",
    "lint_free",
];
/// A speed-up asked of an answer: at least a measurable one, at most what an index gives.
const SPEEDUPS: std::ops::RangeInclusive<i64> = 2..=10_000;
const OPTION_KEYS: [&str; 3] = ["text", "correct", "why"];
const MAX_QUIZ_OPTIONS: usize = 6;

/// The `Node Type` values of PostgreSQL's EXPLAIN (explain.c), so a misspelt node in
/// `plan_excludes` is an error instead of a check that always passes.
const PLAN_NODE_TYPES: [&str; 42] = [
    "Aggregate",
    "Append",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "BitmapAnd",
    "BitmapOr",
    "CTE Scan",
    "Custom Scan",
    "Foreign Scan",
    "Function Scan",
    "Gather",
    "Gather Merge",
    "Group",
    "Hash",
    "Hash Join",
    "Incremental Sort",
    "Index Only Scan",
    "Index Scan",
    "Limit",
    "LockRows",
    "Materialize",
    "Memoize",
    "Merge Append",
    "Merge Join",
    "ModifyTable",
    "Named Tuplestore Scan",
    "Nested Loop",
    "ProjectSet",
    "Recursive Union",
    "Result",
    "Sample Scan",
    "Seq Scan",
    "SetOp",
    "Sort",
    "Subquery Scan",
    "Table Function Scan",
    "Tid Range Scan",
    "Tid Scan",
    "Unique",
    "Values Scan",
    "WindowAgg",
    "WorkTable Scan",
];

pub(super) fn read_exercise(doc: &mut Document, table: &Table) -> Option<Exercise> {
    let starter = table.string(
        doc,
        "starter",
        Need::Required(" (the SQL the editor starts with)"),
    );
    let solution = table.string(doc, "solution", Need::Required(" (the reference SQL)"));
    let hints = table
        .strings(doc, "hints", Need::Required(" (at least one hint)"))
        .and_then(|hints| {
            if hints.value.is_empty() {
                let message = format!("{}`hints` is empty; give at least one hint", table.prefix());
                doc.at(hints.span, message);
                return None;
            }
            for (index, (hint, span)) in hints.value.iter().enumerate() {
                let what = format!("`hints` item {}", index + 1);
                vet::string(doc, table, &what, span, hint, Shown::Everywhere);
            }
            Some(hints.value.into_iter().map(|(hint, _)| hint).collect())
        });
    let check = match table.raw("check") {
        None => {
            let hint = " (e.g. check = { rows = \"unordered\" })";
            table.complain(doc, format_args!("missing `check`{hint}"));
            None
        }
        Some((_, value)) => {
            let prefix = format!("{}check: ", table.prefix());
            Table::from_value(doc, value, prefix, "`check`")
                .and_then(|check| read_check(doc, &check))
        }
    };
    // Diagnoses are read against the check (their conditions must be ones it can produce);
    // a broken check leaves them unread, its own problem reported.
    let mut check = check?;
    let diagnoses = super::diagnosis::read_diagnoses(doc, table, &check);
    let wrong = super::diagnosis::read_wrong(doc, table, diagnoses.as_deref());
    check.diagnoses = diagnoses?.into_iter().map(|(d, _)| d).collect();
    Some(Exercise {
        starter: starter?.value,
        solution: solution?.value,
        hints: hints?,
        check,
        wrong: wrong?,
    })
}

fn read_check(doc: &mut Document, table: &Table) -> Option<Check> {
    table.reject_unknown(doc, &CHECK_KEYS, |key| {
        unknown_key(key, "check", &CHECK_KEYS)
    });
    if !CHECKING_KEYS.iter().any(|key| table.has(key)) {
        let all = CHECKING_KEYS.join(", ");
        table.complain(
            doc,
            format_args!("checks nothing; set at least one of {all}"),
        );
        return None;
    }
    let mut good = true;
    let rows = match table.string(doc, "rows", Need::Optional) {
        None => None,
        Some(found) => match found.value.as_str() {
            "ordered" => Some(RowOrder::Ordered),
            "unordered" => Some(RowOrder::Unordered),
            other => {
                let message = format!(
                    "{}`rows` must be \"ordered\" or \"unordered\", not \"{other}\"",
                    table.prefix()
                );
                doc.at(found.span, message);
                good = false;
                None
            }
        },
    };
    let max_round_trips = match table.integer(doc, "max_round_trips", Need::Optional) {
        None => None,
        Some(found) => match u64::try_from(found.value) {
            Ok(max) if max >= 1 => Some(max),
            _ => {
                let message = format!(
                    "{}`max_round_trips` must be at least 1, not {}",
                    table.prefix(),
                    found.value
                );
                doc.at(found.span, message);
                good = false;
                None
            }
        },
    };
    let plan_contains = plan_nodes(doc, table, "plan_contains", &mut good);
    let plan_excludes = plan_nodes(doc, table, "plan_excludes", &mut good);
    for (node, span) in &plan_excludes {
        if plan_contains.iter().any(|(wanted, _)| wanted == node) {
            let message = format!(
                "{}`{node}` is in both plan_contains and plan_excludes; no plan can pass",
                table.prefix()
            );
            doc.at(span.clone(), message);
            good = false;
        }
    }
    let min_speedup = match table.integer(doc, "min_speedup", Need::Optional) {
        None => None,
        Some(found) if SPEEDUPS.contains(&found.value) => u32::try_from(found.value).ok(),
        Some(found) => {
            let message = format!(
                "{}`min_speedup` must be a whole number from {} to {}, not {}",
                table.prefix(),
                SPEEDUPS.start(),
                SPEEDUPS.end(),
                found.value
            );
            doc.at(found.span, message);
            good = false;
            None
        }
    };
    // Only `true` asks something: `false` would be a check that always passes.
    let lint_free = match table.boolean(doc, "lint_free", Need::Optional) {
        None => false,
        Some(found) if found.value => true,
        Some(found) => {
            let message = format!(
                "{}`lint_free = false` checks nothing; leave the key out to allow warnings",
                table.prefix()
            );
            doc.at(found.span, message);
            good = false;
            false
        }
    };
    // Plans and speed-ups are of one statement; rows are the last result of any number
    // (a delete, then the select that counts what survived it).
    let one_statement = ["plan_contains", "plan_excludes", "min_speedup"]
        .iter()
        .any(|key| table.has(key));
    let query = table
        .string(doc, "query", Need::Optional)
        .and_then(|found| {
            let count = crate::sql::statement_count(&found.value);
            if count == 1 || (count > 1 && !one_statement) {
                return Some(found.value);
            }
            let message = match one_statement {
                true => format!(
                    "{}`query` must hold exactly one statement for the plan checks, not {count}",
                    table.prefix()
                ),
                false => format!("{}`query` holds no statement", table.prefix()),
            };
            doc.at(found.span, message);
            good = false;
            None
        });
    let inputs: Vec<String> = match table.strings(doc, "inputs", Need::Optional) {
        None => Vec::new(),
        Some(found) if found.value.is_empty() || rows.is_none() => {
            let message = format!(
                "{}`inputs` needs at least one input and `rows` to compare each input's rows",
                table.prefix()
            );
            doc.at(found.span, message);
            good = false;
            Vec::new()
        }
        Some(found) => found.value.into_iter().map(|(input, _)| input).collect(),
    };
    let names = |nodes: SpannedStrings| nodes.into_iter().map(|(node, _)| node).collect();
    let check = Check {
        inputs,
        rows,
        max_round_trips,
        plan_contains: names(plan_contains),
        plan_excludes: names(plan_excludes),
        query,
        min_speedup,
        lint_free,
        diagnoses: Vec::new(),
    };
    if check.query.is_some()
        && !check.needs_plan()
        && check.min_speedup.is_none()
        && check.rows.is_none()
    {
        table.complain(
            doc,
            format_args!(
                "`query` names the statement the rows, plan or speed-up checks look at, but \
                 there are none; add rows, plan_contains, plan_excludes or min_speedup"
            ),
        );
        good = false;
    }
    good.then_some(check)
}

/// A list of plan node types, each one PostgreSQL knows (spelt as EXPLAIN spells it). Returns
/// the known ones, so conflicts among them are still found; clears `good` on any problem.
fn plan_nodes(doc: &mut Document, table: &Table, key: &str, good: &mut bool) -> SpannedStrings {
    if !table.has(key) {
        return Vec::new();
    }
    let Some(found) = table.strings(doc, key, Need::Optional) else {
        *good = false;
        return Vec::new();
    };
    let mut nodes = found.value;
    for (node, span) in &nodes {
        if PLAN_NODE_TYPES.contains(&node.as_str()) {
            continue;
        }
        let suggestion = PLAN_NODE_TYPES
            .iter()
            .find(|known| {
                known.eq_ignore_ascii_case(node)
                    || known.replace(' ', "").eq_ignore_ascii_case(node)
            })
            .map(|known| format!("; did you mean `{known}`?"))
            .unwrap_or_else(|| {
                "; use a node type as EXPLAIN names it, e.g. `Seq Scan`, `Hash Join`".into()
            });
        let message = format!(
            "{}`{node}` is not a PostgreSQL plan node type{suggestion}",
            table.prefix()
        );
        doc.at(span.clone(), message);
        *good = false;
    }
    nodes.retain(|(node, _)| PLAN_NODE_TYPES.contains(&node.as_str()));
    nodes
}

pub(super) fn read_quiz(doc: &mut Document, table: &Table) -> Option<Quiz> {
    let question = table.string(doc, "question", Need::Required(""));
    if let Some(question) = &question {
        let (span, value) = (&question.span, &question.value);
        vet::string(doc, table, "`question`", span, value, Shown::Everywhere);
    }
    let hint = " (2 to 6 options like { text = \"...\", correct = false, why = \"...\" })";
    let found = table.array(doc, "options", Need::Required(hint))?;
    let count = found.value.len();
    if !(2..=MAX_QUIZ_OPTIONS).contains(&count) {
        let message = format!(
            "{}`options` has {count}; a quiz needs 2 to {MAX_QUIZ_OPTIONS} options",
            table.prefix()
        );
        doc.at(found.key, message);
        return None;
    }
    let mut options = Some(Vec::new());
    for (index, item) in found.value.iter().enumerate() {
        let prefix = format!("{}option {}: ", table.prefix(), index + 1);
        let option = Table::from_value(doc, item, prefix, "an option").and_then(|option| {
            option.reject_unknown(doc, &OPTION_KEYS, |key| {
                unknown_key(key, "an option", &OPTION_KEYS)
            });
            let text = option.string(doc, "text", Need::Required(""));
            let correct = option.boolean(doc, "correct", Need::Required(" (true or false)"));
            let why = option.string(
                doc,
                "why",
                Need::Required(" (why this answer is right or wrong)"),
            );
            for (key, found) in [("`text`", &text), ("`why`", &why)] {
                if let Some(found) = found {
                    let (span, value) = (&found.span, &found.value);
                    vet::string(doc, &option, key, span, value, Shown::Everywhere);
                }
            }
            Some(QuizOption {
                text: text?.value,
                correct: correct?.value,
                why: why?.value,
            })
        });
        match (option, options.as_mut()) {
            (Some(option), Some(options)) => options.push(option),
            _ => options = None,
        }
    }
    let options = options?;
    let correct = options.iter().filter(|option| option.correct).count();
    if correct != 1 {
        let message = format!(
            "{}`options` has {correct} correct answers; mark exactly one with `correct = true`",
            table.prefix()
        );
        doc.at(found.key, message);
        return None;
    }
    Some(Quiz {
        question: question?.value,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_node_list_is_sorted_and_unique() {
        let mut sorted = PLAN_NODE_TYPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, PLAN_NODE_TYPES.to_vec());
    }
}
