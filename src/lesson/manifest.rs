//! One lesson folder: its `lesson.toml` read into a [`Lesson`], with the Markdown and diagram
//! files it names loaded, and every problem in it recorded with its line. Which keys each step
//! kind takes is declared once here ([`KINDS`]), so unknown and misplaced keys get the same
//! precise message. Exercises and quizzes, which carry most of the rules, are read in
//! `manifest/graded.rs`; an exercise's diagnoses and wrong answers, and a step's `warnings`,
//! in `manifest/diagnosis.rs`.

use std::path::{Component, Path};

use serde::Deserialize;
use toml::de::{DeValue, ValueDeserializer};

use super::catalog::Problem;
use super::document::{Document, Found, Need, Table, article, unknown_key, with_article};
use super::source::{Source, Unreadable};
use super::text::Shown;
use super::{DIAGRAM_COUNT, Lesson, MAX_MINUTES, Opens, Step, StepKind};
use crate::data::tables::{default_tables, invalid_names};
use graded::{read_exercise, read_quiz};

mod diagnosis;
mod graded;
mod vet;

/// Validates a demo name and its params; the demos live outside this module.
pub(super) type Demos<'a> = &'a dyn Fn(&str, &toml::Table) -> Result<(), String>;

/// Keys every step takes (`text` is required only on read steps).
const COMMON_KEYS: [&str; 4] = ["kind", "title", "text", "notes"];

/// Each kind and the keys only it takes.
const KINDS: [(&str, &[&str]); 6] = [
    ("read", &["opens", "tables"]),
    ("diagram", &["diagram"]),
    ("run", &["sql", "warnings"]),
    ("demo", &["demo", "params", "warnings"]),
    (
        "exercise",
        &[
            "starter",
            "solution",
            "hints",
            "check",
            "diagnosis",
            "wrong",
        ],
    ),
    ("quiz", &["question", "options"]),
];

const LESSON_KEYS: [&str; 5] = ["title", "diagram", "minutes", "summary", "step"];
/// What reading one lesson folder produced. `diagram` (number, line) lets the catalogue point
/// at the `diagram` key when two lessons claim the same diagram, even if the lesson is broken.
pub(super) struct LessonRead {
    pub(super) lesson: Option<Lesson>,
    pub(super) diagram: Option<(u8, usize)>,
    pub(super) problems: Vec<Problem>,
}

/// Reads `dir/lesson.toml` from `source` (`dir` relative to the catalogue root); `shown_dir`
/// is how the folder is named in problems.
pub(super) fn read_lesson(
    id: &str,
    source: &Source,
    dir: &Path,
    shown_dir: &Path,
    demos: Demos,
) -> LessonRead {
    let shown_file = shown_dir.join("lesson.toml");
    let failed = |message: String| LessonRead {
        lesson: None,
        diagram: None,
        problems: vec![Problem {
            file: shown_file.clone(),
            line: None,
            message,
        }],
    };
    let text = match source.read(&dir.join("lesson.toml")) {
        Ok(text) => text,
        Err(why) => return failed(why.complaint()),
    };
    let mut doc = Document::new(&shown_file, &text);
    let Some(root) = doc.parse() else {
        return LessonRead {
            lesson: None,
            diagram: None,
            problems: doc.into_problems(),
        };
    };
    let folder = Folder {
        source,
        dir,
        shown_dir,
    };
    let top = Table::new(root.get_ref(), None, String::new());
    top.reject_unknown(&mut doc, &LESSON_KEYS, |key| {
        unknown_key(key, "lesson.toml", &LESSON_KEYS)
    });
    let title = top.string(&mut doc, "title", Need::Required(""));
    let summary = top.string(
        &mut doc,
        "summary",
        Need::Required(" (one line for the list)"),
    );
    for (key, found) in [("`title`", &title), ("`summary`", &summary)] {
        if let Some(found) = found {
            vet::string(
                &mut doc,
                &top,
                key,
                &found.span,
                &found.value,
                Shown::AsWritten,
            );
        }
    }
    let diagram = top
        .integer(
            &mut doc,
            "diagram",
            Need::Required(" (the chapter diagram, 1 to 11)"),
        )
        .and_then(|found| match u8::try_from(found.value) {
            Ok(number) if (1..=DIAGRAM_COUNT).contains(&number) => Some((number, found.span)),
            _ => {
                let message = format!(
                    "`diagram` must be a chapter diagram number from 1 to {DIAGRAM_COUNT}, not {}",
                    found.value
                );
                doc.at(found.span, message);
                None
            }
        });
    let minutes = read_minutes(&mut doc, &top);
    let steps = read_steps(&mut doc, &top, &folder, demos);
    let diagram_line = diagram
        .as_ref()
        .map(|(number, span)| (*number, doc.line(span)));
    let problems = doc.into_problems();
    let lesson = match (title, summary, diagram, minutes, steps) {
        (Some(title), Some(summary), Some((diagram, _)), Some(minutes), Some(steps))
            if problems.is_empty() =>
        {
            Some(Lesson {
                id: id.to_string(),
                dir: source.path_of(dir),
                diagram,
                minutes,
                title: title.value,
                summary: summary.value,
                steps,
            })
        }
        _ => None,
    };
    LessonRead {
        lesson,
        diagram: diagram_line,
        problems,
    }
}

/// `minutes = 15`: the time the lesson is planned to take in a lecture. Required of every
/// lesson, the instructors' own too: the chapter's total in `lessons list` and the pacing
/// against it are only honest when every lesson has a plan, and a folder written before the
/// key existed is mended with the one line the message names.
fn read_minutes(doc: &mut Document, top: &Table) -> Option<u8> {
    let hint = " (the minutes the lesson is planned to take in a lecture, 1 to 120)";
    let found = top.integer(doc, "minutes", Need::Required(hint))?;
    match u8::try_from(found.value) {
        Ok(minutes) if (1..=MAX_MINUTES).contains(&minutes) => Some(minutes),
        _ => {
            let message = format!(
                "`minutes` must be a whole number of minutes from 1 to {MAX_MINUTES}, not {}",
                found.value
            );
            doc.at(found.span, message);
            None
        }
    }
}

/// All steps, or `None` if any is wrong (each problem already recorded).
fn read_steps(doc: &mut Document, top: &Table, folder: &Folder, demos: Demos) -> Option<Vec<Step>> {
    let Some((key, value)) = top.raw("step") else {
        doc.whole_file("has no steps; add at least one [[step]] table");
        return None;
    };
    let items = match value.get_ref() {
        DeValue::Array(items) if !items.is_empty() => items,
        DeValue::Array(_) => {
            doc.at(key, "`step` is empty; add at least one [[step]] table");
            return None;
        }
        other => {
            let message = format!(
                "`step` must be an array of tables written [[step]], not {}",
                article(other)
            );
            doc.at(key, message);
            return None;
        }
    };
    let mut steps = Some(Vec::new());
    for (index, item) in items.iter().enumerate() {
        let prefix = format!("step {}: ", index + 1);
        let step = Table::from_value(doc, item, prefix, "a step")
            .and_then(|table| read_step(doc, &table, folder, demos));
        match (step, steps.as_mut()) {
            (Some(step), Some(steps)) => steps.push(step),
            _ => steps = None,
        }
    }
    steps
}

fn read_step(doc: &mut Document, table: &Table, folder: &Folder, demos: Demos) -> Option<Step> {
    let kind_hint = " (one of read, diagram, run, demo, exercise, quiz)";
    let kind = table.string(doc, "kind", Need::Required(kind_hint));
    let title = table.string(doc, "title", Need::Required(""));
    let notes = table.string(doc, "notes", Need::Optional);
    if let Some(title) = &title {
        vet::string(
            doc,
            table,
            "`title`",
            &title.span,
            &title.value,
            Shown::AsWritten,
        );
    }
    if let Some(notes) = &notes {
        vet::string(
            doc,
            table,
            "`notes`",
            &notes.span,
            &notes.value,
            Shown::InTheLab,
        );
    }
    let kind = kind?;
    let Some((name, own_keys)) = KINDS.iter().find(|(name, _)| *name == kind.value) else {
        let message = format!(
            "{}unknown step kind `{}`; use one of read, diagram, run, demo, exercise, quiz",
            table.prefix(),
            kind.value
        );
        doc.at(kind.span, message);
        return None;
    };
    let allowed: Vec<&str> = COMMON_KEYS.iter().chain(own_keys.iter()).copied().collect();
    table.reject_unknown(doc, &allowed, |key| misplaced_key(key, name, &allowed));
    let text_need = if *name == "read" {
        Need::Required(" (the Markdown file with this step's prose)")
    } else {
        Need::Optional
    };
    // `None` means the step is wrong; keep going so its other keys are checked too.
    let body = match table.string(doc, "text", text_need) {
        Some(text) => folder.read(doc, table, "text", &text).map(|body| {
            let shown_file = folder.shown_dir.join(&text.value);
            vet::file(doc, &shown_file, &body, Shown::Everywhere);
            Some(body)
        }),
        None if table.has("text") || matches!(text_need, Need::Required(_)) => None,
        None => Some(None),
    };
    let kind = match *name {
        "read" => Some(StepKind::Read),
        "diagram" => read_diagram(doc, table, folder),
        "run" => table
            .string(doc, "sql", Need::Required(" (the SQL to show and run)"))
            .map(|sql| StepKind::Run { sql: sql.value }),
        "demo" => read_demo(doc, table, demos),
        "exercise" => read_exercise(doc, table).map(StepKind::Exercise),
        _ => read_quiz(doc, table).map(StepKind::Quiz),
    };
    let warnings = diagnosis::read_step_warnings(doc, table);
    let opens = if *name == "read" {
        read_opens(doc, table)
    } else {
        // Only read steps take `opens` and `tables`: elsewhere they are reported as misplaced.
        Some(None)
    };
    Some(Step {
        title: title?.value,
        notes: notes.map(|notes| notes.value),
        body: body?,
        kind: kind?,
        warnings: warnings?,
        opens: opens?,
    })
}

/// A key this kind does not take: say which kinds do, or that none does.
fn misplaced_key(key: &str, kind: &str, allowed: &[&str]) -> String {
    let owners: Vec<&str> = KINDS
        .iter()
        .filter(|(_, keys)| keys.contains(&key))
        .map(|(name, _)| *name)
        .collect();
    if owners.is_empty() {
        unknown_key(key, &with_article(&format!("{kind} step")), allowed)
    } else {
        format!(
            "`{key}` does not belong on {}; only {} steps take it",
            with_article(&format!("{kind} step")),
            owners.join(" and ")
        )
    }
}

fn read_diagram(doc: &mut Document, table: &Table, folder: &Folder) -> Option<StepKind> {
    let hint = " (the text file with the layers)";
    let file = table.string(doc, "diagram", Need::Required(hint))?;
    let text = folder.read(doc, table, "diagram", &file)?;
    vet::file(
        doc,
        &folder.shown_dir.join(&file.value),
        &text,
        Shown::AsWritten,
    );
    let layers = split_layers(&text);
    if layers.len() < 2 {
        let message = format!(
            "{}`{}` has 1 layer; a diagram needs at least 2, separated by a line that is exactly `---`",
            table.prefix(),
            file.value
        );
        doc.at(file.key, message);
        return None;
    }
    if let Some(empty) = layers.iter().position(|layer| layer.trim().is_empty()) {
        let message = format!(
            "{}`{}` layer {} is empty; remove the extra `---` line",
            table.prefix(),
            file.value,
            empty + 1
        );
        doc.at(file.key, message);
        return None;
    }
    Some(StepKind::Diagram { layers })
}

/// Layers are separated by lines that are exactly `---` (a CRLF file works too).
fn split_layers(text: &str) -> Vec<String> {
    let mut layers = vec![Vec::new()];
    for line in text.lines() {
        match layers.last_mut() {
            Some(_) if line == "---" => layers.push(Vec::new()),
            Some(layer) => layer.push(line),
            None => {}
        }
    }
    layers.into_iter().map(|lines| lines.join("\n")).collect()
}

/// `opens = "schema"`, or `opens = "tables"` with `tables = [...]` (the default tables
/// when left out): the screen a read step opens when run. `None` when it is wrong.
fn read_opens(doc: &mut Document, table: &Table) -> Option<Option<Opens>> {
    let tables = if table.has("tables") {
        Some(table.strings(doc, "tables", Need::Optional)?)
    } else {
        None
    };
    let Some(opens) = table.string(doc, "opens", Need::Optional) else {
        if let Some(tables) = tables {
            let message = format!(
                "{}`tables` goes with `opens = \"tables\"`, which this step does not have",
                table.prefix()
            );
            doc.at(tables.key, message);
            return None;
        }
        return (!table.has("opens")).then_some(None);
    };
    match (opens.value.as_str(), tables) {
        ("schema", None) => Some(Some(Opens::Schema)),
        ("tables", None) => Some(Some(Opens::Tables(default_tables()))),
        ("tables", Some(tables)) => {
            let names: Vec<String> = tables.value.into_iter().map(|(name, _)| name).collect();
            if let Some(why) = invalid_names(&names) {
                doc.at(tables.span, format!("{}`tables`: {why}", table.prefix()));
                return None;
            }
            Some(Some(Opens::Tables(names)))
        }
        ("schema", Some(tables)) => {
            let message = format!(
                "{}`tables` goes with `opens = \"tables\"`, not `opens = \"schema\"`",
                table.prefix()
            );
            doc.at(tables.key, message);
            None
        }
        (other, _) => {
            let message = format!(
                "{}`opens` names a screen a step can open: `schema` or `tables`, not `{other}`",
                table.prefix()
            );
            doc.at(opens.span, message);
            None
        }
    }
}

fn read_demo(doc: &mut Document, table: &Table, demos: Demos) -> Option<StepKind> {
    let name = table.string(doc, "demo", Need::Required(" (the name of a Rust demo)"));
    let params = match table.raw("params") {
        None => Some(toml::Table::new()),
        Some((_, value)) => match value.get_ref() {
            DeValue::Table(_) => toml::Table::deserialize(ValueDeserializer::from(value.clone()))
                .map_err(|error| {
                    let message = format!("{}`params`: {}", table.prefix(), error.message());
                    doc.at(value.span(), message);
                })
                .ok(),
            other => {
                let message = format!(
                    "{}`params` must be a table like {{ posts = 10 }}, not {}",
                    table.prefix(),
                    article(other)
                );
                doc.at(value.span(), message);
                None
            }
        },
    };
    let (name, params) = (name?, params?);
    if let Err(message) = demos(&name.value, &params) {
        // The demos' own messages usually name the demo already; say it once.
        let named = format!("demo `{}`", name.value);
        let message = if message.contains(&named) {
            format!("{}{message}", table.prefix())
        } else {
            format!("{}{named}: {message}", table.prefix())
        };
        doc.at(name.key, message);
        return None;
    }
    Some(StepKind::Demo {
        name: name.value,
        params,
    })
}

/// The lesson folder: where step files are read from (`dir` inside `source`), and how it is
/// named in problems.
struct Folder<'a> {
    source: &'a Source,
    dir: &'a Path,
    shown_dir: &'a Path,
}

impl Folder<'_> {
    /// Reads the file a key names; the problem, if any, is reported at the key's line.
    fn read(
        &self,
        doc: &mut Document,
        table: &Table,
        key: &str,
        name: &Found<String>,
    ) -> Option<String> {
        let relative = Path::new(&name.value);
        let inside = relative
            .components()
            .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
        let prefix = table.prefix();
        let problem = if !inside {
            format!(
                "{prefix}`{key}` must name a file inside the lesson folder, not `{}`",
                name.value
            )
        } else {
            match self.source.read(&self.dir.join(relative)) {
                Ok(text) => return Some(text),
                Err(Unreadable::NotFound) => format!(
                    "{prefix}`{}` not found in {}; create it or fix `{key}`",
                    name.value,
                    self.shown_dir.display()
                ),
                Err(why) => format!("{prefix}`{}` {}", name.value, why.complaint()),
            }
        };
        doc.at(name.key.clone(), problem);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_split_on_exact_separator_lines() {
        assert_eq!(split_layers("a\nb\n---\nc\n"), vec!["a\nb", "c"]);
        assert_eq!(split_layers("a\r\n---\r\nb\r\n"), vec!["a", "b"]);
        assert_eq!(split_layers("a\n --- \nb"), vec!["a\n --- \nb"]);
        assert_eq!(split_layers("a\n---\n---\nb"), vec!["a", "", "b"]);
        assert_eq!(split_layers(""), vec![""]);
    }

    #[test]
    fn misplaced_key_names_the_kinds_that_take_it() {
        let read: Vec<&str> = COMMON_KEYS.to_vec();
        assert_eq!(
            misplaced_key("sql", "read", &read),
            "`sql` does not belong on a read step; only run steps take it"
        );
        assert_eq!(
            misplaced_key("tittle", "read", &read),
            "unknown key `tittle` (did you mean `title`?); a read step takes: kind, title, text, notes"
        );
    }
}
