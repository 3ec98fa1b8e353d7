//! The private cluster through the `pglab` binary: first start, reuse by a second lab, no
//! server left behind (even after SIGKILL), taken ports, stale pid files, reset.

use std::process::Stdio;
use std::time::Duration;

use super::support::{Scratch, assert_success, reported_port, stdout, wait_until};

const STOP_WAIT: Duration = Duration::from_secs(10);

#[test]
fn status_initialises_reports_and_leaves_no_server_behind() {
    let lab = Scratch::new("status");
    let out = lab.run(&["db", "status"]);
    assert_success(&out);
    let text = stdout(&out);
    for needle in [
        "private cluster (PostgreSQL",
        "pglab_learner:****@127.0.0.1:",
        "not a superuser",
        "3 organizations, 10 users, 18 posts",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(
        !text.contains(&read_credential(&lab, "learner")),
        "password printed"
    );
    assert!(lab.wait_stopped(STOP_WAIT), "the server outlived pglab");
    // Already initialised: the second start reuses the cluster and the port.
    let again = lab.run(&["db", "status"]);
    assert_success(&again);
    assert_eq!(reported_port(&stdout(&again)), reported_port(&text));
}

#[test]
fn a_second_lab_reuses_the_running_server() {
    let lab = Scratch::new("reuse");
    let mut serve = lab.serve();
    let first = lab.running_server("pglab db serve reported the database up");
    let out = lab.run(&["db", "status"]);
    assert_success(&out);
    assert_eq!(reported_port(&stdout(&out)), first.port);
    let still = lab.running_server("the server stopped while the first lab still runs");
    assert_eq!(
        still.pid, first.pid,
        "the second lab started its own server"
    );
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(lab.wait_stopped(STOP_WAIT));
}

#[test]
fn killing_the_lab_with_sigkill_stops_the_server() {
    let lab = Scratch::new("sigkill");
    let mut serve = lab.serve();
    serve.kill().unwrap(); // SIGKILL: no cleanup code runs in pglab
    serve.wait().unwrap();
    assert!(
        lab.wait_stopped(STOP_WAIT),
        "the server outlived a killed pglab"
    );
}

#[test]
fn a_taken_port_is_replaced_by_a_free_one() {
    let lab = Scratch::new("port");
    let first = lab.run(&["db", "status"]);
    assert_success(&first);
    let port = reported_port(&stdout(&first));
    assert!(lab.wait_stopped(STOP_WAIT));
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let second = lab.run(&["db", "status"]);
    assert_success(&second);
    assert_ne!(reported_port(&stdout(&second)), port);
}

#[test]
fn a_stale_pid_file_from_a_crash_does_not_block_the_start() {
    let lab = Scratch::new("stale");
    assert_success(&lab.run(&["db", "status"]));
    assert!(lab.wait_stopped(STOP_WAIT));
    // A crashed server leaves its pid file; the pid now belongs to another process (ours).
    let pid_file = lab.dir.join("cluster/postmaster.pid");
    std::fs::write(
        &pid_file,
        format!(
            "{}\n{}\n1764151234\n5999\n/tmp\n127.0.0.1\n  1  2\nready\n",
            std::process::id(),
            lab.dir.join("cluster").display()
        ),
    )
    .unwrap();
    assert_success(&lab.run(&["db", "status"]));
}

#[test]
fn reset_returns_to_the_story_and_keeps_progress() {
    let lab = Scratch::new("reset");
    assert_success(&lab.run(&["seed", "--users", "500", "--posts-per-user", "2"]));
    let progress = lab.dir.join("progress.toml");
    std::fs::write(&progress, "current = 8\n").unwrap();
    let seeded = lab.run(&["db", "status"]);
    assert!(
        stdout(&seeded).contains("510 users, 1018 posts"),
        "{}",
        stdout(&seeded)
    );
    let reset = lab.run(&["db", "reset"]);
    assert_success(&reset);
    assert!(stdout(&reset).contains("reset to the story seed"));
    let after = lab.run(&["db", "status"]);
    assert!(
        stdout(&after).contains("10 users, 18 posts"),
        "{}",
        stdout(&after)
    );
    assert_eq!(std::fs::read_to_string(progress).unwrap(), "current = 8\n");
}

fn read_credential(lab: &Scratch, role: &str) -> String {
    let text = std::fs::read_to_string(lab.dir.join("credentials.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{role} = ")))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap()
}

#[test]
fn killing_the_keeper_stops_the_server() {
    let lab = Scratch::new("keeper");
    let mut serve = lab.serve();
    let server = lab.running_server("pglab db serve reported the database up");
    let keeper = parent_of(server.pid);
    let comm = std::fs::read_to_string(format!("/proc/{keeper}/cmdline")).unwrap();
    assert!(comm.contains("__keeper"), "the server's parent is {comm:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(keeper),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        lab.wait_stopped(STOP_WAIT),
        "the server outlived its keeper"
    );
    serve.kill().unwrap();
    serve.wait().unwrap();
}

#[test]
fn a_seed_killed_mid_load_is_finished_by_the_next_start() {
    let lab = Scratch::new("killseed");
    assert_success(&lab.run(&["db", "status"]));
    let mut seed = lab
        .pglab()
        .args(["seed", "--users", "2000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the indexes are dropped and their rebuilds recorded.
    let pending = || {
        let out = lab.run(&[
            "db",
            "psql",
            "--owner",
            "--",
            "-Atc",
            "select count(*) from pglab.deferred_ddl",
        ]);
        stdout(&out).trim().parse::<i64>().unwrap_or(0)
    };
    assert!(
        wait_until(Duration::from_secs(60), || pending() > 0),
        "the load never dropped its indexes"
    );
    seed.kill().unwrap();
    seed.wait().unwrap();

    let status = lab.run(&["db", "status"]);
    assert_success(&status);
    assert!(!stdout(&status).contains("warning"), "{}", stdout(&status));
    let shape = lab.run(&[
        "db",
        "psql",
        "--owner",
        "--",
        "-Atc",
        "select (select count(*) from pglab.deferred_ddl) || ' ' ||
                (select count(*) from pg_constraint where connamespace = 'lab'::regnamespace) || ' ' ||
                (select count(*) from pg_indexes where schemaname = 'lab')",
    ]);
    // Nothing pending; every constraint and index of the fresh schema is back.
    let fresh = Scratch::new("killseed-fresh");
    let expected = fresh.run(&[
        "db",
        "psql",
        "--owner",
        "--",
        "-Atc",
        "select '0 ' ||
                (select count(*) from pg_constraint where connamespace = 'lab'::regnamespace) || ' ' ||
                (select count(*) from pg_indexes where schemaname = 'lab')",
    ]);
    assert_eq!(stdout(&shape), stdout(&expected));
}

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // "pid (comm) state ppid …": comm may hold spaces, so split after the last ')'.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split_whitespace().nth(1).unwrap().parse().unwrap()
}
