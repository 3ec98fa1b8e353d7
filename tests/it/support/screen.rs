//! Drawing the lab into a test terminal and reading the screen back as text.

use pglab::app::App;
use pglab::ui::Viewports;
use pglab::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// `app` drawn afresh at `width` × `height`, as text, trailing spaces trimmed.
pub fn draw(app: &App, width: u16, height: u16) -> String {
    draw_with(app, &mut Viewports::default(), width, height)
}

/// `app` drawn at `width` × `height` with `viewports` kept from earlier frames, as the lab
/// draws after every key.
pub fn draw_with(app: &App, viewports: &mut Viewports, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| pglab::ui::render(app, viewports, &Theme::plain(), frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let line: String = (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `app` drawn afresh at `width` × `height` in `theme`, as cells.
pub fn cells(app: &App, theme: &Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| pglab::ui::render(app, &mut Viewports::default(), theme, frame))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The foreground colour of the first cell of the first place `text` is drawn in `buffer`.
pub fn colour_of(buffer: &ratatui::buffer::Buffer, text: &str) -> Option<ratatui::style::Color> {
    let wanted: Vec<String> = text.chars().map(String::from).collect();
    let area = buffer.area;
    for y in 0..area.height {
        let row: Vec<&str> = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(x) = row.windows(wanted.len()).position(|w| w == wanted) {
            return Some(buffer[(x as u16, y)].fg);
        }
    }
    None
}
