//! The help overlay, generated from the keymap: every binding, grouped by where it works.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::keymap::{self, Context};

use super::theme::Theme;
use crate::scroll::{Scroll, Viewport};

/// The help text, one line per binding.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for context in [
        Context::Global,
        Context::LessonList,
        Context::Player,
        Context::Presenting,
        Context::Console,
        Context::Log,
        Context::Plan,
        Context::Audit,
        Context::AuditFilter,
        Context::Notes,
        Context::Help,
    ] {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(context.title(), theme.heading()));
        for binding in keymap::bindings().iter().filter(|b| b.context == context) {
            let keys: Vec<String> = binding.keys.iter().map(keymap::Key::label).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", keys.join(" ")), theme.key()),
                Span::raw(binding.help),
            ]));
        }
    }
    lines
}

pub fn render(
    frame: &mut Frame,
    area: Rect,
    scroll: &Scroll<()>,
    viewport: &mut Viewport,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(90);
    let height = area.height.saturating_sub(2);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Keys · ↑/↓ scroll · Esc closes ")
        .border_style(theme.border(true));
    let inner = crate::layout::inner(popup);
    let paragraph = Paragraph::new(lines(theme)).wrap(Wrap { trim: false });
    let offset = viewport.resolve(
        scroll,
        paragraph.line_count(inner.width),
        usize::from(inner.height),
        |()| None,
    );
    frame.render_widget(
        paragraph
            .block(block)
            .scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0)),
        popup,
    );
}
