//! `pglab lessons run N --format markdown`: the handout of lesson 8 played on a real server,
//! parsed back with a CommonMark parser — one heading per step, every code block fenced and
//! closed, no raw HTML — holding this run's scale table and none of the exercise's solution.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

use pglab::lesson::{Catalog, Source, StepKind};

use super::support::{Scratch, assert_success, stdout};

/// The handout as a reader's renderer sees it.
#[derive(Default)]
struct Rendered {
    /// Each heading: its level and text.
    headings: Vec<(HeadingLevel, String)>,
    /// Each code block's text.
    code: Vec<String>,
    /// Paragraph and heading text, and raw HTML if any (there must be none).
    text: String,
    html: Vec<String>,
    unfenced: usize,
}

fn render(markdown: &str) -> Rendered {
    let mut out = Rendered::default();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut code: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => out.headings.extend(heading.take()),
            Event::Start(Tag::CodeBlock(kind)) => {
                if !matches!(kind, CodeBlockKind::Fenced(_)) {
                    out.unfenced += 1;
                }
                code = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => out.code.extend(code.take()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(code) = code.as_mut() {
                    code.push_str(&text);
                } else if let Some((_, heading)) = heading.as_mut() {
                    heading.push_str(&text);
                } else {
                    out.text.push_str(&text);
                }
            }
            Event::End(TagEnd::Paragraph) | Event::SoftBreak | Event::HardBreak => {
                out.text.push(' ')
            }
            Event::Html(html) | Event::InlineHtml(html) => out.html.push(html.into_string()),
            _ => {}
        }
    }
    assert!(code.is_none(), "a code block never closed");
    out
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn lesson_eight_as_markdown_holds_the_measured_scale_table_and_no_solution() {
    let catalog = Catalog::load_from(Source::built_in(), &pglab::demo::validate)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let lesson = catalog.find("n-plus-one").unwrap();
    let lab = Scratch::new("handout");
    std::fs::create_dir_all(&lab.dir).unwrap();
    // The server runs as another user when the tests run as root.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&lab.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = lab
        .pglab()
        .env_remove("PGLAB_LESSONS")
        .args(["lessons", "run", "n-plus-one", "--format", "markdown"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_success(&out);
    let markdown = stdout(&out);
    let rendered = render(&markdown);

    assert!(rendered.html.is_empty(), "raw HTML: {:?}", rendered.html);
    assert_eq!(rendered.unfenced, 0, "every code block is fenced");
    // The lesson's title, then one heading per step, in order, each reading as written.
    let mut expected = vec![(
        HeadingLevel::H1,
        format!("{} · {}", lesson.diagram, lesson.title),
    )];
    expected.extend(lesson.steps.iter().enumerate().map(|(i, step)| {
        (
            HeadingLevel::H2,
            format!("Step {} of {}: {}", i + 1, lesson.steps.len(), step.title),
        )
    }));
    assert_eq!(rendered.headings, expected);

    // The scale table as this run measured it: its header and a row for the lazy loop at
    // 10,000 posts, one round trip per post and one for the list.
    let table = rendered
        .code
        .iter()
        .find(|block| block.contains("posts │ strategy │ round trips"))
        .unwrap_or_else(|| panic!("no scale table in\n{markdown}"));
    let lazy = table
        .lines()
        .find(|line| line.starts_with("10000 │ lazy"))
        .unwrap_or_else(|| panic!("no row for 10000 lazy in\n{table}"));
    assert_eq!(
        lazy.split('│').nth(2).map(str::trim),
        Some("10001"),
        "{lazy}"
    );
    // Every diagram layer, each in a code block of its own.
    for step in &lesson.steps {
        if let StepKind::Diagram { layers } = &step.kind {
            for layer in layers {
                let layer = layer.trim_end();
                assert!(
                    rendered.code.iter().any(|block| block.contains(layer)),
                    "diagram layer missing:\n{layer}"
                );
            }
        }
    }
    // The exercise: its hints, never its solution.
    let exercise = lesson
        .steps
        .iter()
        .find_map(|step| match &step.kind {
            StepKind::Exercise(exercise) => Some(exercise),
            _ => None,
        })
        .unwrap();
    let whole = words(&format!("{} {}", rendered.text, rendered.code.join(" ")));
    assert!(
        !whole.contains(&words(&exercise.solution)),
        "the solution is in the handout:\n{markdown}"
    );
    assert!(!whole.contains("reference solution"), "{markdown}");
    assert!(
        whole.contains(&format!("Hint {}:", exercise.hints.len())),
        "{markdown}"
    );
}
