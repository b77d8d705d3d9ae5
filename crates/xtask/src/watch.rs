//! `cargo xtask watch [CHAPTER]`: the student's progress view, re-graded as files change.
//!
//! It grades the chapter's exercises (every chapter's without one) once, prints which are
//! solved, the points so far and the hint command for the next one, then waits for changes under
//! `crates/` (the `notify` crate: inotify on Linux). After a change it re-grades the exercise
//! whose file changed — or the next unsolved one when another file did — and prints the view
//! again. Changes arriving together (an editor writes a file in several steps) are taken as one.
//! Ctrl-C ends it.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::exercises::Exercise;
use crate::grade::{self, ExerciseResult, GradeOptions};
use crate::table::render_table;

/// Changes closer together than this are one change.
const SETTLE: Duration = Duration::from_millis(300);

/// Watches `root` and re-grades `exercises` in it until interrupted.
pub fn watch(root: &Path, exercises: &[&Exercise], options: &GradeOptions) -> Result<()> {
    let mut results = match grade::grade(exercises, options) {
        Err(_) if crate::process::interrupted() => return Ok(()),
        other => other?.exercises,
    };
    print!("{}", view(exercises, &results));
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let _ = tx.send(event.paths);
        }
    })
    .context("starting the file watcher")?;
    let crates = root.join("crates");
    watcher
        .watch(&crates, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", crates.display()))?;
    println!("watching {} for changes (Ctrl-C to stop)", crates.display());
    while !crate::process::interrupted() {
        let Ok(mut changed) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        while let Ok(more) = rx.recv_timeout(SETTLE) {
            changed.extend(more);
        }
        let sources: Vec<PathBuf> = changed
            .into_iter()
            .filter(|p| {
                p.extension().is_some_and(|e| e == "rs") && !p.starts_with(root.join("target"))
            })
            .collect();
        let Some(index) = exercise_to_grade(root, exercises, &results, &sources) else {
            continue;
        };
        let report = match grade::grade(&[exercises[index]], options) {
            // Ctrl-C while grading is the way out, not an error.
            Err(_) if crate::process::interrupted() => return Ok(()),
            other => other?,
        };
        results[index] = report
            .exercises
            .into_iter()
            .next()
            .context("a graded exercise")?;
        print!("{}", view(exercises, &results));
    }
    Ok(())
}

/// The exercise whose file is among `changed`, else the first unsolved one; `None` when no Rust
/// source changed, or everything is solved and no exercise file changed.
fn exercise_to_grade(
    root: &Path,
    exercises: &[&Exercise],
    results: &[ExerciseResult],
    changed: &[PathBuf],
) -> Option<usize> {
    if changed.is_empty() {
        return None;
    }
    let own = exercises.iter().position(|e| {
        changed
            .iter()
            .any(|p| p.ends_with(&e.file) || *p == root.join(&e.file))
    });
    own.or_else(|| results.iter().position(|r| !r.passed))
}

/// The progress view: a row per exercise, the points so far, and what to do next.
pub fn view(exercises: &[&Exercise], results: &[ExerciseResult]) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                if r.passed { "solved" } else { "todo" }.to_string(),
                r.id.clone(),
                format!("{}/{}", r.points, r.max_points),
                r.title.clone(),
            ]
        })
        .collect();
    let mut out = render_table(&["", "EXERCISE", "POINTS", "TITLE"], &rows);
    let points: u32 = results.iter().map(|r| r.points).sum();
    let max: u32 = exercises.iter().map(|e| e.points).sum();
    let solved = results.iter().filter(|r| r.passed).count();
    out.push_str(&format!(
        "{points}/{max} points, {solved}/{} exercises solved\n",
        results.len()
    ));
    match results.iter().find(|r| !r.passed) {
        Some(next) => {
            let exercise = exercises.iter().find(|e| e.id == next.id);
            let file = exercise.map_or(String::new(), |e| format!(" in {}", e.file.display()));
            out.push_str(&format!(
                "next: {}{file} ({}) — stuck? cargo xtask hint {}\n",
                next.id, next.detail, next.id
            ));
        }
        None => out.push_str("every exercise is solved\n"),
    }
    out
}
