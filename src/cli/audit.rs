//! `pglab audit`: the newest events of the database's audit log (or, with `--app`, of the
//! application's own `audit_logs`) as plain text, narrowed to one row, one actor, one table
//! or a recent time window, each with the flags the timeline would raise. Read as the
//! learner, who may read the log and nothing more.

use std::io::Write;

use anyhow::Context;

use super::AuditArgs;
use crate::audit::{Filter, rules, text};
use crate::db::{Lab, LabConfig, audit};

pub async fn run(config: &LabConfig, args: &AuditArgs) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let filter = Filter {
        record: args.record.clone(),
        actor: args.actor,
        table: args.table.clone(),
        since: None,
        window: args.since,
    };
    let events = if args.app {
        audit::app_events(&mut conn, &filter, args.limit).await?
    } else {
        audit::events(&mut conn, &filter, args.limit).await?
    };
    let actors = audit::actor_organizations(&mut conn).await?;
    let flags = rules::flags(&events, &actors);
    let width = super::output_width();
    let mut out = super::stdout();
    if events.is_empty() {
        writeln!(out, "no audit events match")?;
    }
    for (event, flags) in events.iter().zip(&flags) {
        for line in text::event_lines(event, flags, width) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    out.flush()
        .context("cannot write the audit events to standard output")?;
    Ok(())
}
