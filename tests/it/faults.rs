//! Bad input and broken surroundings: each ends with a clear message and a meaningful exit
//! code, quickly, and loses nothing.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::support::{Scratch, stderr};

const UNAVAILABLE: i32 = pglab::EXIT_UNAVAILABLE as i32;
const REFUSED: i32 = pglab::EXIT_REFUSED as i32;

#[test]
fn a_data_dir_that_cannot_be_created_is_named_with_the_fix() {
    let lab = Scratch::new("baddir");
    std::fs::create_dir_all(&lab.dir).unwrap();
    let file = lab.dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = lab
        .pglab()
        .env("PGLAB_DATA_DIR", file.join("pglab"))
        .args(["db", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(UNAVAILABLE), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("a-file/pglab") && text.contains("--data-dir"),
        "{text}"
    );
}

#[test]
fn a_database_url_that_refuses_connections_fails_fast() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let out = run_with_url(&format!("postgres://ana:pw@127.0.0.1:{port}/app"));
    assert_eq!(out.status.code(), Some(UNAVAILABLE));
    let text = stderr(&out);
    assert!(
        text.contains("ana@127.0.0.1") && text.contains("Is the server running"),
        "{text}"
    );
    assert!(!text.contains("pw@"), "password printed: {text}");
}

#[test]
fn a_database_url_that_never_answers_times_out_with_a_message() {
    // Accepts connections and then says nothing, like a firewall that drops packets.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let out = run_with_url(&format!("postgres://ana:pw@127.0.0.1:{port}/app"));
    assert_eq!(out.status.code(), Some(UNAVAILABLE));
    assert!(started.elapsed() < Duration::from_secs(20), "it hung");
    assert!(
        stderr(&out).contains("did not answer within"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_server_older_than_13_is_refused_by_name() {
    let port = fake_server("12.9");
    let out = run_with_url(&format!(
        "postgres://ana@127.0.0.1:{port}/app?sslmode=disable"
    ));
    assert_eq!(out.status.code(), Some(UNAVAILABLE), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("PostgreSQL 12.9") && text.contains("13 or newer"),
        "{text}"
    );
}

#[test]
fn absurd_seed_sizes_are_refused_before_anything_starts() {
    let lab = Scratch::new("seedsize");
    for args in [
        ["seed", "--users", "-5"],
        ["seed", "--users", "0"],
        ["seed", "--users", "999999999999"],
    ] {
        let out = lab.run(&args);
        assert_eq!(
            out.status.code(),
            Some(REFUSED),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("--users must be between 1 and"),
            "{}",
            stderr(&out)
        );
    }
    let out = lab.run(&["seed", "--users", "10000000", "--posts-per-user", "1000"]);
    assert_eq!(out.status.code(), Some(REFUSED));
    assert!(stderr(&out).contains("the limit is"), "{}", stderr(&out));
    assert!(
        !lab.dir.join("cluster").exists(),
        "a refused seed started the database"
    );
}

fn run_with_url(url: &str) -> std::process::Output {
    let lab = Scratch::new("url");
    lab.pglab()
        .env("DATABASE_URL", url)
        .args(["db", "status"])
        .output()
        .unwrap()
}

/// A wire-protocol peer that completes the startup exchange as a server of `version` would
/// (trust authentication), then waits. Enough for a client to read the version it reports.
fn fake_server(version: &str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let version = version.to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut len = [0u8; 4];
            if stream.read_exact(&mut len).is_err() {
                continue;
            }
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
            let _ = stream.read_exact(&mut body);
            let mut reply = Vec::new();
            reply.extend_from_slice(&[b'R', 0, 0, 0, 8, 0, 0, 0, 0]); // AuthenticationOk
            for (key, value) in [
                ("server_version", version.as_str()),
                ("client_encoding", "UTF8"),
            ] {
                let payload = format!("{key}\0{value}\0");
                reply.push(b'S'); // ParameterStatus
                reply.extend_from_slice(&(payload.len() as u32 + 4).to_be_bytes());
                reply.extend_from_slice(payload.as_bytes());
            }
            reply.extend_from_slice(&[b'K', 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 2]); // BackendKeyData
            reply.extend_from_slice(&[b'Z', 0, 0, 0, 5, b'I']); // ReadyForQuery
            let _ = stream.write_all(&reply);
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }
    });
    port
}
