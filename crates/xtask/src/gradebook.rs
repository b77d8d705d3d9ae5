//! Grading a class: many submissions in one command, one gradebook.
//!
//! `cargo xtask grade A B C` grades each submission directory in turn, all building into one
//! shared target directory (`CARGO_TARGET_DIR` when set, else `<workspace>/target/xtask-grade`),
//! so the dependencies are compiled once for the whole class; each submission's own crates are
//! compiled again (their sources are marked as changed first: cargo names a workspace crate's
//! artifacts the same wherever the workspace is, so it must not take one submission's build for
//! another's). Each submission has a time limit for all of its
//! cargo runs together, and nothing that goes wrong in one submission (it does not build, a test
//! hangs, it is not a workspace at all) stops the others: it is a row with zero points and the
//! reason.
//!
//! The gradebook has one row per submission (named after its directory) and one column per
//! exercise, as CSV for a spreadsheet and as JSON with every detail.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::exercises::Exercise;
use crate::grade::{self, GradeOptions, GradeReport};

/// How to grade a class.
#[derive(Debug, Clone)]
pub struct ClassOptions {
    /// The shared `CARGO_TARGET_DIR`.
    pub target_dir: PathBuf,
    /// Limit for each cargo run.
    pub timeout: Duration,
    /// Limit for all the cargo runs of one submission together.
    pub submission_timeout: Duration,
}

/// One submission's row.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    /// The directory's name: the student.
    pub name: String,
    /// The directory graded.
    pub dir: PathBuf,
    /// Seconds its grading took.
    pub seconds: f64,
    /// Why it could not be graded at all (then every exercise has 0 points).
    pub error: Option<String>,
    /// Its report; `None` when `error` is set.
    pub report: Option<GradeReport>,
}

impl Submission {
    /// Points for exercise `id` (0 when ungraded).
    pub fn points(&self, id: &str) -> u32 {
        let results = self.report.iter().flat_map(|r| &r.exercises);
        results.filter(|e| e.id == id).map(|e| e.points).sum()
    }

    /// Total points.
    pub fn total(&self) -> u32 {
        self.report.as_ref().map_or(0, |r| r.total_points)
    }
}

/// Every submission of a class, graded.
#[derive(Debug, Clone, Serialize)]
pub struct Gradebook {
    /// Exercise ids, the gradebook's columns, in catalog order.
    pub exercises: Vec<String>,
    /// Points available.
    pub max_points: u32,
    /// One row per submission, in the order given.
    pub submissions: Vec<Submission>,
}

/// Grades every directory of `dirs`, printing a line per submission to stderr.
pub fn grade_class(
    exercises: &[&Exercise],
    dirs: &[PathBuf],
    options: &ClassOptions,
) -> Result<Gradebook> {
    let mut submissions = Vec::new();
    for (index, dir) in dirs.iter().enumerate() {
        let name = submission_name(dir);
        eprintln!("grade: submission {}/{}: {name}", index + 1, dirs.len());
        let started = Instant::now();
        let mut grade_options = GradeOptions::new(dir, options.timeout);
        grade_options.target_dir = options.target_dir.clone();
        grade_options.deadline = Some(started + options.submission_timeout);
        grade_options.touch_sources = true;
        let (report, error) = match grade::grade(exercises, &grade_options) {
            Ok(report) => (Some(report), None),
            Err(_) if crate::process::interrupted() => anyhow::bail!("interrupted"),
            Err(err) => (None, Some(format!("{err:#}"))),
        };
        let seconds = started.elapsed().as_secs_f64();
        let submission = Submission {
            name,
            dir: dir.clone(),
            seconds,
            error,
            report,
        };
        eprintln!(
            "grade: {}: {} points in {seconds:.0}s{}",
            submission.name,
            submission.total(),
            submission
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        );
        submissions.push(submission);
    }
    Ok(Gradebook {
        exercises: exercises.iter().map(|e| e.id.clone()).collect(),
        max_points: exercises.iter().map(|e| e.points).sum(),
        submissions,
    })
}

/// The last component of `dir`, the student's name in the gradebook.
fn submission_name(dir: &Path) -> String {
    let absolute = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    absolute.file_name().map_or_else(
        || dir.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

impl Gradebook {
    /// The gradebook as CSV: `student,<exercise>...,total,seconds,error`.
    pub fn csv(&self) -> String {
        let mut out = String::from("student");
        for id in &self.exercises {
            out.push(',');
            out.push_str(&csv_field(id));
        }
        out.push_str(",total,seconds,error\n");
        for submission in &self.submissions {
            out.push_str(&csv_field(&submission.name));
            for id in &self.exercises {
                let _ = write!(out, ",{}", submission.points(id));
            }
            let error = submission.error.as_deref().unwrap_or("");
            let _ = writeln!(
                out,
                ",{},{:.0},{}",
                submission.total(),
                submission.seconds,
                csv_field(error)
            );
        }
        out
    }

    /// The table printed at the end: student, total, time, and what went wrong.
    pub fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .submissions
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    format!("{}/{}", s.total(), self.max_points),
                    format!("{:.0}s", s.seconds),
                    s.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        crate::table::render_table(&["STUDENT", "POINTS", "TIME", "ERROR"], &rows)
    }

    /// Writes the CSV to `path`.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.csv()).with_context(|| format!("writing {}", path.display()))
    }

    /// Writes the JSON gradebook to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self).context("serializing the gradebook")?;
        json.push('\n');
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_row_per_student_and_a_column_per_exercise() {
        let book = Gradebook {
            exercises: vec!["a".into(), "b".into()],
            max_points: 3,
            submissions: vec![
                Submission {
                    name: "ada".into(),
                    dir: "/x/ada".into(),
                    seconds: 12.4,
                    error: None,
                    report: None,
                },
                Submission {
                    name: "bob".into(),
                    dir: "/x/bob".into(),
                    seconds: 1.0,
                    error: Some("cannot grade /x/bob: no Cargo.toml there, \"really\"".into()),
                    report: None,
                },
            ],
        };
        assert_eq!(
            book.csv(),
            "student,a,b,total,seconds,error\n\
             ada,0,0,0,12,\n\
             bob,0,0,0,1,\"cannot grade /x/bob: no Cargo.toml there, \"\"really\"\"\"\n"
        );
    }
}
