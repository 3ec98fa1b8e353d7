//! Word wrapping by display width, for every place pglab lays out text for a terminal: the
//! TUI's panes, the plain-text CLI output, and the plan renderer's sentences.

use unicode_width::UnicodeWidthStr;

/// `text` broken at spaces into lines of at most `width` display cells, every line after the
/// first starting with `indent` (a word longer than a line stays whole). Text that fits is
/// returned as it is, leading spaces included: code and tables keep their shape.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    if text.width() <= width {
        return vec![text.to_string()];
    }
    // Leading spaces are indentation, kept on the first line.
    let body = text.trim_start_matches(' ');
    let mut lines = Vec::new();
    let mut line = " ".repeat(text.len() - body.len());
    for word in body.split(' ') {
        let room = if lines.is_empty() {
            width
        } else {
            width.saturating_sub(indent.width())
        };
        let fresh = line.trim_start().is_empty();
        if !fresh && line.width() + 1 + word.width() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.trim_start().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
        .into_iter()
        .enumerate()
        .map(|(n, line)| {
            if n == 0 {
                line
            } else {
                format!("{indent}{line}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole_and_indents_what_follows() {
        assert_eq!(
            wrap("   Why: one two", 12, "   "),
            ["   Why: one", "   two"]
        );
        assert_eq!(wrap("short", 10, "  "), ["short"]);
        assert_eq!(
            wrap("one two three four", 9, ""),
            ["one two", "three", "four"]
        );
        assert_eq!(
            wrap("Why: one two three", 12, "   "),
            ["Why: one two", "   three"]
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5, ""),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn width_is_counted_in_cells() {
        assert_eq!(wrap("⇄ ab ⇄ cd", 6, ""), ["⇄ ab ⇄", "cd"]);
    }
}
