//! The names lesson text uses for the keymap's contexts and actions (`audit`,
//! `filter_record`, written together as `audit.filter_record`), and the lookup from such a
//! name to the key's label. The names are the keymap's own `Context` and `Action` variants
//! in snake case, derived rather than listed, so they cannot drift from the table.

use super::{Binding, Context, bindings, key_for};
use crate::app::action::Action;

/// `audit_filter` for `Context::AuditFilter`.
pub fn context_name(context: Context) -> String {
    snake(&format!("{context:?}"))
}

/// `filter_record` for `Action::FilterRecord`; `answer` for `Action::Answer(2)`.
pub fn action_name(action: &Action) -> String {
    let debug = format!("{action:?}");
    let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    snake(variant)
}

/// Every context that binds a key, in the order help lists them.
pub fn context_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for binding in bindings() {
        let name = context_name(binding.context);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The names of the actions bound in the context called `context`.
pub fn action_names(context: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for binding in bindings()
        .iter()
        .filter(|b| context_name(b.context) == context)
    {
        let name = action_name(&binding.action);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Why a name does not lead to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unbound {
    /// No context has this name.
    NoContext,
    /// The context binds nothing to this action; `elsewhere` are the contexts that do.
    NoAction { elsewhere: Vec<String> },
}

/// The label of the key bound to `action` in `context` (both by name), as help writes it.
pub fn label(context: &str, action: &str) -> Result<String, Unbound> {
    match binding(context, action) {
        Some(binding) => Ok(key_for(binding.context, &binding.action)),
        None if !context_names().iter().any(|name| name == context) => Err(Unbound::NoContext),
        None => Err(Unbound::NoAction {
            elsewhere: bindings()
                .iter()
                .filter(|b| action_name(&b.action) == action)
                .map(|b| context_name(b.context))
                .collect(),
        }),
    }
}

/// `context.action` for every binding that has a key labelled `label`, for suggestions.
pub fn names_with_label(label: &str) -> Vec<String> {
    bindings()
        .iter()
        .filter(|b| b.keys.iter().any(|key| key.label() == label))
        .map(|b| format!("{}.{}", context_name(b.context), action_name(&b.action)))
        .collect()
}

/// Every label the keymap writes for a key, in any context.
pub fn all_labels() -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for key in bindings().iter().flat_map(|b| &b.keys) {
        let label = key.label();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

fn binding(context: &str, action: &str) -> Option<&'static Binding> {
    bindings()
        .iter()
        .find(|b| context_name(b.context) == context && action_name(&b.action) == action)
}

/// `AuditFilter` → `audit_filter`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_variants_in_snake_case() {
        assert_eq!(context_name(Context::AuditFilter), "audit_filter");
        assert_eq!(context_name(Context::Player), "player");
        assert_eq!(action_name(&Action::FilterRecord), "filter_record");
        assert_eq!(action_name(&Action::Answer(3)), "answer");
        assert!(context_names().contains(&"lesson_list".to_string()));
    }

    #[test]
    fn labels_come_from_the_keymap() {
        assert_eq!(label("audit", "filter_record"), Ok("r".into()));
        assert_eq!(label("global", "show_audit"), Ok("F7".into()));
        assert_eq!(label("audit", "cycle_window"), Ok("w".into()));
        assert_eq!(label("player", "activate"), Ok("Enter".into()));
        assert_eq!(label("timeline", "end"), Err(Unbound::NoContext));
        assert_eq!(
            label("player", "show_audit"),
            Err(Unbound::NoAction {
                elsewhere: vec!["global".into()]
            })
        );
        assert_eq!(
            label("audit", "filter_row"),
            Err(Unbound::NoAction { elsewhere: vec![] })
        );
    }

    #[test]
    fn every_binding_has_a_distinct_name_in_its_context() {
        for binding in bindings() {
            let context = context_name(binding.context);
            let action = action_name(&binding.action);
            assert!(
                action.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{action}"
            );
            assert_eq!(
                label(&context, &action),
                Ok(key_for(binding.context, &binding.action)),
                "{context}.{action}"
            );
        }
        assert_eq!(names_with_label("F7"), ["global.show_audit"]);
    }
}
