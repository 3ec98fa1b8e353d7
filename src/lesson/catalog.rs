//! The lesson catalogue: `index.toml` (which lessons, in which order, in which folder), every
//! lesson read through `manifest`, the checks that span lessons (unique ids, folders and
//! diagrams), and lookup by id or diagram number. Loading collects every problem of every
//! lesson instead of stopping at the first, so `pglab lessons check` lists them all at once.
//!
//! Files are read through a [`Source`] — the lessons built into the binary or a folder on
//! disk — so both are held to the same rules and give the same messages. Problems name files
//! relative to the catalogue root's parent (`lessons/index.toml`,
//! `lessons/08-n-plus-one/lesson.toml`), so they read the same wherever the folder lives.

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use toml::de::DeValue;

use super::document::{Document, Need, Table, article, unknown_key};
use super::manifest::{Demos, read_lesson};
use super::source::{Kind, Source, Unreadable};
use super::{FORMAT_VERSION, Lesson};

const INDEX_KEYS: [&str; 2] = ["format_version", "lesson"];
const ENTRY_KEYS: [&str; 2] = ["id", "dir"];
const MAX_ID_LEN: usize = 32;

/// Every lesson, in the index's order, validated and with its files loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Where the files were read from.
    pub source: Source,
    pub lessons: Vec<Lesson>,
}

impl Catalog {
    /// Reads the folder `root` (holding `index.toml`); see [`Catalog::load_from`].
    pub fn load(root: &Path, demos: Demos) -> Result<Catalog, LoadErrors> {
        Self::load_from(Source::Folder(root.to_path_buf()), demos)
    }

    /// Reads `index.toml` and every lesson it lists from `source`. `demos` says whether a
    /// demo name and its params exist (`Err` carries the reason, shown after the step's file
    /// and line).
    ///
    /// Any problem anywhere fails the load, with all problems found listed in `LoadErrors`.
    pub fn load_from(source: Source, demos: Demos) -> Result<Catalog, LoadErrors> {
        let shown_root = source.shown_root();
        let (entries, mut problems) = read_index(&source, &shown_root);
        let mut lessons = Vec::new();
        let mut diagrams: HashMap<u8, &str> = HashMap::new();
        for entry in &entries {
            let shown_dir = shown_root.join(&entry.dir);
            let read = read_lesson(&entry.id, &source, Path::new(&entry.dir), &shown_dir, demos);
            let mut lesson_problems = read.problems;
            if let Some((diagram, line)) = read.diagram {
                match diagrams.get(&diagram) {
                    Some(other) => lesson_problems.push(Problem {
                        file: shown_dir.join("lesson.toml"),
                        line: Some(line),
                        message: format!(
                            "diagram {diagram} is already taught by lesson `{other}`; \
                             each diagram has one lesson"
                        ),
                    }),
                    None => {
                        diagrams.insert(diagram, &entry.id);
                    }
                }
            }
            lesson_problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            problems.extend(lesson_problems);
            lessons.extend(read.lesson);
        }
        if problems.is_empty() {
            Ok(Catalog { source, lessons })
        } else {
            Err(LoadErrors { problems })
        }
    }

    /// The lesson with this id, or teaching this diagram number (`"8"`).
    pub fn find(&self, key: &str) -> Option<&Lesson> {
        self.position(key).and_then(|index| self.lessons.get(index))
    }

    /// The chapter's diagrams no lesson teaches yet, as runs of consecutive numbers (`4..=7`),
    /// so lists can say so instead of leaving a silent gap or renumbering.
    pub fn unwritten(&self) -> Vec<std::ops::RangeInclusive<u8>> {
        let mut runs: Vec<std::ops::RangeInclusive<u8>> = Vec::new();
        for diagram in 1..=super::DIAGRAM_COUNT {
            if self.lessons.iter().any(|l| l.diagram == diagram) {
                continue;
            }
            match runs.last_mut() {
                Some(run) if *run.end() + 1 == diagram => *run = *run.start()..=diagram,
                _ => runs.push(diagram..=diagram),
            }
        }
        runs
    }

    /// [`Catalog::unwritten`] in a sentence (`No lesson yet for diagrams 4–7 of the
    /// chapter.`); `None` when every diagram has its lesson.
    pub fn unwritten_sentence(&self) -> Option<String> {
        let runs = self.unwritten();
        let count: usize = runs.iter().map(|run| run.clone().count()).sum();
        let named: Vec<String> = runs.iter().map(diagram_run).collect();
        (count > 0).then(|| {
            let noun = if count == 1 { "diagram" } else { "diagrams" };
            format!(
                "No lesson yet for {noun} {} of the chapter.",
                named.join(", ")
            )
        })
    }

    /// The minutes the whole catalogue is planned to take: the lessons' `minutes` summed.
    pub fn planned_minutes(&self) -> u32 {
        self.lessons.iter().map(|l| u32::from(l.minutes)).sum()
    }

    /// Where [`Catalog::find`]'s lesson is in the list.
    pub fn position(&self, key: &str) -> Option<usize> {
        match key.trim().parse::<u8>() {
            Ok(diagram) => self.lessons.iter().position(|l| l.diagram == diagram),
            Err(_) => self.lessons.iter().position(|l| l.id == key.trim()),
        }
    }
}

/// One thing wrong in a lesson file. `line` is 1-based; `None` when it is about the whole file
/// (missing, unreadable, or missing a top-level key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Everything wrong with a catalogue: one `file:line: message` line per problem, in index
/// order, each file's problems by line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// An index entry whose folder and `lesson.toml` exist (its id may be wrong: the lesson is
/// still read so all its problems show up at once).
struct Entry {
    id: String,
    dir: String,
}

/// Reads `index.toml`; entries without a usable folder are left out.
fn read_index(source: &Source, shown_root: &Path) -> (Vec<Entry>, Vec<Problem>) {
    let shown_file = shown_root.join("index.toml");
    let failed = |message: String| {
        let file = shown_file.clone();
        (
            Vec::new(),
            vec![Problem {
                file,
                line: None,
                message,
            }],
        )
    };
    let text = match source.read(Path::new("index.toml")) {
        Ok(text) => text,
        Err(Unreadable::NotFound) => {
            return failed(
                "not found; a lesson catalogue is a folder with an index.toml listing its lessons"
                    .into(),
            );
        }
        Err(why) => return failed(why.complaint()),
    };
    let mut doc = Document::new(&shown_file, &text);
    let Some(parsed) = doc.parse() else {
        return (Vec::new(), doc.into_problems());
    };
    let top = Table::new(parsed.get_ref(), None, String::new());
    top.reject_unknown(&mut doc, &INDEX_KEYS, |key| {
        unknown_key(key, "index.toml", &INDEX_KEYS)
    });
    let version_hint = " (write `format_version = 1` at the top)";
    if let Some(version) = top.integer(&mut doc, "format_version", Need::Required(version_hint))
        && version.value != FORMAT_VERSION
    {
        // A different format may mean anything below; reading on would only mislead.
        let message = format!(
            "format_version {} is not supported; this pglab reads format_version = {FORMAT_VERSION}",
            version.value
        );
        doc.at(version.span, message);
        return (Vec::new(), doc.into_problems());
    }
    let entries = read_entries(&mut doc, &top, source);
    (entries, doc.into_problems())
}

fn read_entries(doc: &mut Document, top: &Table, source: &Source) -> Vec<Entry> {
    let items = match top.raw("lesson") {
        None => {
            doc.whole_file("lists no lessons; add [[lesson]] tables with `id` and `dir`");
            return Vec::new();
        }
        Some((key, value)) => match value.get_ref() {
            DeValue::Array(items) => items,
            other => {
                let message = format!(
                    "`lesson` must be an array of tables written [[lesson]], not {}",
                    article(other)
                );
                doc.at(key, message);
                return Vec::new();
            }
        },
    };
    let mut entries = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut dirs: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let prefix = format!("lesson {}: ", index + 1);
        let Some(table) = Table::from_value(doc, item, prefix, "a lesson entry") else {
            continue;
        };
        table.reject_unknown(doc, &ENTRY_KEYS, |key| {
            unknown_key(key, "a [[lesson]] entry", &ENTRY_KEYS)
        });
        let id_hint = " (a unique name like `n-plus-one`)";
        let id = table.string(doc, "id", Need::Required(id_hint)).map(|id| {
            let line = doc.line(&id.span);
            let complaint = if let Some(first) = ids.get(&id.value) {
                Some(format!(
                    "duplicate lesson id `{}`; line {first} uses it already",
                    id.value
                ))
            } else if let Some(bad) = id.value.chars().find(|c| !is_id_char(*c)) {
                Some(format!(
                    "lesson id `{}` has `{bad}`; ids use only a-z, 0-9 and `-`",
                    id.value
                ))
            } else if id.value.len() > MAX_ID_LEN {
                Some(format!(
                    "lesson id `{}` is {} characters long; at most {MAX_ID_LEN}",
                    id.value,
                    id.value.len()
                ))
            } else {
                ids.insert(id.value.clone(), line);
                None
            };
            if let Some(message) = complaint {
                doc.at(id.span, format!("{}{message}", table.prefix()));
            }
            // Read the lesson anyway, so its own problems are listed in the same run.
            id.value
        });
        let dir_hint = " (the lesson's folder next to index.toml)";
        let dir = table
            .string(doc, "dir", Need::Required(dir_hint))
            .and_then(|dir| {
                let plain = matches!(
                    Path::new(&dir.value)
                        .components()
                        .collect::<Vec<_>>()
                        .as_slice(),
                    [Component::Normal(_)]
                );
                let folder = Path::new(&dir.value);
                let complaint = if !plain {
                    Some(format!(
                        "`dir` must be a folder name next to index.toml, not `{}`",
                        dir.value
                    ))
                } else if let Some(first) = dirs.get(&dir.value) {
                    Some(format!(
                        "folder `{}` is already used by the lesson on line {first}",
                        dir.value
                    ))
                } else {
                    match (
                        source.kind(folder),
                        source.kind(&folder.join("lesson.toml")),
                    ) {
                        (Kind::Folder, Kind::File) => None,
                        (Kind::Folder, Kind::Missing) => Some(format!(
                            "`{}/lesson.toml` not found; every lesson folder needs one",
                            dir.value
                        )),
                        (Kind::Folder, _) => Some(format!(
                            "`{}/lesson.toml` {}",
                            dir.value,
                            Unreadable::NotRegular.complaint()
                        )),
                        (Kind::Other, _) => Some(format!(
                            "folder `{}` is a symbolic link or a special file; a lesson is a \
                             real folder next to index.toml, so move the folder in",
                            dir.value
                        )),
                        _ => Some(format!(
                            "folder `{}` not found next to index.toml; create it or fix `dir`",
                            dir.value
                        )),
                    }
                };
                dirs.entry(dir.value.clone()).or_insert(doc.line(&dir.span));
                match complaint {
                    Some(message) => {
                        doc.at(dir.key, format!("{}{message}", table.prefix()));
                        None
                    }
                    None => Some(dir.value),
                }
            });
        if let Some(dir) = dir {
            let id = id.unwrap_or_default();
            entries.push(Entry { id, dir });
        }
    }
    if items.is_empty() {
        doc.whole_file("lists no lessons; add [[lesson]] tables with `id` and `dir`");
    }
    entries
}

/// `4–7`, or `5` for a run of one.
pub fn diagram_run(run: &std::ops::RangeInclusive<u8>) -> String {
    if run.start() == run.end() {
        run.start().to_string()
    } else {
        format!("{}–{}", run.start(), run.end())
    }
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(id: &str, diagram: u8) -> Lesson {
        Lesson {
            id: id.into(),
            dir: PathBuf::from(id),
            diagram,
            minutes: 5,
            title: id.into(),
            summary: String::new(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn find_by_id_or_diagram_number() {
        let catalog = Catalog {
            source: Source::Folder(PathBuf::from("lessons")),
            lessons: vec![lesson("orm", 6), lesson("n-plus-one", 8)],
        };
        assert_eq!(catalog.find("8").map(|l| l.id.as_str()), Some("n-plus-one"));
        assert_eq!(catalog.find("orm").map(|l| l.diagram), Some(6));
        assert_eq!(catalog.position("n-plus-one"), Some(1));
        assert!(catalog.find("9").is_none());
        assert!(catalog.find("nope").is_none());
    }

    #[test]
    fn unwritten_diagrams_come_as_runs() {
        let catalog = Catalog {
            source: Source::Folder(PathBuf::from("lessons")),
            lessons: vec![
                lesson("a", 1),
                lesson("b", 3),
                lesson("c", 8),
                lesson("d", 10),
            ],
        };
        assert_eq!(catalog.unwritten(), vec![2..=2, 4..=7, 9..=9, 11..=11]);
        assert_eq!(
            catalog.unwritten_sentence().as_deref(),
            Some("No lesson yet for diagrams 2, 4–7, 9, 11 of the chapter.")
        );
    }

    #[test]
    fn problems_display_as_file_line_message() {
        let errors = LoadErrors {
            problems: vec![
                Problem {
                    file: PathBuf::from("lessons/index.toml"),
                    line: Some(4),
                    message: "bad".into(),
                },
                Problem {
                    file: PathBuf::from("lessons/x/lesson.toml"),
                    line: None,
                    message: "worse".into(),
                },
            ],
        };
        assert_eq!(
            errors.to_string(),
            "lessons/index.toml:4: bad\nlessons/x/lesson.toml: worse"
        );
    }
}
