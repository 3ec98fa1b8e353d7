//! The Markdown handout `pglab lessons run N --format markdown` writes: the lesson as played
//! in this run, from the same step lines the plain-text runner prints (see `play`). A
//! step's title becomes a heading and its prose is the lesson's own Markdown; what the step
//! ran (result table, demo report, measured lines) goes in one fenced block exactly as the
//! plain-text runner prints it, so its columns stay aligned; diagram layers and SQL go in
//! fenced blocks; every other line is a paragraph with Markdown's special characters
//! escaped, so no lesson or database text can turn into markup or raw HTML.

use std::fmt::Write as _;

use ratatui::text::Line;

use crate::app::player::Focus;
use crate::lesson::Lesson;
use crate::lesson::text::{Audience, resolve};
use crate::ui::markdown::plain;
use crate::ui::page::Laid;

/// The handout's first lines: the lesson's number and title.
pub fn title(lesson: &Lesson) -> String {
    format!("# {} · {}\n\n", lesson.diagram, escape(&lesson.title))
}

/// Step `index` of `lesson` as Markdown: `laid` is its page laid out with no width limit
/// (every line whole, the marks kept), `closing` the runner's lines after the page (hints,
/// the quiz's answer) and `opened` the schema map or tables the step opens; `width` wraps
/// prose in the measured block as the plain-text runner wraps it.
pub fn step(
    lesson: &Lesson,
    index: usize,
    laid: &Laid<Focus>,
    closing: &[String],
    opened: Option<&[String]>,
    width: usize,
) -> String {
    let step = &lesson.steps[index];
    let mut out = format!(
        "## Step {} of {}: {}\n\n",
        index + 1,
        lesson.steps.len(),
        escape(&step.title)
    );
    if let Some(body) = &step.body {
        out.push_str(resolve(body, Audience::Plain).trim());
        out.push_str("\n\n");
    }
    let body = laid.find(Focus::Body).unwrap_or(0..0);
    let output = laid.find(Focus::Output).unwrap_or(0..0);
    let mut pre: Vec<String> = Vec::new();
    for (i, (line, is_pre)) in laid.lines.iter().enumerate() {
        if body.contains(&i) {
            continue;
        }
        if output.contains(&i) {
            if i == output.start {
                fence(&mut out, std::mem::take(&mut pre));
                let measured = laid.lines[output.clone()]
                    .iter()
                    .flat_map(|(line, is_pre)| as_printed(line, *is_pre, width));
                fence(&mut out, measured.collect());
            }
            continue;
        }
        let text = text_of(line);
        if *is_pre {
            pre.push(text.trim_end().to_string());
            continue;
        }
        fence(&mut out, std::mem::take(&mut pre));
        if !text.trim().is_empty() {
            let _ = write!(out, "{}\n\n", escape(text.trim()));
        }
    }
    fence(&mut out, pre);
    for line in closing {
        let _ = write!(out, "{}\n\n", escape(line.trim()));
    }
    if let Some(opened) = opened {
        fence(&mut out, opened.to_vec());
    }
    out
}

/// One page line as the plain-text runner prints it: pre-formatted whole, prose wrapped to
/// `width`.
pub fn as_printed(line: &Line<'static>, pre: bool, width: usize) -> Vec<String> {
    let text = text_of(line);
    if pre {
        vec![text.trim_end().to_string()]
    } else {
        crate::text::wrap(text.trim_end(), width, "")
    }
}

fn text_of(line: &Line<'static>) -> String {
    plain(std::slice::from_ref(line)).swap_remove(0)
}

/// `lines` without the blank lines that begin and end them.
fn trimmed(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let first = lines.iter().position(|l| !l.trim().is_empty());
    lines.split_off(first.unwrap_or(lines.len()))
}

/// Writes `lines` as one fenced code block, if there are any: the fence is longer than any
/// run of backticks inside, so nothing in the block can close it.
fn fence(out: &mut String, lines: Vec<String>) {
    let lines = trimmed(lines);
    if lines.is_empty() {
        return;
    }
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = write!(out, "{fence}text\n{}\n{fence}\n\n", lines.join("\n"));
}

/// `text` with every character Markdown could read as markup backslash-escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // A full stop is markup only after a line's leading digits (`1. `, a list item).
        let markup = match c {
            '.' => out.chars().all(|c| c.is_ascii_digit()),
            ',' | ':' | ';' | '\'' | '"' | '?' | '/' | '%' | '=' | '@' => false,
            c => c.is_ascii_punctuation(),
        };
        if markup {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_renders_as_itself() {
        let text = "<b>not html</b> *a* _b_ `c` [d](e) # f 1) g - h | i &amp; 0.8";
        let mut rendered = String::new();
        for event in pulldown_cmark::Parser::new(&escape(text)) {
            match event {
                pulldown_cmark::Event::Text(t) => rendered.push_str(&t),
                pulldown_cmark::Event::Start(pulldown_cmark::Tag::Paragraph)
                | pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Paragraph) => {}
                other => panic!("{other:?} in {text}"),
            }
        }
        assert_eq!(rendered, text);
    }

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        let mut out = String::new();
        fence(
            &mut out,
            vec![String::new(), "a ``` b".into(), String::new()],
        );
        assert_eq!(out, "````text\na ``` b\n````\n\n");
    }
}
