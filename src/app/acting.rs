//! Acting as a user: the story's users the lab can act as and the one it acts as now, for
//! the multi-tenancy lessons. The runtime reads the users once the database is open
//! ([`Command::LoadUsers`], answered by [`Event::UsersLoaded`](super::Event::UsersLoaded));
//! a key moves to the next user, wrapping; a demo gets the current one when it starts.
//! The choice is not kept in the progress: each run of the lab starts as the first user.

use crate::data::acting::ActingAs;

use super::{App, Command, RequestId};

#[derive(Debug, Default)]
pub struct ActingState {
    /// The users read from the database, by id; `None` until they are read.
    pub users: Option<Vec<ActingAs>>,
    /// Index into `users` of the one the lab acts as.
    pub current: usize,
    /// The read the app waits for; other answers are stale.
    pub loading: Option<RequestId>,
}

impl ActingState {
    /// Who the lab acts as; `None` before the users are read, or when there are none.
    pub fn current(&self) -> Option<&ActingAs> {
        self.users.as_ref()?.get(self.current)
    }
}

impl App {
    /// Asks for the users to act as (the database has just opened).
    pub(super) fn load_users(&mut self) -> Vec<Command> {
        let id = self.request_id();
        self.acting.loading = Some(id);
        vec![Command::LoadUsers { id }]
    }

    pub(super) fn users_loaded(&mut self, id: RequestId, users: Vec<ActingAs>) {
        if self.acting.loading != Some(id) {
            return;
        }
        self.acting.loading = None;
        self.acting.users = Some(users);
        self.acting.current = 0;
    }

    pub(super) fn users_failed(&mut self, message: String) {
        self.acting.loading = None;
        self.notice = Some(message);
    }

    /// Acts as the next user, after the last the first; a notice says why when there is
    /// nobody to act as.
    pub(super) fn cycle_user(&mut self) {
        let state = &mut self.acting;
        match &state.users {
            None => self.notice = Some("The users to act as are not read yet.".into()),
            Some(users) if users.is_empty() => {
                self.notice = Some("lab.users has no live rows: there is nobody to act as.".into());
            }
            Some(users) => state.current = (state.current + 1) % users.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::{Action, Event};
    use crate::lesson::{Catalog, Progress};

    fn user(id: i64, name: &str, org: i64, org_name: &str) -> ActingAs {
        ActingAs {
            user_id: id,
            username: name.into(),
            organization_id: org,
            organization: org_name.into(),
        }
    }

    fn app() -> App {
        let catalog = Arc::new(Catalog {
            source: crate::lesson::Source::Embedded(&[]),
            lessons: Vec::new(),
        });
        App::new(catalog, Progress::default(), "db".into())
    }

    /// The app once the database is open and `users` were read.
    fn loaded(users: Vec<ActingAs>) -> App {
        let mut app = app();
        let commands = app.apply(Event::LabReady {
            database: "db".into(),
            facts: None,
        });
        let [Command::LoadUsers { id }] = commands[..] else {
            panic!("the users are asked for when the lab is ready: {commands:?}");
        };
        app.apply(Event::UsersLoaded { id, users });
        app
    }

    fn story() -> Vec<ActingAs> {
        vec![
            user(1, "alice", 1, "Acme Corp"),
            user(2, "bob", 1, "Acme Corp"),
            user(3, "charlie", 2, "TechCo"),
        ]
    }

    fn current(app: &App) -> Option<&str> {
        app.acting.current().map(|u| u.username.as_str())
    }

    #[test]
    fn the_lab_acts_as_the_first_user_once_they_are_read() {
        assert_eq!(current(&app()), None);
        assert_eq!(current(&loaded(story())), Some("alice"));
    }

    #[test]
    fn the_key_moves_to_the_next_user_and_wraps_to_the_first() {
        let mut app = loaded(story());
        let mut seen = Vec::new();
        for _ in 0..4 {
            assert!(app.update(Action::CycleUser).is_empty());
            seen.push(current(&app).map(str::to_string));
            assert_eq!(app.notice, None);
        }
        let names: Vec<_> = seen.iter().map(|s| s.as_deref()).collect();
        assert_eq!(
            names,
            [Some("bob"), Some("charlie"), Some("alice"), Some("bob")]
        );
    }

    #[test]
    fn with_no_users_the_key_says_so() {
        let mut app = loaded(Vec::new());
        app.update(Action::CycleUser);
        assert_eq!(current(&app), None);
        assert!(app.notice.as_deref().is_some_and(|n| n.contains("nobody")));

        let mut before = self::app();
        before.update(Action::CycleUser);
        assert!(
            before
                .notice
                .as_deref()
                .is_some_and(|n| n.contains("not read"))
        );
    }

    #[test]
    fn a_stale_answer_or_a_failed_read_changes_no_user() {
        let mut app = loaded(story());
        app.update(Action::CycleUser);
        app.apply(Event::UsersLoaded {
            id: RequestId(999),
            users: Vec::new(),
        });
        assert_eq!(current(&app), Some("bob"));

        let mut failed = self::app();
        let commands = failed.apply(Event::LabReady {
            database: "db".into(),
            facts: None,
        });
        let [Command::LoadUsers { id }] = commands[..] else {
            panic!()
        };
        failed.apply(Event::Failed {
            id,
            message: "The users to act as could not be read: gone".into(),
        });
        assert_eq!(current(&failed), None);
        assert!(failed.notice.is_some());
        assert_eq!(failed.acting.loading, None);
    }
}
