//! How `pglab proxy` writes its log: aligned plain-text lines for people, or one JSON
//! object per line for tools (`--json`).

use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::data::ServerError;
use crate::data::proxy::{Event, Kind, SessionEnd};
use crate::query_log::{Entry, QueryLog, Totals, Warning, bytes, pause_line};
use crate::sql::n_plus_one::abbreviate;

/// Longest SQL shown on one text line; the rest is cut with `…`.
const SQL_WIDTH: usize = 100;

pub struct LogWriter<W: Write> {
    out: io::BufWriter<W>,
    json: bool,
}

impl<W: Write> LogWriter<W> {
    pub fn new(out: W, json: bool) -> Self {
        Self {
            out: io::BufWriter::new(out),
            json,
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn header(&mut self, lines: &[String]) -> io::Result<()> {
        if self.json {
            self.line(&json!({"type": "listening", "text": lines}))?;
        } else {
            for line in lines {
                writeln!(self.out, "{line}")?;
            }
        }
        // Whoever waits for the address must see it now, not when traffic starts.
        self.out.flush()
    }

    pub fn notice(&mut self, text: &str) -> io::Result<()> {
        if self.json {
            return self.line(&json!({"type": "notice", "text": text}));
        }
        writeln!(self.out, "{text}")
    }

    /// A session event; round trips are written from their log entry ([`Self::round_trip`]).
    pub fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionStarted {
                session,
                startup_round_trips,
                startup,
            } => {
                if self.json {
                    self.line(&json!({
                        "type": "session_started", "session": session.id,
                        "user": session.user, "database": session.database,
                        "application_name": session.application_name,
                        "client": session.client.to_string(),
                        "backend_pid": session.backend_pid,
                        "startup_round_trips": startup_round_trips, "startup_ms": ms(*startup),
                    }))?;
                } else {
                    writeln!(
                        self.out,
                        "[s{}] connected   {}@{} from {} ({}): {} round trips, {:.1} ms",
                        session.id,
                        session.user,
                        session.database,
                        session.client,
                        or_unnamed(&session.application_name),
                        startup_round_trips,
                        ms(*startup)
                    )?;
                }
            }
            Event::ApplicationName { session, name } => {
                if self.json {
                    self.line(
                        &json!({"type": "application_name", "session": session, "name": name}),
                    )?;
                } else {
                    writeln!(self.out, "[s{session}] now called {}", or_unnamed(name))?;
                }
            }
            Event::Cancel { client } => {
                if self.json {
                    self.line(&json!({"type": "cancel", "client": client.to_string()}))?;
                } else {
                    writeln!(
                        self.out,
                        "cancel request from {client}, passed to the server"
                    )?;
                }
            }
            Event::SessionEnded { session, end } => self.session_ended(*session, end)?,
            Event::RoundTrip(_) => {}
        }
        Ok(())
    }

    pub fn round_trip(&mut self, entry: &Entry) -> io::Result<()> {
        let rt = &entry.round_trip;
        let rows: u64 = rt.statements.iter().map(|s| s.rows).sum();
        let statements: u32 = rt
            .statements
            .iter()
            .map(|s| s.completed + u32::from(s.failed))
            .sum();
        if self.json {
            let sql: Vec<Value> = rt
                .statements
                .iter()
                .map(|s| {
                    json!({"sql": &*s.sql, "rows": s.rows, "completed": s.completed,
                           "failed": s.failed, "truncated": s.truncated})
                })
                .collect();
            return self.line(&json!({
                "type": "round_trip", "seq": entry.seq, "session": rt.session,
                "application_name": &*entry.application_name, "kind": entry.kind.label(),
                "duration_ms": ms(rt.duration), "statements": statements, "rows": rows,
                "received_bytes": rt.received, "sql": sql,
                "error": rt.error.as_ref().map(error_json),
            }));
        }
        let sql = rt
            .statements
            .iter()
            .map(|s| &*s.sql)
            .collect::<Vec<_>>()
            .join(" | ");
        let what = match entry.kind {
            Kind::Ping => "(is the connection alive?)".to_string(),
            _ => abbreviate(&sql, SQL_WIDTH),
        };
        writeln!(
            self.out,
            "#{:<5} [s{}] {:<11} {:>8.2} ms {:>6} rows  {}",
            entry.seq,
            rt.session,
            entry.kind.label(),
            ms(rt.duration),
            rows,
            what
        )?;
        if let Some(error) = &rt.error {
            writeln!(self.out, "{:>21}{error}", "")?;
        }
        Ok(())
    }

    fn session_ended(&mut self, session: u64, end: &SessionEnd) -> io::Result<()> {
        let why = match end {
            SessionEnd::ClientClosed => "closed by the client".to_string(),
            SessionEnd::ServerClosed { error: None } => "closed by the server".to_string(),
            SessionEnd::ServerClosed { error: Some(e) } => format!("closed by the server: {e}"),
            SessionEnd::Failed(why) => format!("ended: {why}"),
        };
        if self.json {
            return self.line(&json!({"type": "session_ended", "session": session, "why": why}));
        }
        writeln!(self.out, "[s{session}] {why}")
    }

    /// Warnings, each on its own line (text) or object (JSON).
    pub fn warnings(&mut self, session: Option<u64>, warnings: &[Warning]) -> io::Result<()> {
        for warning in warnings {
            if self.json {
                let kind = match warning {
                    Warning::Pattern(_) => "pattern",
                    Warning::Lint { .. } => "lint",
                };
                self.line(&json!({"type": "warning", "kind": kind, "session": session,
                                  "message": warning.message()}))?;
            } else {
                writeln!(self.out, "{:>21}⚠ {}", "", warning.message())?;
            }
        }
        Ok(())
    }

    /// What the traffic added up to since it last paused.
    pub fn pause(&mut self, since: &Totals) -> io::Result<()> {
        if self.json {
            let by_kind: serde_json::Map<String, Value> = Kind::ALL
                .iter()
                .map(|&k| (k.label().to_string(), json!(since.of_kind(k))))
                .collect();
            return self.line(&json!({
                "type": "pause", "round_trips": since.round_trips, "by_kind": by_kind,
                "statements": since.statements, "rows": since.rows,
                "received_bytes": since.received, "warnings": since.warnings,
                "waiting_ms": ms(since.waiting),
            }));
        }
        writeln!(self.out, "── since the last pause: {}", pause_line(since))
    }

    pub fn summary(&mut self, log: &QueryLog) -> io::Result<()> {
        let t = log.totals();
        let top = log.top_statements(10);
        if self.json {
            let by_kind: serde_json::Map<String, Value> = Kind::ALL
                .iter()
                .map(|&k| (k.label().to_string(), json!(t.of_kind(k))))
                .collect();
            let top: Vec<Value> = top
                .iter()
                .map(|(shape, count)| json!({"count": count, "sql": &**shape}))
                .collect();
            return self.line(&json!({
                "type": "summary", "round_trips": t.round_trips, "by_kind": by_kind,
                "statements": t.statements, "rows": t.rows, "errors": t.errors,
                "warnings": t.warnings, "waiting_ms": ms(t.waiting),
                "received_bytes": t.received, "top_statements": top,
            }));
        }
        let kinds = Kind::ALL
            .iter()
            .map(|&k| format!("{} {}", t.of_kind(k), k.label()))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(self.out)?;
        writeln!(
            self.out,
            "summary: {} ({kinds}); {}, {} ({} received), {}, {}; {:.1} ms spent waiting for \
             answers",
            count(t.round_trips, "round trip"),
            count(t.statements, "statement"),
            count(t.rows, "row"),
            bytes(t.received),
            count(t.errors, "error"),
            count(t.warnings, "warning"),
            ms(t.waiting)
        )?;
        if !top.is_empty() {
            writeln!(self.out, "most executed statements:")?;
            for (shape, count) in top {
                writeln!(self.out, "{count:>10} × {}", abbreviate(&shape, SQL_WIDTH))?;
            }
        }
        Ok(())
    }

    fn line(&mut self, value: &Value) -> io::Result<()> {
        writeln!(self.out, "{value}")
    }
}

fn error_json(e: &ServerError) -> Value {
    json!({"severity": e.severity, "code": e.sqlstate, "message": e.message,
           "detail": e.detail, "hint": e.hint, "position": e.position})
}

/// `1 row`, `3 rows`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn or_unnamed(name: &str) -> &str {
    if name.is_empty() {
        "no application_name"
    } else {
        name
    }
}
