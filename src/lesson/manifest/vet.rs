//! Lesson text held to the rules of `lesson::text` as a lesson loads: each flaw reported at
//! its own file and line, a Markdown or diagram file's at the line in that file, a TOML
//! string's at its line in `lesson.toml`.

use std::ops::Range;
use std::path::Path;

use crate::lesson::catalog::Problem;
use crate::lesson::document::{Document, Table};
use crate::lesson::text::{Shown, check};

/// The string `value` of `what` (a key of `table`, at `span`).
pub(super) fn string(
    doc: &mut Document,
    table: &Table,
    what: &str,
    span: &Range<usize>,
    value: &str,
    shown: Shown,
) {
    for flaw in check(value, shown) {
        let message = format!("{}{what}: {}", table.prefix(), flaw.message);
        doc.in_string(span, value, flaw.at, message);
    }
}

/// The whole of a lesson file, `shown_file` as problems name it.
pub(super) fn file(doc: &mut Document, shown_file: &Path, text: &str, shown: Shown) {
    for flaw in check(text, shown) {
        let line = text.get(..flaw.at).unwrap_or(text).matches('\n').count() + 1;
        doc.elsewhere(Problem {
            file: shown_file.to_path_buf(),
            line: Some(line),
            message: flaw.message,
        });
    }
}
