//! Every style the lab draws with, in one place, and the themes that colour them: dark (the
//! default), light (projectors with a white background) and high-contrast. Each theme is a
//! palette of explicit RGB colours, background included, which the lab paints under every
//! cell: a light theme cannot count on the terminal's own background, and a named ANSI
//! colour is whatever the terminal makes of it (its "dark grey" washes out on a projector).
//! The tests hold every style to WCAG contrast ratios against its background.
//!
//! Meaning never rests on colour alone: the views pair each colour with a symbol or a word
//! (✓, ✗, ⚠, ◐, "error"), so a projector, a colour-blind learner or `NO_COLOR` loses nothing.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

/// The themes `--theme` and `PGLAB_THEME` offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThemeName {
    /// Light text on a near-black background.
    Dark,
    /// Dark text on white, for projectors.
    Light,
    /// White and saturated colours on black.
    HighContrast,
}

/// One theme's colours, each an sRGB triple.
#[derive(Debug)]
struct Palette {
    background: (u8, u8, u8),
    text: (u8, u8, u8),
    dim: (u8, u8, u8),
    title: (u8, u8, u8),
    code: (u8, u8, u8),
    key: (u8, u8, u8),
    good: (u8, u8, u8),
    bad: (u8, u8, u8),
    warning: (u8, u8, u8),
    border: (u8, u8, u8),
    meter: (u8, u8, u8),
    tenants: [(u8, u8, u8); 5],
    /// One colour per table (see [`LAB_TABLES`]): hues the tenants' rows do not use where
    /// the theme allows, since a table's colour marks its frame and a tenant's its rows.
    tables: [(u8, u8, u8); TABLE_COLOURS],
}

/// Colours in each theme's table palette.
const TABLE_COLOURS: usize = 6;

/// The lab's own tables in the order the chapter meets them: each takes the table palette's
/// colour at its position, so the three of the tenancy diagram never share one. Any other
/// table takes the colour its name's hash picks: the same on every run and in every view.
const LAB_TABLES: [&str; TABLE_COLOURS] = [
    "organizations",
    "users",
    "posts",
    "audit_logs",
    "users_archive",
    "posts_archive",
];

const DARK: Palette = Palette {
    background: (0x12, 0x12, 0x12),
    text: (0xe6, 0xe6, 0xe6),
    dim: (0xb4, 0xb4, 0xb4),
    title: (0x5f, 0xd7, 0xff),
    code: (0x8f, 0xb4, 0xff),
    key: (0xff, 0xd7, 0x5f),
    good: (0x5f, 0xd7, 0x5f),
    bad: (0xff, 0x70, 0x70),
    warning: (0xff, 0xd7, 0x5f),
    border: (0x8a, 0x8a, 0x8a),
    meter: (0xd7, 0xaf, 0xff),
    tenants: [
        (0x5f, 0xd7, 0x5f),
        (0xff, 0x87, 0xd7),
        (0x8f, 0xb4, 0xff),
        (0xff, 0xd7, 0x5f),
        (0x5f, 0xd7, 0xff),
    ],
    // Orange, violet, sand, sea green; the archives a lighter cousin of their table.
    tables: [
        (0xff, 0xaf, 0x5f),
        (0xaf, 0x87, 0xff),
        (0xd7, 0xaf, 0x87),
        (0x5f, 0xd7, 0xaf),
        (0xaf, 0xaf, 0xff),
        (0xff, 0xd7, 0xaf),
    ],
};

const LIGHT: Palette = Palette {
    background: (0xff, 0xff, 0xff),
    text: (0x1a, 0x1a, 0x1a),
    dim: (0x4a, 0x4a, 0x4a),
    title: (0x00, 0x4a, 0x80),
    code: (0x1a, 0x3f, 0x9a),
    key: (0x6e, 0x40, 0x00),
    good: (0x00, 0x66, 0x1f),
    bad: (0xb0, 0x00, 0x20),
    warning: (0x85, 0x4d, 0x00),
    border: (0x6a, 0x6a, 0x6a),
    meter: (0x6a, 0x1b, 0x9a),
    tenants: [
        (0x00, 0x66, 0x1f),
        (0x9a, 0x0f, 0x6a),
        (0x1a, 0x3f, 0x9a),
        (0x6e, 0x40, 0x00),
        (0x00, 0x5c, 0x66),
    ],
    // Orange, violet, olive, sea green; the archives a cousin of their table.
    tables: [
        (0xa3, 0x47, 0x00),
        (0x5b, 0x2c, 0xa0),
        (0x5f, 0x6a, 0x00),
        (0x00, 0x69, 0x4a),
        (0x7a, 0x3f, 0x8a),
        (0x6a, 0x6a, 0x10),
    ],
};

const HIGH_CONTRAST: Palette = Palette {
    background: (0x00, 0x00, 0x00),
    text: (0xff, 0xff, 0xff),
    dim: (0xe0, 0xe0, 0xe0),
    title: (0x00, 0xff, 0xff),
    code: (0xaa, 0xd4, 0xff),
    key: (0xff, 0xff, 0x00),
    good: (0x00, 0xff, 0x00),
    bad: (0xff, 0x70, 0x70),
    warning: (0xff, 0xff, 0x00),
    border: (0xff, 0xff, 0xff),
    meter: (0xff, 0x90, 0xff),
    tenants: [
        (0x00, 0xff, 0x00),
        (0xff, 0x90, 0xff),
        (0xaa, 0xd4, 0xff),
        (0xff, 0xff, 0x00),
        (0x00, 0xff, 0xff),
    ],
    tables: [
        (0xff, 0xaf, 0x00),
        (0xc8, 0xa0, 0xff),
        (0xe0, 0xb0, 0x80),
        (0x40, 0xf0, 0xb0),
        (0xb0, 0xb0, 0xff),
        (0xff, 0xe0, 0xb0),
    ],
};

fn rgb((r, g, b): (u8, u8, u8)) -> Color {
    Color::Rgb(r, g, b)
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// None: no colour at all (`NO_COLOR`, plain-text output).
    palette: Option<&'static Palette>,
}

impl Theme {
    /// The theme asked for by `--theme` or `PGLAB_THEME`. Without one, the dark theme,
    /// or no colour when `NO_COLOR` is set (<https://no-color.org>, which also asks that
    /// an explicit choice override it).
    pub fn choose(name: Option<ThemeName>) -> Self {
        match name {
            Some(name) => Self::named(name),
            None if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => Self::plain(),
            None => Self::named(ThemeName::Dark),
        }
    }

    pub fn named(name: ThemeName) -> Self {
        let palette = match name {
            ThemeName::Dark => &DARK,
            ThemeName::Light => &LIGHT,
            ThemeName::HighContrast => &HIGH_CONTRAST,
        };
        Self {
            palette: Some(palette),
        }
    }

    /// No colour at all: for plain-text output.
    pub fn plain() -> Self {
        Self { palette: None }
    }

    /// Gives every cell the theme's background, and its text colour where a view left the
    /// foreground to the terminal. Called once the views have drawn a frame.
    pub fn paint(&self, buffer: &mut Buffer) {
        let Some(palette) = self.palette else {
            return;
        };
        for cell in &mut buffer.content {
            if cell.bg == Color::Reset {
                cell.bg = rgb(palette.background);
            }
            if cell.fg == Color::Reset {
                cell.fg = rgb(palette.text);
            }
        }
    }

    fn fg(&self, colour: fn(&Palette) -> (u8, u8, u8)) -> Style {
        match self.palette {
            Some(palette) => Style::new().fg(rgb(colour(palette))),
            None => Style::new(),
        }
    }

    pub fn text(&self) -> Style {
        self.fg(|p| p.text)
    }
    /// Secondary text: still meant to be read, so as legible as body text.
    pub fn dim(&self) -> Style {
        self.fg(|p| p.dim)
    }
    pub fn title(&self) -> Style {
        self.fg(|p| p.title).add_modifier(Modifier::BOLD)
    }
    pub fn heading(&self) -> Style {
        self.fg(|p| p.title).add_modifier(Modifier::BOLD)
    }
    pub fn code(&self) -> Style {
        self.fg(|p| p.code)
    }
    pub fn key(&self) -> Style {
        self.fg(|p| p.key).add_modifier(Modifier::BOLD)
    }
    pub fn good(&self) -> Style {
        self.fg(|p| p.good).add_modifier(Modifier::BOLD)
    }
    pub fn bad(&self) -> Style {
        self.fg(|p| p.bad).add_modifier(Modifier::BOLD)
    }
    pub fn warning(&self) -> Style {
        self.fg(|p| p.warning)
    }
    pub fn selected(&self) -> Style {
        self.text().add_modifier(Modifier::REVERSED)
    }
    /// A pane's border: bright where the keyboard is.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(|p| p.title)
        } else {
            self.fg(|p| p.border)
        }
    }
    /// Bold whether or not there is colour: the one line to read first.
    pub fn strong(&self) -> Style {
        self.text().add_modifier(Modifier::BOLD)
    }
    /// An exclusive-time bar by its share of the runtime: red from half, yellow from a
    /// fifth. The bar's length and the "%" beside it say the same without colour.
    pub fn share(&self, share: f64) -> Style {
        match share {
            s if s >= 0.5 => self.bad(),
            s if s >= 0.2 => self.warning(),
            _ => self.fg(|p| p.title),
        }
    }
    /// A tenant's rows: one colour per organization, taken in turn. The organization's id
    /// is on every row too, so the colour only helps tell tenants apart at a glance.
    pub fn tenant(&self, organization_id: Option<i64>) -> Style {
        match (organization_id, self.palette) {
            // Organization 1 takes the first colour; any id, even i64::MIN, picks one.
            (Some(id), Some(palette)) => {
                let count = palette.tenants.len() as i64;
                Style::new().fg(rgb(
                    palette.tenants[id.wrapping_sub(1).rem_euclid(count) as usize]
                ))
            }
            _ => self.text(),
        }
    }
    pub fn meter(&self) -> Style {
        self.fg(|p| p.meter).add_modifier(Modifier::BOLD)
    }
    /// A table's own colour, as an instructor draws each table in a marker of its own: its
    /// box's frame and title, and every foreign-key arrow that points at it. Its name is
    /// written beside every use, so the colour only helps the eye follow an arrow.
    pub fn table(&self, name: &str) -> Style {
        let slot = LAB_TABLES
            .iter()
            .position(|t| *t == name)
            .unwrap_or_else(|| {
                (crate::hash::fnv1a_64(name.as_bytes()) % TABLE_COLOURS as u64) as usize
            });
        self.table_colour(slot)
    }
    fn table_colour(&self, slot: usize) -> Style {
        match self.palette {
            Some(palette) => Style::new().fg(rgb(palette.tables[slot % TABLE_COLOURS])),
            None => self.text(),
        }
    }

    /// The headline number in large type (presenting mode): the meter's colour, held to
    /// the body text's ratio since the back row must read it.
    pub fn headline(&self) -> Style {
        self.meter()
    }
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(colour: Color) -> Option<f64> {
    let Color::Rgb(r, g, b) = colour else {
        return None;
    };
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b))
}

/// WCAG 2 contrast ratio, (L1 + 0.05) / (L2 + 0.05) with L1 the lighter; None unless
/// both are explicit RGB colours (a named colour is whatever the terminal makes of it).
pub fn contrast(a: Color, b: Color) -> Option<f64> {
    let (a, b) = (luminance(a)?, luminance(b)?);
    Some((a.max(b) + 0.05) / (a.min(b) + 0.05))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every style function with the ratio its text must reach: 7:1 (WCAG AAA) for what
    /// anyone reads as text, 4.5:1 (AA) for warnings and the other coloured marks, 3:1
    /// (WCAG's minimum for interface parts) for a border nobody reads.
    fn styles(theme: &Theme) -> Vec<(&'static str, Style, f64)> {
        let mut styles = vec![
            ("text", theme.text(), 7.0),
            ("dim", theme.dim(), 7.0),
            ("strong", theme.strong(), 7.0),
            ("selected", theme.selected(), 7.0),
            ("title", theme.title(), 4.5),
            ("heading", theme.heading(), 4.5),
            ("code", theme.code(), 4.5),
            ("key", theme.key(), 4.5),
            ("good", theme.good(), 4.5),
            ("bad", theme.bad(), 4.5),
            ("warning", theme.warning(), 4.5),
            ("meter", theme.meter(), 4.5),
            ("headline", theme.headline(), 7.0),
            ("border", theme.border(true), 3.0),
            ("border", theme.border(false), 3.0),
            ("share", theme.share(0.6), 4.5),
            ("share", theme.share(0.3), 4.5),
            ("share", theme.share(0.1), 4.5),
            ("tenant", theme.tenant(None), 4.5),
        ];
        for id in 1..=5 {
            styles.push(("tenant", theme.tenant(Some(id)), 4.5));
        }
        styles.push(("table", theme.table("a table of the learner's"), 4.5));
        for slot in 0..TABLE_COLOURS {
            styles.push(("table", theme.table_colour(slot), 4.5));
        }
        styles
    }

    #[test]
    fn the_wcag_formula_gives_its_known_ratios() {
        let black = Color::Rgb(0, 0, 0);
        let white = Color::Rgb(255, 255, 255);
        let ratio = |a, b| contrast(a, b).expect("RGB colours");
        assert!((ratio(black, white) - 21.0).abs() < 1e-9);
        assert!((ratio(white, white) - 1.0).abs() < 1e-9);
        assert_eq!(contrast(Color::DarkGray, white), None);
        // #767676 on white is the well-known lightest grey to pass 4.5:1 (4.54).
        let grey = ratio(Color::Rgb(0x76, 0x76, 0x76), white);
        assert!((4.5..4.6).contains(&grey), "{grey}");
    }

    #[test]
    fn every_style_of_every_theme_reaches_its_contrast_ratio() {
        let mut failures = Vec::new();
        for &name in <ThemeName as clap::ValueEnum>::value_variants() {
            let theme = Theme::named(name);
            let mut buffer = Buffer::empty(ratatui::layout::Rect::new(0, 0, 1, 1));
            theme.paint(&mut buffer);
            let background = buffer.content[0].bg;
            for (style, drawn, minimum) in styles(&theme) {
                let fg = drawn.fg.expect("every style sets its colour");
                let ratio = contrast(fg, drawn.bg.unwrap_or(background))
                    .unwrap_or_else(|| panic!("{name:?} {style} is not an RGB colour"));
                if ratio < minimum {
                    failures.push(format!("{name:?} {style}: {ratio:.2} < {minimum}"));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn every_style_function_is_held_to_a_ratio() {
        // A style added to Theme without a line in `styles` above fails here.
        let source = include_str!("theme.rs");
        let tested: Vec<_> = styles(&Theme::named(ThemeName::Dark))
            .into_iter()
            .map(|(name, ..)| name)
            .collect();
        let mut found = 0;
        for line in source.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("pub fn ") else {
                continue;
            };
            if !line.ends_with("-> Style {") {
                continue;
            }
            let name = rest.split('(').next().unwrap_or_default();
            assert!(tested.contains(&name), "style {name} has no contrast check");
            found += 1;
        }
        assert!(found >= 15, "found only {found} style functions");
    }

    #[test]
    fn a_table_keeps_its_colour_and_the_lab_tables_each_have_their_own() {
        let theme = Theme::named(ThemeName::Dark);
        let colours: Vec<Style> = LAB_TABLES.iter().map(|t| theme.table(t)).collect();
        for (i, colour) in colours.iter().enumerate() {
            assert!(
                !colours[..i].contains(colour),
                "{} shares a colour",
                LAB_TABLES[i]
            );
        }
        assert_eq!(theme.table("comments"), theme.table("comments"));
        assert_eq!(Theme::plain().table("users"), Style::new());
    }

    #[test]
    fn the_tenancy_tables_never_share_a_tenants_colour() {
        for &name in <ThemeName as clap::ValueEnum>::value_variants() {
            let theme = Theme::named(name);
            let tenants: Vec<Style> = (1..=5).map(|id| theme.tenant(Some(id))).collect();
            for table in crate::data::tables::DEFAULT_TABLES {
                assert!(
                    !tenants.contains(&theme.table(table)),
                    "{name:?}: {table} has a tenant's colour"
                );
            }
        }
    }

    #[test]
    fn no_colour_paints_nothing_and_a_theme_paints_every_cell() {
        let area = ratatui::layout::Rect::new(0, 0, 4, 2);
        let mut buffer = Buffer::empty(area);
        Theme::plain().paint(&mut buffer);
        assert!(buffer.content.iter().all(|c| c.bg == Color::Reset));
        assert_eq!(Theme::plain().dim(), Style::new());

        let mut buffer = Buffer::empty(area);
        Theme::named(ThemeName::Light).paint(&mut buffer);
        assert!(buffer.content.iter().all(|c| c.bg == rgb(LIGHT.background)));
        assert!(buffer.content.iter().all(|c| c.fg == rgb(LIGHT.text)));
    }
}
