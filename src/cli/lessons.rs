//! `pglab lessons list|check|run`: the lessons without the terminal UI. `check` is the
//! content's CI: every file valid, every run step and demo runs, every reference solution
//! passes its own check and no starter does, on a throwaway copy of the story database.
//! `run` plays a lesson as plain text, running its SQL and demos live.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use super::lab::{lessons_source, load_catalog};
use crate::app::player::StepOutput;
use crate::cli::LessonsCommand;
use crate::db::console::{Console, ExecuteError, Outcome};
use crate::db::grading::{Measured, measure};
use crate::db::scratch::ScratchDb;
use crate::db::{Lab, LabConfig};
use crate::demo::meter::Meter;
use crate::demo::{DemoContext, DemoReport};
use crate::lesson::{Attempt, Catalog, Check, Lesson, PROGRESS_FILE, Progress, StepKind, grade};
use crate::proxy::Latency;
use crate::query_log::ScopeReport;
use crate::result_set::ResultSet;
use crate::ui::markdown::plain;
use crate::ui::player::{StepView, step_lines};
use crate::ui::theme::Theme;

/// Rows a lesson's statement may return in `check` and `run`.
const MAX_ROWS: usize = 10_000;
/// The throwaway database `check` works in (with the process id: two checks on one
/// shared server must not drop each other's).
fn check_database() -> String {
    format!("pglab_lessons_check_{}", std::process::id())
}

#[allow(clippy::print_stdout)]
pub async fn run(
    config: &LabConfig,
    lessons: Option<&Path>,
    command: LessonsCommand,
) -> anyhow::Result<()> {
    let catalog = load_catalog(lessons_source(lessons))?;
    match command {
        LessonsCommand::List => {
            let progress = Progress::load(&config.data_dir.join(PROGRESS_FILE))?;
            for lesson in &catalog.lessons {
                let done = progress.completion(lesson);
                println!(
                    "{:>2}  {:<14} {:<28} {}/{} steps done",
                    lesson.diagram, lesson.id, lesson.title, done.done, done.total
                );
            }
            Ok(())
        }
        LessonsCommand::Check => check(config, &catalog).await,
        LessonsCommand::Run { id } => {
            let lesson = catalog
                .find(&id)
                .with_context(|| format!("no lesson `{id}`; `pglab lessons list` shows them"))?;
            play(config, lesson).await
        }
    }
}

/// Every lesson's live parts, on a fresh copy of the story.
#[allow(clippy::print_stdout)]
async fn check(config: &LabConfig, catalog: &Catalog) -> anyhow::Result<()> {
    println!("{} lessons: files valid", catalog.lessons.len());
    let lab = Lab::open(config).await?;
    let scratch = ScratchDb::create(&lab, &check_database()).await?;
    let mut failures = Vec::new();
    for lesson in &catalog.lessons {
        for (index, step) in lesson.steps.iter().enumerate() {
            let place = format!(
                "{} step {} ({}, {})",
                lesson.id,
                index + 1,
                step.kind.name(),
                step.title
            );
            match check_step(&scratch, &step.kind).await {
                Ok(Some(summary)) => println!("ok   {place}: {summary}"),
                Ok(None) => {}
                Err(problem) => {
                    println!("FAIL {place}: {problem:#}");
                    failures.push(place);
                }
            }
        }
    }
    scratch.drop().await?;
    if !failures.is_empty() {
        bail!("{} lesson steps failed their check", failures.len());
    }
    println!("all lessons pass");
    Ok(())
}

/// Runs one step's live part; `None` for steps with nothing to run.
async fn check_step(scratch: &ScratchDb, kind: &StepKind) -> anyhow::Result<Option<String>> {
    match kind {
        StepKind::Run { sql } => {
            let mut console = Console::connect(&scratch.learner).await?;
            let outcome = console.execute(sql, MAX_ROWS).await.map_err(describe)?;
            let rows: usize = outcome.statements.iter().map(|s| s.result.rows.len()).sum();
            Ok(Some(format!("{rows} rows")))
        }
        StepKind::Demo { name, params } => {
            let report = run_demo(&scratch.learner, name, params).await?;
            Ok(Some(format!(
                "{} round trips in {}",
                report.round_trips,
                crate::ui::duration(report.wall)
            )))
        }
        StepKind::Exercise(exercise) => {
            let check = &exercise.check;
            let mut direct = Console::connect(&scratch.learner).await?;
            let (expected, measured) = undone(&mut direct, &exercise.solution, check).await;
            let expected = expected.map_err(describe)?;
            let measured = measured.map_err(describe)?;
            let (round_trips, solution, warnings) =
                measured_trips(scratch, &exercise.solution).await?;
            let verdict = grade(
                check,
                &expected,
                &Attempt {
                    result: solution.as_ref(),
                    round_trips: Some(round_trips),
                    plan_nodes: measured.plan_nodes.as_deref(),
                    speedup: measured.speedup,
                    warnings: Some(&warnings),
                },
            );
            if !verdict.passed() {
                let why: Vec<String> = verdict.findings.iter().map(ToString::to_string).collect();
                bail!(
                    "the reference solution fails its own check: {}",
                    why.join("; ")
                );
            }
            let (starter_trips, starter, starter_warnings) =
                measured_trips(scratch, &exercise.starter).await?;
            // A starter may fail, and so may measuring after it: either way it does not pass.
            let (_, starter_measured) = undone(&mut direct, &exercise.starter, check).await;
            let starter_measured = starter_measured.unwrap_or_default();
            let verdict = grade(
                check,
                &expected,
                &Attempt {
                    result: starter.as_ref(),
                    round_trips: Some(starter_trips),
                    plan_nodes: starter_measured.plan_nodes.as_deref(),
                    speedup: starter_measured.speedup,
                    warnings: Some(&starter_warnings),
                },
            );
            if verdict.passed() {
                bail!("the starter SQL already passes the check: the exercise asks nothing");
            }
            let speedup = measured.speedup.map_or_else(String::new, |x| {
                format!(", {x:.0}× faster than without indexes")
            });
            Ok(Some(format!(
                "solution passes in {round_trips} round trip(s){speedup}; starter fails"
            )))
        }
        StepKind::Read | StepKind::Diagram { .. } | StepKind::Quiz(_) => Ok(None),
    }
}

/// Runs `sql` inside a transaction that is rolled back, reading what `check` measures
/// before the rollback, so the plan sees what the SQL built (an index, say): its last result,
/// and the measurements.
async fn undone(
    conn: &mut Console,
    sql: &str,
    check: &Check,
) -> (
    Result<ResultSet, ExecuteError>,
    Result<Measured, ExecuteError>,
) {
    if let Err(error) = conn.execute("begin", 0).await {
        let again = ExecuteError::Plan(format!("cannot open a transaction: {error}"));
        return (Err(error), Err(again));
    }
    let result = conn.execute(sql, MAX_ROWS).await;
    // After a failed statement the transaction only accepts the rollback.
    let measured = match &result {
        Ok(_) => measure(conn.connection(), check, sql).await,
        Err(_) => Err(ExecuteError::Plan("the SQL failed".to_string())),
    };
    let _ = conn.execute("rollback", 0).await;
    (result.map(Outcome::into_last_result), measured)
}

/// Runs `sql` on a connection through a meter: the round trips it took, its last result
/// (`None` when it failed: a failing starter is a fine starter) and the warnings the
/// meter's log raised for it.
async fn measured_trips(
    scratch: &ScratchDb,
    sql: &str,
) -> anyhow::Result<(u64, Option<ResultSet>, Vec<String>)> {
    // Rolled back: each exercise's answers start from the story as shipped.
    let (outcome, report) = metered(&scratch.learner, "pglab lessons check", sql, true).await?;
    let result = match outcome {
        Ok(outcome) => Some(outcome.into_last_result()),
        Err(ExecuteError::Sql(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let warnings = crate::query_log::warning_messages(&report.warnings);
    Ok((report.totals.round_trips, result, warnings))
}

fn describe(error: ExecuteError) -> anyhow::Error {
    match error {
        ExecuteError::Sql(failure) => anyhow::anyhow!("{} ({})", failure.message, failure.sqlstate),
        other => other.into(),
    }
}

/// Plays `lesson` on stdout: every step's text, its SQL and demos run live on the lab
/// database. On a terminal it waits for Enter between steps and asks the quizzes.
#[allow(clippy::print_stdout)]
async fn play(config: &LabConfig, lesson: &Lesson) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let theme = Theme::plain();
    // Prose reads badly in very long lines.
    let width = super::output_width().min(100);
    let lab = Lab::open(config).await?;
    let progress = Progress::default();
    println!("{} · {}\n", lesson.diagram, lesson.title);
    for (index, step) in lesson.steps.iter().enumerate() {
        println!("── step {} of {} ──", index + 1, lesson.steps.len());
        let output = match &step.kind {
            StepKind::Run { sql } => Some(run_measured(&lab, sql).await?),
            StepKind::Demo { name, params } => {
                let report = run_demo(&lab.learner, name, params)
                    .await
                    .map_err(|e| e.to_string());
                Some(StepOutput::Demo {
                    progress: Vec::new(),
                    report: Some(report),
                })
            }
            _ => None,
        };
        let layers = match &step.kind {
            StepKind::Diagram { layers } => layers.len(),
            _ => 1,
        };
        let view = StepView {
            lesson,
            index,
            layers,
            output: output.as_ref(),
            progress: progress.lesson(&lesson.id),
            notes: false,
            running: false,
            interactive: false,
        };
        // Everything printed is wrapped to the terminal: prose flush left, hints and
        // answers with their continuation lines indented under their label.
        let wrapped = |text: &str, indent: &str| {
            for piece in crate::wrap::wrap(text.trim_end(), width, indent) {
                println!("{piece}");
            }
        };
        let say = |text: &str| wrapped(text, "  ");
        for line in plain(&step_lines(&view, &theme, width)) {
            wrapped(&line, "");
        }
        match &step.kind {
            StepKind::Exercise(exercise) => {
                for (i, hint) in exercise.hints.iter().enumerate() {
                    say(&format!("Hint {}: {hint}", i + 1));
                }
                println!("(Write your answer in the lab's console, `pglab`, where it is checked.)");
            }
            StepKind::Quiz(quiz) if interactive => {
                let answer = ask(&format!("Your answer (1-{}): ", quiz.options.len()))?;
                if let Some(option) = answer
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| quiz.options.get(n.wrapping_sub(1)))
                {
                    let verdict = if option.correct {
                        "Right."
                    } else {
                        "Not quite."
                    };
                    say(&format!("{verdict} {}", option.why));
                }
            }
            StepKind::Quiz(quiz) => {
                if let Some((n, option)) = quiz.options.iter().enumerate().find(|(_, o)| o.correct)
                {
                    say(&format!("Answer: {}) {}", n + 1, option.why));
                }
            }
            _ => {}
        }
        println!();
        if interactive
            && index + 1 < lesson.steps.len()
            && ask("Enter: next step · q: stop ")?.trim() == "q"
        {
            break;
        }
    }
    Ok(())
}

/// A run step's statement on a connection through a meter, as the lab runs it.
async fn run_measured(lab: &Lab, sql: &str) -> anyhow::Result<StepOutput> {
    let (outcome, report) = metered(&lab.learner, "pglab lessons run", sql, false).await?;
    let ran = match outcome {
        Ok(outcome) => Ok(outcome),
        Err(ExecuteError::Sql(failure)) => Err(failure),
        Err(error) => return Err(error.into()),
    };
    Ok(StepOutput::Query {
        ran,
        report: Some(report),
    })
}

/// Runs `sql` on its own connection through a meter of its own, as `application`: what it
/// returned and what the proxy counted. With `rolled_back`, inside a transaction that is
/// rolled back afterwards (outside what is counted).
async fn metered(
    learner: &PgConnectOptions,
    application: &str,
    sql: &str,
    rolled_back: bool,
) -> anyhow::Result<(Result<Outcome, ExecuteError>, ScopeReport)> {
    let mut meter = Meter::start(learner, Latency::default(), None).await?;
    let mut console = Console::connect(&meter.options(application)).await?;
    if rolled_back {
        console.execute("begin", 0).await.map_err(describe)?;
    }
    let (outcome, measured) = meter.measure("step", console.execute(sql, MAX_ROWS)).await;
    if rolled_back {
        console.execute("rollback", 0).await.map_err(describe)?;
    }
    Ok((outcome, measured.report))
}

/// Runs a lesson's demo on its own, outside the lab: no latency knob, no log to feed, its
/// progress news unread.
async fn run_demo(
    learner: &PgConnectOptions,
    name: &str,
    params: &toml::Table,
) -> Result<DemoReport, crate::demo::Error> {
    let context = DemoContext {
        learner: learner.clone(),
        latency: Latency::default(),
        log: None,
    };
    let (tx, _rx) = mpsc::unbounded_channel();
    crate::demo::run(&context, name, params, tx).await
}

#[allow(clippy::print_stdout)]
fn ask(prompt: &str) -> anyhow::Result<String> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}
