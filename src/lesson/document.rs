//! One TOML file being read into the lesson model: its text, where its lines start, and the
//! problems found so far. The getters record a problem (at the line of the offending key or
//! value) and return `None` instead of failing, so one pass reports everything wrong with a
//! file, which is what `pglab lessons check` needs.
//!
//! The parsed tree is `toml::de::DeTable`, not serde structs: serde stops at the first unknown
//! key and loses spans inside tagged enums, and we want every problem with its line.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::catalog::Problem;

/// A TOML file, its line index and the problems found in it.
pub(super) struct Document<'a> {
    file: PathBuf,
    text: &'a str,
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
}

impl<'a> Document<'a> {
    /// `file` is the path shown in problems.
    pub(super) fn new(file: &Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self {
            file: file.to_path_buf(),
            text,
            line_starts,
            problems: Vec::new(),
        }
    }

    /// Parses the text; on a syntax error records only the first one, because what the
    /// parser recovers after it is mostly noise caused by the first.
    pub(super) fn parse(&mut self) -> Option<Spanned<DeTable<'a>>> {
        let (table, errors) = DeTable::parse_recoverable(self.text);
        match errors.first() {
            None => Some(table),
            Some(error) => {
                let message = format!("TOML syntax: {}", error.message());
                match error.span() {
                    Some(span) => self.at(span, message),
                    None => self.whole_file(message),
                }
                None
            }
        }
    }

    /// The 1-based line holding the start of `span`.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts
            .partition_point(|&start| start <= span.start)
    }

    pub(super) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(&span);
        self.problems.push(Problem {
            file: self.file.clone(),
            line: Some(line),
            message: message.into(),
        });
    }

    /// Records a problem at the line of byte `offset` of `value`, the string the TOML value
    /// at `span` holds (a multi-line string starts on the line after its opening quotes).
    pub(super) fn in_string(
        &mut self,
        span: &Range<usize>,
        value: &str,
        offset: usize,
        message: impl Into<String>,
    ) {
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let opens_a_line = ["\"\"\"\n", "\"\"\"\r\n", "'''\n", "'''\r\n"]
            .iter()
            .any(|opening| raw.starts_with(opening));
        let inside = value.get(..offset).unwrap_or(value).matches('\n').count();
        self.problems.push(Problem {
            file: self.file.clone(),
            line: Some(self.line(span) + usize::from(opens_a_line) + inside),
            message: message.into(),
        });
    }

    /// Records a problem found in another file of the lesson (a Markdown or diagram file).
    pub(super) fn elsewhere(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub(super) fn whole_file(&mut self, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: None,
            message: message.into(),
        });
    }

    /// The problems, by file, then in line order (file-wide ones first).
    pub(super) fn into_problems(mut self) -> Vec<Problem> {
        self.problems
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        self.problems
    }
}

/// Strings from an array, each with its own span (so each can be blamed at its line).
pub(super) type SpannedStrings = Vec<(String, Range<usize>)>;

/// A value found under a key, with the spans of the key and of the value.
pub(super) struct Found<T> {
    pub(super) value: T,
    pub(super) key: Range<usize>,
    pub(super) span: Range<usize>,
}

/// One TOML table being read: its entries, the span to blame for missing keys (the `[[step]]`
/// header or the inline table) and the prefix that says where it is (`step 3: `).
pub(super) struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    /// `None` for the document itself: a missing top-level key is the whole file's problem.
    span: Option<Range<usize>>,
    prefix: String,
}

impl<'t, 'i> Table<'t, 'i> {
    pub(super) fn new(
        entries: &'t DeTable<'i>,
        span: Option<Range<usize>>,
        prefix: String,
    ) -> Self {
        Self {
            entries,
            span,
            prefix,
        }
    }

    /// Reads `value` as a table, or records that it is not one.
    pub(super) fn from_value(
        doc: &mut Document,
        value: &'t Spanned<DeValue<'i>>,
        prefix: String,
        what: &str,
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(entries) => Some(Self::new(entries, Some(value.span()), prefix)),
            other => {
                let message = format!("{prefix}{what} must be a table, not {}", article(other));
                doc.at(value.span(), message);
                None
            }
        }
    }

    /// Records a problem about the table as a whole (at its header, or file-wide).
    pub(super) fn complain(&self, doc: &mut Document, message: impl std::fmt::Display) {
        let message = format!("{}{message}", self.prefix);
        match &self.span {
            Some(span) => doc.at(span.clone(), message),
            None => doc.whole_file(message),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The keys present, with their spans, in source order.
    pub(super) fn keys(&self) -> Vec<(&'t str, Range<usize>)> {
        let mut keys: Vec<_> = self
            .entries
            .iter()
            .map(|(key, _)| (key.get_ref().as_ref(), key.span()))
            .collect();
        keys.sort_by_key(|(_, span)| span.start);
        keys
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The value under `key` as parsed, with the key's span.
    pub(super) fn raw(&self, key: &str) -> Option<(Range<usize>, &'t Spanned<DeValue<'i>>)> {
        self.entries
            .iter()
            .find(|(name, _)| name.get_ref() == key)
            .map(|(name, value)| (name.span(), value))
    }

    fn missing(&self, doc: &mut Document, key: &str, hint: &str) {
        self.complain(doc, format_args!("missing `{key}`{hint}"));
    }

    fn typed<T>(
        &self,
        doc: &mut Document,
        key: &str,
        need: Need,
        expected: &str,
        convert: impl Fn(&'t DeValue<'i>) -> Option<T>,
    ) -> Option<Found<T>> {
        let Some((key_span, value)) = self.raw(key) else {
            if let Need::Required(hint) = need {
                self.missing(doc, key, hint);
            }
            return None;
        };
        match convert(value.get_ref()) {
            Some(converted) => Some(Found {
                value: converted,
                key: key_span,
                span: value.span(),
            }),
            None => {
                let message = format!(
                    "{}`{key}` must be {expected}, not {}",
                    self.prefix,
                    article(value.get_ref())
                );
                doc.at(value.span(), message);
                None
            }
        }
    }

    /// A string that, when present, is not blank.
    pub(super) fn string(
        &self,
        doc: &mut Document,
        key: &str,
        need: Need,
    ) -> Option<Found<String>> {
        let found = self.typed(doc, key, need, "a string", |value| match value {
            DeValue::String(text) => Some(text.to_string()),
            _ => None,
        })?;
        if found.value.trim().is_empty() {
            doc.at(
                found.span.clone(),
                format!("{}`{key}` must not be empty", self.prefix),
            );
            return None;
        }
        Some(found)
    }

    pub(super) fn integer(&self, doc: &mut Document, key: &str, need: Need) -> Option<Found<i64>> {
        self.typed(doc, key, need, "an integer", |value| match value {
            DeValue::Integer(int) => i64::from_str_radix(int.as_str(), int.radix()).ok(),
            _ => None,
        })
    }

    pub(super) fn boolean(&self, doc: &mut Document, key: &str, need: Need) -> Option<Found<bool>> {
        self.typed(doc, key, need, "true or false", DeValue::as_bool)
    }

    pub(super) fn array(
        &self,
        doc: &mut Document,
        key: &str,
        need: Need,
    ) -> Option<Found<&'t DeArray<'i>>> {
        self.typed(doc, key, need, "an array", DeValue::as_array)
    }

    /// An array of non-blank strings; each bad element is reported at its own line.
    pub(super) fn strings(
        &self,
        doc: &mut Document,
        key: &str,
        need: Need,
    ) -> Option<Found<SpannedStrings>> {
        let found = self.array(doc, key, need)?;
        let mut strings = Vec::new();
        let mut all_good = true;
        for (index, item) in found.value.iter().enumerate() {
            match item.get_ref() {
                DeValue::String(text) if !text.trim().is_empty() => {
                    strings.push((text.to_string(), item.span()));
                }
                DeValue::String(_) => {
                    let message = format!("{}`{key}` item {} is empty", self.prefix, index + 1);
                    doc.at(item.span(), message);
                    all_good = false;
                }
                other => {
                    let message = format!(
                        "{}`{key}` item {} must be a string, not {}",
                        self.prefix,
                        index + 1,
                        article(other)
                    );
                    doc.at(item.span(), message);
                    all_good = false;
                }
            }
        }
        all_good.then_some(Found {
            value: strings,
            key: found.key,
            span: found.span,
        })
    }

    /// Reports every key not in `allowed`, with the message `explain` gives for it.
    pub(super) fn reject_unknown(
        &self,
        doc: &mut Document,
        allowed: &[&str],
        explain: impl Fn(&str) -> String,
    ) {
        for (key, span) in self.keys() {
            if !allowed.contains(&key) {
                doc.at(span, format!("{}{}", self.prefix, explain(key)));
            }
        }
    }
}

/// Whether a key must be present; a required key carries a hint for the message when missing.
#[derive(Clone, Copy)]
pub(super) enum Need {
    Optional,
    Required(&'static str),
}

/// `unknown key `x`; ...` with a suggestion when `x` is a likely misspelling of an allowed key.
pub(super) fn unknown_key(key: &str, what: &str, allowed: &[&str]) -> String {
    let suggestion = allowed
        .iter()
        .map(|candidate| (edit_distance(key, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default();
    format!(
        "unknown key `{key}`{suggestion}; {what} takes: {}",
        allowed.join(", ")
    )
}

/// Levenshtein distance, for "did you mean"; the keys are a few ASCII characters long.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}

/// "a string", "an integer": the value's type for messages.
pub(super) fn article(value: &DeValue) -> String {
    with_article(value.type_str())
}

/// "a read step", "an exercise step".
pub(super) fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counts_from_one() {
        let doc = Document::new(Path::new("x.toml"), "a = 1\nb = 2\n\nc = 3");
        assert_eq!(doc.line(&(0..1)), 1);
        assert_eq!(doc.line(&(5..6)), 1);
        assert_eq!(doc.line(&(6..7)), 2);
        assert_eq!(doc.line(&(13..14)), 4);
    }

    #[test]
    fn edit_distance_finds_near_misses() {
        assert_eq!(edit_distance("hint", "hints"), 1);
        assert_eq!(edit_distance("soluton", "solution"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kind", "kind"), 0);
        assert!(edit_distance("sql", "summary") > 2);
    }

    #[test]
    fn syntax_error_reports_first_only_with_its_line() {
        let mut doc = Document::new(Path::new("x.toml"), "a = 1\nb = [1,\nc = \"x\n");
        assert!(doc.parse().is_none());
        let problems = doc.into_problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
    }
}
