//! The audit timeline's app core: what opening, loading, live arrivals and the filter keys
//! do to the state and which commands they ask for, on the story in `support::audit_story`.

use pglab::app::{Action, App, Event, Screen};
use pglab::audit;
use pglab::audit::filter::{Filter, Window};
use pglab::audit::rules::Rule;
use pglab::ui::Viewports;
use serde_json::json;

use super::support::app::app;
use super::support::audit_story::{actors, event, load, story, timeline_with};
use super::support::screen::draw_with;

fn ids(app: &App) -> Vec<i64> {
    app.audit.events.iter().map(|e| e.id).collect()
}

#[test]
fn f7_opens_the_timeline_and_asks_for_the_log_and_esc_goes_back() {
    let mut app = app();
    app.update(Action::ShowConsole);
    let (id, filter) = load(&app.update(Action::ShowAudit));
    assert_eq!(app.screen, Screen::Audit);
    assert_eq!(filter, Filter::default());
    assert_eq!(app.audit.loading, Some(id));
    app.update(Action::Back);
    assert_eq!(app.screen, Screen::Console);
}

#[test]
fn the_loaded_events_show_newest_first_with_their_flags() {
    let app = timeline_with(story());
    assert_eq!(ids(&app), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(app.audit.loading, None);
    let rules =
        |index: usize| -> Vec<Rule> { app.audit.flags[index].iter().map(|f| f.rule).collect() };
    assert_eq!(rules(0), [Rule::OutsideApp]);
    assert_eq!(rules(1), [Rule::CrossTenant]);
    // User 5 of organization 2 made a user of organization 1 an administrator.
    assert_eq!(rules(2), [Rule::PrivilegeChange, Rule::CrossTenant]);
    assert!((3..8).all(|i| rules(i) == [Rule::DeleteBurst]));
    assert!(rules(8).is_empty() && rules(9).is_empty());
}

#[test]
fn a_stale_load_is_dropped_and_a_failed_one_is_shown() {
    let mut app = app();
    let (first, _) = load(&app.update(Action::ShowAudit));
    let (second, _) = load(&app.update(Action::ShowAudit));
    app.apply(Event::AuditLoaded {
        id: first,
        events: story(),
        actors: actors(),
    });
    assert!(app.audit.events.is_empty(), "an answer nobody waits for");
    app.apply(Event::Failed {
        id: second,
        message: "permission denied for schema audit".into(),
    });
    assert_eq!(app.audit.loading, None);
    assert_eq!(
        app.audit.error.as_deref(),
        Some("permission denied for schema audit")
    );
}

#[test]
fn live_events_that_match_are_added_and_the_rest_ignored() {
    let mut events = story();
    let newest = events.split_off(8);
    let mut app = timeline_with(events);
    // Only posts: the live change to posts is taken, the one to users is not.
    app.update(Action::Down); // from users:9 to posts:44
    let (id, filter) = load(&app.update(Action::FilterTable));
    assert_eq!(filter.table.as_deref(), Some("posts"));
    app.apply(Event::AuditLoaded {
        id,
        events: app.audit.events.clone(),
        actors: actors(),
    });
    let mut users = newest[0].clone();
    users.id = 11;
    users.table = "users".into();
    app.apply(Event::AuditArrived(vec![users, newest[0].clone()]));
    assert_eq!(ids(&app)[..2], [9, 7]);
    // The same event twice is kept once.
    app.apply(Event::AuditArrived(vec![newest[0].clone()]));
    assert_eq!(ids(&app).iter().filter(|id| **id == 9).count(), 1);
}

#[test]
fn the_newest_is_followed_until_the_user_moves_away() {
    let mut events = story();
    let later = events.split_off(8);
    let mut app = timeline_with(events);
    app.apply(Event::AuditArrived(vec![later[0].clone()]));
    assert_eq!(app.audit.selected_event().unwrap().id, 9, "following");
    app.update(Action::Down);
    app.update(Action::Down);
    let held = app.audit.selected_event().unwrap().id;
    app.apply(Event::AuditArrived(vec![later[1].clone()]));
    assert_eq!(app.audit.selected_event().unwrap().id, held, "holds still");
    assert_eq!(app.audit.unseen, 1);
    app.update(Action::End);
    assert_eq!(app.audit.selected_event().unwrap().id, 10);
    assert_eq!(app.audit.unseen, 0);
}

#[test]
fn filter_keys_narrow_at_once_reload_and_toggle_off() {
    let mut app = timeline_with(story());
    app.update(Action::Down);
    app.update(Action::Down); // event 8, users:9 by user 5
    let (_, filter) = load(&app.update(Action::FilterActor));
    assert_eq!(filter.actor, Some(5));
    assert_eq!(
        ids(&app),
        [8, 7, 6, 5, 4, 3],
        "narrowed before the reload answers"
    );
    assert_eq!(app.audit.selected, 0);
    let (_, filter) = load(&app.update(Action::FilterRecord));
    assert_eq!(filter.record, Some(("users".into(), 9)));
    assert_eq!(filter.to_string(), "users:9 actor=5");
    let (_, filter) = load(&app.update(Action::FilterRecord));
    assert_eq!(filter.record, None, "the same key lets go");
    let windows: Vec<Option<Window>> = (0..3)
        .map(|_| load(&app.update(Action::CycleWindow)).1.window)
        .collect();
    assert_eq!(
        windows
            .iter()
            .map(|w| w.map(|w| w.to_string()))
            .collect::<Vec<_>>(),
        [Some("1h".to_string()), Some("10m".into()), None]
    );
    let (_, filter) = load(&app.update(Action::ClearFilter));
    assert!(filter.is_empty());
    assert!(
        app.update(Action::ClearFilter).is_empty(),
        "nothing to clear"
    );
}

#[test]
fn a_change_without_an_actor_cannot_be_filtered_by_actor() {
    let mut app = timeline_with(story()); // the newest, from psql, is selected
    assert!(app.update(Action::FilterActor).is_empty());
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("outside the application")
    );
    assert_eq!(app.audit.filter, Filter::default());
}

#[test]
fn the_labs_own_reset_reads_as_the_lab_unflagged_and_is_no_user() {
    let mut events = story();
    let mut reset = event(
        11,
        (6, 0),
        audit::Operation::Update,
        ("users", 9),
        None,
        (
            json!({"id": 9, "organization_id": 1, "is_admin": true}),
            json!({"id": 9, "organization_id": 1, "is_admin": false}),
        ),
        &["is_admin"],
    );
    reset.system_actor = Some("pglab (reset)".into());
    events.push(reset);
    let mut app = timeline_with(events);
    assert!(app.audit.flags[0].is_empty(), "{:?}", app.audit.flags[0]);
    let screen = draw_with(&app, &mut Viewports::default(), 100, 30);
    assert!(screen.contains("update users:9  pglab (reset)"), "{screen}");
    assert!(screen.contains("by pglab (reset)"), "{screen}");
    assert!(app.update(Action::FilterActor).is_empty());
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("pglab (reset) is not a user")
    );
}

#[test]
fn the_selection_stays_in_view_on_any_terminal() {
    let mut app = timeline_with(story());
    for (width, height) in [(20, 8), (80, 24), (140, 40)] {
        app.update(Action::Resize { width, height });
        for _ in 0..12 {
            app.update(Action::Down);
        }
        let state = &app.audit;
        assert_eq!(state.selected, 9);
        let mut viewports = Viewports::default();
        // The cursor (▶) heads the selected event's block: it is on screen.
        let screen = draw_with(&app, &mut viewports, width, height);
        assert!(screen.contains('▶'), "{width}×{height}:\n{screen}");
        app.update(Action::PageUp);
        assert!(draw_with(&app, &mut viewports, width, height).contains('▶'));
        app.update(Action::End);
        assert_eq!(app.audit.selected, 0);
        let screen = draw_with(&app, &mut viewports, width, height);
        assert!(screen.contains('▶'), "{width}×{height}:\n{screen}");
    }
}

/// The keys a person types, as the keymap hands them to a prompt.
fn typed(app: &mut App, text: &str) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in text.chars() {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let action = pglab::keymap::action_for(app.context(), key, app.is_typing()).unwrap();
        app.update(action);
    }
}

#[test]
fn a_typed_filter_is_parsed_and_a_mistake_explained() {
    use pglab::keymap::Context;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = timeline_with(story());
    app.update(Action::EditFilter);
    assert_eq!(app.context(), Context::AuditFilter);
    assert!(app.is_typing(), "letters are text, q does not quit");
    typed(&mut app, "users:x q");
    assert!(app.update(Action::Activate).is_empty());
    assert_eq!(
        app.notice.as_deref(),
        Some("✗ `users:x`: the row id `x` is not a whole number (write `users:10`)")
    );
    for _ in 0.."users:x q".len() {
        app.update(Action::Edit(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, "users:9 1h");
    let (_, filter) = load(&app.update(Action::Activate));
    assert_eq!(filter.to_string(), "users:9 1h");
    assert_eq!(app.context(), Context::Audit);
    assert_eq!(ids(&app), [8]);
    // The prompt opens on the filter in force; Esc keeps it.
    app.update(Action::EditFilter);
    assert_eq!(
        app.audit.prompt.as_ref().map(|p| p.lines().concat()),
        Some("users:9 1h ".to_string())
    );
    typed(&mut app, "actor=2");
    app.update(Action::Back);
    assert!(app.audit.prompt.is_none());
    assert_eq!(app.audit.filter.to_string(), "users:9 1h");
}

#[test]
fn the_filter_prompt_edits_where_the_cursor_is() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = timeline_with(story());
    app.update(Action::EditFilter);
    typed(&mut app, "users: 1h");
    for _ in 0.." 1h".len() {
        app.update(Action::Edit(KeyEvent::new(
            KeyCode::Left,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, "9");
    let (_, filter) = load(&app.update(Action::Activate));
    assert_eq!(filter.to_string(), "users:9 1h");
}
