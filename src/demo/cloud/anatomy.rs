//! `cloud.anatomy`: the URL the lab connects with, taken apart by [`crate::conninfo`]
//! (password masked, parts the URL leaves out named with libpq's default), then each part
//! confirmed by the server itself: who it says we are, which database, which address and
//! port answered, whether the connection is encrypted.

use tokio::sync::mpsc;

use crate::conninfo::{self, Part};
use crate::data::ResultSet;
use crate::data::demo::{DemoProgress, DemoReport};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, Error};

const DEMO: &str = "cloud.anatomy";

/// What the server says about the connection that asks.
const WHO_AND_WHERE: &str = "select current_user::text, current_database()::text, \
     host(inet_server_addr()), inet_server_port(), \
     coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false), \
     current_setting('application_name')";

type Answers = (String, String, Option<String>, Option<i32>, bool, String);

pub(super) async fn run(
    ctx: &DemoContext,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    let url = super::lab_url(ctx);
    let info = conninfo::parse(&url).map_err(|e| Error::Refused {
        demo: DEMO,
        why: format!("the lab's own URL does not read as one ({e})"),
    })?;
    let mut meter = Meter::start(&ctx.learner, ctx.latency.clone(), ctx.log.clone()).await?;
    let mut conn = meter.connect("pglab demo: anatomy").await?;
    let _ = progress.send(DemoProgress::Message(
        "asking the server who and where this connection is".into(),
    ));
    let (answers, measured) = meter
        .measure(
            DEMO,
            sqlx::query_as::<_, Answers>(WHO_AND_WHERE).fetch_one(&mut conn),
        )
        .await;
    let _ = sqlx::Connection::close(conn).await;
    let sessions = meter.finish().await;
    let answers = answers.map_err(crate::demo::sql(DEMO, "asking the server about itself"))?;

    let mut lines = super::which_server(ctx);
    lines.push(String::new());
    lines.extend(part_lines(&info.parts()));
    lines.push(String::new());
    let mut outside = vec![format!(
        "Not in the URL: the lab also sends application_name ({}) and options ({}) when it \
         connects; a URL can carry both as parameters.",
        ctx.learner.get_application_name().unwrap_or("none"),
        ctx.learner.get_options().unwrap_or("none"),
    )];
    outside.push(
        "The server's own answers, asked over this connection (through the demo's proxy, \
         which relays the questions and the answers as they are):"
            .into(),
    );
    lines.extend(crate::demo::wrapped(outside));
    let mut report = DemoReport::measured(
        "A connection URL, taken apart".into(),
        lines,
        &measured,
        sessions,
    );
    report.table = Some(confirmed(&info, &answers));
    Ok(report)
}

/// Each part on a line, name and value aligned, what it changes under it; a default is
/// marked as one.
pub(super) fn part_lines(parts: &[Part]) -> Vec<String> {
    let width = parts.iter().map(|p| p.name.len()).max().unwrap_or(0);
    parts
        .iter()
        .flat_map(|part| {
            let value = match part.given {
                true => part.value.clone(),
                false => format!("{}  (not in the URL: the default)", part.value),
            };
            [
                format!("{:<width$}  {value}", part.name),
                format!("    {}", part.means),
            ]
        })
        .collect()
}

/// The server's answers beside the part of the URL each one confirms.
fn confirmed(info: &conninfo::ConnInfo, answers: &Answers) -> ResultSet {
    let (user, database, address, port, ssl, application) = answers;
    let parts = info.parts();
    let said = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| format!("{name} {}", p.value))
            .unwrap_or_default()
    };
    let row = |asked: &str, answer: String, url: String| {
        vec![Some(asked.to_string()), Some(answer), Some(url)]
    };
    let rows = vec![
        row("current_user", user.clone(), said("user")),
        row("current_database()", database.clone(), said("database")),
        row(
            "inet_server_addr()",
            address
                .clone()
                .unwrap_or_else(|| "none: a unix socket".into()),
            said("host"),
        ),
        row(
            "inet_server_port()",
            port.map_or_else(|| "none: a unix socket".into(), |p| p.to_string()),
            said("port"),
        ),
        row(
            "pg_stat_ssl.ssl",
            if *ssl { "on: encrypted" } else { "off: plain" }.into(),
            said("sslmode"),
        ),
        row(
            "application_name",
            application.clone(),
            "set by the lab, outside the URL".into(),
        ),
    ];
    ResultSet::new(
        ["asked the server", "it answers", "the URL says"]
            .map(String::from)
            .to_vec(),
        rows,
    )
}
