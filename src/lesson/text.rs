//! Lesson text as authors write it, and as the lab and `pglab lessons run` show it. Two
//! references, resolved when the text is shown ([`resolve`]):
//!
//! - `{key:CONTEXT.ACTION}`: the key the keymap binds to ACTION in CONTEXT, written as help
//!   writes it: `{key:audit.filter_record}` shows `r`. After a bar, the words plain text
//!   prints instead: `{key:global.show_audit|pglab audit}`.
//! - `{lab:WORDS|PLAIN}`: WORDS in the lab (where keys may be named), PLAIN in plain text;
//!   an empty PLAIN (`{lab:…|}`) prints nothing.
//!
//! [`check`] is what `pglab lessons check` says about a text: a reference that does not
//! resolve, a key plain text would have to print, a key named bare instead of through a
//! reference, and an instruction only the lab can follow outside `{lab:…|…}`; the last two
//! are read in `bare`.

use std::ops::Range;

use crate::keymap::names::{self, Unbound};

use super::document::edit_distance;
use bare::Scan;
pub use bare::looks_like_a_key;

mod bare;

/// Who reads the resolved text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The terminal UI: keys work.
    Lab,
    /// `pglab lessons run`: no keys, no panes.
    Plain,
}

/// Where a piece of lesson text is shown, which decides the rules it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In the lab and in plain text: step text, hints, quiz text.
    Everywhere,
    /// Only in the lab: presenter notes.
    InTheLab,
    /// Exactly as written, everywhere: titles and diagrams take no references.
    AsWritten,
}

/// One thing wrong with a text: the byte offset it starts at, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flaw {
    pub at: usize,
    pub message: String,
}

/// `text` with its references resolved for `audience`.
pub fn resolve(text: &str, audience: Audience) -> String {
    if !text.contains("{key:") && !text.contains("{lab:") {
        return text.to_string();
    }
    let mut out = String::new();
    write(text, &parse(text, &mut Vec::new()), audience, &mut out);
    out
}

/// Everything wrong with `text`, shown `shown`; empty when it is fine.
pub fn check(text: &str, shown: Shown) -> Vec<Flaw> {
    let mut flaws = Vec::new();
    let pieces = parse(text, &mut flaws);
    let scan = Scan::new(text);
    for piece in &pieces {
        match piece {
            Piece::Text(span) => {
                scan.bare_keys(span.clone(), shown, &mut flaws);
                if shown == Shown::Everywhere {
                    scan.lab_words(span.clone(), &mut flaws);
                }
            }
            Piece::Key { at, name, plain } => {
                if shown == Shown::AsWritten {
                    flaws.push(as_written(*at, text));
                    continue;
                }
                check_key(*at, name, &mut flaws);
                match plain {
                    Some(plain) => scan.bare_keys(plain.clone(), shown, &mut flaws),
                    None if shown == Shown::Everywhere => flaws.push(Flaw {
                        at: *at,
                        message: format!(
                            "`{{key:{name}}}` would be printed by `pglab lessons run`, which has \
                             no keys: add the plain words after a bar, {{key:{name}|…}}, or put \
                             the sentence in {{lab:…|…}} with its plain-text form"
                        ),
                    }),
                    None => {}
                }
            }
            Piece::Lab { at, lab, plain } => {
                if shown == Shown::AsWritten {
                    flaws.push(as_written(*at, text));
                    continue;
                }
                for inner in lab {
                    match inner {
                        Piece::Text(span) => scan.bare_keys(span.clone(), shown, &mut flaws),
                        Piece::Key { at, name, plain } => {
                            check_key(*at, name, &mut flaws);
                            if let Some(plain) = plain {
                                scan.bare_keys(plain.clone(), shown, &mut flaws);
                            }
                        }
                        Piece::Lab { .. } => {}
                    }
                }
                scan.bare_keys(plain.clone(), shown, &mut flaws);
                if shown == Shown::Everywhere {
                    scan.lab_words(plain.clone(), &mut flaws);
                }
            }
        }
    }
    flaws.sort_by_key(|flaw| flaw.at);
    flaws
}

/// A text cut into plain runs and references; spans are byte ranges of the whole text.
#[derive(Debug)]
enum Piece {
    Text(Range<usize>),
    Key {
        at: usize,
        name: String,
        plain: Option<Range<usize>>,
    },
    Lab {
        at: usize,
        lab: Vec<Piece>,
        plain: Range<usize>,
    },
}

const KEY: &str = "{key:";
const LAB: &str = "{lab:";

fn parse(text: &str, flaws: &mut Vec<Flaw>) -> Vec<Piece> {
    parse_range(text, 0..text.len(), false, flaws)
}

/// The pieces of `text[range]`; `in_lab` when inside a `{lab:…}` (which cannot nest).
fn parse_range(text: &str, range: Range<usize>, in_lab: bool, flaws: &mut Vec<Flaw>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut from = range.start;
    while from < range.end {
        let rest = &text[from..range.end];
        let next = [KEY, LAB]
            .iter()
            .filter_map(|opener| rest.find(opener).map(|i| (from + i, *opener)))
            .min_by_key(|(at, _)| *at);
        let Some((at, opener)) = next else {
            break;
        };
        if at > from {
            pieces.push(Piece::Text(from..at));
        }
        let inner_start = at + opener.len();
        let Some((close, bar)) = closing(text, inner_start, range.end) else {
            flaws.push(Flaw {
                at,
                message: format!("`{opener}` is never closed with `}}`"),
            });
            pieces.push(Piece::Text(at..range.end));
            return pieces;
        };
        let before_bar = inner_start..bar.unwrap_or(close);
        let after_bar = bar.map(|bar| bar + 1..close);
        if let Some(plain) = &after_bar
            && (text[plain.clone()].contains(KEY) || text[plain.clone()].contains(LAB))
        {
            flaws.push(Flaw {
                at: plain.start,
                message: "the plain-text form after `|` is what `pglab lessons run` prints: it \
                          names no keys and holds no other reference"
                    .into(),
            });
        }
        if opener == KEY {
            pieces.push(Piece::Key {
                at,
                name: text[before_bar].trim().to_string(),
                plain: after_bar,
            });
        } else {
            if in_lab {
                flaws.push(Flaw {
                    at,
                    message: "`{lab:` inside another `{lab:…}`: one is enough".into(),
                });
            }
            if after_bar.is_none() {
                flaws.push(Flaw {
                    at,
                    message: "`{lab:…}` needs its plain-text form after a bar, for \
                              `pglab lessons run`: {lab:…|…}, or {lab:…|} to print nothing there"
                        .into(),
                });
            }
            let lab = parse_range(text, before_bar, true, flaws);
            pieces.push(Piece::Lab {
                at,
                lab,
                plain: after_bar.unwrap_or(close..close),
            });
        }
        from = close + 1;
    }
    if from < range.end {
        pieces.push(Piece::Text(from..range.end));
    }
    pieces
}

/// The `}` closing a reference whose text starts at `start`, and the first `|` at its own
/// level, if any; braces nest (a `{lab:…}` holds `{key:…}`).
fn closing(text: &str, start: usize, end: usize) -> Option<(usize, Option<usize>)> {
    let mut depth = 0usize;
    let mut bar = None;
    for (i, c) in text[start..end].char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some((start + i, bar)),
            '}' => depth -= 1,
            '|' if depth == 0 && bar.is_none() => bar = Some(start + i),
            _ => {}
        }
    }
    None
}

fn write(text: &str, pieces: &[Piece], audience: Audience, out: &mut String) {
    for piece in pieces {
        match (piece, audience) {
            (Piece::Text(span), _) => out.push_str(&text[span.clone()]),
            (
                Piece::Key {
                    plain: Some(plain), ..
                },
                Audience::Plain,
            ) => {
                out.push_str(&text[plain.clone()]);
            }
            // Unchecked text may name a key in plain text; a label is still the best guess.
            (Piece::Key { name, .. }, _) => {
                let label = name
                    .split_once('.')
                    .and_then(|(context, action)| names::label(context, action).ok())
                    .unwrap_or_else(|| "?".into());
                out.push('`');
                out.push_str(&label);
                out.push('`');
            }
            (Piece::Lab { lab, .. }, Audience::Lab) => write(text, lab, audience, out),
            (Piece::Lab { plain, .. }, Audience::Plain) => out.push_str(&text[plain.clone()]),
        }
    }
}

/// Problems with a key reference's name: unknown context, or nothing bound there.
fn check_key(at: usize, name: &str, flaws: &mut Vec<Flaw>) {
    let message = match name.split_once('.') {
        None => format!(
            "`{{key:{name}}}`: name a key as {{key:context.action}}, e.g. {{key:global.show_audit}}"
        ),
        Some((context, action)) => match names::label(context, action) {
            Ok(_) => return,
            Err(Unbound::NoContext) => format!(
                "`{{key:{name}}}`: the keymap has no context `{context}`; its contexts are {}",
                names::context_names().join(", ")
            ),
            Err(Unbound::NoAction { elsewhere }) if !elsewhere.is_empty() => format!(
                "`{{key:{name}}}`: {action} is bound in {}, not in {context}; write {}",
                elsewhere.join(" and "),
                elsewhere
                    .iter()
                    .map(|other| format!("{{key:{other}.{action}}}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Err(Unbound::NoAction { .. }) => {
                let bound = names::action_names(context);
                let near = bound
                    .iter()
                    .filter(|candidate| edit_distance(action, candidate) <= 3)
                    .min_by_key(|candidate| edit_distance(action, candidate))
                    .map(|near| format!(" (did you mean `{near}`?)"))
                    .unwrap_or_default();
                format!(
                    "`{{key:{name}}}`: the keymap binds no key to `{action}` in {context}{near}; \
                     {context} binds {}",
                    bound.join(", ")
                )
            }
        },
    };
    flaws.push(Flaw { at, message });
}

fn as_written(at: usize, text: &str) -> Flaw {
    let end = text[at..].find('}').map_or(text.len(), |i| at + i + 1);
    Flaw {
        at,
        message: format!(
            "`{}`: titles, summaries and diagrams are shown as written, without references; \
             name keys in the step's text",
            &text[at..end]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str, shown: Shown) -> Vec<String> {
        check(text, shown)
            .into_iter()
            .map(|flaw| format!("{}: {}", flaw.at, flaw.message))
            .collect()
    }

    #[test]
    fn keys_resolve_to_their_labels_in_the_lab_and_to_words_in_plain_text() {
        let text = "The timeline ({key:global.show_audit|`pglab audit`}) lists them.";
        assert_eq!(
            resolve(text, Audience::Lab),
            "The timeline (`F7`) lists them."
        );
        assert_eq!(
            resolve(text, Audience::Plain),
            "The timeline (`pglab audit`) lists them."
        );
        let lab = "Seen.{lab: Press {key:audit.cycle_window} for the last hour.| Run it with --since 1h.}";
        assert_eq!(
            resolve(lab, Audience::Lab),
            "Seen. Press `w` for the last hour."
        );
        assert_eq!(
            resolve(lab, Audience::Plain),
            "Seen. Run it with --since 1h."
        );
        assert_eq!(resolve("a{lab:b|}c", Audience::Plain), "ac");
        assert_eq!(
            resolve("no {braces} here", Audience::Lab),
            "no {braces} here"
        );
    }

    #[test]
    fn good_text_has_no_flaws() {
        let text = "Run it.{lab: Then press {key:global.cycle_latency} and run it again \
                    ({key:player.activate}).| Step 7 measures it with latency.}\n\n\
                    ```sql\nselect `l` from t;\n```\n\nFor `N` posts, compare with `=`; \
                    old → new.";
        assert_eq!(messages(text, Shown::Everywhere), Vec::<String>::new());
        assert_eq!(
            messages(
                "Press {key:global.show_audit}, then F-keys.",
                Shown::InTheLab
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unbound_references_say_what_is_bound() {
        assert_eq!(
            messages("{lab:{key:audit.filter_row}|}", Shown::Everywhere),
            [
                "5: `{key:audit.filter_row}`: the keymap binds no key to `filter_row` in audit; \
              audit binds back, up, down, page_up, page_down, end, filter_record, \
              filter_actor, filter_table, cycle_window, clear_filter, edit_filter"
            ]
        );
        let typo = messages("{key:audit.cycle_windwo}", Shown::InTheLab);
        assert!(
            typo[0].contains("(did you mean `cycle_window`?)"),
            "{typo:?}"
        );
        assert_eq!(
            messages("{key:player.show_audit}", Shown::InTheLab),
            [
                "0: `{key:player.show_audit}`: show_audit is bound in global, not in player; \
              write {key:global.show_audit}"
            ]
        );
        let unknown = messages("{key:timeline.end}", Shown::InTheLab);
        assert!(unknown[0].contains("no context `timeline`"), "{unknown:?}");
        let malformed = messages("{key:F7}", Shown::InTheLab);
        assert!(
            malformed[0].contains("{key:context.action}"),
            "{malformed:?}"
        );
    }

    #[test]
    fn plain_text_never_gets_a_bare_reference() {
        let flaws = messages("Press {key:global.show_audit}.", Shown::Everywhere);
        assert_eq!(flaws.len(), 2, "{flaws:?}");
        assert!(flaws[0].contains("\"Press\" asks for a key"), "{flaws:?}");
        assert!(
            flaws[1].contains("would be printed by `pglab lessons run`"),
            "{flaws:?}"
        );
        let nested = messages("{lab:a|b {key:global.quit}}", Shown::Everywhere);
        assert!(nested[0].contains("names no keys"), "{nested:?}");
        let no_bar = messages("{lab:Press {key:global.quit}.}", Shown::Everywhere);
        assert!(
            no_bar[0].contains("needs its plain-text form"),
            "{no_bar:?}"
        );
        let open = messages("see {key:global.quit", Shown::InTheLab);
        assert_eq!(open, ["4: `{key:` is never closed with `}`"]);
    }

    #[test]
    fn bare_keys_are_caught_in_code_spans_prose_and_after_press() {
        let text = "Press `l` to add latency and run it again (Enter). Then F7, `Ctrl-R`, \
                    press q, press a key, `Home`, Home sweet home, `N`, `=`, `1`.";
        let found: Vec<String> = check(text, Shown::InTheLab)
            .into_iter()
            .map(|flaw| {
                text[flaw.at..]
                    .split([' ', ',', ')'])
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(found, ["`l`", "Enter", "F7", "`Ctrl-R`", "q", "`Home`"]);
        let bold = check(
            "- **r**: one row; **F7** and press F7; **x** marks; *N* posts",
            Shown::InTheLab,
        );
        assert_eq!(bold.len(), 4, "{bold:?}");
        assert_eq!(
            messages("`r`", Shown::InTheLab),
            [
                "0: `r` names a key as bare text; name it through the keymap, \
              {key:audit.filter_record}, so it follows the keymap"
            ]
        );
        let enter = messages("Enter", Shown::InTheLab);
        assert!(enter[0].contains("one of {key:lesson_list.open}, {key:player.activate}"));
        let unbound = messages("F11", Shown::InTheLab);
        assert!(unbound[0].contains("binds no such key"), "{unbound:?}");
    }

    #[test]
    fn lab_words_must_be_in_lab_passages_where_plain_text_prints() {
        let text = "Look at the query log. {lab:Or at the query log.|Or not.}";
        assert_eq!(
            messages(text, Shown::Everywhere),
            [
                "12: the query log is a pane of the lab, and `pglab lessons run` prints this \
              text too: put the words in {lab:…|…} with a plain-text form after the bar"
            ]
        );
        assert!(messages(text, Shown::InTheLab).is_empty());
        assert!(messages("which button was pressed", Shown::Everywhere).is_empty());
    }

    #[test]
    fn titles_and_diagrams_take_no_references() {
        let flaws = messages("F7 timeline · {key:global.show_audit}", Shown::AsWritten);
        assert_eq!(flaws.len(), 2, "{flaws:?}");
        assert!(flaws[0].contains("say it without the key"), "{flaws:?}");
        assert!(flaws[1].contains("shown as written"), "{flaws:?}");
    }

    #[test]
    fn function_keys_and_combinations_look_like_keys() {
        for key in [
            "F1",
            "F12",
            "Ctrl-R",
            "Alt-←",
            "Shift-Tab",
            "PgDn",
            "Esc",
            "↑",
        ] {
            assert!(looks_like_a_key(key), "{key}");
        }
        for word in ["F0", "F13", "F", "Ctrl-", "Fix", "enter", "l"] {
            assert!(!looks_like_a_key(word), "{word}");
        }
    }
}
