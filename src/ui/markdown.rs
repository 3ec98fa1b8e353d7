//! Lesson prose: Markdown turned into styled lines. Headings, paragraphs, emphasis, inline
//! code, code blocks, lists and quotes — what lessons use; anything else is shown as its
//! text. Prose is left to the page to wrap; code blocks are pre-formatted and never wrap.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::page::Page;
use super::theme::Theme;

/// The lines of `markdown`, styled with `theme`, added to `page`.
pub fn render_into<M: Copy + PartialEq>(page: &mut Page<M>, markdown: &str, theme: &Theme) {
    let mut out = Renderer::new(*theme);
    for event in Parser::new(markdown) {
        out.event(event);
    }
    out.flush();
    while out.lines.last().is_some_and(|(l, _)| l.spans.is_empty()) {
        out.lines.pop();
    }
    for (line, pre) in out.lines {
        if pre {
            page.pre(line);
        } else {
            page.prose(line);
        }
    }
}

struct Renderer {
    theme: Theme,
    /// Each line, and whether it is pre-formatted (a code block's).
    lines: Vec<(Line<'static>, bool)>,
    current: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// Open lists: the next number for ordered ones.
    lists: Vec<Option<u64>>,
    quote: usize,
    in_code_block: bool,
}

impl Renderer {
    fn new(theme: Theme) -> Self {
        Self {
            theme,
            lines: Vec::new(),
            current: Vec::new(),
            styles: vec![Style::new()],
            lists: Vec::new(),
            quote: 0,
            in_code_block: false,
        }
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, style: Style) {
        let combined = self.style().patch(style);
        self.styles.push(combined);
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            let mut spans = Vec::new();
            if self.quote > 0 {
                spans.push(Span::styled("│ ".repeat(self.quote), self.theme.dim()));
            }
            spans.append(&mut self.current);
            self.lines.push((Line::from(spans), self.in_code_block));
        }
    }

    fn blank(&mut self) {
        self.flush();
        if self.lines.last().is_some_and(|(l, _)| !l.spans.is_empty()) {
            self.lines.push((Line::default(), false));
        }
    }

    fn text(&mut self, text: &str) {
        let style = self.style();
        self.current.push(Span::styled(text.to_string(), style));
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_code_block => {
                for line in text.lines() {
                    self.current
                        .push(Span::styled(format!("    {line}"), self.theme.code()));
                    self.flush();
                }
            }
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                let style = self.style().patch(self.theme.code());
                self.current.push(Span::styled(code.to_string(), style));
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.blank();
                self.lines
                    .push((Line::styled("─".repeat(40), self.theme.dim()), false));
            }
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
            Event::InlineMath(math) | Event::DisplayMath(math) => self.text(&math),
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.blank();
                let style = match level {
                    HeadingLevel::H1 => self.theme.heading().add_modifier(Modifier::UNDERLINED),
                    _ => self.theme.heading(),
                };
                self.push_style(style);
            }
            Tag::BlockQuote(_) => {
                self.blank();
                self.quote += 1;
            }
            Tag::CodeBlock(kind) => {
                self.blank();
                self.in_code_block = true;
                if let CodeBlockKind::Fenced(_) = kind {}
            }
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.blank();
                } else {
                    self.flush();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                self.current.push(Span::raw("  ".repeat(depth) + &marker));
            }
            Tag::Emphasis => self.push_style(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { .. } => self.push_style(Style::new().add_modifier(Modifier::UNDERLINED)),
            _ => self.push_style(Style::new()),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.blank(),
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.blank();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
                self.blank();
            }
            TagEnd::CodeBlock => {
                self.in_code_block = false;
                self.blank();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank();
                }
            }
            TagEnd::Item => self.flush(),
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                self.styles.pop();
            }
            _ => {
                if self.styles.len() > 1 {
                    self.styles.pop();
                }
            }
        }
    }
}

/// The text of `lines`, one string per line, for plain-text output.
pub fn plain(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|line| line.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(markdown: &str) -> Vec<String> {
        let mut page = Page::<()>::default();
        render_into(&mut page, markdown, &Theme::plain());
        let lines: Vec<Line> = page.into_lines().into_iter().map(|(l, _)| l).collect();
        plain(&lines)
    }

    #[test]
    fn code_blocks_are_pre_formatted_and_prose_is_not() {
        let mut page = Page::<()>::default();
        render_into(
            &mut page,
            "Words here.\n\n```\nselect 1;\n```\n",
            &Theme::plain(),
        );
        let kinds: Vec<bool> = page.into_lines().into_iter().map(|(_, pre)| pre).collect();
        assert_eq!(kinds, [false, false, true]);
    }

    #[test]
    fn paragraphs_lists_and_code_keep_their_shape() {
        let lines = text_of(
            "# Title\n\nOne *two* `three`\nfour.\n\n- a\n- b\n\n1. x\n2. y\n\n```sql\nselect 1;\n```\n\n> quoted\n",
        );
        assert_eq!(
            lines,
            [
                "Title",
                "",
                "One two three four.",
                "",
                "• a",
                "• b",
                "",
                "1. x",
                "2. y",
                "",
                "    select 1;",
                "",
                "│ quoted",
            ]
        );
    }

    #[test]
    fn nested_lists_indent() {
        assert_eq!(text_of("- a\n  - b\n- c"), ["• a", "  • b", "• c"]);
    }
}
