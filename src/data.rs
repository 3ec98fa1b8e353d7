//! The values that cross from I/O to the core: what `db`, `proxy` and `demo` produce and
//! `app`, `ui` and the plain-text runner consume. Plain data with the small pure helpers
//! that read it; how the values are produced stays with their producers. Each type has this
//! one home, so the pure core names no I/O module to use them.
//!
//! - [`ResultSet`]: what a statement returned, as text
//! - [`ServerError`]: an error the server reported (SQLSTATE, message, detail, hint,
//!   position), whether the console received it or the proxy saw it pass
//! - [`console`]: what running learner SQL produced, statement by statement
//! - [`proxy`]: what the proxy observes (sessions, round trips, statements) and the kind the
//!   query log gives each round trip
//! - [`demo`]: a demo's progress news and its report (measurements, measured plans)
//! - [`grading`]: what was gathered for one exercise attempt
//! - [`schema`]: the schema map: server, databases, schemas, tables, columns, foreign keys
//! - [`tables`]: the live tables view: chosen tables' rows with their tenants, deleted
//!   marks and the foreign keys between them
//! - [`acting`]: a user the lab can act as, with its organization
//! - [`presenter`]: what the lab and a presenter view (`pglab notes`) tell each other
//! - [`warning`]: the rules behind the query log's warnings, and a warning as a report keeps it
//!
//! Nothing here imports `db`, `proxy`, `demo`, `app`, `ui`, `runtime` or `cli` (a test below
//! reads the sources to keep it so, and keeps the core's imports of I/O at none). One
//! exception to "the bottom imports nothing": a demo's measured plan is [`crate::explain`]'s
//! plan model, which is pure and imports nothing of this crate but `wrap`, so no arrow points
//! back up from it.

pub mod acting;
pub mod console;
pub mod demo;
pub mod grading;
pub mod presenter;
pub mod proxy;
mod result_set;
pub mod schema;
mod server_error;
pub mod tables;
pub mod warning;

pub use result_set::ResultSet;
pub use server_error::{Caret, ServerError};

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The layers `data` sits below; it names none of them.
    const ABOVE_DATA: [&str; 7] = ["db", "proxy", "demo", "app", "ui", "runtime", "cli"];
    /// The I/O layers the pure core (the app and its views) never names: what it needs of
    /// them comes as `data`.
    const IO: [&str; 3] = ["db", "demo", "proxy"];

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    /// Every `.rs` file of module `name`: `src/name.rs` and everything under `src/name/`.
    fn module_files(name: &str) -> Vec<PathBuf> {
        let mut files = vec![src().join(format!("{name}.rs"))];
        let mut folders = vec![src().join(name)];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a readable folder entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// The modules a path starting at `crate::` names first, with the byte offset where it
    /// starts: `crate::db::Lab` names `db`; `crate::{db::Lab, sql}` names `db` and `sql`.
    fn crate_paths(text: &str) -> Vec<(usize, String)> {
        let mut named = Vec::new();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let word = |s: &str| -> String {
                s.trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            };
            match rest.strip_prefix('{') {
                None => named.push((at, word(rest))),
                Some(group) => {
                    // The group's items at depth 0, each naming its first segment.
                    let mut depth = 0;
                    let mut item_start = 0;
                    for (i, c) in group.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => {
                                named.push((at, word(&group[item_start..i])));
                                break;
                            }
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                named.push((at, word(&group[item_start..i])));
                                item_start = i + 1;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        // A trailing comma leaves an empty item.
        named.retain(|(_, name)| !name.is_empty());
        named
    }

    /// `src/file:line: text` for every path in `module`'s files naming one of `layers`.
    fn naming(module: &str, layers: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for file in module_files(module) {
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            // Comments may name any module; only code counts.
            let code: String = text
                .lines()
                .map(|line| line.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            for (at, name) in crate_paths(&code) {
                if layers.contains(&name.as_str()) {
                    let number = code[..at].matches('\n').count() + 1;
                    let line = text.lines().nth(number - 1).unwrap_or_default();
                    let shown = file.strip_prefix(src()).unwrap_or(&file);
                    found.push(format!("src/{}:{number}: {}", shown.display(), line.trim()));
                }
            }
        }
        found.dedup();
        found
    }

    #[test]
    fn the_app_and_its_views_import_nothing_of_the_io_layers() {
        let mut found = naming("app", &IO);
        found.extend(naming("ui", &IO));
        assert!(
            found.is_empty(),
            "the pure core takes what I/O produces from `crate::data`, not from the \
             producer:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn data_imports_none_of_the_layers_above_it() {
        let found = naming("data", &ABOVE_DATA);
        assert!(
            found.is_empty(),
            "`data` is the bottom layer:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_check_sees_the_files_and_the_lines_it_is_about() {
        // Guards the two tests above against passing by reading nothing.
        assert!(
            module_files("app")
                .iter()
                .any(|f| f.ends_with("app/event.rs"))
        );
        assert!(
            module_files("ui")
                .iter()
                .any(|f| f.ends_with("ui/console.rs"))
        );
        assert!(module_files("data").len() >= 2);
        // Spelled in pieces, so this file's own code names no layer.
        let grouped = format!(
            "use {}::{{\n    db::Lab,\n    sql::{{self, kind}},\n}};",
            "crate"
        );
        let grouped = crate_paths(&grouped);
        let names: Vec<&str> = grouped.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["db", "sql"]);
    }
}
