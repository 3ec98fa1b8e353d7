//! Suspicious changes, each flagged with one sentence saying why: a privilege change, an
//! actor touching another tenant's row, a burst of deletes, a change made outside the
//! application. The rules look at a whole list of events at once (a burst is a property of
//! several), and at what events alone cannot say: which organization each actor belongs
//! to, supplied by the caller.

use std::collections::HashMap;

use chrono::TimeDelta;

use super::diff::{self, Cell};
use super::{AuditEvent, Capture, Operation};

/// Application user id → that user's organization id.
pub type ActorOrgs = HashMap<i64, i64>;

/// Deletes by one actor within [`BURST_WINDOW`] that make a burst.
pub const BURST_COUNT: usize = 5;
/// How close together the deletes of a burst are.
pub const BURST_WINDOW: TimeDelta = TimeDelta::seconds(60);
/// The column whose change grants or takes away administrator rights.
const ADMIN_COLUMN: &str = "is_admin";

/// Which rule raised a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    PrivilegeChange,
    CrossTenant,
    DeleteBurst,
    OutsideApp,
}

impl Rule {
    /// A short name for the rule, for labels and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Rule::PrivilegeChange => "privilege change",
            Rule::CrossTenant => "another tenant's row",
            Rule::DeleteBurst => "burst of deletes",
            Rule::OutsideApp => "outside the application",
        }
    }
}

/// One reason an event looks suspicious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub rule: Rule,
    /// A sentence for a person: what happened and why it matters.
    pub reason: String,
}

/// The flags of each event of `events` (same order, any order of events), judged with
/// `actors` for the actors' organizations. A system actor's events (a job, the lab putting
/// its story back) get none: the rules judge what people did.
pub fn flags(events: &[AuditEvent], actors: &ActorOrgs) -> Vec<Vec<Flag>> {
    let bursts = delete_bursts(events);
    events
        .iter()
        .zip(bursts)
        .map(|(event, burst)| {
            if event.system_actor.is_some() {
                return Vec::new();
            }
            [
                privilege_change(event),
                cross_tenant(event, actors),
                burst,
                outside_app(event),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
        .collect()
}

/// (a) `is_admin` changed on a user, or a user was created an administrator.
fn privilege_change(event: &AuditEvent) -> Option<Flag> {
    if event.table != "users" {
        return None;
    }
    let field = diff::fields(event)
        .into_iter()
        .find(|f| f.column == ADMIN_COLUMN)?;
    let who = format!("user {}", event.record_id);
    let reason = match event.action {
        Operation::Update if field.changed => match (field.old.text(), field.new.text()) {
            ("false", "true") => format!(
                "{who} was made an administrator ({ADMIN_COLUMN} false → true): check who granted it"
            ),
            ("true", "false") => {
                format!("{who} lost administrator rights ({ADMIN_COLUMN} true → false)")
            }
            (old, new) => format!("{ADMIN_COLUMN} of {who} changed ({old} → {new})"),
        },
        Operation::Insert if field.new == Cell::Value("true".into()) => {
            format!("{who} was created as an administrator ({ADMIN_COLUMN} true)")
        }
        _ => return None,
    };
    Some(Flag {
        rule: Rule::PrivilegeChange,
        reason,
    })
}

/// (b) The actor belongs to one organization, the row to another.
fn cross_tenant(event: &AuditEvent, actors: &ActorOrgs) -> Option<Flag> {
    let actor = event.actor_id?;
    let own = *actors.get(&actor)?;
    let row = event.organization_id?;
    (own != row).then(|| Flag {
        rule: Rule::CrossTenant,
        reason: format!(
            "user {actor} of organization {own} changed a row of organization {row}: a tenant check is missing"
        ),
    })
}

/// (c) Each event's burst flag: a delete among ≥ [`BURST_COUNT`] by the same actor within
/// [`BURST_WINDOW`]. Every delete of the burst is flagged, not just the one that tipped it.
fn delete_bursts(events: &[AuditEvent]) -> Vec<Option<Flag>> {
    let mut by_actor: HashMap<i64, Vec<usize>> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        if let (Operation::Delete, Some(actor)) = (event.action, event.actor_id) {
            by_actor.entry(actor).or_default().push(index);
        }
    }
    // The largest burst each event belongs to: how many deletes it has.
    let mut largest = vec![0usize; events.len()];
    for indexes in by_actor.values_mut() {
        indexes.sort_by_key(|&i| (events[i].at, events[i].id));
        let mut first = 0;
        for last in 0..indexes.len() {
            while events[indexes[last]].at - events[indexes[first]].at > BURST_WINDOW {
                first += 1;
            }
            let count = last + 1 - first;
            if count >= BURST_COUNT {
                for &i in &indexes[first..=last] {
                    largest[i] = largest[i].max(count);
                }
            }
        }
    }
    events
        .iter()
        .zip(largest)
        .map(|(event, count)| {
            let actor = event.actor_id?;
            (count > 0).then(|| Flag {
                rule: Rule::DeleteBurst,
                reason: format!(
                    "{count} deletes by user {actor} within {} s: a script, or a stolen session?",
                    BURST_WINDOW.num_seconds()
                ),
            })
        })
        .collect()
}

/// (d) The trigger saw a change nobody declared an application user for: psql, a
/// migration, a script with the database password.
fn outside_app(event: &AuditEvent) -> Option<Flag> {
    if event.actor_id.is_some() || event.capture != Capture::Trigger {
        return None;
    }
    let role = event
        .db_user
        .as_deref()
        .map_or_else(String::new, |role| format!(" (database role {role})"));
    Some(Flag {
        rule: Rule::OutsideApp,
        reason: format!(
            "no application user declared{role}: made from psql, a script or a migration, not through the app"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::REDACTED;
    use crate::audit::diff::tests::event;
    use serde_json::{Value, json};

    fn rules(events: &[AuditEvent], actors: &ActorOrgs) -> Vec<Vec<Rule>> {
        flags(events, actors)
            .into_iter()
            .map(|f| f.into_iter().map(|f| f.rule).collect())
            .collect()
    }

    fn admin(old: bool, new: bool) -> AuditEvent {
        event(
            Operation::Update,
            json!({"id": 10, "is_admin": old, "email": "a"}),
            json!({"id": 10, "is_admin": new, "email": "b"}),
            &["is_admin", "email"],
        )
    }

    #[test]
    fn granting_admin_is_flagged_and_says_so() {
        let got = flags(&[admin(false, true)], &ActorOrgs::new());
        assert_eq!(got[0].len(), 1);
        assert_eq!(got[0][0].rule, Rule::PrivilegeChange);
        assert_eq!(
            got[0][0].reason,
            "user 10 was made an administrator (is_admin false → true): check who granted it"
        );
        let revoked = flags(&[admin(true, false)], &ActorOrgs::new());
        assert!(revoked[0][0].reason.contains("lost administrator rights"));
        let created = event(
            Operation::Insert,
            Value::Null,
            json!({"is_admin": true}),
            &[],
        );
        assert_eq!(
            rules(&[created], &ActorOrgs::new()),
            [[Rule::PrivilegeChange]]
        );
    }

    #[test]
    fn other_changes_to_users_are_not_privilege_changes() {
        let email = event(
            Operation::Update,
            json!({"is_admin": true, "email": "a", "password_hash": REDACTED}),
            json!({"is_admin": true, "email": "b", "password_hash": REDACTED}),
            &["email", "password_hash"],
        );
        let plain_user = event(
            Operation::Insert,
            Value::Null,
            json!({"is_admin": false}),
            &[],
        );
        let mut post = admin(false, true);
        post.table = "posts".into();
        let none: Vec<Vec<Rule>> = vec![vec![]; 3];
        assert_eq!(rules(&[email, plain_user, post], &ActorOrgs::new()), none);
    }

    #[test]
    fn an_actor_changing_another_tenants_row_is_flagged() {
        let mut ev = event(Operation::Update, json!({"t": 1}), json!({"t": 2}), &["t"]);
        ev.organization_id = Some(2);
        let actors = ActorOrgs::from([(7, 1)]);
        let got = flags(&[ev.clone()], &actors);
        assert_eq!(got[0][0].rule, Rule::CrossTenant);
        assert_eq!(
            got[0][0].reason,
            "user 7 of organization 1 changed a row of organization 2: a tenant check is missing"
        );
        // Same tenant, an unknown actor, a row without a tenant: nothing to say.
        ev.organization_id = Some(1);
        assert_eq!(rules(&[ev.clone()], &actors), [Vec::<Rule>::new()]);
        ev.organization_id = Some(2);
        assert_eq!(
            rules(&[ev.clone()], &ActorOrgs::new()),
            [Vec::<Rule>::new()]
        );
        ev.organization_id = None;
        assert_eq!(rules(&[ev], &actors), [Vec::<Rule>::new()]);
    }

    fn delete_at(id: i64, actor: i64, second: i64) -> AuditEvent {
        let mut ev = event(Operation::Delete, json!({"id": id}), Value::Null, &[]);
        ev.id = id;
        ev.record_id = id;
        ev.actor_id = Some(actor);
        ev.at += TimeDelta::seconds(second);
        ev
    }

    #[test]
    fn five_deletes_within_a_minute_by_one_actor_are_a_burst() {
        // Newest first, as the log returns them; the sixth delete is too late to join.
        let events: Vec<AuditEvent> = [0, 10, 20, 30, 59, 200]
            .iter()
            .enumerate()
            .map(|(n, s)| delete_at(n as i64 + 1, 7, *s))
            .rev()
            .collect();
        let got = flags(&events, &ActorOrgs::new());
        assert!(got[0].is_empty(), "the late delete is alone");
        for flags in &got[1..] {
            assert_eq!(flags[0].rule, Rule::DeleteBurst);
            assert_eq!(
                flags[0].reason,
                "5 deletes by user 7 within 60 s: a script, or a stolen session?"
            );
        }
    }

    #[test]
    fn deletes_spread_out_or_by_different_actors_are_no_burst() {
        let slow: Vec<AuditEvent> = (0..6).map(|n| delete_at(n, 7, n * 20)).collect();
        let mixed: Vec<AuditEvent> = (0..6).map(|n| delete_at(n, n % 2, n)).collect();
        for events in [slow, mixed] {
            let got = flags(&events, &ActorOrgs::new());
            assert!(got.iter().all(Vec::is_empty), "{got:?}");
        }
    }

    #[test]
    fn a_system_actors_change_is_not_judged() {
        // The lab putting bob back: a privilege change with no user, yet no flag at all.
        let mut reset = admin(true, false);
        reset.actor_id = None;
        reset.system_actor = Some("pglab (reset)".into());
        assert_eq!(
            rules(&[reset], &ActorOrgs::from([(7, 2)])),
            [Vec::<Rule>::new()]
        );
    }

    #[test]
    fn a_trigger_event_without_an_actor_came_from_outside_the_app() {
        let mut ev = event(Operation::Update, json!({"t": 1}), json!({"t": 2}), &["t"]);
        ev.actor_id = None;
        ev.db_user = Some("postgres".into());
        let got = flags(&[ev.clone()], &ActorOrgs::new());
        assert_eq!(got[0][0].rule, Rule::OutsideApp);
        assert_eq!(
            got[0][0].reason,
            "no application user declared (database role postgres): made from psql, a script or a migration, not through the app"
        );
        // With an actor, or written by the application's own helper: not outside.
        let mut app_logged = ev.clone();
        app_logged.capture = Capture::App;
        let mut declared = ev;
        declared.actor_id = Some(7);
        assert_eq!(
            rules(&[app_logged, declared], &ActorOrgs::new()),
            [Vec::<Rule>::new(), Vec::new()]
        );
    }
}
