//! The cloud lesson's demos (lesson 3, "Postgres in the cloud"): what changes when the
//! database lives somewhere else, measured on the lab's own server, whichever it is.
//!
//! - `cloud.anatomy` ([`anatomy`]): the lab's connection URL taken apart, password masked,
//!   each part confirmed by asking the server who and where it is;
//! - `cloud.transaction_pooler` ([`pooler`]): what a transaction pooler breaks — a `SET` and
//!   a prepared statement on one server connection, the next transaction on another — with
//!   the lab playing the pooler over two real connections;
//! - `cloud.local_vs_managed` ([`managed`]): the trade-off table with this lab's numbers
//!   (what creating the private cluster took, its size, who can reach it);
//! - `cloud.server` ([`server`]): "Supabase is PostgreSQL": `version()`, the settings that
//!   matter and the lesson tables, on whatever server the lab runs;
//! - `cloud.latency` ([`latency`]): the measured round trip to the lab's database, then the
//!   same page at simulated same-region and cross-region round trips, and what a time budget
//!   affords (arithmetic on those figures).

mod anatomy;
mod latency;
mod managed;
mod pooler;
mod server;

use tokio::sync::mpsc;

use super::params::{ParamKind, ParamSpec};
use super::{DemoContext, DemoSpec, Error};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `cloud.…`.
pub(super) const PREFIX: &str = "cloud.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "cloud.anatomy",
        summary: "the lab's connection URL taken apart, each part confirmed by the server",
        params: &[],
    },
    DemoSpec {
        name: "cloud.transaction_pooler",
        summary: "a SET and a prepared statement lost when the next transaction lands elsewhere",
        params: &[],
    },
    DemoSpec {
        name: "cloud.local_vs_managed",
        summary: "this lab's own cluster measured: creation time, size, who can reach it",
        params: &[],
    },
    DemoSpec {
        name: "cloud.server",
        summary: "version(), the settings that matter and the lesson tables on this server",
        params: &[],
    },
    DemoSpec {
        name: "cloud.latency",
        summary: "the measured round trip, then one page at simulated cloud round trips",
        params: &[
            ParamSpec {
                name: "round_trips",
                kind: ParamKind::Int {
                    min: 10,
                    max: 5_000,
                },
                help: "how many `select 1` round trips to time (default 200)",
            },
            ParamSpec {
                name: "same_region",
                kind: ParamKind::Millis { max_ms: 50 },
                help: "the simulated same-region round trip (default \"1ms\")",
            },
            ParamSpec {
                name: "cross_region",
                kind: ParamKind::Millis { max_ms: 300 },
                help: "the simulated cross-region round trip (default \"40ms\")",
            },
            ParamSpec {
                name: "budget_ms",
                kind: ParamKind::Int {
                    min: 1,
                    max: 10_000,
                },
                help: "the example time budget a page may spend waiting, ms (default 100)",
            },
        ],
    },
];

/// Runs the demo `name` (already checked) with its parameters.
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    match name {
        "cloud.anatomy" => anatomy::run(ctx, progress).await,
        "cloud.transaction_pooler" => pooler::run(ctx, progress).await,
        "cloud.local_vs_managed" => managed::run(ctx, progress).await,
        "cloud.server" => server::run(ctx, progress).await,
        _ => latency::run(ctx, params, progress).await,
    }
}

/// Which server the lab runs on — the private cluster or `DATABASE_URL`'s — and the URL
/// the lab connects with, password masked, over as many lines as it needs.
fn which_server(ctx: &DemoContext) -> Vec<String> {
    let said = match ctx.cluster {
        Some(_) => {
            "The lab runs on its private cluster, on this machine, and connects with \
                    (password masked):"
        }
        None => {
            "The lab runs on the server DATABASE_URL names, and connects with (password \
                 masked):"
        }
    };
    let mut lines = crate::demo::wrapped(vec![said.to_string()]);
    lines.extend(url_lines(&lab_url(ctx), "  "));
    lines
}

/// The learner's connection written as a URL, password masked: what the lab connects with.
fn lab_url(ctx: &DemoContext) -> String {
    let url = sqlx::ConnectOptions::to_url_lossy(&ctx.learner);
    crate::conninfo::mask_password(url.as_str())
}

/// Past this many characters a URL's host goes on a line of its own.
const URL_LINE: usize = 60;

/// A URL written over several lines, the query's parameters one per line (and the host on
/// its own when the rest is long), so a long URL keeps its shape in a narrow pane.
fn url_lines(url: &str, indent: &str) -> Vec<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut lines = match base.rsplit_once('@') {
        Some((user, host)) if base.len() > URL_LINE => {
            vec![format!("{indent}{user}"), format!("{indent}  @{host}")]
        }
        _ => vec![format!("{indent}{base}")],
    };
    for (n, pair) in query.split('&').filter(|p| !p.is_empty()).enumerate() {
        let lead = if n == 0 { '?' } else { '&' };
        lines.push(format!("{indent}  {lead}{pair}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_split_at_its_parameters() {
        assert_eq!(
            url_lines("postgres://u:****@h:1/db?sslmode=disable&a=b", ""),
            ["postgres://u:****@h:1/db", "  ?sslmode=disable", "  &a=b"]
        );
        assert_eq!(url_lines("postgres://h/db", "> "), ["> postgres://h/db"]);
        assert_eq!(
            url_lines(
                "postgres://postgres.abcdefghijklmnop:****@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
                ""
            ),
            [
                "postgres://postgres.abcdefghijklmnop:****",
                "  @aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
            ]
        );
    }
}
