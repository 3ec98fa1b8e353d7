//! What the user asks for. The keymap turns key presses into these; mouse and resize
//! become them in the runtime. Imperative names: each is a request `App::update` may refuse.

use ratatui::crossterm::event::KeyEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    ToggleHelp,
    ShowLessons,
    ShowConsole,
    CycleLatency,
    /// Act as the next of the story's users.
    CycleUser,
    ToggleLogFocus,
    Up,
    Down,
    PageUp,
    PageDown,
    Left,
    Right,
    End,
    /// Open the selected lesson.
    Open,
    /// Leave the current screen (the console cancels a running statement first).
    Back,
    NextStep,
    PrevStep,
    /// Do what the current step does: run its SQL or demo, open its exercise.
    Activate,
    RevealHint,
    GiveUp,
    /// Choose a quiz option (0-based).
    Answer(u8),
    ToggleNotes,
    /// Pin what the lesson's step shows beside the SQL console; on the pinned step, unpin.
    TogglePin,
    /// Scroll the pinned pane (beside the console's editor) up, down, left, right.
    PinUp,
    PinDown,
    PinLeft,
    PinRight,
    /// Presenting mode on or off.
    TogglePresenting,
    /// Blank the projected screen until the next key.
    Blank,
    /// Bring a blanked screen back.
    Unblank,
    ResetLesson,
    ResetAll,
    RunConsole,
    /// EXPLAIN ANALYZE the editor's statement and show its plan.
    Explain,
    /// Show the plan side by side with the one explained before it, or the plan alone again.
    ToggleDiff,
    /// The audit timeline (F7).
    ShowAudit,
    /// The schema map, read afresh from the catalog.
    ShowSchema,
    /// The live tables view on the default tables (organizations, users, posts).
    ShowTables,
    /// Show only the selected audit event's row (again: every row).
    FilterRecord,
    /// Show only the changes of the selected audit event's actor (again: everyone's).
    FilterActor,
    /// Show only the selected audit event's table (again: every table).
    FilterTable,
    /// The audit timeline's time window: all, the last hour, the last ten minutes.
    CycleWindow,
    /// Drop every audit filter.
    ClearFilter,
    /// Type the audit filter (`users:10 actor=7 1h`).
    EditFilter,
    HistoryPrev,
    HistoryNext,
    ClearLog,
    /// The presenter view: follow the next of the labs running on its data directory.
    FollowOtherLab,
    /// A key for the console's editor.
    Edit(KeyEvent),
    /// Text pasted into the terminal (bracketed paste), for the editor.
    Paste(String),
    /// The mouse wheel turned over the cell at `column`, `row`; `lines` < 0 scrolls up.
    Scroll {
        column: u16,
        row: u16,
        lines: i16,
    },
    /// The terminal has a new size.
    Resize {
        width: u16,
        height: u16,
    },
}
