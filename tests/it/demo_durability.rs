//! The first lesson's demos, measured facts only: the in-memory store comes back empty
//! after a kill, PostgreSQL keeps its rows through a restart and a crash, recovery shows in
//! the server log, the uncommitted row is gone, and the server comes back on its port.
//!
//! The restart and the crash run through the `pglab` binary on a private cluster of the
//! test's own (a scratch data directory), never on the test server other tests share; that
//! holds under `DATABASE_URL` too. On a server the lab does not own, they refuse.

use std::time::Duration;

use pglab::demo::durability::store::Store;
use pglab::exit::ExitStatus;

use super::demo::{lab, params};
use super::support::{Scratch, assert_success, stdout};

#[tokio::test]
async fn a_killed_store_starts_again_empty() {
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_pglab"));
    let mut first = Store::spawn(program).await.unwrap();
    assert_eq!(first.ask("put 1 1 Hello").await.unwrap(), "ok 1");
    assert_eq!(first.ask_number("count", 0).await.unwrap(), 1);
    let first_pid = first.pid;
    first.kill().await.unwrap();
    let mut second = Store::spawn(program).await.unwrap();
    assert_ne!(second.pid, first_pid);
    assert_eq!(second.ask_number("count", 0).await.unwrap(), 0);
    assert_eq!(second.ask("get 1").await.unwrap(), "none");
    second.kill().await.unwrap();
}

#[tokio::test]
async fn restart_and_crash_refuse_on_a_server_the_lab_does_not_own() {
    let lab = lab().await;
    for name in ["durability.restart", "durability.crash"] {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let error = pglab::demo::run(&lab.ctx, name, &params(""), tx)
            .await
            .expect_err("refused without a cluster of the lab's own");
        assert!(
            matches!(error, pglab::demo::Error::Refused { .. }),
            "{error}"
        );
        assert_eq!(error.exit_code(), pglab::exit::EXIT_REFUSED);
        assert!(error.to_string().contains("DATABASE_URL"), "{error}");
    }
}

/// The whole lesson as plain text, on a private cluster of this test's own.
#[test]
fn lesson_one_shows_what_survives_a_restart_and_a_crash() {
    let lab = Scratch::new("durability");
    std::fs::create_dir_all(&lab.dir).unwrap();
    // The server runs as another user when the tests run as root.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&lab.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = lab
        .pglab()
        .env(
            "PGLAB_LESSONS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/lessons"),
        )
        .args(["lessons", "run", "1"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_success(&out);
    // As words: the report's sentences are wrapped to the pane.
    let text = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for fact in [
        // the in-memory store, killed and started again
        "store: count → 0",
        "store: get 1 → none",
        "PostgreSQL, on a new connection: 3 rows",
        // the clean restart
        "articles holds 3 rows",
        "LOG: database system is shut down",
        // the crash
        "LOG: database system was not properly shut down",
        "LOG: redo starts at",
        "article 4 (committed):     there",
        "article 5 (not committed): absent",
        // the comparison
        "refused (23503)",
    ] {
        let fact = fact.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains(&fact), "missing {fact:?} in:\n{text}");
    }
    // Every report names the same port: the server came back where the lab's connections
    // (and other labs') look for it.
    let ports: std::collections::HashSet<&str> = text
        .split("on port ")
        .skip(1)
        .filter_map(|rest| rest.split([',', '.', ')']).next())
        .collect();
    assert_eq!(ports.len(), 1, "ports: {ports:?}");
    assert_success(&lab.run(&["db", "stop"]));
    assert!(lab.wait_stopped(Duration::from_secs(10)));
}
