//! Words that should have been references: a key named bare in lesson text (in a code
//! span, by its name in prose, after "press") and, in text plain output prints, words only
//! the lab can act on ("press", "query log"). Read by [`super::check`].

use std::ops::Range;

use super::{Flaw, Shown};
use crate::keymap::names;

/// Whether `word` names a key the way help writes keys: F1–F12, a named key (`Enter`, `Esc`,
/// `Tab`, `Space`, `Home`, `End`, `PgUp`, `PgDn`, `Backspace`, `Delete`, `Insert`), an
/// arrow, or a Ctrl-, Alt- or Shift- combination. Single characters are keys only where the
/// keymap binds them (see [`super::check`]'s rules).
pub fn looks_like_a_key(word: &str) -> bool {
    const NAMED: [&str; 11] = [
        "Enter",
        "Esc",
        "Tab",
        "Space",
        "Home",
        "End",
        "PgUp",
        "PgDn",
        "Backspace",
        "Delete",
        "Insert",
    ];
    let function = word
        .strip_prefix('F')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=12).contains(&n) && !word.starts_with("F0"));
    let combination = ["Ctrl-", "Alt-", "Shift-"].iter().any(|prefix| {
        word.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty())
    });
    function || combination || NAMED.contains(&word) || matches!(word, "←" | "↑" | "→" | "↓")
}

/// Byte ranges of the lines inside fenced code blocks (``` or ~~~), fences included.
fn fenced_lines(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            match open.take() {
                Some(start) => ranges.push(start..offset + line.len()),
                None => open = Some(offset),
            }
        }
        offset += line.len();
    }
    if let Some(start) = open {
        ranges.push(start..text.len());
    }
    ranges
}

/// A word or a code span found in a run of text, at its byte offset.
#[derive(Debug)]
enum Token<'t> {
    Word(usize, &'t str),
    Code(usize, &'t str),
}

/// Reading runs of one text for words that should have been references.
pub(super) struct Scan<'t> {
    text: &'t str,
    fenced: Vec<Range<usize>>,
}

impl<'t> Scan<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Scan {
            text,
            fenced: fenced_lines(text),
        }
    }

    /// The words and code spans of `text[range]`, outside fenced code blocks. A code span is
    /// a run between single backticks, ended by a blank line at the latest.
    fn tokens(&self, range: Range<usize>) -> Vec<Token<'t>> {
        let mut tokens = Vec::new();
        let mut code: Option<usize> = None;
        let mut word: Option<usize> = None;
        let mut previous = '\0';
        let run = &self.text[range.clone()];
        for (i, c) in run.char_indices() {
            let at = range.start + i;
            if self.fenced.iter().any(|f| f.contains(&at)) {
                word = self.end_word(word, at, &mut tokens);
                code = None;
                continue;
            }
            if c == '`' {
                word = self.end_word(word, at, &mut tokens);
                match code.take() {
                    Some(start) => tokens.push(Token::Code(start, &self.text[start + 1..at])),
                    None => code = Some(at),
                }
            } else if c == '\n' && previous == '\n' {
                code = None;
            } else if code.is_none() && is_word_char(c) {
                word.get_or_insert(at);
            } else {
                word = self.end_word(word, at, &mut tokens);
            }
            if c != ' ' && c != '\t' && c != '\r' {
                previous = c;
            }
        }
        self.end_word(word, range.end, &mut tokens);
        tokens
    }

    fn end_word(
        &self,
        start: Option<usize>,
        end: usize,
        tokens: &mut Vec<Token<'t>>,
    ) -> Option<usize> {
        if let Some(start) = start {
            let word = self.text[start..end].trim_end_matches('-');
            if !word.is_empty() {
                tokens.push(Token::Word(start, word));
            }
        }
        None
    }

    /// Keys named without a reference: a code span holding a key (`` `l` ``, `` `F7` ``),
    /// a key's name in prose (F7, Esc, Enter, Tab, PgUp, Ctrl-R), a letter the keymap binds
    /// set in bold or italics (`**r**`), or "press" and a key.
    pub(super) fn bare_keys(&self, range: Range<usize>, shown: Shown, flaws: &mut Vec<Flaw>) {
        let labels = names::all_labels();
        let bound_letter = |word: &str| {
            let mut chars = word.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
                && labels.iter().any(|label| label == word)
        };
        let emphasised = |at: usize, word: &str| {
            let before = self.text[..at].chars().next_back();
            let after = self.text[at + word.len()..].chars().next();
            [before, after].iter().all(|c| matches!(c, Some('*' | '_')))
        };
        let tokens = self.tokens(range);
        for (index, token) in tokens.iter().enumerate() {
            match token {
                Token::Code(at, code) => {
                    let code = code.trim();
                    if looks_like_a_key(code) || bound_letter(code) {
                        flaws.push(bare(*at, code, shown));
                    }
                }
                Token::Word(at, word) => {
                    if is_key_word(word) || bound_letter(word) && emphasised(*at, word) {
                        flaws.push(bare(*at, word, shown));
                    } else if is_press(word)
                        && let Some(Token::Word(next_at, next)) = tokens.get(index + 1)
                        && self.text[at + word.len()..*next_at].trim().is_empty()
                        && !is_key_word(next)
                        && (looks_like_a_key(next) || is_single_key(next))
                    {
                        flaws.push(bare(*next_at, next, shown));
                    }
                }
            }
        }
    }

    /// Words only the lab can act on, in text plain output prints: "press", "query log".
    pub(super) fn lab_words(&self, range: Range<usize>, flaws: &mut Vec<Flaw>) {
        let tokens = self.tokens(range);
        for (index, token) in tokens.iter().enumerate() {
            let Token::Word(at, word) = token else {
                continue;
            };
            let next = match tokens.get(index + 1) {
                Some(Token::Word(_, next)) => Some(*next),
                _ => None,
            };
            let what = if is_press(word) {
                if next.is_some_and(|n| looks_like_a_key(n) || is_single_key(n)) {
                    continue; // reported as a bare key already
                }
                format!("\"{word}\" asks for a key")
            } else if word.eq_ignore_ascii_case("query")
                && next.is_some_and(|n| n.eq_ignore_ascii_case("log"))
            {
                "the query log is a pane of the lab".to_string()
            } else {
                continue;
            };
            flaws.push(Flaw {
                at: *at,
                message: format!(
                    "{what}, and `pglab lessons run` prints this text too: put the words in \
                     {{lab:…|…}} with a plain-text form after the bar"
                ),
            });
        }
    }
}

fn bare(at: usize, key: &str, shown: Shown) -> Flaw {
    let names = names::names_with_label(key);
    let how = match names.as_slice() {
        _ if shown == Shown::AsWritten => "titles, summaries and diagrams are shown as written, \
                                           so say it without the key and name the key in the \
                                           step's text"
            .to_string(),
        [] => "the keymap binds no such key: say what to do without naming one".to_string(),
        [one] => format!("name it through the keymap, {{key:{one}}}, so it follows the keymap"),
        many => format!(
            "name it through the keymap, so it follows the keymap: one of {}",
            many.iter()
                .map(|name| format!("{{key:{name}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Flaw {
        at,
        message: format!("`{key}` names a key as bare text; {how}"),
    }
}

/// A key's name that reads as nothing else in prose; `Home`, `End`, `Space`, `Delete`,
/// `Insert` are words too and arrows draw "old → new", so those count only in a code span
/// or after "press".
fn is_key_word(word: &str) -> bool {
    looks_like_a_key(word)
        && !matches!(
            word,
            "Home" | "End" | "Space" | "Delete" | "Insert" | "←" | "↑" | "→" | "↓"
        )
}

fn is_press(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "press" | "presses" | "pressing"
    )
}

/// One character after "press" is a key, except the words `a` and `I`.
fn is_single_key(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if !matches!(c, 'a' | 'A' | 'I'))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || matches!(c, '←' | '↑' | '→' | '↓')
}
