//! What the binary does with hostile or careless input (issue 18): lesson and progress files
//! that are links, FIFOs, devices or too large; a reader that closes the pipe early; another
//! database's URL; statements too long for a command line, or ones EXPLAIN has no plan for;
//! the server's source location kept out of messages.

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use pglab::testing::TestDb;
use sqlx::ConnectOptions;

use super::support::{Scratch, assert_success, stderr, stdout, wait_until};

/// `pglab ARGS` in `lab`, killed (and failing the test) if it has not ended in 30 s: the
/// probes here used to hang or eat memory.
fn run_bounded(lab: &Scratch, args: &[&str]) -> Output {
    let mut child = lab
        .pglab()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended = wait_until(Duration::from_secs(30), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(ended, "pglab {args:?} did not end: {}", stderr(&out));
    out
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn lesson_files_that_are_not_regular_files_inside_the_folder_are_refused_by_name() {
    let lab = Scratch::new("hostile-lessons");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let story = "01-why-a-database/01-story.md";
    let fifo = |path: &Path| {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::S_IRWXU).unwrap();
    };
    let big = |path: &Path| std::fs::write(path, vec![b'x'; 2 << 20]).unwrap();
    type Plant = dyn Fn(&Path);
    let cases: [(&str, &Plant, &str); 4] = [
        (
            "zero",
            &|p| symlink("/dev/zero", p).unwrap(),
            "not a regular file",
        ),
        (
            "shadow",
            &|p| symlink("/etc/shadow", p).unwrap(),
            "not a regular file",
        ),
        ("fifo", &fifo, "not a regular file"),
        ("big", &big, "a lesson file may be at most 256 KiB"),
    ];
    for (name, plant, why) in cases {
        let folder = lab.dir.join(name);
        copy_folder(&shipped, &folder);
        std::fs::remove_file(folder.join(story)).unwrap();
        plant(&folder.join(story));
        let out = run_bounded(
            &lab,
            &["--lessons", folder.to_str().unwrap(), "lessons", "list"],
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let text = stderr(&out);
        assert!(
            text.contains("`01-story.md`") && text.contains(why),
            "{name}: {text}"
        );
    }
}

/// On main a progress file linked to /dev/zero was read until memory ran out, and a FIFO
/// blocked `pglab lessons list` for ever.
#[test]
fn a_progress_file_that_is_a_device_or_a_fifo_is_refused_at_once() {
    let lab = Scratch::new("hostile-progress");
    std::fs::create_dir_all(&lab.dir).unwrap();
    let progress = lab.dir.join("progress.json");
    symlink("/dev/zero", &progress).unwrap();
    let out = run_bounded(&lab, &["lessons", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("progress.json is not a regular file"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(&progress).unwrap();
    nix::unistd::mkfifo(&progress, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let out = run_bounded(&lab, &["lessons", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

/// A pipe whose reader is gone before pglab writes (as `| head` leaves it): quiet, 141.
/// On main the write panicked (exit 101, a backtrace on stderr).
#[test]
fn a_closed_standard_output_ends_quietly() {
    let lab = Scratch::new("closed-stdout");
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let out = lab
        .pglab()
        .args(["lessons", "list"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(i32::from(pglab::cli::EXIT_OUTPUT_CLOSED)),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn another_databases_url_is_refused_before_connecting() {
    let lab = Scratch::new("mysql-url");
    let out = lab
        .pglab()
        .env("DATABASE_URL", "mysql://root:hunter2@127.0.0.1:3306/app")
        .args(["db", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("DATABASE_URL is a mysql:// URL"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("reach"),
        "{text}"
    );

    let out = run_bounded(
        &lab,
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "mysql://u:hunter2@127.0.0.1:3306/x",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--upstream is a mysql:// URL"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("pglab proxy on"), "{}", stdout(&out));
}

#[tokio::test]
async fn explain_reads_long_statements_from_a_file_or_stdin_and_refuses_ddl() {
    let db = TestDb::create().await.unwrap();
    let url = db.owner.to_url_lossy().to_string();
    let lab = Scratch::new("explain-file");
    std::fs::create_dir_all(&lab.dir).unwrap();
    let explain = |args: &[&str], input: Option<&str>| {
        let mut child = lab
            .pglab()
            .env("DATABASE_URL", &url)
            .arg("explain")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).unwrap();
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    };

    // Longer than one command-line argument may be (128 KiB): the shell could not pass it.
    let ids: Vec<String> = (0..60_000).map(|n| n.to_string()).collect();
    let long = format!("select count(*) from users where id in ({})", ids.join(","));
    assert!(long.len() > 300_000);
    let file = lab.dir.join("long.sql");
    std::fs::write(&file, &long).unwrap();
    let file = file.to_str().unwrap();
    for (args, input) in [
        (vec!["--file", file], None),
        (vec!["-f", "-"], Some(long.as_str())),
        (
            vec!["select count(*) from users", "--before-file", file],
            None,
        ),
    ] {
        let out = explain(&args, input);
        assert_success(&out);
        assert!(
            stdout(&out).contains("on users"),
            "{args:?}: {}",
            stdout(&out)
        );
    }

    let out = explain(&["-f", "/dev/zero"], None);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds more than 8 MiB"),
        "{}",
        stderr(&out)
    );
    let out = explain(&["-f", "-", "--before-file", "-"], Some("select 1"));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    // DDL has no plan: said so, not `syntax error at or near "table"`.
    let out = explain(&["create table x(a int)"], None);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("EXPLAIN shows the plans of SELECT, INSERT, UPDATE, DELETE")
            && text.contains("`create table` is not one of them"),
        "{text}"
    );

    // The caret points into the learner's statement, not into the EXPLAIN wrapped round it.
    let out = explain(&["select * from users where nosuch = 1"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().collect();
    let (line, caret) = (lines[1], lines[2]);
    assert_eq!(
        line.find("nosuch"),
        caret.find('^'),
        "the caret is under `nosuch`:\n{text}"
    );

    // PostgreSQL's source location (`at line 3211` of its C code) means nothing to a learner.
    let out = explain(&["select pg_terminate_backend(pg_backend_pid())"], None);
    let text = stderr(&out);
    assert!(text.contains("terminating connection"), "{text}");
    assert!(!text.contains(" at line "), "{text}");
}
