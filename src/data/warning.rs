//! The rules behind the query log's warnings, by name, and a warning as a report carries it.
//! The query log raises them (`query_log::Warning` knows its [`WarningRule`]); a demo's report keeps
//! them as [`Raised`]; a lesson step names the rules it is about (`warnings = ["n_plus_one"]`)
//! so the player shows those in full and folds the rest into one line; an exercise's
//! diagnosis can ask whether one was raised.

use std::fmt;
use std::ops::Deref;

/// What a warning is about, one name per detector or lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningRule {
    /// One query, then the same statement once per row it returned.
    NPlusOne,
    /// The same statement with the same parameters again.
    Duplicate,
    /// Values written into the SQL text instead of bound.
    Spliced,
    /// A tenant table read or written without `organization_id`.
    Tenancy,
    /// A soft-delete table read without `deleted_at`.
    SoftDelete,
    /// Two constants compared (`'1' = '1'`).
    Constants,
}

impl WarningRule {
    pub const ALL: [WarningRule; 6] = [
        WarningRule::NPlusOne,
        WarningRule::Duplicate,
        WarningRule::Spliced,
        WarningRule::Tenancy,
        WarningRule::SoftDelete,
        WarningRule::Constants,
    ];

    /// The name lesson files use.
    pub fn name(self) -> &'static str {
        match self {
            WarningRule::NPlusOne => "n_plus_one",
            WarningRule::Duplicate => "duplicate",
            WarningRule::Spliced => "spliced",
            WarningRule::Tenancy => "tenancy",
            WarningRule::SoftDelete => "soft_delete",
            WarningRule::Constants => "constants",
        }
    }

    /// How the screen names the rule in a summary.
    pub fn label(self) -> &'static str {
        match self {
            WarningRule::NPlusOne => "N+1",
            WarningRule::Duplicate => "duplicate query",
            WarningRule::Spliced => "values in the SQL text",
            WarningRule::Tenancy => "tenancy",
            WarningRule::SoftDelete => "soft delete",
            WarningRule::Constants => "constant comparison",
        }
    }

    pub fn from_name(name: &str) -> Option<WarningRule> {
        WarningRule::ALL
            .into_iter()
            .find(|rule| rule.name() == name)
    }

    /// Every name, for messages that list what is allowed.
    pub fn names() -> String {
        WarningRule::ALL.map(WarningRule::name).join(", ")
    }
}

/// One warning as a report keeps it. Reads as its message (`Deref` to `str`), which is what
/// most readers want; `rule` and `subject` are there to group and fold warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    pub rule: WarningRule,
    /// The table a lint warning is about; empty for the patterns across statements.
    pub subject: String,
    /// The sentence shown: what is wrong and the fix.
    pub message: String,
}

impl Deref for Raised {
    type Target = str;

    fn deref(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The warnings a step shows in full, and one line for the rest: `about` is the step's
/// declared rules (`None`: the step declares none, so every warning is shown in full).
pub fn split<'a>(
    warnings: &'a [Raised],
    about: Option<&[WarningRule]>,
) -> (Vec<&'a Raised>, Option<String>) {
    let Some(about) = about else {
        return (warnings.iter().collect(), None);
    };
    let (shown, folded): (Vec<&Raised>, Vec<&Raised>) =
        warnings.iter().partition(|w| about.contains(&w.rule));
    (shown, fold(&folded))
}

/// `2 other warnings, unrelated to this step: tenancy (posts, users); soft delete
/// (users)`: the rules in the order first raised, each with its tables.
fn fold(warnings: &[&Raised]) -> Option<String> {
    if warnings.is_empty() {
        return None;
    }
    let mut groups: Vec<(WarningRule, Vec<&str>)> = Vec::new();
    for warning in warnings {
        let at = match groups.iter().position(|(rule, _)| *rule == warning.rule) {
            Some(at) => at,
            None => {
                groups.push((warning.rule, Vec::new()));
                groups.len() - 1
            }
        };
        let subjects = &mut groups[at].1;
        if !warning.subject.is_empty() && !subjects.contains(&warning.subject.as_str()) {
            subjects.push(&warning.subject);
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(rule, subjects)| match subjects.as_slice() {
            [] => rule.label().to_string(),
            _ => format!("{} ({})", rule.label(), subjects.join(", ")),
        })
        .collect();
    let count = warnings.len();
    let noun = if count == 1 { "warning" } else { "warnings" };
    Some(format!(
        "{count} other {noun}, unrelated to this step: {}",
        parts.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raised(rule: WarningRule, subject: &str) -> Raised {
        Raised {
            rule,
            subject: subject.into(),
            message: format!("{} on {subject}", rule.name()),
        }
    }

    #[test]
    fn names_round_trip() {
        for rule in WarningRule::ALL {
            assert_eq!(WarningRule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(WarningRule::from_name("n+1"), None);
    }

    #[test]
    fn a_step_shows_its_rules_and_folds_the_others_into_one_line() {
        let warnings = [
            raised(WarningRule::Tenancy, "posts"),
            raised(WarningRule::NPlusOne, ""),
            raised(WarningRule::Tenancy, "users"),
            raised(WarningRule::SoftDelete, "users"),
        ];
        let (shown, folded) = split(&warnings, Some(&[WarningRule::NPlusOne]));
        assert_eq!(shown, [&warnings[1]]);
        assert_eq!(
            folded.as_deref(),
            Some(
                "3 other warnings, unrelated to this step: tenancy (posts, users); \
                 soft delete (users)"
            )
        );
        let (shown, folded) = split(&warnings, None);
        assert_eq!(shown.len(), 4);
        assert_eq!(folded, None);
        let (shown, folded) = split(&warnings[1..2], Some(&[]));
        assert!(shown.is_empty());
        assert_eq!(
            folded.as_deref(),
            Some("1 other warning, unrelated to this step: N+1")
        );
    }
}
