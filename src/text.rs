//! Text for a terminal, in one place: cutting and wrapping by display width (a wide
//! character takes two cells, `⇄` one), and the words and numbers pglab writes everywhere
//! — durations, counts with their noun, thousands grouped. The TUI, the plain-text CLI and
//! the plan renderer all use these, so `1,000 rows` and `2.3 ms` read the same on every
//! screen.

use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

/// Cuts `line` to `width` display cells, ending in "…" when something was cut.
pub fn clip(line: &str, width: usize) -> String {
    if line.width() <= width {
        return line.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in line.chars() {
        let cells = ch.width().unwrap_or(0);
        if used + cells + 1 > width {
            break;
        }
        out.push(ch);
        used += cells;
    }
    out.push('…');
    out
}

/// `sql` on one line (runs of whitespace become one space), clipped to `width` cells: short
/// enough for a log line or a message.
pub fn abbreviate(sql: &str, width: usize) -> String {
    clip(&sql.split_whitespace().collect::<Vec<_>>().join(" "), width)
}

/// `text` cut at a space to fit `width` cells, ending in "…"; a first word longer than that
/// is clipped. Titles cut this way never end mid-word.
pub fn words_within(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let next = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        if next.width() + 1 > width {
            break;
        }
        out = next;
    }
    if out.trim().is_empty() {
        return clip(text, width);
    }
    out.push('…');
    out
}

/// A duration as people read it: `0.4 ms`, `12 ms`, `1.25 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// A count pglab writes with its noun: whole, or a measured value rounded to a whole.
pub trait Amount {
    fn amount(self) -> f64;
}

impl Amount for u64 {
    fn amount(self) -> f64 {
        self as f64
    }
}

impl Amount for i64 {
    fn amount(self) -> f64 {
        self as f64
    }
}

impl Amount for u32 {
    fn amount(self) -> f64 {
        f64::from(self)
    }
}

impl Amount for usize {
    fn amount(self) -> f64 {
        self as f64
    }
}

impl Amount for f64 {
    fn amount(self) -> f64 {
        self
    }
}

/// `1 round trip`, `2 round trips`, `12,341 rows`: the count rounded to a whole, grouped by
/// thousands, with the noun that agrees with it.
pub fn plural(count: impl Amount, one: &str, many: &str) -> String {
    let count = count.amount().round();
    format!("{} {}", group(count), if count == 1.0 { one } else { many })
}

/// A number rounded to a whole and grouped by thousands: 12341.4 → "12,341".
pub fn group(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A size as PostgreSQL's `pg_size_pretty` writes it, the same integer steps and rounding
/// (powers of 1024, half away from zero): `8000 bytes`, `8192 kB`, `80 MB`. A figure the lab
/// reads from files then reads like the one the server reports.
pub fn size(bytes: i64) -> String {
    // (unit, the limit below which it is used, whether the value is rounded, its power of 2)
    const UNITS: [(&str, i64, bool, u32); 6] = [
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    let mut value = bytes;
    for (n, &(name, limit, round, bits)) in UNITS.iter().enumerate() {
        let Some(&(_, _, next_round, next_bits)) = UNITS.get(n + 1) else {
            return format!("{} {name}", half_rounded(value));
        };
        if value.unsigned_abs() < limit.unsigned_abs() {
            let shown = if round { half_rounded(value) } else { value };
            return format!("{shown} {name}");
        }
        // One bit less when the next unit rounds: it keeps a half unit to round with.
        let shift = next_bits - bits - u32::from(next_round) + u32::from(round);
        value /= 1 << shift;
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_pg_size_pretty_writes_them() {
        // Each pair as PostgreSQL 15's pg_size_pretty(bigint) prints it.
        for (bytes, shown) in [
            (0, "0 bytes"),
            (8_000, "8000 bytes"),
            (10_239, "10239 bytes"),
            (10_240, "10 kB"),
            (10_751, "10 kB"),
            (10_752, "11 kB"),
            (8 * 1024 * 1024, "8192 kB"),
            (10 * 1024 * 1024 - 513, "10239 kB"),
            (10 * 1024 * 1024 - 512, "10 MB"),
            (80 * 1024 * 1024, "80 MB"),
            (3 * 1024 * 1024 * 1024, "3072 MB"),
            (20 * 1024 * 1024 * 1024, "20 GB"),
            (5 << 40, "5120 GB"),
            (20 << 40, "20 TB"),
            (20 << 50, "20 PB"),
            (-10_752, "-11 kB"),
        ] {
            assert_eq!(size(bytes), shown, "{bytes}");
        }
    }

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

    #[test]
    fn clipping_counts_display_cells() {
        assert_eq!(clip("████ abc", 6), "████ …");
        assert_eq!(clip("short", 80), "short");
        assert_eq!(abbreviate("select  *\n  from t", 10), "select * …");
        assert_eq!(abbreviate("表表表表", 5), "表表…");
    }

    #[test]
    fn titles_are_cut_between_words() {
        assert_eq!(
            words_within("Exercise: one two three", 17),
            "Exercise: one…"
        );
        assert_eq!(words_within("short", 10), "short");
        assert_eq!(words_within("Supercalifragilistic", 6), "Super…");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_micros(400)), "0.4 ms");
        assert_eq!(duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
    }

    #[test]
    fn counts_agree_with_their_noun_and_group_thousands() {
        assert_eq!(plural(1u64, "row", "rows"), "1 row");
        assert_eq!(plural(0usize, "row", "rows"), "0 rows");
        assert_eq!(
            plural(12_341u64, "round trip", "round trips"),
            "12,341 round trips"
        );
        assert_eq!(plural(0.6, "row", "rows"), "1 row");
        assert_eq!(group(-1_000_000.0), "-1,000,000");
    }
}
