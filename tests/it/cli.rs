//! The command line itself: help, exit codes, and running against a `DATABASE_URL`.

use pglab::testing::TestDb;
use sqlx::ConnectOptions;

use super::support::{Scratch, assert_success, stderr, stdout};

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let out = Scratch::new("help").run(&["--help"]);
    assert_success(&out);
    let text = stdout(&out);
    for needle in ["db", "seed", "--database-url", "--data-dir", "Exit codes"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("__keeper"), "the internal command is hidden");
    let db = stdout(&Scratch::new("help-db").run(&["db", "--help"]));
    for needle in ["status", "url", "psql", "serve", "stop", "reset"] {
        assert!(db.contains(needle), "missing {needle:?} in\n{db}");
    }
}

/// An installed or copied binary has no `lessons/` folder beside it: the lessons it lists are
/// the ones built into it. (`cargo install` itself is too slow for the test suite.)
#[test]
fn lessons_are_built_into_the_binary() {
    let lab = Scratch::new("builtin-lessons");
    let elsewhere = lab.dir.join("empty");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = lab
        .pglab()
        .env_remove("PGLAB_LESSONS")
        .current_dir(&elsewhere)
        .args(["lessons", "list"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = stdout(&out);
    for needle in [
        " 8  n-plus-one",
        " 9  indexes",
        "10  soft-deletes",
        "11  audit-logging",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Each lesson's planned minutes, lined up over the chapter's total, within 80 columns.
    let n_plus_one = text
        .lines()
        .find(|l| l.starts_with(" 8  n-plus-one"))
        .unwrap();
    assert!(n_plus_one.contains(" 15 min  steps 0/13"), "{text}");
    let total = text.lines().find(|l| l.contains("planned in all")).unwrap();
    assert!(total.ends_with(" 105 min"), "{text}");
    assert_eq!(total.find("105 min"), n_plus_one.find(" 15 min"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn url_without_a_running_server_says_how_to_start_one() {
    let out = Scratch::new("nourl").run(&["db", "url"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pglab db serve"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_database_url_is_used_instead_of_the_private_cluster() {
    let db = TestDb::create().await.unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("external");
    let run = |args: &[&str]| {
        lab.pglab()
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap()
    };

    let status = run(&["db", "status"]);
    assert_success(&status);
    let text = stdout(&status);
    assert!(text.contains("database       DATABASE_URL"), "{text}");
    assert!(text.contains("10 users"), "{text}");
    assert!(
        !lab.dir.join("cluster").exists(),
        "a private cluster was created anyway"
    );

    assert_success(&run(&["seed", "--users", "20"]));
    let reset = run(&["db", "reset"]);
    assert_success(&reset);
    assert!(stdout(&run(&["db", "status"])).contains("10 users"));
}

/// Feedback is tested, not assumed: a wrong answer that another diagnosis explains fails
/// `pglab lessons check`, which names both.
#[test]
fn lessons_check_fails_a_wrong_answer_its_diagnosis_does_not_explain() {
    let lab = Scratch::new("misdiagnosed");
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lessons/misdiagnosed");
    let out = lab
        .pglab()
        .arg("--lessons")
        .arg(&folder)
        .args(["lessons", "check"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains(
            "FAIL soft step 1 (exercise, Live posts): wrong answer 1 (expect = \"rows-differ\"): \
             diagnosis `deleted-listed` explains it instead (diagnoses are tried in order)"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 extra row: (Draft: pricing ideas)"),
        "{text}"
    );
}
