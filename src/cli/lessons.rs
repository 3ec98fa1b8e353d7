//! `pglab lessons list|check|run`: the lessons without the terminal UI. `check` is the
//! content's CI: every file valid, every run step and demo runs, every reference solution
//! passes its own check and no starter does, each lesson on a throwaway copy of the story
//! database. It grades an answer exactly as the lab does ([`grade_answer`]), and holds a
//! lesson to what it declares (`expected`: wrong answers and their diagnoses, the warnings a
//! step is about). `run` plays a lesson as plain text, running its SQL and demos live.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

use super::lab::{lessons_source, load_catalog};
use crate::app::player::{StepOutput, failure_text, report_in_lesson};
use crate::cli::{LessonsCommand, RunFormat};
use crate::data::console::Outcome;
use crate::data::demo::DemoReport;
use crate::db::console::{Console, ExecuteError};
use crate::db::grading::Grader;
use crate::db::scratch::ScratchDb;
use crate::db::{Lab, LabConfig};
use crate::demo::DemoContext;
use crate::demo::meter::Meter;
use crate::lesson::text::{Audience, resolve};
use crate::lesson::{
    Catalog, Exercise, Lesson, PROGRESS_FILE, Progress, Step, StepKind, Verdict, judge,
};
use crate::proxy::Latency;
use crate::query_log::{ScopeReport, raised_once};
use crate::ui::player::{StepView, step_page};
use crate::ui::theme::Theme;

mod expected;
mod handout;

/// Rows a lesson's statement may return in `check` and `run`.
const MAX_ROWS: usize = 10_000;
/// The throwaway database `check` works in (with the process id: two checks on one
/// shared server must not drop each other's).
fn check_database() -> String {
    format!("pglab_lessons_check_{}", std::process::id())
}

pub async fn run(
    config: &LabConfig,
    lessons: Option<&Path>,
    command: LessonsCommand,
) -> anyhow::Result<()> {
    let catalog = load_catalog(lessons_source(lessons))?;
    match command {
        LessonsCommand::List => {
            let progress = Progress::load(&config.data_dir.join(PROGRESS_FILE))?;
            // Columns as wide as their longest entry, so the minutes line up over their total.
            let width = |field: fn(&Lesson) -> &str| {
                let widths = catalog.lessons.iter().map(|l| field(l).chars().count());
                widths.max().unwrap_or(0)
            };
            let (id_width, title_width) = (width(|l| &l.id), width(|l| &l.title));
            let mut out = super::stdout();
            for lesson in &catalog.lessons {
                let done = progress.completion(lesson);
                writeln!(
                    out,
                    "{:>2}  {:<id_width$}  {:<title_width$}  {:>3} min  steps {}/{}",
                    lesson.diagram, lesson.id, lesson.title, lesson.minutes, done.done, done.total
                )?;
            }
            let total_width = 2 + 2 + id_width + 2 + title_width;
            let total = catalog.planned_minutes();
            writeln!(out, "{:>total_width$}  {total:>3} min", "planned in all")?;
            if let Some(unwritten) = catalog.unwritten_sentence() {
                writeln!(out, "\n{unwritten}")?;
            }
            Ok(())
        }
        LessonsCommand::Check => check(config, &catalog).await,
        LessonsCommand::Run { id, format } => {
            let lesson = catalog.find(&id).with_context(|| {
                let hint = catalog
                    .unwritten_sentence()
                    .map_or(String::new(), |u| format!(" ({u})"));
                format!("no lesson `{id}`; `pglab lessons list` shows them{hint}")
            })?;
            play(config, lesson, format).await
        }
    }
}

/// Every lesson's live parts, each lesson on a fresh copy of the story.
async fn check(config: &LabConfig, catalog: &Catalog) -> anyhow::Result<()> {
    let mut out = super::stdout();
    writeln!(out, "{} lessons: files valid", catalog.lessons.len())?;
    let lab = Lab::open(config).await?;
    let mut failures = Vec::new();
    for lesson in &catalog.lessons {
        // Answers are graded as the lab grades them, committed; what one lesson's answers
        // built (an index, say) must not reach the next lesson.
        let scratch = ScratchDb::create(&lab, &check_database()).await?;
        for (index, step) in lesson.steps.iter().enumerate() {
            let place = format!(
                "{} step {} ({}, {})",
                lesson.id,
                index + 1,
                step.kind.name(),
                step.title
            );
            match check_step(&scratch, lab.cluster(), step).await {
                Ok(Some(summary)) => writeln!(out, "ok   {place}: {summary}")?,
                Ok(None) => {}
                Err(problem) => {
                    writeln!(out, "FAIL {place}: {problem:#}")?;
                    failures.push(place);
                }
            }
        }
        scratch.drop().await?;
    }
    if !failures.is_empty() {
        bail!("{} lesson steps failed their check", failures.len());
    }
    writeln!(out, "all lessons pass")?;
    Ok(())
}

/// Runs one step's live part; `None` for steps with nothing to run.
async fn check_step(
    scratch: &ScratchDb,
    cluster: Option<&crate::db::cluster::Cluster>,
    step: &Step,
) -> anyhow::Result<Option<String>> {
    let declared = step.warnings.as_deref();
    match &step.kind {
        StepKind::Run { sql } => {
            let (outcome, report) = metered(&scratch.learner, "pglab lessons check", sql).await?;
            let outcome = outcome.map_err(describe)?;
            expected::declared_warnings(declared, &raised_once(&report.warnings))?;
            let rows: usize = outcome.statements.iter().map(|s| s.result.rows.len()).sum();
            Ok(Some(format!("{rows} rows")))
        }
        StepKind::Demo { name, params } => {
            let report = run_demo(&scratch.learner, cluster, name, params).await?;
            expected::declared_warnings(declared, &report.warnings)?;
            Ok(Some(format!(
                "{} round trips in {}",
                report.round_trips,
                crate::text::duration(report.wall)
            )))
        }
        StepKind::Exercise(exercise) => {
            // The starter first, then the solution: the order a learner meets them in, and
            // the one where the solution's committed work (the index it builds) cannot make
            // the starter pass.
            let starter = grade_answer(&scratch.learner, exercise, &exercise.starter).await?;
            if starter.verdict.as_ref().is_ok_and(Verdict::passed) {
                bail!("the starter SQL already passes the check: the exercise asks nothing");
            }
            let wrong = expected::wrong_answers(&scratch.learner, exercise).await?;
            let solution = grade_answer(&scratch.learner, exercise, &exercise.solution).await?;
            match &solution.verdict {
                Err(problem) => bail!("the reference solution cannot be graded: {problem}"),
                Ok(verdict) if !verdict.passed() => {
                    let why: Vec<String> =
                        verdict.findings.iter().map(ToString::to_string).collect();
                    bail!(
                        "the reference solution fails its own check: {}",
                        why.join("; ")
                    );
                }
                Ok(_) => {}
            }
            let speedup = solution.speedup.map_or_else(String::new, |x| {
                format!(", {x:.0}× faster than without indexes")
            });
            let wrong = match wrong {
                0 => String::new(),
                n => format!("; {n} wrong answer(s) explained by their diagnoses"),
            };
            Ok(Some(format!(
                "solution passes in {} round trip(s){speedup}; starter fails{wrong}",
                solution.round_trips
            )))
        }
        StepKind::Read => match &step.opens {
            Some(crate::lesson::Opens::Schema) => {
                let mut conn = crate::db::connect(&scratch.learner).await?;
                let map = crate::db::schema::read(&mut conn, crate::db::LESSON_SCHEMA, &[]).await?;
                Ok(Some(format!("schema map: {} tables", map.tables.len())))
            }
            // An unknown table fails here, naming the tables there are.
            Some(crate::lesson::Opens::Tables(names)) => {
                let mut conn = crate::db::connect(&scratch.learner).await?;
                let snapshot =
                    crate::db::tables::read(&mut conn, crate::db::LESSON_SCHEMA, names).await?;
                let rows: usize = snapshot.tables.iter().map(|t| t.rows.len() + t.more).sum();
                Ok(Some(format!(
                    "tables view: {}, {}",
                    crate::text::plural(snapshot.tables.len(), "table", "tables"),
                    crate::text::plural(rows, "row", "rows")
                )))
            }
            None => Ok(None),
        },
        StepKind::Diagram { .. } | StepKind::Quiz(_) => Ok(None),
    }
}

/// An answer graded as the lab grades it.
#[derive(Debug)]
pub struct GradedAnswer {
    /// The verdict, or why there is none (the answer failed, the reference solution or the
    /// measurements could not run); only `Ok` with no findings passes.
    pub verdict: Result<Verdict, String>,
    /// Round trips the answer took.
    pub round_trips: u64,
    /// How many times faster than without indexes, when the check measures it.
    pub speedup: Option<f64>,
    /// The diagnosis queries that failed (SQL, why): a diagnosis that looks at their rows
    /// cannot hold.
    pub diagnosis_failures: Vec<(String, String)>,
}

/// Grades `answer` to `exercise` on the database `learner` reaches, the way the lab does: it
/// runs on a connection through a meter of its own, which counts its round trips and raises
/// its warnings as the lab's query log does; [`Grader`] gathers the rest as it does for the
/// lab; [`judge`] decides. The answer's work is committed, as in the lab.
pub async fn grade_answer(
    learner: &PgConnectOptions,
    exercise: &Exercise,
    answer: &str,
) -> anyhow::Result<GradedAnswer> {
    let mut meter = Meter::start(learner, Latency::default(), None).await?;
    let mut console = Console::connect(&meter.options("pglab lessons check")).await?;
    let mut grader = Grader::new(learner.clone());
    let attempt = grader.attempt(&mut console, answer, &exercise.solution, &exercise.check);
    let (gathered, counted) = meter.measure("answer", attempt).await;
    let gathered = gathered.map_err(describe)?;
    let diagnosis_failures = gathered
        .diagnosis_rows
        .iter()
        .filter_map(|(sql, rows)| rows.as_ref().err().map(|e| (sql.clone(), e.clone())))
        .collect();
    Ok(GradedAnswer {
        verdict: judge(&exercise.check, &gathered, Some(&counted.report)),
        round_trips: counted.report.totals.round_trips,
        speedup: gathered.measured.ok().and_then(|m| m.speedup),
        diagnosis_failures,
    })
}

fn describe(error: ExecuteError) -> anyhow::Error {
    match error {
        ExecuteError::Sql(failure) => anyhow::anyhow!("{} ({})", failure.message, failure.sqlstate),
        other => other.into(),
    }
}

/// Plays `lesson` on stdout: every step's text, its SQL and demos run live on the lab
/// database. As text on a terminal it waits for Enter between steps and asks the quizzes;
/// as Markdown ([`handout`]) it writes the same steps as a handout, never waiting.
async fn play(config: &LabConfig, lesson: &Lesson, format: RunFormat) -> anyhow::Result<()> {
    let markdown = format == RunFormat::Markdown;
    let interactive =
        !markdown && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let theme = Theme::plain();
    // Prose reads badly in very long lines.
    let width = super::output_width().min(100);
    let lab = Lab::open(config).await?;
    let progress = Progress::default();
    let mut out = super::stdout();
    if markdown {
        write!(out, "{}", handout::title(lesson))?;
    } else {
        writeln!(out, "{} · {}\n", lesson.diagram, lesson.title)?;
    }
    for (index, step) in lesson.steps.iter().enumerate() {
        if !markdown {
            writeln!(out, "── step {} of {} ──", index + 1, lesson.steps.len())?;
        }
        let output = match &step.kind {
            StepKind::Run { sql } => Some(run_measured(&lab, sql).await?),
            StepKind::Demo { name, params } => {
                let report = match run_demo(&lab.learner, lab.cluster(), name, params).await {
                    Ok(report) => Ok(report_in_lesson(report, lesson)),
                    Err(error) => Err(failure_text(&error.failure(), lesson)),
                };
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
            presenting: false,
            running: false,
            interactive: false,
        };
        let page = step_page(&view, &theme, width);
        let closing = closing_lines(step, interactive);
        let opened = opened_lines(&lab, step, width).await?;
        if markdown {
            let laid = page.lay_out(usize::MAX);
            write!(
                out,
                "{}",
                handout::step(lesson, index, &laid, &closing, opened.as_deref(), width)
            )?;
            continue;
        }
        // Everything printed is wrapped to the terminal: prose flush left, hints and
        // answers with their continuation lines indented under their label; diagrams, SQL
        // and tables print whole: wrapping would break their shape.
        for (line, pre) in page.into_lines() {
            for piece in handout::as_printed(&line, pre, width) {
                writeln!(out, "{piece}")?;
            }
        }
        let say = |out: &mut super::stdout::Stdout, text: &str| -> std::io::Result<()> {
            for piece in crate::text::wrap(text.trim_end(), width, "  ") {
                writeln!(out, "{piece}")?;
            }
            Ok(())
        };
        for line in &closing {
            say(&mut out, line)?;
        }
        if let StepKind::Quiz(quiz) = &step.kind
            && interactive
        {
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
                say(
                    &mut out,
                    &format!("{verdict} {}", resolve(&option.why, Audience::Plain)),
                )?;
            }
        }
        if let Some(opened) = opened {
            writeln!(out)?;
            for line in &opened {
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out)?;
        if interactive
            && index + 1 < lesson.steps.len()
            && ask("Enter: next step · q: stop ")?.trim() == "q"
        {
            break;
        }
    }
    Ok(())
}

/// What the runner prints after a step's page: an exercise's hints (all of them: there is
/// no key to reveal them one by one) and where to answer; a quiz's answer and why, unless
/// the learner is asked it.
fn closing_lines(step: &Step, interactive: bool) -> Vec<String> {
    match &step.kind {
        StepKind::Exercise(exercise) => {
            let mut lines: Vec<String> = exercise
                .hints
                .iter()
                .enumerate()
                .map(|(i, hint)| format!("Hint {}: {}", i + 1, resolve(hint, Audience::Plain)))
                .collect();
            lines.push(
                "(Write your answer in the lab's console, `pglab`, where it is checked.)".into(),
            );
            lines
        }
        StepKind::Quiz(quiz) if !interactive => quiz
            .options
            .iter()
            .enumerate()
            .find(|(_, o)| o.correct)
            .map(|(n, option)| {
                let why = resolve(&option.why, Audience::Plain);
                format!("Answer: {}) {why}", n + 1)
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The schema map or tables a step opens, read now, as text lines.
async fn opened_lines(lab: &Lab, step: &Step, width: usize) -> anyhow::Result<Option<Vec<String>>> {
    let lines = match &step.opens {
        Some(crate::lesson::Opens::Schema) => {
            let mut conn = crate::db::connect(&lab.learner).await?;
            let map = crate::db::schema::read(&mut conn, crate::db::LESSON_SCHEMA, &[]).await?;
            crate::data::schema::text::lines(&map, &[])
                .into_iter()
                .map(|line| line.text.trim_end().to_string())
                .collect()
        }
        Some(crate::lesson::Opens::Tables(names)) => {
            let mut conn = crate::db::connect(&lab.learner).await?;
            let snapshot =
                crate::db::tables::read(&mut conn, crate::db::LESSON_SCHEMA, names).await?;
            crate::data::tables::text::lines(&snapshot, width, None)
                .into_iter()
                .map(|line| line.text())
                .collect()
        }
        None => return Ok(None),
    };
    Ok(Some(lines))
}

/// A run step's statement on a connection through a meter, as the lab runs it.
async fn run_measured(lab: &Lab, sql: &str) -> anyhow::Result<StepOutput> {
    let (outcome, report) = metered(&lab.learner, "pglab lessons run", sql).await?;
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
/// returned and what the proxy counted.
async fn metered(
    learner: &PgConnectOptions,
    application: &str,
    sql: &str,
) -> anyhow::Result<(Result<Outcome, ExecuteError>, ScopeReport)> {
    let mut meter = Meter::start(learner, Latency::default(), None).await?;
    let mut console = Console::connect(&meter.options(application)).await?;
    let (outcome, measured) = meter.measure("step", console.execute(sql, MAX_ROWS)).await;
    Ok((outcome, measured.report))
}

/// Runs a lesson's demo on its own, outside the lab: no latency knob, no log to feed, its
/// progress news unread.
async fn run_demo(
    learner: &PgConnectOptions,
    cluster: Option<&crate::db::cluster::Cluster>,
    name: &str,
    params: &toml::Table,
) -> Result<DemoReport, crate::demo::Error> {
    let context = DemoContext {
        learner: learner.clone(),
        latency: Latency::default(),
        log: None,
        cluster: cluster.cloned(),
        // No key to switch users here: a demo that needs one picks it from the story.
        acting_as: None,
    };
    let (tx, _rx) = mpsc::unbounded_channel();
    crate::demo::run(&context, name, params, tx).await
}

fn ask(prompt: &str) -> anyhow::Result<String> {
    let mut out = super::stdout();
    write!(out, "{prompt}")?;
    out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line)
}
