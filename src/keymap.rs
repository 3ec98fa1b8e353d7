//! Every key the lab answers to, declared once: which context it works in, what it does,
//! and the words the help overlay and the footer show for it. Nothing else in pglab looks
//! at key codes; the runtime asks [`action_for`] and the views ask [`bindings`]. Lesson text
//! names keys through [`names`] (`{key:audit.filter_record}`), which resolves here too.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::action::Action;

mod key;
pub mod names;
pub use key::Key;
use key::{alt, alt_shift, ch, ctrl, plain};

/// Where the keyboard is pointed; bindings of a context work only there, global ones
/// everywhere unless the console editor needs the key for typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    LessonList,
    Player,
    /// The lesson player in presenting mode: its own keys (a clicker's) first, then the
    /// player's.
    Presenting,
    /// The projected screen is blanked: any key brings it back and does nothing else.
    Blank,
    Console,
    Log,
    /// The plan of an explained statement.
    Plan,
    /// The audit timeline.
    Audit,
    /// The audit timeline's filter being typed.
    AuditFilter,
    /// The schema map.
    Schema,
    /// The live tables view.
    Tables,
    /// The presenter view, `pglab notes`, in a terminal of its own.
    Notes,
    /// The help overlay is open.
    Help,
}

impl Context {
    /// The context whose keys work here too, after this one's own.
    pub fn falls_back_to(self) -> Option<Context> {
        match self {
            Context::Presenting => Some(Context::Player),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::LessonList => "Lesson list",
            Context::Player => "Lesson",
            Context::Presenting => "Lesson, presenting (--present or F12)",
            Context::Blank => "Blank screen",
            Context::Console => "SQL console",
            Context::Log => "Query log",
            Context::Plan => "Plan",
            Context::Audit => "Audit timeline",
            Context::AuditFilter => "Typing an audit filter",
            Context::Schema => "Schema map",
            Context::Tables => "Tables view",
            Context::Notes => "Presenter view (pglab notes)",
            Context::Help => "This help",
        }
    }
}

/// The footer's word for the help key, which the footer keeps when space is short.
pub const HELP_WORD: &str = "help";

/// A row of the keymap.
#[derive(Debug, Clone)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<Key>,
    pub action: Action,
    /// What the key does, for the help overlay.
    pub help: &'static str,
    /// A word or two for the footer, when the key is worth advertising there.
    pub footer: Option<&'static str>,
}

macro_rules! bind {
    ($context:ident, [$($key:expr),+], $action:expr, $help:expr) => {
        Binding { context: Context::$context, keys: vec![$($key),+], action: $action, help: $help, footer: None }
    };
    ($context:ident, [$($key:expr),+], $action:expr, $help:expr, $footer:expr) => {
        Binding { context: Context::$context, keys: vec![$($key),+], action: $action, help: $help, footer: Some($footer) }
    };
}

/// The whole keymap, in the order help lists it.
pub fn bindings() -> &'static [Binding] {
    use Action as A;
    use KeyCode as K;
    static BINDINGS: std::sync::OnceLock<Vec<Binding>> = std::sync::OnceLock::new();
    BINDINGS.get_or_init(|| {
        vec![
            bind!(
                Global,
                [ctrl('c')],
                A::Quit,
                "quit pglab (progress is saved)"
            ),
            bind!(Global, [ch('q')], A::Quit, "quit pglab", "quit"),
            bind!(
                Global,
                [ch('?'), plain(K::F(1))],
                A::ToggleHelp,
                "show or hide this help",
                HELP_WORD
            ),
            bind!(Global, [plain(K::F(2))], A::ShowLessons, "the lesson list"),
            bind!(
                Global,
                [plain(K::F(3))],
                A::ShowConsole,
                "the SQL console",
                "console"
            ),
            bind!(
                Global,
                [plain(K::F(7))],
                A::ShowAudit,
                "the audit timeline: who changed which row, when, from where, old → new",
                "audit"
            ),
            bind!(
                Global,
                [plain(K::F(8))],
                A::ShowSchema,
                "the schema map: every table, its columns and foreign keys"
            ),
            // Shift-T as well as F10: many terminals take F10 for their own menu.
            bind!(
                Global,
                [plain(K::F(10)), ch('T')],
                A::ShowTables,
                "the tables view: live rows of organizations, users, posts"
            ),
            bind!(
                Global,
                [ch('l'), plain(K::F(4))],
                A::CycleLatency,
                "simulated network latency: 0, 1, 5, 20, 50, 100 ms",
                "latency"
            ),
            bind!(
                Global,
                [ch('u'), plain(K::F(9))],
                A::CycleUser,
                "act as the next of the story's users (alice, bob, …)"
            ),
            bind!(
                Global,
                [plain(K::F(12))],
                A::TogglePresenting,
                "presenting mode: notes off the screen, big numbers, clicker keys"
            ),
            bind!(
                Global,
                [plain(K::Tab)],
                A::ToggleLogFocus,
                "move the keyboard to the query log and back",
                "log"
            ),
            bind!(
                LessonList,
                [plain(K::Up), ch('k')],
                A::Up,
                "previous lesson"
            ),
            bind!(
                LessonList,
                [plain(K::Down), ch('j')],
                A::Down,
                "next lesson"
            ),
            bind!(
                LessonList,
                [plain(K::Enter)],
                A::Open,
                "open the lesson where you stopped",
                "open"
            ),
            bind!(
                LessonList,
                [ch('x')],
                A::ResetLesson,
                "reset the selected lesson's progress (press twice)"
            ),
            bind!(
                LessonList,
                [ch('X')],
                A::ResetAll,
                "reset the progress of every lesson (press twice)"
            ),
            bind!(
                Player,
                [plain(K::Right), ch('n'), ch(' ')],
                A::NextStep,
                "next step (reveals a diagram's next layer first)",
                "next"
            ),
            bind!(
                Player,
                [plain(K::Left), ch('p')],
                A::PrevStep,
                "previous step",
                "back"
            ),
            bind!(
                Player,
                [plain(K::Enter)],
                A::Activate,
                "run the step: its SQL, its demo, or open the exercise in the console",
                "run"
            ),
            bind!(
                Player,
                [ch('h')],
                A::RevealHint,
                "next hint of the exercise"
            ),
            bind!(
                Player,
                [ch('s')],
                A::GiveUp,
                "give up and show the exercise's solution"
            ),
            bind!(
                Player,
                [ch('1'), ch('2'), ch('3'), ch('4'), ch('5'), ch('6')],
                A::Answer(0),
                "answer the quiz with that option"
            ),
            bind!(
                Player,
                [ch('t')],
                A::ToggleNotes,
                "show or hide the presenter notes"
            ),
            bind!(
                Player,
                [ch('P')],
                A::TogglePin,
                "pin this step beside the SQL console (again: unpin)"
            ),
            bind!(
                Player,
                [plain(K::Up), ch('k')],
                A::Up,
                "scroll the lesson up"
            ),
            bind!(
                Player,
                [plain(K::PageUp)],
                A::PageUp,
                "scroll the lesson a page up"
            ),
            bind!(
                Player,
                [plain(K::PageDown)],
                A::PageDown,
                "scroll the lesson a page down"
            ),
            bind!(
                Player,
                [plain(K::Down), ch('j')],
                A::Down,
                "scroll the lesson down"
            ),
            bind!(
                Player,
                [
                    Key {
                        code: K::Left,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('<')
                ],
                A::Left,
                "scroll wide diagrams and tables left"
            ),
            bind!(
                Player,
                [
                    Key {
                        code: K::Right,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('>')
                ],
                A::Right,
                "scroll wide diagrams and tables right"
            ),
            bind!(Player, [plain(K::Esc)], A::Back, "back to the lesson list"),
            // A presentation clicker sends PageDown/PageUp; some also `b` or `.` to blank.
            bind!(
                Presenting,
                [plain(K::PageDown)],
                A::NextStep,
                "next step, as → (a clicker's forward button)"
            ),
            bind!(
                Presenting,
                [plain(K::PageUp)],
                A::PrevStep,
                "previous step, as ← (a clicker's back button)"
            ),
            bind!(
                Presenting,
                [ch('b'), ch('.')],
                A::Blank,
                "blank the screen: only the background until any key",
                "blank"
            ),
            bind!(
                Console,
                [ctrl('r'), plain(K::F(5))],
                A::RunConsole,
                "run the SQL in the editor (an exercise is checked)",
                "run"
            ),
            bind!(
                Console,
                [plain(K::Esc)],
                A::Back,
                "cancel the running statement; otherwise leave the console",
                "cancel/leave"
            ),
            bind!(
                Console,
                [plain(K::F(6))],
                A::Explain,
                "explain the statement: its plan, measured, and what to fix (changes are rolled back)",
                "explain"
            ),
            bind!(
                Console,
                [ctrl('p')],
                A::HistoryPrev,
                "previous statement from the history"
            ),
            bind!(
                Console,
                [ctrl('n')],
                A::HistoryNext,
                "next statement from the history"
            ),
            bind!(
                Console,
                [plain(K::PageUp)],
                A::PageUp,
                "scroll the result up"
            ),
            bind!(
                Console,
                [plain(K::PageDown)],
                A::PageDown,
                "scroll the result down"
            ),
            bind!(
                Console,
                [Key {
                    code: K::Left,
                    modifiers: KeyModifiers::ALT
                }],
                A::Left,
                "scroll the result left"
            ),
            bind!(
                Console,
                [Key {
                    code: K::Right,
                    modifiers: KeyModifiers::ALT
                }],
                A::Right,
                "scroll the result right"
            ),
            bind!(
                Console,
                [alt(K::Up)],
                A::PinUp,
                "scroll the pinned pane up"
            ),
            bind!(
                Console,
                [alt(K::Down)],
                A::PinDown,
                "scroll the pinned pane down"
            ),
            bind!(
                Console,
                [alt_shift(K::Left)],
                A::PinLeft,
                "scroll the pinned pane left"
            ),
            bind!(
                Console,
                [alt_shift(K::Right)],
                A::PinRight,
                "scroll the pinned pane right"
            ),
            bind!(Log, [plain(K::Up), ch('k')], A::Up, "older round trips"),
            bind!(Log, [plain(K::Down), ch('j')], A::Down, "newer round trips"),
            bind!(Log, [plain(K::PageUp)], A::PageUp, "a page older"),
            bind!(Log, [plain(K::PageDown)], A::PageDown, "a page newer"),
            bind!(
                Log,
                [plain(K::End), ch('G')],
                A::End,
                "follow the newest round trip"
            ),
            bind!(Log, [ch('c')], A::ClearLog, "clear the log and its totals"),
            bind!(
                Log,
                [plain(K::Enter)],
                A::Activate,
                "open the marked round trip: its whole SQL, rows, time, error and warnings (Enter or Esc closes)",
                "open"
            ),
            bind!(
                Log,
                [plain(K::Esc)],
                A::ToggleLogFocus,
                "back to the lesson or console"
            ),
            bind!(
                Help,
                [plain(K::Esc)],
                A::ToggleHelp,
                "close this help",
                "close"
            ),
            bind!(Help, [plain(K::Up), ch('k')], A::Up, "scroll up"),
            bind!(Help, [plain(K::Down), ch('j')], A::Down, "scroll down"),
            bind!(Help, [plain(K::PageUp)], A::PageUp, "a page up"),
            bind!(Help, [plain(K::PageDown)], A::PageDown, "a page down"),
            bind!(Plan, [plain(K::Esc)], A::Back, "back to the console", "back"),
            bind!(
                Plan,
                [plain(K::Up), ch('k')],
                A::Up,
                "select the node above (the diff: scroll up)"
            ),
            bind!(
                Plan,
                [plain(K::Down), ch('j')],
                A::Down,
                "select the node below (the diff: scroll down)"
            ),
            bind!(Plan, [plain(K::PageUp)], A::PageUp, "a page up"),
            bind!(Plan, [plain(K::PageDown)], A::PageDown, "a page down"),
            bind!(
                Plan,
                [ch('d')],
                A::ToggleDiff,
                "compare with the plan explained before (side by side); again: this plan alone",
                "compare"
            ),
            bind!(
                Audit,
                [plain(K::Esc)],
                A::Back,
                "leave the timeline",
                "back"
            ),
            bind!(
                Audit,
                [plain(K::Up), ch('k')],
                A::Up,
                "select the newer event"
            ),
            bind!(
                Audit,
                [plain(K::Down), ch('j')],
                A::Down,
                "select the older event"
            ),
            bind!(Audit, [plain(K::PageUp)], A::PageUp, "a page newer"),
            bind!(Audit, [plain(K::PageDown)], A::PageDown, "a page older"),
            bind!(
                Audit,
                [plain(K::Home), ch('g')],
                A::End,
                "back to the newest event; new events are followed again",
                "newest"
            ),
            bind!(
                Audit,
                [ch('r')],
                A::FilterRecord,
                "only the selected event's row (again: every row)",
                "row"
            ),
            bind!(
                Audit,
                [ch('a')],
                A::FilterActor,
                "only the selected event's actor (again: everyone)",
                "actor"
            ),
            bind!(
                Audit,
                [ch('t')],
                A::FilterTable,
                "only the selected event's table (again: every table)",
                "table"
            ),
            bind!(
                Audit,
                [ch('w')],
                A::CycleWindow,
                "time window: all, the last hour, the last 10 minutes",
                "window"
            ),
            bind!(
                Audit,
                [ch('c')],
                A::ClearFilter,
                "clear the filter",
                "clear"
            ),
            bind!(
                Audit,
                [ch('/')],
                A::EditFilter,
                "type a filter: users:10 (a row), actor=7, table=posts, 30m / 1h / 2d (a window)",
                "filter"
            ),
            bind!(
                Schema,
                [plain(K::Esc)],
                A::Back,
                "back where the map was opened from",
                "back"
            ),
            bind!(Schema, [plain(K::Up), ch('k')], A::Up, "scroll up"),
            bind!(Schema, [plain(K::Down), ch('j')], A::Down, "scroll down"),
            bind!(Schema, [plain(K::PageUp)], A::PageUp, "a page up"),
            bind!(Schema, [plain(K::PageDown)], A::PageDown, "a page down"),
            bind!(
                Schema,
                [
                    Key {
                        code: K::Left,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('<')
                ],
                A::Left,
                "scroll the map left"
            ),
            bind!(
                Schema,
                [
                    Key {
                        code: K::Right,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('>')
                ],
                A::Right,
                "scroll the map right"
            ),
            bind!(
                Tables,
                [plain(K::Esc)],
                A::Back,
                "back where the tables view was opened from",
                "back"
            ),
            bind!(Tables, [plain(K::Up), ch('k')], A::Up, "scroll up"),
            bind!(Tables, [plain(K::Down), ch('j')], A::Down, "scroll down"),
            bind!(Tables, [plain(K::PageUp)], A::PageUp, "a page up"),
            bind!(Tables, [plain(K::PageDown)], A::PageDown, "a page down"),
            bind!(
                Tables,
                [
                    Key {
                        code: K::Left,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('<')
                ],
                A::Left,
                "scroll the tables left"
            ),
            bind!(
                Tables,
                [
                    Key {
                        code: K::Right,
                        modifiers: KeyModifiers::ALT
                    },
                    ch('>')
                ],
                A::Right,
                "scroll the tables right"
            ),
            // A presentation clicker sends PageDown/PageUp: it works in the presenter view too.
            bind!(
                Notes,
                [plain(K::Right), plain(K::PageDown), ch('n'), ch(' ')],
                A::NextStep,
                "on the lab: the next step (reveals a diagram's next layer first)",
                "next"
            ),
            bind!(
                Notes,
                [plain(K::Left), plain(K::PageUp), ch('p')],
                A::PrevStep,
                "on the lab: the previous step",
                "back"
            ),
            bind!(
                Notes,
                [plain(K::Enter)],
                A::Activate,
                "on the lab: run the step (its SQL, its demo, its exercise)",
                "run"
            ),
            bind!(
                Notes,
                [ch('o')],
                A::FollowOtherLab,
                "follow another lab on the same data directory",
                "other lab"
            ),
            bind!(
                AuditFilter,
                [plain(K::Enter)],
                A::Activate,
                "apply the typed filter",
                "apply"
            ),
            bind!(
                AuditFilter,
                [plain(K::Esc)],
                A::Back,
                "keep the filter as it was",
                "cancel"
            ),
        ]
    })
}

/// The action a key press means in `context`. `typing` says the console editor has the
/// keyboard: then global keys without Ctrl or a function key are left to the editor, and a
/// key nothing claims becomes text ([`Action::Edit`]).
pub fn action_for(context: Context, event: KeyEvent, typing: bool) -> Option<Action> {
    if event.kind != KeyEventKind::Press {
        return None;
    }
    let lookup = |wanted: Context| {
        bindings().iter().find_map(|binding| {
            let key = binding
                .keys
                .iter()
                .find(|key| binding.context == wanted && key.matches(&event))?;
            Some(match binding.action {
                Action::Answer(_) => Action::Answer(answer_index(key)),
                ref action => action.clone(),
            })
        })
    };
    // A blanked screen takes any key as the one way back, and only that.
    if context == Context::Blank {
        return Some(Action::Unblank);
    }
    if let Some(action) = lookup(context).or_else(|| context.falls_back_to().and_then(lookup)) {
        return Some(action);
    }
    let global = lookup(Context::Global).filter(|_| !typing || !is_text_key(&event));
    match global {
        Some(action) => Some(action),
        None if typing => Some(Action::Edit(event)),
        None => None,
    }
}

/// A key an editor would insert or use for moving: global letters must not steal it.
fn is_text_key(event: &KeyEvent) -> bool {
    Key {
        code: event.code,
        modifiers: event.modifiers - KeyModifiers::SHIFT,
    }
    .is_text()
}

/// `1` → option 0.
fn answer_index(key: &Key) -> u8 {
    match key.code {
        KeyCode::Char(c @ '1'..='9') => c as u8 - b'1',
        _ => 0,
    }
}

/// How the first key bound to `action` in `context` is written, for sentences that name a
/// key ("Enter runs it"); `?` when nothing binds it (a test keeps that from happening).
pub fn key_for(context: Context, action: &Action) -> String {
    bindings()
        .iter()
        .find(|b| b.context == context && &b.action == action)
        .map_or_else(|| "?".to_string(), |b| b.keys[0].label())
}

/// The footer's hints for `context`: its own advertised keys, then the global ones that work
/// there (while `typing`, only those the editor leaves alone), leaving out the actions
/// `offered` says have nothing to act on now.
pub fn footer(
    context: Context,
    typing: bool,
    offered: impl Fn(&Action) -> bool,
) -> Vec<(String, &'static str)> {
    let own = bindings()
        .iter()
        .filter(|b| b.context == context || Some(b.context) == context.falls_back_to());
    let global = bindings()
        .iter()
        .filter(|b| b.context == Context::Global && context != Context::Help);
    own.chain(global)
        .filter(|b| offered(&b.action))
        .filter_map(|b| {
            let key = b.keys.iter().find(|k| !typing || !k.is_text())?;
            Some((key.label(), b.footer?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context_or_shadows_a_global_key() {
        let mut seen = HashSet::new();
        for binding in bindings() {
            for key in &binding.keys {
                assert!(
                    seen.insert((binding.context, *key)),
                    "{} bound twice in {:?}",
                    key.label(),
                    binding.context
                );
            }
        }
        // A context may reuse a global key only on purpose: list those here.
        let allowed_shadows = [
            (Context::Log, KeyCode::Esc),
            (Context::Help, KeyCode::Esc),
            (Context::Plan, KeyCode::Esc),
        ];
        for binding in bindings().iter().filter(|b| b.context != Context::Global) {
            for key in &binding.keys {
                let shadows = seen.contains(&(Context::Global, *key));
                assert!(
                    !shadows || allowed_shadows.contains(&(binding.context, key.code)),
                    "{} in {:?} hides a global key",
                    key.label(),
                    binding.context
                );
            }
        }
    }

    #[test]
    fn every_advertised_key_reaches_its_action() {
        for binding in bindings() {
            let contexts = if binding.context == Context::Global {
                vec![Context::LessonList, Context::Player, Context::Log]
            } else {
                vec![binding.context]
            };
            for context in contexts {
                for key in &binding.keys {
                    let typing = context == Context::Console;
                    let got = action_for(context, press(key.code, key.modifiers), typing);
                    let expected = match binding.action {
                        Action::Answer(_) => Action::Answer(answer_index(key)),
                        ref action => action.clone(),
                    };
                    // Esc in the log is the log's own; the global keys reach everywhere else.
                    if context == Context::Log && key.code == KeyCode::Esc {
                        continue;
                    }
                    assert_eq!(got, Some(expected), "{} in {context:?}", key.label());
                }
            }
        }
    }

    #[test]
    fn typing_in_the_console_keeps_letters_for_the_editor() {
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(Context::Console, q, true), Some(Action::Edit(q)));
        let shifted = press(KeyCode::Char('Q'), KeyModifiers::SHIFT);
        assert_eq!(
            action_for(Context::Console, shifted, true),
            Some(Action::Edit(shifted))
        );
        let help = press(KeyCode::F(1), KeyModifiers::NONE);
        assert_eq!(
            action_for(Context::Console, help, true),
            Some(Action::ToggleHelp)
        );
        let quit = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Context::Console, quit, true), Some(Action::Quit));
    }

    #[test]
    fn keys_named_in_sentences_are_bound() {
        for action in [
            Action::NextStep,
            Action::Activate,
            Action::RevealHint,
            Action::GiveUp,
        ] {
            assert_ne!(key_for(Context::Player, &action), "?", "{action:?}");
        }
        assert_eq!(key_for(Context::Console, &Action::Back), "Esc");
        // The timeline's empty and filtered states name these.
        for action in [Action::ClearFilter, Action::CycleWindow, Action::End] {
            assert_ne!(key_for(Context::Audit, &action), "?", "{action:?}");
        }
        assert_eq!(key_for(Context::Global, &Action::ShowAudit), "F7");
        assert_eq!(key_for(Context::Global, &Action::ShowTables), "F10");
    }

    #[test]
    fn presenting_takes_the_clicker_keys_and_keeps_the_players() {
        let key = |code| press(code, KeyModifiers::NONE);
        let presenting = |code| action_for(Context::Presenting, key(code), false);
        assert_eq!(presenting(KeyCode::PageDown), Some(Action::NextStep));
        assert_eq!(presenting(KeyCode::PageUp), Some(Action::PrevStep));
        assert_eq!(presenting(KeyCode::Char('b')), Some(Action::Blank));
        assert_eq!(presenting(KeyCode::Char('.')), Some(Action::Blank));
        assert_eq!(presenting(KeyCode::Char('t')), Some(Action::ToggleNotes));
        assert_eq!(presenting(KeyCode::F(12)), Some(Action::TogglePresenting));
        // Outside presenting mode PageDown still scrolls the lesson.
        assert_eq!(
            action_for(Context::Player, key(KeyCode::PageDown), false),
            Some(Action::PageDown)
        );
        for code in [KeyCode::Char('q'), KeyCode::Esc, KeyCode::F(12)] {
            assert_eq!(
                action_for(Context::Blank, key(code), false),
                Some(Action::Unblank)
            );
        }
    }

    #[test]
    fn quiz_keys_carry_the_option_number() {
        let three = press(KeyCode::Char('3'), KeyModifiers::NONE);
        assert_eq!(
            action_for(Context::Player, three, false),
            Some(Action::Answer(2))
        );
    }

    #[test]
    fn releases_and_repeats_of_keys_do_nothing_twice() {
        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(Context::Player, release, false), None);
    }
}
