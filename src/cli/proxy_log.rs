//! How `pglab proxy` writes its log: aligned plain-text lines for people, or one JSON
//! object per line for tools (`--json`).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::text::{abbreviate, plural};

use crate::data::ServerError;
use crate::data::proxy::{Kind, ProxyEvent, SessionEnd};
use crate::query_log::{Entry, QueryLog, Totals, Warning, bytes, pause_line};

/// Longest SQL shown on one text line; the rest is cut with `…`.
const SQL_WIDTH: usize = 100;
/// Longest SQL, message or value a line prints in full (JSON included); longer ones are cut
/// and say their length.
const MAX_PRINTED: usize = 2_000;

/// `text`, or its first [`MAX_PRINTED`] characters followed by its full length.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_PRINTED) {
        None => text.into(),
        Some((cut, _)) => {
            let length = text.chars().count();
            format!("{}… ({length} characters in all)", &text[..cut]).into()
        }
    }
}

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
            self.line(&Json::Listening { text: lines })?;
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
            return self.line(&Json::Notice { text });
        }
        writeln!(self.out, "{text}")
    }

    /// A session event; round trips are written from their log entry ([`Self::round_trip`]).
    pub fn event(&mut self, event: &ProxyEvent) -> io::Result<()> {
        match event {
            ProxyEvent::SessionStarted {
                session,
                startup_round_trips,
                startup,
            } => {
                if self.json {
                    self.line(&Json::SessionStarted {
                        session: session.id,
                        user: &session.user,
                        database: &session.database,
                        application_name: &session.application_name,
                        client: session.client.to_string(),
                        backend_pid: session.backend_pid,
                        startup_round_trips: *startup_round_trips,
                        startup_ms: ms(*startup),
                    })?;
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
            ProxyEvent::ApplicationName { session, name } => {
                if self.json {
                    self.line(&Json::ApplicationName {
                        session: *session,
                        name,
                    })?;
                } else {
                    writeln!(self.out, "[s{session}] now called {}", or_unnamed(name))?;
                }
            }
            ProxyEvent::Cancel { client } => {
                if self.json {
                    self.line(&Json::Cancel {
                        client: client.to_string(),
                    })?;
                } else {
                    writeln!(
                        self.out,
                        "cancel request from {client}, passed to the server"
                    )?;
                }
            }
            ProxyEvent::SessionEnded { session, end } => self.session_ended(*session, end)?,
            ProxyEvent::RoundTrip(_) => {}
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
            let sql = rt
                .statements
                .iter()
                .map(|s| {
                    let sql = bounded(&s.sql);
                    JsonStatement {
                        truncated: s.truncated || sql.len() != s.sql.len(),
                        sql,
                        rows: s.rows,
                        completed: s.completed,
                        failed: s.failed,
                        skipped: s.skipped,
                    }
                })
                .collect();
            return self.line(&Json::RoundTrip {
                seq: entry.seq,
                session: rt.session,
                application_name: &entry.application_name,
                kind: entry.kind.label(),
                duration_ms: ms(rt.duration),
                statements,
                rows,
                received_bytes: rt.received,
                sql,
                error: rt.error.as_ref().map(JsonError::from),
            });
        }
        let sql = rt
            .statements
            .iter()
            .map(|s| match s.skipped {
                true => format!("(skipped) {}", s.sql),
                false => s.sql.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let what = match entry.kind {
            Kind::Ping if sql.is_empty() => "(is the connection alive?)".to_string(),
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
            writeln!(self.out, "{:>21}{}", "", bounded(&error.to_string()))?;
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
            return self.line(&Json::SessionEnded { session, why: &why });
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
                let span = warning.span();
                self.line(&Json::Warning {
                    kind,
                    session: span.map(|s| s.session).or(session),
                    first_seq: span.map(|s| s.first),
                    last_seq: span.map(|s| s.last),
                    message: bounded(&warning.message()).into_owned(),
                })?;
            } else {
                writeln!(self.out, "{:>21}⚠ {}", "", bounded(&warning.line()))?;
            }
        }
        Ok(())
    }

    /// What the traffic added up to since it last paused.
    pub fn pause(&mut self, since: &Totals) -> io::Result<()> {
        if self.json {
            return self.line(&Json::Pause {
                round_trips: since.round_trips,
                by_kind: by_kind(since),
                statements: since.statements,
                rows: since.rows,
                received_bytes: since.received,
                warnings: since.warnings,
                waiting_ms: ms(since.waiting),
            });
        }
        writeln!(self.out, "── since the last pause: {}", pause_line(since))
    }

    pub fn summary(&mut self, log: &QueryLog) -> io::Result<()> {
        let t = log.totals();
        let top = log.top_statements(10);
        if self.json {
            return self.line(&Json::Summary {
                round_trips: t.round_trips,
                by_kind: by_kind(t),
                statements: t.statements,
                rows: t.rows,
                errors: t.errors,
                warnings: t.warnings,
                waiting_ms: ms(t.waiting),
                received_bytes: t.received,
                top_statements: top
                    .iter()
                    .map(|(shape, count)| JsonTop {
                        count: *count,
                        sql: shape,
                    })
                    .collect(),
            });
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
            plural(t.round_trips, "round trip", "round trips"),
            plural(t.statements, "statement", "statements"),
            plural(t.rows, "row", "rows"),
            bytes(t.received),
            plural(t.errors, "error", "errors"),
            plural(t.warnings, "warning", "warnings"),
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

    fn line(&mut self, line: &Json) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        writeln!(self.out)
    }
}

/// One line of `--json` output: an object whose `type` says which.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Json<'a> {
    Listening {
        text: &'a [String],
    },
    Notice {
        text: &'a str,
    },
    SessionStarted {
        session: u64,
        user: &'a str,
        database: &'a str,
        application_name: &'a str,
        client: String,
        backend_pid: Option<i32>,
        startup_round_trips: u32,
        startup_ms: f64,
    },
    ApplicationName {
        session: u64,
        name: &'a str,
    },
    Cancel {
        client: String,
    },
    RoundTrip {
        seq: u64,
        session: u64,
        application_name: &'a str,
        kind: &'static str,
        duration_ms: f64,
        statements: u32,
        rows: u64,
        received_bytes: u64,
        sql: Vec<JsonStatement<'a>>,
        error: Option<JsonError<'a>>,
    },
    SessionEnded {
        session: u64,
        why: &'a str,
    },
    Warning {
        kind: &'static str,
        session: Option<u64>,
        /// The round trips an N+1 or duplicate warning is about.
        #[serde(skip_serializing_if = "Option::is_none")]
        first_seq: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seq: Option<u64>,
        message: String,
    },
    Summary {
        round_trips: u64,
        by_kind: std::collections::BTreeMap<&'static str, u64>,
        statements: u64,
        rows: u64,
        errors: u64,
        warnings: u64,
        waiting_ms: f64,
        received_bytes: u64,
        top_statements: Vec<JsonTop<'a>>,
    },
    /// What the traffic added up to since it last paused.
    Pause {
        round_trips: u64,
        by_kind: std::collections::BTreeMap<&'static str, u64>,
        statements: u64,
        rows: u64,
        received_bytes: u64,
        warnings: u64,
        waiting_ms: f64,
    },
}

/// Round trips of each kind, by the kind's label.
fn by_kind(totals: &Totals) -> std::collections::BTreeMap<&'static str, u64> {
    Kind::ALL
        .iter()
        .map(|&k| (k.label(), totals.of_kind(k)))
        .collect()
}

#[derive(Serialize)]
struct JsonStatement<'a> {
    sql: std::borrow::Cow<'a, str>,
    rows: u64,
    completed: u32,
    failed: bool,
    /// Skipped by the server after an earlier statement of the pipeline failed.
    skipped: bool,
    truncated: bool,
}

/// The server's error, with its SQLSTATE under `code` as tools expect.
#[derive(Serialize)]
struct JsonError<'a> {
    severity: &'a str,
    code: &'a str,
    message: std::borrow::Cow<'a, str>,
    detail: Option<std::borrow::Cow<'a, str>>,
    hint: Option<&'a str>,
    position: Option<usize>,
}

impl<'a> From<&'a ServerError> for JsonError<'a> {
    fn from(e: &'a ServerError) -> Self {
        Self {
            severity: &e.severity,
            code: &e.sqlstate,
            message: bounded(&e.message),
            detail: e.detail.as_deref().map(bounded),
            hint: e.hint.as_deref(),
            position: e.position,
        }
    }
}

#[derive(Serialize)]
struct JsonTop<'a> {
    count: u64,
    sql: &'a str,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_their_type_first_and_the_sqlstate_as_code() {
        let mut out = Vec::new();
        let mut writer = LogWriter::new(&mut out, true);
        writer.notice("hello").unwrap();
        writer
            .summary(&QueryLog::new(10, Default::default()))
            .unwrap();
        writer.flush().unwrap();
        drop(writer);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#"{"type":"notice","text":"hello"}"#);
        let summary: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["by_kind"]["query"], 0);
        let error = ServerError {
            severity: "ERROR".into(),
            sqlstate: "42P01".into(),
            message: "relation \"nope\" does not exist".into(),
            detail: None,
            hint: None,
            position: Some(15),
        };
        let json = serde_json::to_value(JsonError::from(&error)).unwrap();
        assert_eq!(json["code"], "42P01");
        assert_eq!(json["position"], 15);
    }
}
