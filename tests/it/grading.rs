//! One grading path: the same answers graded the way the lab grades them and the way `pglab
//! lessons check` does, on a real database, with the same verdicts. The lab's side is put
//! together as the runtime puts it together: the app with the shipped lessons, a proxy in
//! front of the database feeding the app's query log, the console connection through it,
//! and each `CheckExercise` command carried out as the console worker carries it out
//! (`Grader::attempt`, then `Event::ExerciseRan`). The other side is `lessons check`'s own
//! `grade_answer`.

use std::sync::Arc;

use tokio::sync::mpsc;

use pglab::app::log::CONSOLE_APPLICATION;
use pglab::app::player::StepOutput;
use pglab::app::{Action, App, Command, Event};
use pglab::cli::lessons::grade_answer;
use pglab::data::proxy::ProxyEvent;
use pglab::db::console::Console;
use pglab::db::grading::Grader;
use pglab::lesson::{Catalog, Check, Exercise, Progress, StepKind, Verdict};
use pglab::proxy::{EVENT_BUFFER, Latency, Proxy};
use pglab::testing::TestDb;

/// The lab, opened at one lesson's exercise with the console ready to take answers.
struct Lab {
    app: App,
    console: Console,
    grader: Grader,
    traffic: mpsc::Receiver<ProxyEvent>,
    /// The exercise's step in its lesson.
    step: usize,
    _proxy: Proxy,
}

impl Lab {
    async fn at_exercise(db: &TestDb, catalog: Arc<Catalog>, lesson: &str) -> Self {
        let (tx, traffic) = mpsc::channel(EVENT_BUFFER);
        let (proxy, routed) = Proxy::in_front_of(&db.learner, Latency::default(), tx)
            .await
            .unwrap();
        // The lint's facts, read directly as the runtime reads them.
        let mut direct = db.learner_conn().await.unwrap();
        let facts = pglab::db::catalog::table_facts(&mut direct).await.unwrap();
        let mut app = App::new(catalog, Progress::default(), db.name.clone());
        app.apply(Event::LabReady {
            database: db.name.clone(),
            facts: Some(facts),
        });
        let console = Console::connect(&routed.application_name(CONSOLE_APPLICATION))
            .await
            .unwrap();
        app.apply(Event::ConsoleReady);
        let index = app
            .catalog
            .lessons
            .iter()
            .position(|l| l.id == lesson)
            .unwrap();
        let step = exercise_step(&app.catalog, lesson);
        let mut lab = Self {
            app,
            console,
            grader: Grader::new(db.learner.clone()),
            traffic,
            step,
            _proxy: proxy,
        };
        // The console's session start, so the app knows which session is the console's.
        lab.pass_traffic();
        assert!(lab.app.log.console_session.is_some());
        for _ in 0..index {
            lab.app.update(Action::Down);
        }
        lab.app.update(Action::Open);
        while lab.app.player.as_ref().unwrap().step < step {
            lab.app.update(Action::NextStep);
        }
        lab.app.update(Action::Activate);
        lab
    }

    /// Everything the proxy has reported so far, into the app's query log. The proxy sends a
    /// round trip's events before it forwards the answer, so once a statement has returned,
    /// its traffic is waiting here.
    fn pass_traffic(&mut self) {
        while let Ok(event) = self.traffic.try_recv() {
            self.app.apply(Event::Proxy(event));
        }
    }

    /// `answer` typed into the console and run, graded as the lab grades it.
    async fn grade(&mut self, answer: &str) -> Result<Verdict, String> {
        self.app.console.set_text(answer);
        let commands = self.app.update(Action::RunConsole);
        let [
            Command::CheckExercise {
                id,
                sql,
                solution,
                check,
            },
        ] = commands.as_slice()
        else {
            panic!("expected the answer to be checked, got {commands:?}");
        };
        let gathered = self
            .grader
            .attempt(&mut self.console, sql, solution, check)
            .await
            .unwrap();
        self.pass_traffic();
        self.app.apply(Event::ExerciseRan { id: *id, gathered });
        match self.app.player.as_ref().unwrap().outputs.get(&self.step) {
            Some(StepOutput::Graded { verdict, .. }) => verdict.clone(),
            other => panic!("no verdict for {answer:?}: {other:?}"),
        }
    }
}

fn shipped() -> Catalog {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    Catalog::load(&dir, &pglab::demo::validate).expect("the shipped lessons load")
}

fn exercise_step(catalog: &Catalog, lesson: &str) -> usize {
    let lesson = catalog.find(lesson).unwrap();
    lesson
        .steps
        .iter()
        .position(|s| matches!(s.kind, StepKind::Exercise(_)))
        .unwrap()
}

fn exercise_mut<'a>(catalog: &'a mut Catalog, lesson: &str) -> &'a mut Exercise {
    let step = exercise_step(catalog, lesson);
    let lesson = catalog.lessons.iter_mut().find(|l| l.id == lesson).unwrap();
    match &mut lesson.steps[step].kind {
        StepKind::Exercise(exercise) => exercise,
        _ => unreachable!("found as an exercise"),
    }
}

/// Grades every answer both ways and checks the verdicts are the same; returns them.
async fn both_ways(
    db: &TestDb,
    catalog: Catalog,
    lesson: &str,
    answers: &[&str],
) -> Vec<Result<Verdict, String>> {
    let exercise = match &catalog.find(lesson).unwrap().steps[exercise_step(&catalog, lesson)].kind
    {
        StepKind::Exercise(exercise) => exercise.clone(),
        _ => unreachable!("found as an exercise"),
    };
    let mut lab = Lab::at_exercise(db, Arc::new(catalog), lesson).await;
    let mut verdicts = Vec::new();
    for answer in answers {
        let in_the_lab = lab.grade(answer).await;
        let checked = grade_answer(&db.learner, &exercise, answer)
            .await
            .unwrap()
            .verdict;
        assert_eq!(in_the_lab, checked, "{lesson}: {answer}");
        verdicts.push(in_the_lab);
    }
    verdicts
}

fn findings(verdict: &Result<Verdict, String>) -> Vec<String> {
    match verdict {
        Ok(verdict) => verdict.findings.iter().map(ToString::to_string).collect(),
        Err(problem) => panic!("no verdict: {problem}"),
    }
}

#[tokio::test]
async fn rows_and_round_trips_are_graded_alike_in_the_lab_and_by_lessons_check() {
    let db = TestDb::create().await.unwrap();
    let catalog = shipped();
    let exercise = exercise_mut(&mut catalog.clone(), "n-plus-one").clone();
    assert!(exercise.check.rows.is_some() && exercise.check.max_round_trips == Some(1));
    let verdicts = both_ways(
        &db,
        catalog,
        "n-plus-one",
        &[
            &exercise.solution,
            &exercise.starter,
            "select title, username from posts join users on users.id = posts.author_id",
            "select title, usernam from posts",
        ],
    )
    .await;
    let [right, starter, deleted_too, failing] = verdicts.as_slice() else {
        unreachable!("four answers");
    };
    assert!(right.as_ref().is_ok_and(Verdict::passed), "{right:?}");
    assert!(
        right
            .as_ref()
            .unwrap()
            .held
            .contains(&"1 round trip (at most 1)".to_string()),
        "{right:?}"
    );
    assert!(findings(starter)[0].contains("column count"), "{starter:?}");
    assert!(
        findings(deleted_too)[0].contains("extra row"),
        "{deleted_too:?}"
    );
    let failing = failing.as_ref().unwrap_err();
    assert!(failing.starts_with("Your statement failed"), "{failing}");
}

#[tokio::test]
async fn the_lint_is_graded_alike_in_the_lab_and_by_lessons_check() {
    let db = TestDb::create().await.unwrap();
    let catalog = shipped();
    let exercise = exercise_mut(&mut catalog.clone(), "soft-deletes").clone();
    assert!(exercise.check.lint_free);
    // The right rows, but by leaving out the draft by title rather than by deleted_at.
    let sneaky = "select title from posts where organization_id = 1 \
                  and title <> 'Draft: pricing ideas' order by created_at desc";
    let verdicts = both_ways(
        &db,
        catalog,
        "soft-deletes",
        &[&exercise.solution, &exercise.starter, sneaky],
    )
    .await;
    assert!(verdicts[0].as_ref().is_ok_and(Verdict::passed));
    assert_eq!(findings(&verdicts[1]).len(), 2, "{:?}", verdicts[1]);
    let sneaky = findings(&verdicts[2]);
    assert_eq!(sneaky.len(), 1, "{sneaky:?}");
    assert!(sneaky[0].contains("deleted_at"), "{sneaky:?}");
}

#[tokio::test]
async fn plans_are_graded_alike_in_the_lab_and_by_lessons_check() {
    let db = TestDb::create().await.unwrap();
    let mut catalog = shipped();
    // A plan check that needs no million-row table: the plan may not read a table whole.
    exercise_mut(&mut catalog, "n-plus-one").check = Check {
        plan_excludes: vec!["Seq Scan".into()],
        max_round_trips: Some(1),
        ..Check::default()
    };
    let verdicts = both_ways(
        &db,
        catalog,
        "n-plus-one",
        &[
            "select count(*) from generate_series(1, 3)",
            "select count(*) from posts",
        ],
    )
    .await;
    assert!(
        verdicts[0].as_ref().is_ok_and(Verdict::passed),
        "{verdicts:?}"
    );
    assert_eq!(
        findings(&verdicts[1]),
        ["the plan still has a Seq Scan node"]
    );
}

fn exercise_of(catalog: &Catalog, lesson: &str) -> Exercise {
    match &catalog.find(lesson).unwrap().steps[exercise_step(catalog, lesson)].kind {
        StepKind::Exercise(exercise) => exercise.clone(),
        _ => unreachable!("found as an exercise"),
    }
}

/// Every wrong answer a shipped exercise declares is explained by the diagnosis it expects,
/// the same way in the lab and in `lessons check`.
#[tokio::test]
async fn declared_wrong_answers_are_explained_alike_in_the_lab_and_by_lessons_check() {
    for lesson in ["n-plus-one", "soft-deletes", "orm", "foreign-keys"] {
        let db = TestDb::create().await.unwrap();
        let catalog = shipped();
        let exercise = exercise_of(&catalog, lesson);
        assert!(
            !exercise.wrong.is_empty(),
            "{lesson} declares wrong answers"
        );
        let answers: Vec<&str> = exercise.wrong.iter().map(|w| w.answer.as_str()).collect();
        let verdicts = both_ways(&db, catalog, lesson, &answers).await;
        for (wrong, verdict) in exercise.wrong.iter().zip(&verdicts) {
            let verdict = verdict.as_ref().unwrap();
            assert!(!verdict.passed(), "{lesson}: {}", wrong.answer);
            let why = verdict.why.as_ref().map(|w| w.diagnosis.as_str());
            assert_eq!(why, Some(wrong.expect.as_str()), "{lesson}: {verdict:?}");
        }
    }
}

/// An answer that changes a key is graded by what survives the check's delete, run after it
/// and rolled back: the same verdicts in the lab and in `lessons check`, and the answer's
/// tables still there, bob included, for the next attempt.
#[tokio::test]
async fn what_survives_a_delete_is_graded_alike_in_the_lab_and_by_lessons_check() {
    let db = TestDb::create().await.unwrap();
    let catalog = shipped();
    let exercise = exercise_of(&catalog, "foreign-keys");
    assert!(exercise.check.rows_after_answer());
    let cascade = exercise
        .solution
        .replace("on delete set null", "on delete cascade");
    let verdicts = both_ways(
        &db,
        catalog,
        "foreign-keys",
        &[&exercise.starter, &cascade, &exercise.solution],
    )
    .await;
    let [starter, cascade, right] = verdicts.as_slice() else {
        unreachable!("three answers");
    };
    assert!(
        findings(starter)[0].contains("the check's statements were refused")
            && findings(starter)[0].contains("(SQLSTATE 23503)"),
        "{starter:?}"
    );
    let why = cascade.as_ref().unwrap().why.clone().unwrap().text;
    assert!(
        why.contains("#2 “Our on-call rotation”, #8 “Postmortem: the January outage”"),
        "{why}"
    );
    assert!(right.as_ref().is_ok_and(Verdict::passed), "{right:?}");
    let mut conn = db.learner_conn().await.unwrap();
    let bob: i64 = sqlx::query_scalar("select count(*) from ex_users where username = 'bob'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(bob, 1, "the check's delete is rolled back");
}

/// What the soft-delete lesson's learner reads: the NULL comparison explained, and the extra
/// row named as the deleted draft it is.
#[tokio::test]
async fn a_wrong_answer_is_told_why_in_its_own_terms() {
    let db = TestDb::create().await.unwrap();
    let verdicts = both_ways(
        &db,
        shipped(),
        "soft-deletes",
        &[
            "select title from posts where organization_id = 1 and deleted_at = NULL \
             order by created_at desc",
            "select title from posts where organization_id = 1 order by created_at desc",
        ],
    )
    .await;
    let why: Vec<String> = verdicts
        .iter()
        .map(|v| v.as_ref().unwrap().why.clone().unwrap().text)
        .collect();
    assert!(
        why[0].contains("never true") && why[0].contains("is null"),
        "{why:?}"
    );
    assert!(
        why[1].contains("“Draft: pricing ideas” (deleted on 2026-02-26)"),
        "{why:?}"
    );
    // The judge names the rows too: none of Acme's posts came back from `= NULL`.
    assert!(findings(&verdicts[0])[0].starts_with("7 rows missing: (Spring release notes)"));
}

/// An exercise graded on inputs: the bound answer passes on every request; the starter, which
/// still formats the name into its text, is really fed the attack and leaks every tenant's
/// users, and is told so; a failing answer fails on the first input.
#[tokio::test]
async fn an_answer_is_graded_on_each_input_a_handler_would_receive() {
    let db = TestDb::create().await.unwrap();
    let catalog = shipped();
    let exercise = exercise_of(&catalog, "orm");
    assert_eq!(
        exercise.check.inputs,
        vec!["alice", "charlie", "x' or '1'='1"]
    );
    let verdicts = both_ways(
        &db,
        catalog,
        "orm",
        &[
            &exercise.solution,
            &exercise.starter,
            "select id, username from users where organization_id = 1 and usernam = $1",
            "select id, username from users where organization_id = 1 and username = '$1'",
        ],
    )
    .await;
    let right = verdicts[0].as_ref().unwrap();
    assert!(right.passed(), "{right:?}");
    let starter = verdicts[1].as_ref().unwrap();
    assert!(!starter.passed());
    assert_eq!(
        findings(&verdicts[1]),
        vec![
            "10 extra rows: (x' or '1'='1, 1, alice) (x' or '1'='1, 2, bob) \
             (x' or '1'='1, 3, charlie) (x' or '1'='1, 4, diana) (x' or '1'='1, 5, erin) \
             and 5 more"
        ]
    );
    let why = starter.why.clone().unwrap();
    assert_eq!(why.diagnosis, "still-formatted");
    assert!(why.text.contains("closed your quote"), "{why:?}");
    let failing = verdicts[2].as_ref().unwrap_err();
    assert!(failing.contains("usernam"), "{failing}");
    // A quoted '$1' finds nobody for any input: alice's row is named missing.
    assert_eq!(
        findings(&verdicts[3]),
        vec!["1 row missing: (alice, 1, alice)"]
    );
}

/// The lazy loop typed into the console is a round trip per statement, flagged N+1 by the
/// lab's log, and explained as the loop of step 4.
#[tokio::test]
async fn a_hand_typed_lazy_loop_is_counted_statement_by_statement() {
    let db = TestDb::create().await.unwrap();
    let lazy = "select id, title, author_id from posts where deleted_at is null;\
                select username from users where id = 1;\
                select username from users where id = 2;\
                select username from users where id = 5;";
    let verdicts = both_ways(&db, shipped(), "n-plus-one", &[lazy]).await;
    let verdict = verdicts[0].as_ref().unwrap();
    assert_eq!(verdict.why.as_ref().unwrap().diagnosis, "lazy-loop");
    assert!(
        verdict.why.as_ref().unwrap().text.contains("(4 here)"),
        "{verdict:?}"
    );
    assert!(
        findings(&verdicts[0]).contains(
            &"too many round trips: 4, the limit is 1; fetch what the page needs in fewer \
              queries"
                .to_string()
        ),
        "{verdict:?}"
    );
}
