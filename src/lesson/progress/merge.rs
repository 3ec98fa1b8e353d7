//! The three-way merge a save makes when labs share a progress file: `base` is what this lab
//! loaded or last saved, `ours` what it holds now, `theirs` what the file holds now (another
//! lab may have saved since). Per lesson:
//!
//! - this lab did not change it (`ours` = `base`): the file's version stays, whatever another
//!   lab did to it, a reset included;
//! - this lab reset it (gone from `ours`): it is gone;
//! - only this lab changed it (`theirs` = `base`): this lab's version;
//! - both changed it: the union. The furthest step seen is the larger of the two; passed
//!   exercises and solutions given up for are both sets joined; each exercise keeps the more
//!   hints revealed; the current step and each quiz answer are this lab's where it changed
//!   them (this save is the newest move), else the file's.
//!
//! So a lesson is never lost to a save made by a lab that did not touch it, and work done in
//! two labs on one lesson adds up.

use std::collections::{BTreeMap, BTreeSet};

use super::{LessonProgress, Progress};

pub(super) fn merge(base: &Progress, ours: &Progress, theirs: Progress) -> Progress {
    let mut merged = theirs;
    let ids: BTreeSet<&String> = base.lessons.keys().chain(ours.lessons.keys()).collect();
    for id in ids {
        let (before, now) = (base.lessons.get(id), ours.lessons.get(id));
        if before == now {
            continue;
        }
        let Some(now) = now else {
            merged.lessons.remove(id);
            continue;
        };
        let combined = match merged.lessons.get(id) {
            Some(file) if Some(file) != before => both_changed(before, now, file),
            _ => now.clone(),
        };
        merged.lessons.insert(id.clone(), combined);
    }
    merged
}

/// One lesson both this lab (`now`, from `before`) and another (`file`) changed.
fn both_changed(
    before: Option<&LessonProgress>,
    now: &LessonProgress,
    file: &LessonProgress,
) -> LessonProgress {
    let before_step = before.map(|b| b.step);
    let before_answers = before.map(|b| &b.quiz_answers);
    let mut quiz_answers = file.quiz_answers.clone();
    for (step, answer) in &now.quiz_answers {
        if before_answers.and_then(|answers| answers.get(step)) != Some(answer) {
            quiz_answers.insert(*step, *answer);
        }
    }
    LessonProgress {
        step: if before_step == Some(now.step) {
            file.step
        } else {
            now.step
        },
        reached: now.reached.max(file.reached),
        passed: &now.passed | &file.passed,
        quiz_answers,
        hints_revealed: most(&now.hints_revealed, &file.hints_revealed),
        gave_up: &now.gave_up | &file.gave_up,
    }
}

/// Per key, the larger count.
fn most(a: &BTreeMap<usize, usize>, b: &BTreeMap<usize, usize>) -> BTreeMap<usize, usize> {
    let mut most = a.clone();
    for (key, count) in b {
        let entry = most.entry(*key).or_default();
        *entry = (*entry).max(*count);
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lesson_this_lab_did_not_touch_is_the_files() {
        let base = Progress::default();
        let mut ours = base.clone();
        ours.set_step("a", 2);
        let mut theirs = base.clone();
        theirs.set_step("b", 5);
        theirs.mark_passed("b", 4);
        let merged = merge(&base, &ours, theirs.clone());
        assert_eq!(merged.lesson("a").current_step(9), 2);
        assert_eq!(merged.lesson("b"), theirs.lesson("b"));
    }

    #[test]
    fn a_reset_here_removes_and_a_reset_there_is_kept() {
        let mut base = Progress::default();
        base.set_step("a", 3);
        base.set_step("b", 4);
        let mut ours = base.clone();
        ours.reset_lesson("a");
        // Another lab reset `b`, which this lab did not touch since.
        let mut theirs = base.clone();
        theirs.reset_lesson("b");
        let merged = merge(&base, &ours, theirs);
        assert!(!merged.lesson("a").is_started());
        assert!(!merged.lesson("b").is_started());
    }

    #[test]
    fn work_on_one_lesson_in_two_labs_adds_up() {
        let mut base = Progress::default();
        base.set_step("a", 1);
        base.answer_quiz("a", 6, 0);
        let mut ours = base.clone();
        ours.set_step("a", 4);
        ours.mark_passed("a", 3);
        ours.reveal_hint("a", 3, 3);
        let mut theirs = base.clone();
        theirs.set_step("a", 7);
        theirs.set_step("a", 2);
        theirs.mark_passed("a", 2);
        theirs.answer_quiz("a", 6, 1);
        theirs.reveal_hint("a", 3, 3);
        theirs.reveal_hint("a", 3, 3);
        let merged = merge(&base, &ours, theirs);
        let lesson = merged.lesson("a");
        assert_eq!(lesson.current_step(9), 4, "this save is the newest move");
        assert!(lesson.has_seen(7), "the furthest step of either");
        assert!(lesson.is_passed(2) && lesson.is_passed(3));
        assert_eq!(
            lesson.quiz_answer(6),
            Some(1),
            "this lab did not answer again"
        );
        assert_eq!(lesson.hints_revealed(3), 2);
    }

    #[test]
    fn a_step_this_lab_did_not_move_is_the_files() {
        let mut base = Progress::default();
        base.set_step("a", 1);
        let mut ours = base.clone();
        ours.give_up("a", 1);
        let mut theirs = base.clone();
        theirs.set_step("a", 3);
        let merged = merge(&base, &ours, theirs);
        assert_eq!(merged.lesson("a").current_step(9), 3);
        assert!(merged.lesson("a").gave_up(1));
    }
}
