//! The README's key table ("In the lab") against the keymap: every key the table names must be
//! bound in the context it names, so the README cannot drift from `src/keymap.rs`.
//!
//! A row names keys in two places. The key column's keys work where the row says. Its prose
//! names keys too, and those work on the screen the row's key opens (F3's row lists the
//! console's keys) or, when it opens none, where the row says. In prose only unmistakable key
//! names count: a modifier or function key (`Ctrl-R`, `Alt-←`, `F5`), a named key (`Esc`,
//! `Home`, `PgUp`), or keys joined by `/` (`↑/↓`, `r/a/t`). A lone letter or arrow is taken
//! for a word (`c clears`, `old → new`) and not checked.

use pglab::app::action::Action;
use pglab::keymap::{Context, bindings};

const README: &str = include_str!("../../README.md");
const TABLE_HEADER: &str = "| key | where | what it does |";

/// Keys written by name rather than by their character.
const NAMED_KEYS: [&str; 12] = [
    "Esc",
    "Enter",
    "Tab",
    "Shift-Tab",
    "Space",
    "Home",
    "End",
    "PgUp",
    "PgDn",
    "Backspace",
    "Delete",
    "Insert",
];

/// One row of the table.
struct Row {
    keys: String,
    place: String,
    what: String,
}

fn key_table() -> Vec<Row> {
    let section = README
        .split("### In the lab")
        .nth(1)
        .expect("README.md has an \"### In the lab\" section");
    let mut lines = section
        .lines()
        .skip_while(|line| line.trim() != TABLE_HEADER);
    assert!(
        lines.next().is_some(),
        "the \"In the lab\" section has no table headed {TABLE_HEADER}"
    );
    lines
        .skip(1) // |---|---|---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [keys, place, what] = cells[..] else {
                panic!("a key table row has 3 cells (key, where, what it does): {line}");
            };
            Row {
                keys: keys.into(),
                place: place.into(),
                what: what.into(),
            }
        })
        .collect()
}

/// The keymap context a "where" cell names.
fn context_named(place: &str) -> Context {
    match place {
        "anywhere" => Context::Global,
        "lesson list" => Context::LessonList,
        // Exercises and quizzes are steps of the lesson player.
        "lesson" | "exercise" | "quiz" => Context::Player,
        "presenting" => Context::Presenting,
        "console" => Context::Console,
        "plan" => Context::Plan,
        "query log" => Context::Log,
        "audit timeline" => Context::Audit,
        "schema map" => Context::Schema,
        "tables view" => Context::Tables,
        "help" => Context::Help,
        other => panic!(
            "the README's key table names the place {other:?}; map it to a keymap context in \
             context_named (tests/it/readme.rs)"
        ),
    }
}

/// The screen a key opens, if it opens one: its prose then names that screen's keys.
fn context_opened(context: Context, label: &str) -> Option<Context> {
    let action = bindings()
        .iter()
        .find(|b| b.context == context && b.keys.iter().any(|k| k.label() == label))?
        .action
        .clone();
    match action {
        Action::ShowConsole => Some(Context::Console),
        Action::ShowAudit => Some(Context::Audit),
        Action::ShowSchema => Some(Context::Schema),
        Action::ShowTables => Some(Context::Tables),
        Action::ShowLessons => Some(Context::LessonList),
        Action::ToggleLogFocus => Some(Context::Log),
        Action::ToggleHelp => Some(Context::Help),
        Action::Explain => Some(Context::Plan),
        _ => None,
    }
}

fn is_bound(context: Context, label: &str) -> bool {
    bindings()
        .iter()
        .any(|b| b.context == context && b.keys.iter().any(|k| k.label() == label))
}

/// `Ctrl-P/Ctrl-N` → both; `Alt-←/→` → `Alt-←`, `Alt-→` (the modifier carries over).
fn split_slashes(token: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for part in token.split('/') {
        let inherited = keys
            .first()
            .and_then(|first| first.rfind('-').map(|at| &first[..=at]))
            .filter(|_| !part.contains('-') && part.chars().count() == 1);
        keys.push(match inherited {
            Some(modifier) => format!("{modifier}{part}"),
            None => part.to_string(),
        });
    }
    keys
}

/// A key written with a modifier or a name, or a function key.
fn is_named_key(word: &str) -> bool {
    let function = word
        .strip_prefix('F')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let modified = ["Ctrl-", "Alt-"]
        .iter()
        .any(|m| word.strip_prefix(m).is_some_and(|rest| !rest.is_empty()));
    function || modified || NAMED_KEYS.contains(&word)
}

/// The keys in the key column: `h, s`, `→ / ←`, `l (F4)`, `1–6`, `q, Ctrl-C`.
fn key_column(cell: &str) -> Vec<String> {
    let cell = cell.replace(['(', ')', ','], " ");
    let mut keys = Vec::new();
    for token in cell.split_whitespace().filter(|t| *t != "/") {
        if let Some((from, to)) = token.split_once('–')
            && let (Some(from), Some(to)) = (from.chars().next(), to.chars().next())
        {
            keys.extend((from..=to).map(String::from));
        } else {
            keys.extend(split_slashes(token));
        }
    }
    keys
}

/// The keys the prose names, by the rule in the module comment.
fn keys_in_prose(text: &str) -> Vec<String> {
    // What is in backticks is an example to type (`users:10 actor=7`), not keys.
    let prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let mut keys = Vec::new();
    for word in prose.split_whitespace() {
        let word = word.trim_matches(|c| matches!(c, ',' | '.' | ';' | ':' | '(' | ')'));
        if word.len() > 1 && word.contains('/') {
            let parts = split_slashes(word);
            if parts
                .iter()
                .all(|part| part.chars().count() == 1 || is_named_key(part))
            {
                keys.extend(parts);
            }
        } else if is_named_key(word) {
            keys.push(word.to_string());
        }
    }
    keys
}

#[test]
fn every_key_the_readme_names_is_bound_where_it_says() {
    let rows = key_table();
    assert!(rows.len() >= 10, "the key table has {} rows", rows.len());
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for row in &rows {
        let context = context_named(&row.place);
        let keys = key_column(&row.keys);
        assert!(!keys.is_empty(), "no key in the row for {:?}", row.keys);
        let mut check = |context: Context, key: String| {
            if !is_bound(context, &key) {
                wrong.push(format!(
                    "{key} (row {:?}) is not bound in {:?}",
                    row.keys, context
                ));
            }
            checked.push((context, key));
        };
        for key in &keys {
            check(context, key.clone());
        }
        let prose_context = keys
            .iter()
            .find_map(|key| context_opened(context, key))
            .unwrap_or(context);
        for key in keys_in_prose(&row.what) {
            check(prose_context, key);
        }
    }
    assert!(
        wrong.is_empty(),
        "the README's key table disagrees with src/keymap.rs; fix the README:\n{}",
        wrong.join("\n")
    );
    // The prose was read too, not only the key column.
    for (context, key) in [
        (Context::Console, "Ctrl-R"),
        (Context::Console, "Alt-→"),
        (Context::Audit, "Home"),
        (Context::Audit, "t"),
        (Context::Log, "End"),
    ] {
        assert!(
            checked.contains(&(context, key.to_string())),
            "{key} in {context:?} was not found in the README's prose; checked: {checked:?}"
        );
    }
}

#[test]
fn keys_are_read_from_cells_and_prose() {
    assert_eq!(key_column("→ / ←"), ["→", "←"]);
    assert_eq!(key_column("l (F4)"), ["l", "F4"]);
    assert_eq!(key_column("1–3"), ["1", "2", "3"]);
    assert_eq!(key_column("↑/↓, d"), ["↑", "↓", "d"]);
    assert_eq!(
        keys_in_prose("Ctrl-R (or F5) runs, Alt-←/→ scroll, old → new, c clears"),
        ["Ctrl-R", "F5", "Alt-←", "Alt-→"]
    );
    assert_eq!(
        keys_in_prose("r/a/t keep only its row/actor/table, `a/b` typed"),
        ["r", "a", "t"]
    );
}
