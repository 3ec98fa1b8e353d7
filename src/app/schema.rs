//! The schema map screen's state and its part of [`App::update`] / [`App::apply`]: the map
//! last read, and how far it is scrolled down and sideways. Reading the catalog is the
//! runtime's: the app asks with [`Command::LoadSchema`] every time the screen opens (so a
//! table the learner just created is on it) and takes the answer as
//! [`Event::SchemaLoaded`](super::Event::SchemaLoaded).

use crate::data::schema::SchemaMap;
use crate::scroll::{Jump, Scroll};

use super::{Action, App, Command, RequestId, Screen};

/// Cells a sideways key press moves the map.
const SIDEWAYS_STEP: i64 = 8;

#[derive(Debug, Default)]
pub struct SchemaState {
    /// The map last read; kept while a newer one loads, so the screen never goes blank.
    pub map: Option<Box<SchemaMap>>,
    /// The read the screen waits for; other answers are stale.
    pub loading: Option<RequestId>,
    /// Why the last read failed.
    pub error: Option<String>,
    pub scroll: Scroll<()>,
    pub sideways: Scroll<()>,
}

impl App {
    /// The schema map, read afresh; Esc returns to the screen it was opened from.
    pub(super) fn show_schema(&mut self) -> Vec<Command> {
        if self.screen != Screen::Schema {
            self.schema_return = self.screen;
        }
        self.screen = Screen::Schema;
        self.log_focused = false;
        let id = self.request_id();
        self.schema.loading = Some(id);
        vec![Command::LoadSchema { id }]
    }

    pub(super) fn update_schema(&mut self, action: Action) -> Vec<Command> {
        let state = &mut self.schema;
        match action {
            Action::Back => self.screen = self.schema_return,
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

    pub(super) fn schema_loaded(&mut self, id: RequestId, map: Box<SchemaMap>) {
        if self.schema.loading != Some(id) {
            return;
        }
        self.schema.loading = None;
        self.schema.error = None;
        // A different map (a table created or dropped) starts from the top; the same map
        // read again stays where the learner left it.
        if self.schema.map.as_deref() != Some(&*map) {
            self.schema.scroll.jump(Jump::Top);
            self.schema.sideways.jump(Jump::Top);
        }
        self.schema.map = Some(map);
    }

    pub(super) fn schema_failed(&mut self, message: String) {
        self.schema.loading = None;
        self.schema.error = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Event;

    #[test]
    fn opening_reads_the_catalog_and_back_returns_where_it_was_opened() {
        let mut app = App::without_lessons();
        app.screen = Screen::Console;
        let commands = app.update(Action::ShowSchema);
        assert!(matches!(commands[..], [Command::LoadSchema { .. }]));
        assert_eq!(app.screen, Screen::Schema);
        let Command::LoadSchema { id } = commands[0] else {
            unreachable!()
        };
        app.apply(Event::SchemaLoaded {
            id,
            map: Box::default(),
        });
        assert!(app.schema.map.is_some());
        assert!(app.schema.loading.is_none());
        app.update(Action::Back);
        assert_eq!(app.screen, Screen::Console);
    }

    #[test]
    fn a_stale_answer_is_dropped_and_a_failure_is_kept_to_show() {
        let mut app = App::without_lessons();
        app.update(Action::ShowSchema);
        app.apply(Event::SchemaLoaded {
            id: RequestId(999),
            map: Box::default(),
        });
        assert!(app.schema.map.is_none());
        let id = app.schema.loading.expect("a read in flight");
        app.apply(Event::Failed {
            id,
            message: "gone".into(),
        });
        assert_eq!(app.schema.error.as_deref(), Some("gone"));
    }
}
