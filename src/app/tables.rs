//! The live tables view's state and its part of [`App::update`] / [`App::apply`]: which
//! tables it shows, their rows as last read, and how far they are scrolled. Reading is the
//! runtime's ([`Command::LoadTables`], answered by
//! [`Event::TablesLoaded`](super::Event::TablesLoaded)). The view reads afresh when it
//! opens and, while it is on screen, whenever the rows may have changed: a console
//! statement or a demo ended, or the audit feed reported a change to one of its tables.
//! Who the lab acts as is read when drawing, so switching users re-greys without a read.

use crate::data::tables::{TablesSnapshot, default_tables};
use crate::scroll::{Jump, Scroll};

use super::{Action, App, Command, Event, RequestId, Screen};

/// Cells a sideways key press moves the view.
const SIDEWAYS_STEP: i64 = 8;

#[derive(Debug, Default)]
pub struct TablesState {
    /// The tables shown, in order.
    pub names: Vec<String>,
    /// The rows last read; kept while newer ones load, so the screen never goes blank.
    pub snapshot: Option<Box<TablesSnapshot>>,
    /// The read the screen waits for; other answers are stale.
    pub loading: Option<RequestId>,
    /// Something changed while a read was out: read again when it answers.
    pub read_again: bool,
    /// Why the last read failed.
    pub error: Option<String>,
    pub scroll: Scroll<()>,
    pub sideways: Scroll<()>,
}

impl App {
    /// The tables view on `names` (the default tables when empty), read afresh; Esc
    /// returns to the screen it was opened from.
    pub(super) fn show_tables(&mut self, names: &[String]) -> Vec<Command> {
        if self.screen != Screen::Tables {
            self.tables_return = self.screen;
        }
        self.screen = Screen::Tables;
        self.log_focused = false;
        let names: Vec<String> = if names.is_empty() {
            default_tables()
        } else {
            names.to_vec()
        };
        if self.tables.names != names {
            self.tables.names = names;
            self.tables.snapshot = None;
            self.tables.scroll.jump(Jump::Top);
            self.tables.sideways.jump(Jump::Top);
        }
        self.read_tables()
    }

    fn read_tables(&mut self) -> Vec<Command> {
        let id = self.request_id();
        self.tables.loading = Some(id);
        self.tables.read_again = false;
        vec![Command::LoadTables {
            id,
            tables: self.tables.names.clone(),
        }]
    }

    pub(super) fn update_tables(&mut self, action: Action) -> Vec<Command> {
        let state = &mut self.tables;
        match action {
            Action::Back => self.screen = self.tables_return,
            Action::Up => state.scroll.lines(-1),
            Action::Down => state.scroll.lines(1),
            Action::PageUp => state.scroll.pages(-1),
            Action::PageDown => state.scroll.pages(1),
            Action::Left => state.sideways.lines(-SIDEWAYS_STEP),
            Action::Right => state.sideways.lines(SIDEWAYS_STEP),
            _ => {}
        }
        Vec::new()
    }

    /// Whether `event` may have changed rows the open view shows.
    pub(super) fn changes_tables(&self, event: &Event) -> bool {
        if self.screen != Screen::Tables {
            return false;
        }
        match event {
            Event::Executed { .. } | Event::ExerciseRan { .. } | Event::DemoFinished { .. } => true,
            Event::AuditArrived(events) => {
                events.iter().any(|e| self.tables.names.contains(&e.table))
            }
            _ => false,
        }
    }

    /// Reads the open view again, or once the read in flight answers.
    pub(super) fn refresh_tables(&mut self) -> Vec<Command> {
        if self.tables.loading.is_some() {
            self.tables.read_again = true;
            return Vec::new();
        }
        self.read_tables()
    }

    pub(super) fn tables_loaded(
        &mut self,
        id: RequestId,
        snapshot: Box<TablesSnapshot>,
    ) -> Vec<Command> {
        if self.tables.loading != Some(id) {
            return Vec::new();
        }
        self.tables.loading = None;
        self.tables.error = None;
        self.tables.snapshot = Some(snapshot);
        if self.tables.read_again && self.screen == Screen::Tables {
            return self.read_tables();
        }
        Vec::new()
    }

    pub(super) fn tables_failed(&mut self, message: String) {
        self.tables.loading = None;
        self.tables.read_again = false;
        self.tables.error = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tables::RowsOfTable;

    fn load(commands: &[Command]) -> (RequestId, Vec<String>) {
        match commands {
            [Command::LoadTables { id, tables }] => (*id, tables.clone()),
            other => panic!("expected one read of the tables: {other:?}"),
        }
    }

    fn snapshot(name: &str) -> Box<TablesSnapshot> {
        Box::new(TablesSnapshot {
            tables: vec![RowsOfTable {
                name: name.into(),
                columns: vec!["id".into()],
                tenant_column: None,
                soft_deletes: false,
                rows: Vec::new(),
                more: 0,
            }],
            links: Vec::new(),
        })
    }

    fn audit_event(table: &str) -> crate::audit::AuditEvent {
        let mut event = crate::audit::diff::tests::event(
            crate::audit::Operation::Update,
            serde_json::json!({}),
            serde_json::json!({}),
            &[],
        );
        event.table = table.into();
        event
    }

    #[test]
    fn the_key_opens_the_default_tables_and_back_returns_where_it_was_opened() {
        let mut app = App::without_lessons();
        app.screen = Screen::Console;
        let (id, tables) = load(&app.update(Action::ShowTables));
        assert_eq!(tables, ["organizations", "users", "posts"]);
        assert_eq!(app.screen, Screen::Tables);
        app.apply(Event::TablesLoaded {
            id,
            snapshot: snapshot("users"),
        });
        assert!(app.tables.snapshot.is_some());
        assert!(app.tables.loading.is_none());
        app.update(Action::Back);
        assert_eq!(app.screen, Screen::Console);
    }

    #[test]
    fn a_stale_answer_is_dropped_and_a_failure_is_kept_to_show() {
        let mut app = App::without_lessons();
        let (first, _) = load(&app.update(Action::ShowTables));
        let (second, _) = load(&app.show_tables(&["posts".into()]));
        app.apply(Event::TablesLoaded {
            id: first,
            snapshot: snapshot("users"),
        });
        assert!(app.tables.snapshot.is_none(), "the first read was replaced");
        app.apply(Event::Failed {
            id: second,
            message: "no table posts".into(),
        });
        assert_eq!(app.tables.error.as_deref(), Some("no table posts"));
        assert!(app.tables.loading.is_none());
    }

    #[test]
    fn the_open_view_reads_again_after_a_statement_a_demo_or_an_audited_change() {
        let mut app = App::without_lessons();
        let (id, _) = load(&app.update(Action::ShowTables));
        app.apply(Event::TablesLoaded {
            id,
            snapshot: snapshot("users"),
        });
        let ended = Event::Executed {
            id: RequestId(999),
            result: Ok(crate::data::console::Outcome {
                statements: Vec::new(),
                elapsed: std::time::Duration::ZERO,
            }),
        };
        let (id, _) = load(&app.apply(ended));
        // A change while that read is out is read once it answers, not twice at once.
        assert!(
            app.apply(Event::AuditArrived(vec![audit_event("posts")]))
                .is_empty()
        );
        let (id, _) = load(&app.apply(Event::TablesLoaded {
            id,
            snapshot: snapshot("users"),
        }));
        assert!(
            app.apply(Event::TablesLoaded {
                id,
                snapshot: snapshot("users")
            })
            .is_empty()
        );
        // A change to a table the view does not show is not its business.
        assert!(
            app.apply(Event::AuditArrived(vec![audit_event("comments")]))
                .is_empty()
        );
        let finished = Event::DemoFinished {
            id: RequestId(998),
            result: Err(crate::data::demo::DemoFailure {
                message: "stopped".into(),
                run_first: None,
            }),
        };
        load(&app.apply(finished));
        // Off screen nothing is read: opening the view reads it.
        let mut away = self::App::without_lessons();
        let (id, _) = load(&away.update(Action::ShowTables));
        away.apply(Event::TablesLoaded {
            id,
            snapshot: snapshot("users"),
        });
        away.update(Action::Back);
        assert!(
            away.apply(Event::AuditArrived(vec![audit_event("posts")]))
                .is_empty()
        );
    }
}
