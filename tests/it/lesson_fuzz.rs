//! Fuzzing the lesson-file reader (issue 18): random bytes, and the real lesson files mutated
//! (bytes flipped, inserted, deleted, cut short, a line repeated), fed to the catalogue as it
//! reads its built-in lessons. Whatever arrives, loading never panics, and a refusal is a list
//! of `file[:line]: message` problems with something to say. A fixed number of cases keeps
//! the run short (a few seconds).

use pglab::lesson::{Catalog, Entry, Source};
use proptest::prelude::*;

/// The built-in catalogue's files.
fn shipped() -> &'static [(&'static str, Entry)] {
    match Source::built_in() {
        Source::Embedded(files) => files,
        Source::Folder(_) => unreachable!("the built-in catalogue is embedded"),
    }
}

/// One edit of a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    RepeatLine { at: usize, times: usize },
    Replace(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        3 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        // TOML's own tokens, where random bytes rarely land on them.
        3 => (any::<usize>(), prop::sample::select(vec![
                "\"", "'''", "\"\"\"", "[", "]", "[[", "]]", "=", "{", "}", ",", "\n", "#",
                "\\u{0}", "\\", "é", "1e999", "-0", "[[step]]\n", "kind = \"demo\"\n",
            ]))
            .prop_map(|(at, token)| Mutation::Insert { at, bytes: token.as_bytes().to_vec() }),
        2 => (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<usize>(), 2..50usize).prop_map(|(at, times)| Mutation::RepeatLine { at, times }),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Mutation::Replace),
    ]
}

fn apply(bytes: &[u8], mutation: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let len = out.len();
    let at = |at: usize| at % (len + 1);
    match mutation {
        Mutation::Flip { at: i, byte } if !out.is_empty() => {
            let i = *i % out.len();
            out[i] = *byte;
        }
        Mutation::Flip { .. } => {}
        Mutation::Insert { at: i, bytes } => {
            let i = at(*i);
            out.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete { at: i, len } => {
            let i = at(*i);
            let end = (i + len).min(out.len());
            out.drain(i..end);
        }
        Mutation::Truncate { at: i } => {
            let i = at(*i);
            out.truncate(i);
        }
        Mutation::RepeatLine { at: i, times } => {
            let text = String::from_utf8_lossy(&out).into_owned();
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let pick = *i % lines.len();
                let mut again = String::new();
                for (index, line) in lines.iter().enumerate() {
                    again.push_str(line);
                    if index == pick {
                        again.push_str(&line.repeat(*times));
                    }
                }
                out = again.into_bytes();
            }
        }
        Mutation::Replace(bytes) => out = bytes.clone(),
    }
    out
}

/// Loads the shipped catalogue with the regular file at `index` edited: only the lesson that
/// file belongs to (under an index listing it alone, so each case is quick), or the whole
/// catalogue when the file is `index.toml` itself.
fn load_mutated(
    index: usize,
    mutations: &[Mutation],
) -> Result<Catalog, pglab::lesson::LoadErrors> {
    let files = shipped();
    let regular: Vec<usize> = (0..files.len())
        .filter(|&i| matches!(files[i].1, Entry::File(_)))
        .collect();
    let (target, entry) = files[regular[index % regular.len()]];
    let mut chosen: Vec<(&'static str, Entry)> = match target.split_once('/') {
        None => files.to_vec(),
        Some((folder, _)) => {
            let index_toml = format!(
                "format_version = 1\n[[lesson]]\nid = \"{}\"\ndir = \"{folder}\"\n",
                lesson_id(folder)
            );
            let mut chosen = vec![("index.toml", leaked(index_toml.into_bytes()))];
            chosen.extend(
                files
                    .iter()
                    .filter(|(path, _)| path.starts_with(&format!("{folder}/"))),
            );
            chosen
        }
    };
    if let Entry::File(bytes) = entry {
        let mutated = mutations.iter().fold(bytes.to_vec(), |b, m| apply(&b, m));
        for file in &mut chosen {
            if file.0 == target {
                file.1 = leaked(mutated.clone());
            }
        }
    }
    Catalog::load_from(
        Source::Embedded(Box::leak(chosen.into_boxed_slice())),
        &pglab::demo::validate,
    )
}

/// The catalogue takes `'static` files, as embedded ones are: leaked per case, a few
/// kilobytes each.
fn leaked(bytes: Vec<u8>) -> Entry {
    Entry::File(Box::leak(bytes.into_boxed_slice()))
}

/// The id the shipped index gives the lesson in `folder`.
fn lesson_id(folder: &str) -> String {
    let Some((_, Entry::File(index))) = shipped().iter().find(|(p, _)| *p == "index.toml") else {
        panic!("the shipped lessons have an index.toml");
    };
    let index = std::str::from_utf8(index).unwrap();
    let dir_line = format!("dir = \"{folder}\"");
    let before = &index[..index.find(&dir_line).unwrap()];
    let id_line = before
        .lines()
        .rev()
        .find(|l| l.starts_with("id = "))
        .unwrap();
    id_line
        .trim_start_matches("id = ")
        .trim_matches('"')
        .to_string()
}

fn assert_readable(result: &Result<Catalog, pglab::lesson::LoadErrors>) {
    if let Err(errors) = result {
        assert!(!errors.problems.is_empty());
        for problem in &errors.problems {
            assert!(!problem.message.trim().is_empty(), "{problem:?}");
            assert!(
                problem.file.starts_with("lessons"),
                "a problem names its file: {problem}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_lesson_files_never_panic(
        index in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        assert_readable(&load_mutated(index, &mutations));
    }

    #[test]
    fn random_bytes_as_any_lesson_file_never_panic(
        index in any::<usize>(),
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        assert_readable(&load_mutated(index, &[Mutation::Replace(bytes)]));
    }
}

/// Without a mutation every choice of file loads: what the fuzzing finds is the mutation's.
#[test]
fn the_shipped_lessons_load_unmutated_one_by_one() {
    let count = shipped().len();
    for index in 0..count {
        if let Err(errors) = load_mutated(index, &[]) {
            panic!("file {index}: {errors}");
        }
    }
}
