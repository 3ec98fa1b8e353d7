//! The lesson catalogue read from fixture folders (no database): a good catalogue with every
//! step kind, a bad one with one lesson per failure mode whose problems are asserted line by
//! line (a key the keymap does not bind where the text says, among them), catalogues broken at the index, the real `lessons/` folder and the same lessons built
//! into the binary, and the file rules (regular files, size) held the same for both.

use std::path::{Path, PathBuf};

use pglab::data::warning::WarningRule;
use pglab::lesson::{Catalog, Condition, Entry, Failure, LoadErrors, RowOrder, Source, StepKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lessons")
        .join(name)
}

/// Stands in for the demo module: knows the `n_plus_one.*` demos and their params.
fn demos(name: &str, params: &toml::Table) -> Result<(), String> {
    if !name.starts_with("n_plus_one.") {
        return Err("no such demo; known demos start with `n_plus_one.`".into());
    }
    let known = ["posts", "latency_ms", "authors"];
    match params.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(format!("unknown param `{key}`")),
        None => Ok(()),
    }
}

fn load_errors(name: &str) -> LoadErrors {
    match Catalog::load(&fixture(name), &demos) {
        Ok(catalog) => panic!("{name} loaded: {catalog:#?}"),
        Err(errors) => errors,
    }
}

fn lines(errors: &LoadErrors) -> Vec<String> {
    errors.to_string().lines().map(str::to_string).collect()
}

#[test]
fn bad_catalogue_reports_every_problem_at_its_line() {
    let expected = [
        "bad/index.toml:3: unknown key `colour`; index.toml takes: format_version, lesson",
        "bad/index.toml:46: lesson 11: lesson id `Bad_Id` has `B`; ids use only a-z, 0-9 and `-`",
        "bad/index.toml:50: lesson 12: lesson id `this-id-is-far-too-long-for-the-lesson-list` is 43 characters long; at most 32",
        "bad/index.toml:51: lesson 12: folder `bad-id` is already used by the lesson on line 47",
        "bad/index.toml:54: lesson 13: duplicate lesson id `syntax`; line 6 uses it already",
        "bad/index.toml:55: lesson 13: folder `syntax-again` not found next to index.toml; create it or fix `dir`",
        "bad/index.toml:59: lesson 14: folder `no-folder` not found next to index.toml; create it or fix `dir`",
        "bad/index.toml:63: lesson 15: `no-lesson-toml/lesson.toml` not found; every lesson folder needs one",
        "bad/index.toml:67: lesson 16: `dir` must be a folder name next to index.toml, not `../good`",
        "bad/index.toml:69: lesson 17: missing `dir` (the lesson's folder next to index.toml)",
        "bad/index.toml:71: lesson 17: unknown key `dri` (did you mean `dir`?); a [[lesson]] entry takes: id, dir",
        "bad/syntax/lesson.toml:3: TOML syntax: invalid basic string, expected `\"`",
        "bad/keys/lesson.toml:4: unknown key `author`; lesson.toml takes: title, diagram, minutes, summary, step",
        "bad/keys/lesson.toml:10: step 1: `sql` does not belong on a read step; only run steps take it",
        "bad/keys/lesson.toml:17: step 2: unknown key `hint` (did you mean `hints`?); an exercise step takes: kind, title, text, notes, starter, solution, hints, check, diagnosis, wrong",
        "bad/keys/lesson.toml:19: step 2: check: unknown key `row` (did you mean `rows`?); check takes: rows, max_round_trips, plan_contains, plan_excludes, query, min_speedup, lint_free, inputs",
        "bad/keys/lesson.toml:25: step 3: `options` does not belong on a run step; only quiz steps take it",
        "bad/keys/lesson.toml:32: step 4: `tables`: name 1 to 4 tables, not 5",
        "bad/keys/lesson.toml:39: step 5: `tables`: `Posts; drop` is not a table name (lowercase letters, digits and _, starting with a letter)",
        "bad/keys/lesson.toml:45: step 6: `tables` goes with `opens = \"tables\"`, which this step does not have",
        "bad/keys/lesson.toml:52: step 7: `tables` goes with `opens = \"tables\"`, not `opens = \"schema\"`",
        "bad/keys/lesson.toml:58: step 8: `tables` does not belong on a run step; only read steps take it",
        "bad/keys/lesson.toml:64: step 9: `opens` names a screen a step can open: `schema` or `tables`, not `rows`",
        "bad/missing/lesson.toml: missing `title`",
        "bad/missing/lesson.toml: missing `summary` (one line for the list)",
        "bad/missing/lesson.toml: missing `minutes` (the minutes the lesson is planned to take in a lecture, 1 to 120)",
        "bad/missing/lesson.toml:3: step 1: missing `kind` (one of read, diagram, run, demo, exercise, quiz)",
        "bad/missing/lesson.toml:6: step 2: missing `title`",
        "bad/missing/lesson.toml:6: step 2: missing `text` (the Markdown file with this step's prose)",
        "bad/missing/lesson.toml:9: step 3: missing `sql` (the SQL to show and run)",
        "bad/missing/lesson.toml:13: step 4: missing `starter` (the SQL the editor starts with)",
        "bad/missing/lesson.toml:13: step 4: missing `solution` (the reference SQL)",
        "bad/missing/lesson.toml:13: step 4: missing `hints` (at least one hint)",
        "bad/missing/lesson.toml:13: step 4: missing `check` (e.g. check = { rows = \"unordered\" })",
        "bad/files/lesson.toml:8: step 1: `01-missing.md` not found in bad/files; create it or fix `text`",
        "bad/files/lesson.toml:13: step 2: `02-missing.txt` not found in bad/files; create it or fix `diagram`",
        "bad/files/lesson.toml:18: step 3: `text` must name a file inside the lesson folder, not `../keys/01.md`",
        "bad/layers/lesson.toml:4: `minutes` must be an integer, not a string",
        "bad/layers/lesson.toml:8: step 1: `one.txt` has 1 layer; a diagram needs at least 2, separated by a line that is exactly `---`",
        "bad/layers/lesson.toml:13: step 2: `empty.txt` layer 2 is empty; remove the extra `---` line",
        "bad/exercise/lesson.toml:8: step 1: `starter` must not be empty",
        "bad/exercise/lesson.toml:9: step 1: `solution` must not be empty",
        "bad/exercise/lesson.toml:10: step 1: `hints` is empty; give at least one hint",
        "bad/exercise/lesson.toml:11: step 1: check: checks nothing; set at least one of rows, max_round_trips, plan_contains, plan_excludes, min_speedup, lint_free",
        "bad/exercise/lesson.toml:20: step 2: `hints` item 2 is empty",
        "bad/exercise/lesson.toml:22: step 2: check: `rows` must be \"ordered\" or \"unordered\", not \"sorted\"",
        "bad/exercise/lesson.toml:22: step 2: check: `max_round_trips` must be at least 1, not 0",
        "bad/exercise/lesson.toml:22: step 2: check: `Hash join` is not a PostgreSQL plan node type; did you mean `Hash Join`?",
        "bad/exercise/lesson.toml:22: step 2: check: `Full Scan` is not a PostgreSQL plan node type; use a node type as EXPLAIN names it, e.g. `Seq Scan`, `Hash Join`",
        "bad/exercise/lesson.toml:22: step 2: check: `Seq Scan` is in both plan_contains and plan_excludes; no plan can pass",
        "bad/exercise/lesson.toml:27: step 3: `sql` must not be empty",
        "bad/exercise/lesson.toml:35: step 4: check: `min_speedup` must be a whole number from 2 to 10000, not 1",
        "bad/exercise/lesson.toml:35: step 4: check: `query` must hold exactly one statement for the plan checks, not 2",
        "bad/exercise/lesson.toml:43: step 5: check: `query` names the statement the rows, plan or speed-up checks look at, but there are none; add rows, plan_contains, plan_excludes or min_speedup",
        "bad/exercise/lesson.toml:51: step 6: check: `lint_free = false` checks nothing; leave the key out to allow warnings",
        "bad/exercise/lesson.toml:59: step 7: check: unknown key `lint_fre` (did you mean `lint_free`?); check takes: rows, max_round_trips, plan_contains, plan_excludes, query, min_speedup, lint_free, inputs",
        "bad/exercise/lesson.toml:67: step 8: check: `inputs` needs at least one input and `rows` to compare each input's rows",
        "bad/quiz/lesson.toml:9: step 1: `options` has 1; a quiz needs 2 to 6 options",
        "bad/quiz/lesson.toml:15: step 2: `options` has 2 correct answers; mark exactly one with `correct = true`",
        "bad/quiz/lesson.toml:25: step 3: option 1: missing `why` (why this answer is right or wrong)",
        "bad/quiz/lesson.toml:26: step 3: option 2: `correct` must be true or false, not a string",
        "bad/quiz/lesson.toml:26: step 3: option 2: `why` must not be empty",
        "bad/quiz/lesson.toml:27: step 3: option 3: an option must be a table, not a string",
        "bad/demo/lesson.toml:8: step 1: demo `n_plus_two.lazy`: no such demo; known demos start with `n_plus_one.`",
        "bad/demo/lesson.toml:14: step 2: `params` must be a table like { posts = 10 }, not an integer",
        "bad/diagram-number/lesson.toml:2: diagram 2 is already taught by lesson `keys`; each diagram has one lesson",
        "bad/diagram-number/lesson.toml:4: `minutes` must be a whole number of minutes from 1 to 120, not 0",
        "bad/kind/lesson.toml:2: `diagram` must be a chapter diagram number from 1 to 11, not 12",
        "bad/kind/lesson.toml:4: `minutes` must be a whole number of minutes from 1 to 120, not 121",
        "bad/kind/lesson.toml:6: step 1: unknown step kind `video`; use one of read, diagram, run, demo, exercise, quiz",
        "bad/kind/lesson.toml:11: step 2: `kind` must be a string, not an integer",
        "bad/bad-id/lesson.toml: missing `summary` (one line for the list)",
        // Lesson text: keys through the keymap, none in plain text, none bare.
        "bad/text/01.md:1: the query log is a pane of the lab, and `pglab lessons run` prints this text too: put the words in {lab:…|…} with a plain-text form after the bar",
        "bad/text/01.md:5: \"Press\" asks for a key, and `pglab lessons run` prints this text too: put the words in {lab:…|…} with a plain-text form after the bar",
        "bad/text/01.md:5: `l` names a key as bare text; name it through the keymap, {key:global.cycle_latency}, so it follows the keymap",
        "bad/text/01.md:5: `Enter` names a key as bare text; name it through the keymap, so it follows the keymap: one of {key:lesson_list.open}, {key:player.activate}, {key:log.activate}, {key:notes.activate}, {key:audit_filter.activate}",
        "bad/text/01.md:7: `{key:audit.show_audit}`: show_audit is bound in global, not in audit; write {key:global.show_audit}",
        "bad/text/01.md:7: `{key:global.show_audit}` would be printed by `pglab lessons run`, which has no keys: add the plain words after a bar, {key:global.show_audit|…}, or put the sentence in {lab:…|…} with its plain-text form",
        "bad/text/02.txt:3: `F7` names a key as bare text; titles, summaries and diagrams are shown as written, so say it without the key and name the key in the step's text",
        "bad/text/02.txt:3: `{key:global.show_audit}`: titles, summaries and diagrams are shown as written, without references; name keys in the step's text",
        "bad/text/lesson.toml:4: `minutes` must be an integer, not a float",
        "bad/text/lesson.toml:7: step 1: `title`: `F7` names a key as bare text; titles, summaries and diagrams are shown as written, so say it without the key and name the key in the step's text",
        "bad/text/lesson.toml:10: step 1: `notes`: `{key:player.show_audit}`: show_audit is bound in global, not in player; write {key:global.show_audit}",
        "bad/text/lesson.toml:11: step 1: `notes`: `r` names a key as bare text; name it through the keymap, {key:audit.filter_record}, so it follows the keymap",
        "bad/text/lesson.toml:24: step 3: `hints` item 1: \"Press\" asks for a key, and `pglab lessons run` prints this text too: put the words in {lab:…|…} with a plain-text form after the bar",
        "bad/text/lesson.toml:24: step 3: `hints` item 1: `{key:global.show_audit}` would be printed by `pglab lessons run`, which has no keys: add the plain words after a bar, {key:global.show_audit|…}, or put the sentence in {lab:…|…} with its plain-text form",
        "bad/text/lesson.toml:24: step 3: `hints` item 2: `{key:audit.filter_row}`: the keymap binds no key to `filter_row` in audit; audit binds back, up, down, page_up, page_down, end, filter_record, filter_actor, filter_table, cycle_window, clear_filter, edit_filter",
        "bad/text/lesson.toml:30: step 4: `question`: `{lab:…}` needs its plain-text form after a bar, for `pglab lessons run`: {lab:…|…}, or {lab:…|} to print nothing there",
        "bad/text/lesson.toml:32: step 4: option 1: `text`: `q` names a key as bare text; name it through the keymap, {key:global.quit}, so it follows the keymap",
        "bad/text/lesson.toml:33: step 4: option 2: `text`: `Tab` names a key as bare text; name it through the keymap, {key:global.toggle_log_focus}, so it follows the keymap",
        "bad/diagnosis/lesson.toml:12: step 1: `warnings` does not belong on an exercise step; only run and demo steps take it",
        "bad/diagnosis/lesson.toml:15: step 1: diagnosis 1: `name` must be lowercase letters, digits and `-`, at most 32 characters, not `Bad Name`",
        "bad/diagnosis/lesson.toml:16: step 1: diagnosis 1: `why` names `{extra}`, but the check compares no rows, so there are none to show",
        "bad/diagnosis/lesson.toml:17: step 1: diagnosis 1: `answer_has` is empty",
        "bad/diagnosis/lesson.toml:18: step 1: diagnosis 1: `extra_rows_in` looks at the answer's rows, but the check compares none; add rows = \"unordered\" or \"ordered\" to the check",
        "bad/diagnosis/lesson.toml:19: step 1: diagnosis 1: `fails = \"order\"` can never hold: the check does not compare the rows' order (rows = \"ordered\")",
        "bad/diagnosis/lesson.toml:20: step 1: diagnosis 1: `warned` must name a warning rule (n_plus_one, duplicate, spliced, tenancy, soft_delete, constants), not \"n+1\"",
        "bad/diagnosis/lesson.toml:22: step 1: diagnosis 2: has no condition; set at least one of answer_has, answer_lacks, extra_rows_in, missing_rows_in, fails, warned",
        "bad/diagnosis/lesson.toml:32: step 1: diagnosis 4: the name `untested` is taken by diagnosis 3; give each diagnosis its own",
        "bad/diagnosis/lesson.toml:33: step 1: diagnosis 4: `answer_lacks` pattern `; join` holds a `;`: a pattern is part of one statement",
        "bad/diagnosis/lesson.toml:39: step 1: wrong answer 1: unknown key `colour`; a wrong answer takes: answer, expect",
        "bad/diagnosis/lesson.toml:45: step 2: `warnings` names `n_plus_one` twice",
        "bad/diagnosis/lesson.toml:45: step 2: `warnings` item `tenants` is not a warning rule; the rules are n_plus_one, duplicate, spliced, tenancy, soft_delete, constants",
        "bad/diagnosis/lesson.toml:61: step 3: diagnosis `untested` is never tested: add a [[step.wrong]] answer with expect = \"untested\" that it explains",
        "bad/diagnosis/lesson.toml:71: step 3: wrong answer 2: `expect` names no diagnosis of this exercise: `nowhere`; its diagnoses are tested, untested",
    ];
    let got = lines(&load_errors("bad"));
    for (index, (got, want)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "problem {}", index + 1);
    }
    assert_eq!(got.len(), expected.len(), "all problems: {got:#?}");
}

#[test]
fn problems_are_structured_as_well_as_displayed() {
    let errors = load_errors("bad");
    let problem = errors
        .problems
        .iter()
        .find(|problem| problem.message.contains("n_plus_two.lazy"))
        .unwrap();
    assert_eq!(problem.file, Path::new("bad/demo/lesson.toml"));
    assert_eq!(problem.line, Some(8));
}

#[test]
fn index_problems_that_stop_the_load() {
    let cases = [
        (
            "bad-version",
            "bad-version/index.toml:1: format_version 2 is not supported; \
             this pglab reads format_version = 1",
        ),
        (
            "bad-index-syntax",
            "bad-index-syntax/index.toml:3: TOML syntax: unclosed array table, expected `]`",
        ),
        (
            "missing-index",
            "missing-index/index.toml: not found; \
             a lesson catalogue is a folder with an index.toml listing its lessons",
        ),
        (
            "no-lessons",
            "no-lessons/index.toml: lists no lessons; add [[lesson]] tables with `id` and `dir`",
        ),
    ];
    for (name, want) in cases {
        assert_eq!(lines(&load_errors(name)), [want], "catalogue {name}");
    }
}

#[test]
fn good_catalogue_loads_every_step_kind() {
    let root = fixture("good");
    let catalog = Catalog::load(&root, &demos).unwrap_or_else(|errors| panic!("{errors}"));
    assert_eq!(catalog.source, Source::Folder(root.clone()));
    let ids: Vec<&str> = catalog.lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["memory", "n-plus-one"]);

    let memory = catalog.find("1").unwrap();
    assert_eq!(memory.dir, root.join("01-memory"));
    assert_eq!(memory.title, "In memory vs in a database");
    assert_eq!(memory.summary, "What survives a restart.");
    let read = &memory.steps[0];
    assert_eq!(read.kind, StepKind::Read);
    assert_eq!(read.title, "A list in RAM");
    assert!(
        read.body
            .as_deref()
            .unwrap()
            .starts_with("# A list in RAM\n")
    );
    assert_eq!(
        read.notes.as_deref(),
        Some("Ask who has lost work to a crash.")
    );
    assert_eq!(
        read.opens,
        Some(pglab::lesson::Opens::Tables(vec![
            "users".into(),
            "posts".into()
        ]))
    );
    let StepKind::Diagram { layers } = &memory.steps[1].kind else {
        panic!("step 2 is a diagram: {:?}", memory.steps[1]);
    };
    assert_eq!(
        layers,
        &["process\n  Vec<Note>", "process -> PostgreSQL", "disk"]
    );
    assert_eq!(memory.steps[1].body, None);
    assert_eq!(
        memory.steps[2].kind,
        StepKind::Run {
            sql: "select count(*) from note".into()
        }
    );

    let n_plus_one = catalog.find("n-plus-one").unwrap();
    assert_eq!(n_plus_one.diagram, 8);
    assert_eq!(catalog.position("8"), Some(1));
    let StepKind::Demo { name, params } = &n_plus_one.steps[0].kind else {
        panic!("step 1 is a demo");
    };
    assert_eq!(name, "n_plus_one.lazy");
    assert_eq!(
        params.get("posts").and_then(toml::Value::as_integer),
        Some(10)
    );
    assert_eq!(
        params.get("latency_ms").and_then(toml::Value::as_float),
        Some(0.5)
    );

    let StepKind::Exercise(exercise) = &n_plus_one.steps[1].kind else {
        panic!("step 2 is an exercise");
    };
    assert_eq!(exercise.starter, "select * from post");
    assert!(exercise.solution.starts_with("select p.title, u.name\n"));
    assert_eq!(exercise.hints, ["Join the authors.", "Use `join ... on`."]);
    assert_eq!(exercise.check.rows, Some(RowOrder::Unordered));
    assert_eq!(exercise.check.max_round_trips, Some(1));
    assert_eq!(exercise.check.plan_contains, ["Hash Join"]);
    assert_eq!(exercise.check.plan_excludes, ["Nested Loop"]);
    assert!(exercise.check.needs_plan());
    assert_eq!(
        n_plus_one.steps[0].warnings,
        Some(vec![WarningRule::NPlusOne])
    );
    assert_eq!(n_plus_one.steps[1].warnings, None);
    let names: Vec<&str> = exercise
        .check
        .diagnoses
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["null-compare", "loop"]);
    assert_eq!(
        exercise.check.diagnoses[0].when,
        [
            Condition::AnswerHas(vec!["= null".into(), "<> null".into()]),
            Condition::ExtraRowsIn(
                "select title, 'a deleted post' from post where deleted_at is not null".into()
            ),
        ]
    );
    assert_eq!(
        exercise.check.diagnoses[1].when,
        [
            Condition::Fails(Failure::RoundTrips),
            Condition::Warned(WarningRule::NPlusOne),
        ]
    );
    assert_eq!(
        exercise.check.diagnosis_queries(),
        ["select title, 'a deleted post' from post where deleted_at is not null"]
    );
    let expected: Vec<&str> = exercise.wrong.iter().map(|w| w.expect.as_str()).collect();
    assert_eq!(expected, ["null-compare", "loop"]);
    assert_eq!(
        n_plus_one.steps[1].body.as_deref(),
        Some("Fetch every post with its author in **one** query.\n")
    );

    let StepKind::Quiz(quiz) = &n_plus_one.steps[2].kind else {
        panic!("step 3 is a quiz");
    };
    assert_eq!(quiz.options.len(), 2);
    assert_eq!(quiz.correct_option(), Some(1));
    assert_eq!(quiz.options[1].why, "Latency times N.");

    let StepKind::Exercise(ordered) = &n_plus_one.steps[3].kind else {
        panic!("step 4 is an exercise");
    };
    assert_eq!(ordered.check.rows, Some(RowOrder::Ordered));
    assert!(!ordered.check.needs_plan());
}

/// The course's own lessons, once they exist in this checkout.
#[test]
fn real_lessons_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    if !root.join("index.toml").exists() {
        eprintln!(
            "skipped: {} does not exist yet",
            root.join("index.toml").display()
        );
        return;
    }
    let catalog =
        Catalog::load(&root, &pglab::demo::validate).unwrap_or_else(|errors| panic!("{errors}"));
    assert!(!catalog.lessons.is_empty());
}

/// The chapter's plan: 5/5/5/15/10/10/12/15/10/8/10 minutes for diagrams 1 to 11, 105 in all.
#[test]
fn built_in_lessons_keep_the_chapter_plan() {
    let catalog = Catalog::load_from(Source::built_in(), &pglab::demo::validate)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let planned: Vec<(u8, u8)> = catalog
        .lessons
        .iter()
        .map(|l| (l.diagram, l.minutes))
        .collect();
    let plan = [5, 5, 5, 15, 10, 10, 12, 15, 10, 8, 10];
    let expected: Vec<(u8, u8)> = (1..).zip(plan).collect();
    assert_eq!(planned, expected);
    assert_eq!(catalog.planned_minutes(), 105);
}

/// The lessons built into the binary are the `lessons/` folder, read the same way.
#[test]
fn built_in_lessons_are_the_lessons_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let folder =
        Catalog::load(&root, &pglab::demo::validate).unwrap_or_else(|errors| panic!("{errors}"));
    let built_in = Catalog::load_from(Source::built_in(), &pglab::demo::validate)
        .unwrap_or_else(|errors| panic!("{errors}"));
    assert!(!built_in.lessons.is_empty());
    assert_eq!(built_in.lessons.len(), folder.lessons.len());
    for (built_in, folder) in built_in.lessons.iter().zip(&folder.lessons) {
        assert_eq!(built_in.id, folder.id);
        assert_eq!(built_in.title, folder.title);
        assert_eq!(built_in.steps, folder.steps, "lesson {}", folder.id);
        assert_eq!(
            built_in.dir,
            Path::new("lessons").join(folder.dir.file_name().unwrap())
        );
    }
}

/// One catalogue with a linked file, a linked lesson folder and an oversized file, written to
/// a folder and embedded: both are refused the same way, at the line that names the file.
#[test]
fn a_folder_and_embedded_files_are_held_to_the_same_rules() {
    const INDEX: &str = "format_version = 1\n\n[[lesson]]\nid = \"memory\"\ndir = \"01-memory\"\n\n\
                         [[lesson]]\nid = \"linked\"\ndir = \"02-linked\"\n";
    const LESSON: &str = "title = \"Memory\"\ndiagram = 1\nsummary = \"s\"\nminutes = 5\n[[step]]\n\
                          kind = \"read\"\ntitle = \"Linked\"\ntext = \"01-story.md\"\n\n\
                          [[step]]\nkind = \"read\"\ntitle = \"Big\"\ntext = \"02-big.md\"\n";
    let big = "x".repeat(usize::try_from(pglab::lesson::MAX_FILE_BYTES).unwrap() + 1);

    let dir = std::env::temp_dir().join(format!("pglab-it-lesson-rules-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = dir.join("lessons");
    std::fs::create_dir_all(root.join("01-memory")).unwrap();
    std::fs::write(root.join("index.toml"), INDEX).unwrap();
    std::fs::write(root.join("01-memory/lesson.toml"), LESSON).unwrap();
    std::fs::write(root.join("01-memory/02-big.md"), &big).unwrap();
    std::fs::write(dir.join("outside.md"), "not a lesson file\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside.md"), root.join("01-memory/01-story.md")).unwrap();
    std::os::unix::fs::symlink(root.join("01-memory"), root.join("02-linked")).unwrap();
    let from_folder = Catalog::load(&root, &demos);
    let _ = std::fs::remove_dir_all(&dir);

    let files: &'static [(&'static str, Entry)] = Box::leak(Box::new([
        ("index.toml", Entry::File(INDEX.as_bytes())),
        ("01-memory/lesson.toml", Entry::File(LESSON.as_bytes())),
        ("01-memory/01-story.md", Entry::NotRegular),
        ("01-memory/02-big.md", Entry::File(big.leak().as_bytes())),
        ("02-linked", Entry::NotRegular),
    ]));
    let embedded = Catalog::load_from(Source::Embedded(files), &demos);

    let limit = pglab::lesson::MAX_FILE_BYTES;
    let expected = [
        "lessons/index.toml:9: lesson 2: folder `02-linked` is a symbolic link or a special \
         file; a lesson is a real folder next to index.toml, so move the folder in"
            .to_string(),
        "lessons/01-memory/lesson.toml:8: step 1: `01-story.md` is not a regular file (a \
         symbolic link, a FIFO or a device); lessons read only regular files inside their \
         folder, so copy the file in"
            .to_string(),
        format!(
            "lessons/01-memory/lesson.toml:13: step 2: `02-big.md` is {} bytes; a lesson file \
             may be at most 256 KiB, so split it or name the right file",
            limit + 1
        ),
    ];
    for (source, loaded) in [("folder", from_folder), ("embedded", embedded)] {
        let errors = loaded.expect_err(source);
        assert_eq!(lines(&errors), expected, "{source}");
    }
}

/// The built-in lessons as `pglab lessons run` prints them and as the lab shows them: every
/// reference resolved, the plain text naming no key (resolved, it passes the checker as text
/// shown everywhere), the lab's text naming keys by the keymap's labels.
#[test]
fn lesson_text_names_keys_in_the_lab_and_never_in_plain_text() {
    use pglab::lesson::text::{Audience, Shown, check, resolve};
    use pglab::ui::player::{StepView, step_page};
    use pglab::ui::theme::Theme;

    let catalog = Catalog::load_from(Source::built_in(), &pglab::demo::validate)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let progress = pglab::lesson::Progress::default();
    for lesson in &catalog.lessons {
        for (index, step) in lesson.steps.iter().enumerate() {
            let mut texts: Vec<&str> = step.body.iter().map(String::as_str).collect();
            match &step.kind {
                StepKind::Exercise(exercise) => {
                    texts.extend(exercise.hints.iter().map(String::as_str))
                }
                StepKind::Quiz(quiz) => {
                    texts.push(&quiz.question);
                    for option in &quiz.options {
                        texts.extend([option.text.as_str(), option.why.as_str()]);
                    }
                }
                _ => {}
            }
            for text in texts {
                let plain = resolve(text, Audience::Plain);
                let flaws = check(&plain, Shown::Everywhere);
                assert!(
                    flaws.is_empty(),
                    "{} step {}: {flaws:?}\n{plain}",
                    lesson.id,
                    index + 1
                );
                assert!(!resolve(text, Audience::Lab).contains("{key:"));
            }
            for interactive in [false, true] {
                let view = StepView {
                    lesson,
                    index,
                    layers: usize::MAX,
                    output: None,
                    progress: progress.lesson(&lesson.id),
                    notes: interactive,
                    presenting: false,
                    running: false,
                    interactive,
                };
                let page = step_page(&view, &Theme::plain(), 100);
                let shown: String = page
                    .into_lines()
                    .into_iter()
                    .flat_map(|(line, _)| line.spans.into_iter().map(|s| s.content.into_owned()))
                    .collect();
                assert!(
                    !shown.contains("{key:") && !shown.contains("{lab:"),
                    "{} step {}: {shown}",
                    lesson.id,
                    index + 1
                );
            }
        }
    }
    // Lesson 11's timeline step: the keys in the lab, `pglab audit`'s options in plain text.
    let audit = catalog.find("11").unwrap();
    let timeline = audit
        .steps
        .iter()
        .find(|step| step.title.contains("timeline"))
        .and_then(|step| step.body.as_deref())
        .unwrap();
    let lab = resolve(timeline, Audience::Lab);
    assert!(
        lab.starts_with("The timeline (`F7`)") && lab.contains("- `r`: one record"),
        "{lab}"
    );
    let plain = resolve(timeline, Audience::Plain);
    assert!(
        plain.contains("- `--record users:2`: one record") && !plain.contains("`r`"),
        "{plain}"
    );
}
