//! Real client libraries through `pglab proxy --json`: psycopg2, psycopg 3, asyncpg,
//! SQLAlchemy and node-postgres run the small scripts in `tests/clients/`, and the log must
//! count the round trips each client waits for and flag N+1 for a lazy loop only, never for a
//! pipeline, an `executemany` or an eager load. A scenario's round trips are those between
//! its two marker queries (`select 'pglab:begin:NAME'`, `… 'pglab:end:NAME'`), so a driver's
//! connection set-up is not counted. A missing library skips its client with a note, unless
//! `CI` is set: then it fails (`.ci/run` installs them all).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::journeys::in_ci;
use crate::proxy_cli::RunningProxy;
use crate::support::Scratch;

/// The Python with the distribution's client libraries (not a pyenv one on PATH).
const PYTHON: &str = "/usr/bin/python3";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// What the log says about one scenario.
#[derive(Debug, Default)]
struct Seen {
    round_trips: usize,
    kinds: Vec<String>,
    /// Pattern warnings of its session; those naming round trips only if inside the scenario.
    warnings: Vec<String>,
}

/// Whether `probe` (a program and its arguments) runs; skips (returns false) or fails in CI.
fn available(client: &str, probe: &mut Command) -> bool {
    if probe.output().is_ok_and(|out| out.status.success()) {
        return true;
    }
    assert!(
        !in_ci(),
        "{client} is not installed, and CI is set: install it (.ci/run does)"
    );
    eprintln!("{client} is not installed: its real-client tests are skipped (CI is not set)");
    false
}

fn python_has(module: &str) -> bool {
    available(
        module,
        Command::new(PYTHON).args(["-c", &format!("import {module}")]),
    )
}

/// Runs `program args… URL SCENARIO` for each scenario through one proxy, and reads the
/// log of each.
fn run(name: &str, program: &str, args: &[&str], scenarios: &[&str]) -> Vec<Seen> {
    let scratch = Scratch::new(&format!("clients-{name}"));
    let proxy = RunningProxy::start(&scratch, &["--json"]);
    for scenario in scenarios {
        let out = Command::new(program)
            .args(args)
            .args([proxy.url.as_str(), scenario])
            .current_dir(clients_dir())
            .env("NODE_PATH", clients_dir().join("node_modules"))
            .output()
            .expect("the client runs");
        assert!(
            out.status.success(),
            "{name} {scenario}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log = proxy.stop();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let seen: Vec<Seen> = scenarios.iter().map(|s| seen(&lines, s)).collect();
    // The table a run reports (`-- --nocapture`): client, scenario, what the log said.
    for (scenario, seen) in scenarios.iter().zip(&seen) {
        eprintln!("{name:<10} {scenario:<12} {seen:?}");
    }
    seen
}

fn seen(lines: &[Value], scenario: &str) -> Seen {
    let marker = |which: &str| {
        let sql = format!("select 'pglab:{which}:{scenario}'");
        lines
            .iter()
            .find(|l| {
                l["type"] == "round_trip"
                    && l["sql"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| s["sql"].as_str() == Some(&*sql)))
            })
            .unwrap_or_else(|| panic!("no marker {sql} in the log"))
    };
    let (begin, end) = (marker("begin"), marker("end"));
    let session = &begin["session"];
    let (first, last) = (begin["seq"].as_u64().unwrap(), end["seq"].as_u64().unwrap());
    let mut seen = Seen::default();
    for line in lines.iter().filter(|l| &l["session"] == session) {
        match line["type"].as_str() {
            Some("round_trip") => {
                let seq = line["seq"].as_u64().unwrap();
                if first < seq && seq < last {
                    seen.round_trips += 1;
                    seen.kinds.push(line["kind"].as_str().unwrap().to_string());
                }
            }
            Some("warning") if line["kind"] == "pattern" => {
                let message = line["message"].as_str().unwrap().to_string();
                // An N+1 or duplicate names the round trips it is about: this scenario's.
                if let Some(from) = line["first_seq"].as_u64() {
                    let to = line["last_seq"].as_u64().unwrap();
                    if !(first < from && to < last) {
                        continue;
                    }
                }
                seen.warnings.push(message);
            }
            _ => {}
        }
    }
    seen
}

fn n_plus_one(seen: &Seen) -> bool {
    seen.warnings.iter().any(|w| w.starts_with("N+1"))
}

#[test]
fn psycopg2_pays_a_round_trip_per_lazy_lookup() {
    if !python_has("psycopg2") {
        return;
    }
    let [lazy] = &run("psycopg2", PYTHON, &["psycopg2_client.py"], &["lazy"])[..] else {
        unreachable!()
    };
    // Simple queries, values interpolated by the driver: the posts, then 5 authors.
    assert_eq!(lazy.round_trips, 6, "{lazy:?}");
    assert!(n_plus_one(lazy), "{lazy:?}");
}

#[test]
fn psycopg_pipelines_and_executemany_are_one_round_trip_and_no_n_plus_one() {
    if !python_has("psycopg") {
        return;
    }
    let scenarios = ["lazy", "pipeline", "executemany"];
    let seen = run("psycopg", PYTHON, &["psycopg_client.py"], &scenarios);
    let [lazy, pipeline, executemany] = &seen[..] else {
        unreachable!()
    };
    // Each execution is Parse/Bind/Describe/Execute/Sync: one round trip.
    assert_eq!(lazy.round_trips, 6, "{lazy:?}");
    assert!(n_plus_one(lazy), "{lazy:?}");
    // Ten executions, one Sync.
    assert_eq!(pipeline.round_trips, 1, "{pipeline:?}");
    assert!(!n_plus_one(pipeline), "{pipeline:?}");
    assert_eq!(executemany.round_trips, 1, "{executemany:?}");
    assert!(!n_plus_one(executemany), "{executemany:?}");
}

#[test]
fn asyncpg_prepares_with_a_flush_it_waits_for() {
    if !python_has("asyncpg") {
        return;
    }
    let scenarios = ["lazy", "executemany", "prepare"];
    let seen = run("asyncpg", PYTHON, &["asyncpg_client.py"], &scenarios);
    let [lazy, executemany, prepare] = &seen[..] else {
        unreachable!()
    };
    // Each statement first prepared (Parse/Describe/Flush, and asyncpg waits), then run
    // (Bind/Execute/Sync) from its cache: 2 for the posts, 1 + 5 for the authors.
    assert_eq!(lazy.round_trips, 8, "{lazy:?}");
    assert_eq!(lazy.kinds.iter().filter(|k| *k == "prepare").count(), 2);
    assert!(n_plus_one(lazy), "{lazy:?}");
    // One prepare, then ten Bind/Execute pairs and one Sync.
    assert_eq!(executemany.round_trips, 2, "{executemany:?}");
    assert!(!n_plus_one(executemany), "{executemany:?}");
    assert_eq!(prepare.kinds, ["prepare"], "{prepare:?}");
}

#[test]
fn sqlalchemy_lazy_loads_are_n_plus_one_and_eager_loads_are_not() {
    if !python_has("sqlalchemy") || !python_has("psycopg2") {
        return;
    }
    let scenarios = ["lazy", "selectinload", "joinedload"];
    let seen = run("sqlalchemy", PYTHON, &["sqlalchemy_client.py"], &scenarios);
    let [lazy, selectin, joined] = &seen[..] else {
        unreachable!()
    };
    // The posts, then one load per distinct author (the identity map keeps the rest).
    assert!(lazy.round_trips >= 4, "{lazy:?}");
    assert!(n_plus_one(lazy), "{lazy:?}");
    // The posts, then every author in one `IN` query.
    assert_eq!(selectin.round_trips, 2, "{selectin:?}");
    assert!(!n_plus_one(selectin), "{selectin:?}");
    assert_eq!(joined.round_trips, 1, "{joined:?}");
    assert!(!n_plus_one(joined), "{joined:?}");
}

#[test]
fn node_postgres_pays_a_round_trip_per_lazy_lookup() {
    let mut probe = Command::new("node");
    probe
        .args(["-e", "require('pg')"])
        .env("NODE_PATH", clients_dir().join("node_modules"));
    if !available("node-postgres", &mut probe) {
        return;
    }
    let [lazy] = &run("node-pg", "node", &["node_pg_client.js"], &["lazy"])[..] else {
        unreachable!()
    };
    // Parse/Bind/Describe/Execute/Sync per query.
    assert_eq!(lazy.round_trips, 6, "{lazy:?}");
    assert!(n_plus_one(lazy), "{lazy:?}");
}
