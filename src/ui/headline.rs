//! The step's headline number in large type (presenting mode): the measured value drawn
//! with an 8×8 pixel font at the scale the layout chose, centred, and a line under it
//! saying what it is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use tui_big_text::{BigText, PixelSize};

use crate::data::demo::Headline;
use crate::layout::Scale;
use crate::text::clip;

use super::theme::Theme;

/// Draws `headline` into `band` (a blank row, the number, its label) at `scale`.
pub fn render(headline: &Headline, frame: &mut Frame, band: Rect, scale: Scale, theme: &Theme) {
    let [_, number, label] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(scale.cell().1),
        Constraint::Length(1),
    ])
    .areas(band);
    let pixels = match scale {
        Scale::Full => PixelSize::Full,
        Scale::HalfHeight => PixelSize::HalfHeight,
        Scale::Quadrant => PixelSize::Quadrant,
    };
    let big = BigText::builder()
        .pixel_size(pixels)
        .style(theme.headline())
        .lines(vec![Line::raw(headline.value.clone())])
        .centered()
        .build();
    frame.render_widget(big, number);
    let text = clip(&headline.label, usize::from(label.width));
    frame.render_widget(
        Paragraph::new(Line::styled(text, theme.strong()).centered()),
        label,
    );
}
