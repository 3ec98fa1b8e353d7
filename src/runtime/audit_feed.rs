//! The audit timeline's feed: the events a filter asks for, read on a connection of their
//! own (not through the proxy: the learner did not send these queries), and the events
//! written since, followed with `LISTEN` so that a change made anywhere (the console, psql,
//! a demo) reaches the open timeline as it commits.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use crate::app::audit::CAPACITY;
use crate::app::{Event, RequestId};
use crate::audit::Filter;
use crate::db::audit;

use super::Journal;

/// Waiting this long before listening again after the listener failed.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Reads the events `filter` passes, newest first, and every user's organization for the
/// cross-tenant rule.
pub async fn load(options: &PgConnectOptions, id: RequestId, filter: Filter) -> Event {
    let read = async {
        let mut conn = crate::db::connect(options).await?;
        let events = audit::events(&mut conn, &filter, CAPACITY as i64).await?;
        let actors = audit::actor_organizations(&mut conn).await?;
        Ok::<_, crate::db::Error>((events, actors))
    };
    match read.await {
        Ok((events, actors)) => Event::AuditLoaded { id, events, actors },
        Err(error) => Event::Failed {
            id,
            message: format!("The audit log could not be read: {error}"),
        },
    }
}

/// Follows the log for as long as the lab runs: each notification reads every event newer
/// than the last one passed on (a burst of notifications costs one read), and sends them.
/// Listening again after a failure; events written meanwhile arrive with the next one.
pub async fn follow(
    options: PgConnectOptions,
    events: mpsc::UnboundedSender<Event>,
    journal: Journal,
) {
    let mut seen = None;
    loop {
        if let Err(error) = follow_once(&options, &events, &mut seen).await {
            journal.write(&format!("audit feed: {error}; listening again shortly"));
            tokio::time::sleep(RETRY_AFTER).await;
        }
        if events.is_closed() {
            return;
        }
    }
}

async fn follow_once(
    options: &PgConnectOptions,
    events: &mpsc::UnboundedSender<Event>,
    seen: &mut Option<i64>,
) -> Result<(), crate::db::Error> {
    let mut listener = audit::listen(options).await?;
    let mut conn = crate::db::connect(options).await?;
    loop {
        let id = listener.next_id().await?;
        let after = match *seen {
            Some(last) if id <= last => continue,
            Some(last) => last,
            // The first event seen while following: the timeline already loaded the rest.
            None => id - 1,
        };
        let new = audit::events_after(&mut conn, after, CAPACITY as i64).await?;
        if let Some(newest) = new.first() {
            *seen = Some(newest.id);
        }
        if !new.is_empty() && events.send(Event::AuditArrived(new)).is_err() {
            return Ok(());
        }
    }
}
