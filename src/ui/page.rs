//! The text of a scrolling pane, laid out for its width: prose is word-wrapped (list items
//! and quotes keep their indentation on every line), pre-formatted lines — diagrams, SQL,
//! result tables, demo output — are never wrapped: they keep their shape and scroll
//! sideways together when they are wider than the pane. Marks name line ranges ("the
//! layer just revealed") that a scroll intent can bring into view.

use std::ops::Range;

use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::app::Action;
use crate::keymap::{Context, key_for};
use crate::scroll::Viewport;

use super::theme::Theme;

/// What a pane showing a [`Page`] keeps between frames: how far it is scrolled down and
/// sideways.
#[derive(Debug, Default)]
pub struct PageViewport {
    pub lines: Viewport,
    pub columns: Viewport,
}

/// Which sides of a pane showing a laid-out page have more beyond them.
pub struct Cut {
    above: bool,
    below: bool,
    left: bool,
    right: bool,
}

impl Cut {
    /// The sides cut off when `laid` is shown from line `offset` and column `column` in a
    /// pane of `width` × `height` cells.
    pub fn of<M>(
        laid: &Laid<M>,
        offset: usize,
        column: usize,
        width: usize,
        height: usize,
    ) -> Self {
        Self {
            above: offset > 0,
            below: offset + height < laid.lines.len(),
            left: column > 0,
            right: column + width < laid.widest,
        }
    }

    /// For the pane's bottom border: `↑ more above (↑) · ↓ more below (↓) · ⇆ wider (…)`,
    /// only the parts that hold, with the keys that scroll there in `context`.
    pub fn line(&self, context: Context, theme: &Theme) -> Line<'static> {
        let key = |action: &Action| key_for(context, action);
        let keys = [Action::Up, Action::Down, Action::Left, Action::Right].map(|a| key(&a));
        self.line_with(&keys, theme)
    }

    /// [`Cut::line`] with the keys that scroll up, down, left and right written out.
    pub fn line_with(&self, [up, down, left, right]: &[String; 4], theme: &Theme) -> Line<'static> {
        let mut parts = Vec::new();
        if self.above {
            parts.push(format!("↑ more above ({up})"));
        }
        if self.below {
            parts.push(format!("↓ more below ({down})"));
        }
        if self.left || self.right {
            let arrows = match (self.left, self.right) {
                (true, true) => "⇆",
                (true, false) => "←",
                _ => "→",
            };
            parts.push(format!("{arrows} wider ({left}/{right})"));
        }
        if parts.is_empty() {
            return Line::default();
        }
        Line::styled(format!(" {} ", parts.join(" · ")), theme.warning()).right_aligned()
    }
}

/// A pane's text before layout: each line prose or pre-formatted, and the marks.
#[derive(Debug)]
pub struct Page<M> {
    lines: Vec<(Line<'static>, bool)>,
    marks: Vec<(M, Range<usize>)>,
}

impl<M> Default for Page<M> {
    fn default() -> Self {
        Self {
            lines: Vec::new(),
            marks: Vec::new(),
        }
    }
}

/// A page laid out for one width.
#[derive(Debug)]
pub struct Laid<M> {
    /// Each line, and whether it is pre-formatted (scrolls sideways).
    pub lines: Vec<(Line<'static>, bool)>,
    /// The marks, as ranges of laid-out lines.
    pub marks: Vec<(M, Range<usize>)>,
    /// The widest pre-formatted line: how far the page scrolls sideways.
    pub widest: usize,
}

impl<M: Copy + PartialEq> Page<M> {
    /// A line of prose, wrapped to the pane.
    pub fn prose(&mut self, line: Line<'static>) {
        self.lines.push((line, false));
    }

    /// A pre-formatted line, kept whole.
    pub fn pre(&mut self, line: Line<'static>) {
        self.lines.push((line, true));
    }

    pub fn prose_lines(&mut self, lines: impl IntoIterator<Item = Line<'static>>) {
        lines.into_iter().for_each(|line| self.prose(line));
    }

    pub fn pre_lines(&mut self, lines: impl IntoIterator<Item = Line<'static>>) {
        lines.into_iter().for_each(|line| self.pre(line));
    }

    /// Lines so far, before wrapping.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn blank(&mut self) {
        self.prose(Line::default());
    }

    /// Adds `add`'s lines under `mark`.
    pub fn marked(&mut self, mark: M, add: impl FnOnce(&mut Self)) {
        let start = self.lines.len();
        add(self);
        self.marks.push((mark, start..self.lines.len()));
    }

    /// Every line's text, unwrapped, for plain-text output (which leaves wrapping prose to
    /// its own printer and prints pre-formatted lines whole); `true` marks pre-formatted.
    pub fn into_lines(self) -> Vec<(Line<'static>, bool)> {
        self.lines
    }

    /// The page laid out `width` cells wide.
    pub fn lay_out(&self, width: usize) -> Laid<M> {
        let mut lines = Vec::new();
        let mut starts = Vec::with_capacity(self.lines.len() + 1);
        let mut widest = 0;
        for (line, pre) in &self.lines {
            starts.push(lines.len());
            if *pre {
                widest = widest.max(line.width());
                lines.push((line.clone(), true));
            } else {
                lines.extend(wrap(line, width).into_iter().map(|l| (l, false)));
            }
        }
        starts.push(lines.len());
        let marks = self
            .marks
            .iter()
            .map(|(mark, range)| (*mark, starts[range.start]..starts[range.end]))
            .collect();
        Laid {
            lines,
            marks,
            widest,
        }
    }
}

impl<M: Copy + PartialEq> Laid<M> {
    /// The lines of `mark`, if the page has it.
    pub fn find(&self, mark: M) -> Option<Range<usize>> {
        self.marks
            .iter()
            .rev()
            .find(|(m, _)| *m == mark)
            .map(|(_, range)| range.clone())
    }

    /// The `height` lines from `offset`, pre-formatted ones shifted `column` cells left.
    pub fn window(&self, offset: usize, height: usize, column: usize) -> Vec<Line<'static>> {
        self.lines
            .iter()
            .skip(offset)
            .take(height)
            .map(|(line, pre)| {
                if *pre && column > 0 {
                    shift(line, column)
                } else {
                    line.clone()
                }
            })
            .collect()
    }
}

/// `line` without its first `cells` display cells (a wide character cut in half becomes a
/// space, so the columns after it stay aligned).
pub fn shift(line: &Line<'static>, cells: usize) -> Line<'static> {
    let mut skip = cells;
    let mut spans = Vec::new();
    for span in &line.spans {
        if skip == 0 {
            spans.push(span.clone());
            continue;
        }
        let mut kept = String::new();
        for ch in span.content.chars() {
            let w = ch.width().unwrap_or(0);
            if skip == 0 {
                kept.push(ch);
            } else if w > skip {
                kept.push_str(&" ".repeat(w - skip));
                skip = 0;
            } else {
                skip -= w;
            }
        }
        if !kept.is_empty() {
            spans.push(Span::styled(kept, span.style));
        }
    }
    Line::from(spans).style(line.style)
}

/// The indentation every wrapped line of `text` repeats: leading spaces, quote bars, and
/// the width of a list marker (`• `, `12. `) as spaces.
fn hanging_indent(text: &str) -> String {
    let mut indent = String::new();
    let mut rest = text;
    loop {
        if let Some(after) = rest.strip_prefix("│ ") {
            indent.push_str("│ ");
            rest = after;
        } else if let Some(after) = rest.strip_prefix(' ') {
            indent.push(' ');
            rest = after;
        } else {
            break;
        }
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let marker = if rest.starts_with("• ") {
        2
    } else if digits > 0 && rest[digits..].starts_with(". ") {
        digits + 2
    } else {
        0
    };
    indent.push_str(&" ".repeat(marker));
    indent
}

/// `line` word-wrapped to `width` cells, styles kept; words longer than a line are cut.
pub fn wrap(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width {
        return vec![line.clone()];
    }
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let indent = hanging_indent(&text);
    let indent = if indent.width() * 2 > width {
        String::new()
    } else {
        indent
    };
    let width = width.max(1);
    // Words (with the spaces before them) in their span's style.
    let mut words: Vec<Vec<Span<'static>>> = Vec::new();
    let mut gap = false;
    for span in &line.spans {
        for piece in span.content.split_inclusive(' ') {
            let starts_word = gap || words.is_empty();
            gap = piece.ends_with(' ');
            let piece = Span::styled(piece.to_string(), span.style);
            match words.last_mut() {
                Some(word) if !starts_word => word.push(piece),
                _ => words.push(vec![piece]),
            }
        }
    }
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for word in words {
        let word_width: usize = word.iter().map(|s| s.content.width()).sum();
        let trailing = word.last().map_or(0, |s| {
            s.content.len() - s.content.trim_end_matches(' ').len()
        });
        if used > 0 && used + word_width - trailing > width {
            out.push(finish(std::mem::take(&mut current)));
            start_line(&mut current, &indent);
            used = indent.width();
        }
        for span in word {
            let content = if used == indent.width() && !out.is_empty() {
                span.content.trim_start_matches(' ').to_string()
            } else {
                span.content.to_string()
            };
            for ch in content.chars() {
                let w = ch.width().unwrap_or(0);
                if used + w > width && used > indent.width() && ch != ' ' {
                    out.push(finish(std::mem::take(&mut current)));
                    start_line(&mut current, &indent);
                    used = indent.width();
                }
                push_char(&mut current, ch, span.style);
                used += w;
            }
        }
    }
    out.push(finish(current));
    out.into_iter().map(|l| l.style(line.style)).collect()
}

/// A continuation line begins with the hanging indent, if there is one.
fn start_line(spans: &mut Vec<Span<'static>>, indent: &str) {
    if !indent.is_empty() {
        spans.push(Span::raw(indent.to_string()));
    }
}

fn push_char(spans: &mut Vec<Span<'static>>, ch: char, style: ratatui::style::Style) {
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push(ch),
        _ => spans.push(Span::styled(ch.to_string(), style)),
    }
}

/// A wrapped line without the spaces that ended it.
fn finish(mut spans: Vec<Span<'static>>) -> Line<'static> {
    while let Some(last) = spans.last_mut() {
        let trimmed = last.content.trim_end_matches(' ').to_string();
        if trimmed.is_empty() {
            spans.pop();
        } else {
            last.content = trimmed.into();
            break;
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Style, Stylize};

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn prose_wraps_at_spaces_and_keeps_its_styles() {
        let line = Line::from(vec![
            Span::raw("one two "),
            "three".bold(),
            Span::raw(" four"),
        ]);
        let wrapped = wrap(&line, 9);
        assert_eq!(text(&wrapped), ["one two", "three", "four"]);
        assert_eq!(wrapped[1].spans[0].style, Style::new().bold());
        for width in 1..20 {
            for l in wrap(&line, width) {
                assert!(l.width() <= width, "{width}: {l:?}");
            }
        }
    }

    #[test]
    fn list_items_and_quotes_hang_under_their_text() {
        let item = Line::raw("• first second third");
        assert_eq!(text(&wrap(&item, 14)), ["• first second", "  third"]);
        let numbered = Line::raw("12. alpha beta gamma");
        assert_eq!(text(&wrap(&numbered, 14)), ["12. alpha beta", "    gamma"]);
        let quote = Line::raw("│ said it once");
        assert_eq!(text(&wrap(&quote, 9)), ["│ said it", "│ once"]);
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut() {
        assert_eq!(
            text(&wrap(&Line::raw("abcdefgh ij"), 3)),
            ["abc", "def", "gh", "ij"]
        );
    }

    #[test]
    fn pre_formatted_lines_are_never_wrapped_and_set_the_sideways_scroll() {
        let mut page = Page::default();
        page.prose(Line::raw("a b c d e f"));
        page.marked(1, |page| page.pre(Line::raw("┌──────────┐")));
        let laid = page.lay_out(4);
        assert_eq!(laid.lines.len(), 4, "three prose lines, one diagram line");
        assert_eq!(laid.find(1), Some(3..4));
        assert_eq!(laid.widest, 12);
        let shifted = laid.window(3, 1, 2);
        assert_eq!(text(&shifted), ["─────────┐"]);
        assert_eq!(text(&laid.window(0, 1, 2)), ["a b"], "prose does not move");
    }

    #[test]
    fn shifting_through_a_wide_character_keeps_columns() {
        assert_eq!(text(&[shift(&Line::raw("表x"), 1)]), [" x"]);
    }
}
