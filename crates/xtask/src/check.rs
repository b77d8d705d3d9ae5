//! `cargo xtask check`: the maintainers' and CI's proof that the exercises work.
//!
//! 1. **Validate**: every `exercises.toml` and every solution region (see [`Catalog::regions`]).
//! 2. **Reference**: grade the workspace itself; every exercise must pass with its reference
//!    solution. This also records exactly which tests each exercise's filters select.
//! 3. **Handout**: write a handout of every chapter to `<workspace>/target/xtask-check/handout`
//!    and run `cargo test --workspace --no-fail-fast` there, building into
//!    `<workspace>/target/xtask-check` (kept between runs, so dependencies are not rebuilt and
//!    the handout's fixed path keeps cargo's fingerprints valid). The handout must build, and
//!    the failing tests must be exactly the tests the exercise filters select: a failing test no
//!    filter selects means the handout broke something else; a selected test that still passes
//!    does not depend on the solution.
//!
//! Every problem is collected and reported at the end; any problem makes `check` fail.

use std::collections::HashSet;
use std::fs;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::exercises::{Catalog, Exercise};
use crate::grade::{self, CargoTestRun, Failure, GradeOptions};
use crate::handout::{self, HandoutOptions};

/// Settings for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Limit for each `cargo test` run.
    pub timeout: Duration,
}

/// Runs all three steps, printing progress to stdout. Fails if anything is wrong.
pub fn check(catalog: &Catalog, options: CheckOptions) -> Result<()> {
    println!(
        "check 1/3: validating exercises in {}",
        catalog.root.display()
    );
    let region_files = catalog.regions()?;
    let regions: usize = region_files.iter().map(|f| f.regions.len()).sum();
    let exercises = catalog.exercises.len();
    if exercises == 0 {
        println!("  no exercises found: nothing to grade, skipping the builds");
        println!("check passed");
        return Ok(());
    }
    let chapters = catalog.chapters_with_exercises();
    println!(
        "  ok: {exercises} exercise{} in {chapters} chapter{}, {regions} solution region{}",
        plural(exercises),
        plural(chapters),
        plural(regions)
    );

    let mut problems = Vec::new();

    println!("check 2/3: grading the reference solutions");
    let all: Vec<&Exercise> = catalog.exercises.iter().collect();
    let reference = grade::grade(&all, &GradeOptions::new(&catalog.root, options.timeout))?;
    print!("{}", indent(&reference.table()));
    for result in reference.exercises.iter().filter(|r| !r.passed) {
        problems.push(format!(
            "reference solution of `{}` does not pass: {}",
            result.id, result.detail
        ));
    }

    let work = catalog.root.join("target").join("xtask-check");
    let out = work.join("handout");
    println!(
        "check 3/3: writing a handout to {} and running cargo test --workspace there",
        out.display()
    );
    if out.exists() {
        fs::remove_dir_all(&out)
            .with_context(|| format!("removing the previous handout {}", out.display()))?;
    }
    let written = handout::write_handout(
        catalog,
        HandoutOptions {
            out: &out,
            chapter: None,
            force: false,
        },
    )?;
    println!(
        "  {} file{} copied, {} region{} stripped",
        written.files,
        plural(written.files),
        written.stripped.len(),
        plural(written.stripped.len())
    );
    let mut args = vec!["--workspace", "--no-fail-fast"];
    // xtask's own end-to-end tests would grade fixtures inside the handout: slow, and they prove
    // nothing about the exercises.
    let this = env!("CARGO_PKG_NAME");
    if catalog
        .chapters
        .iter()
        .any(|c| c.package.as_deref() == Some(this))
    {
        args.extend(["--exclude", this]);
    }
    let run = grade::run_cargo_test(&out, &work, &args, options.timeout)?;
    let selected: Vec<(&Exercise, &[String])> = catalog
        .exercises
        .iter()
        .zip(&reference.exercises)
        .map(|(exercise, result)| (exercise, result.tests_run.as_slice()))
        .collect();
    let handout_problems = compare_handout(&selected, &run);
    if handout_problems.is_empty() {
        println!(
            "  ok: the handout builds; failing tests: {} (exactly those the exercises select); \
             passing tests: {}",
            run.outcome.failed, run.outcome.passed
        );
    }
    problems.extend(handout_problems);

    if problems.is_empty() {
        println!("check passed");
        return Ok(());
    }
    let mut message = format!(
        "check failed with {} problem{}:",
        problems.len(),
        plural(problems.len())
    );
    for problem in &problems {
        message.push_str("\n  - ");
        message.push_str(problem);
    }
    bail!(message)
}

/// Compares the handout's `cargo test --workspace` run with what the exercises select.
///
/// `selected` pairs each exercise with the names of the tests its filters ran against the
/// reference solution. Returns one message per problem (empty: all good).
pub fn compare_handout(selected: &[(&Exercise, &[String])], run: &CargoTestRun) -> Vec<String> {
    let mut problems = Vec::new();
    match &run.failure {
        Some(Failure::BuildFailed(errors)) => {
            problems.push(format!("the handout does not build: {errors}"));
            return problems;
        }
        Some(failure @ (Failure::TimedOut(_) | Failure::Cargo(_))) => {
            problems.push(format!("cargo test in the handout: {failure}"));
            return problems;
        }
        Some(failure @ Failure::Crashed(_)) => {
            problems.push(format!("in the handout, a {failure}"));
        }
        Some(Failure::TestsFailed) | None => {}
    }

    let failed: HashSet<&str> = run
        .outcome
        .failed_tests
        .iter()
        .map(String::as_str)
        .collect();
    let selects = |exercise: &Exercise, name: &str| exercise.tests.iter().any(|f| name.contains(f));

    for name in &run.outcome.failed_tests {
        if !selected.iter().any(|(exercise, _)| selects(exercise, name)) {
            problems.push(format!(
                "test `{name}` fails in the handout, but no exercise's tests select it: only \
                 exercise tests may fail there"
            ));
        }
    }
    for (exercise, tests) in selected {
        for name in tests.iter().filter(|name| !failed.contains(name.as_str())) {
            problems.push(format!(
                "test `{name}` (selected by `{}`) still passes in the handout: it does not \
                 depend on the solution",
                exercise.id
            ));
        }
        if !run
            .outcome
            .failed_tests
            .iter()
            .any(|name| selects(exercise, name))
        {
            problems.push(format!(
                "exercise `{}`: none of its tests fails in the handout (filters: {})",
                exercise.id,
                exercise.tests.join(", ")
            ));
        }
    }
    problems
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises::Difficulty;
    use crate::grade::TestOutcome;

    fn exercise(id: &str, tests: &[&str]) -> Exercise {
        Exercise {
            id: id.into(),
            title: id.into(),
            difficulty: Difficulty::Easy,
            points: 1,
            chapter: "demo".into(),
            package: "demo".into(),
            file: "crates/demo/src/lib.rs".into(),
            tests: tests.iter().map(ToString::to_string).collect(),
            hint: String::new(),
            manifest: "crates/demo/exercises.toml".into(),
            line: 1,
            file_line: 1,
        }
    }

    fn run(failed: &[&str], passed: &[&str], failure: Option<Failure>) -> CargoTestRun {
        CargoTestRun {
            outcome: TestOutcome {
                passed: passed.len(),
                failed: failed.len(),
                passed_tests: passed.iter().map(ToString::to_string).collect(),
                failed_tests: failed.iter().map(ToString::to_string).collect(),
                ..TestOutcome::default()
            },
            failure,
        }
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn exactly_the_selected_tests_fail() {
        let (sum, rev) = (exercise("sum", &["sum_"]), exercise("rev", &["rev"]));
        let (sum_tests, rev_tests) = (names(&["t::sum_a", "t::sum_b"]), names(&["t::rev"]));
        let selected = [(&sum, sum_tests.as_slice()), (&rev, rev_tests.as_slice())];
        let handout = run(
            &["t::sum_a", "t::sum_b", "t::rev"],
            &["t::other"],
            Some(Failure::TestsFailed),
        );
        assert_eq!(compare_handout(&selected, &handout), Vec::<String>::new());
    }

    #[test]
    fn reports_unselected_failures_and_selected_passes() {
        let sum = exercise("sum", &["sum_"]);
        let sum_tests = names(&["t::sum_a", "t::sum_b"]);
        let handout = run(
            &["t::sum_a", "t::other"],
            &["t::sum_b"],
            Some(Failure::TestsFailed),
        );
        let problems = compare_handout(&[(&sum, sum_tests.as_slice())], &handout);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("test `t::other` fails in the handout, but no exercise"));
        assert!(problems[1].starts_with("test `t::sum_b` (selected by `sum`) still passes"));
    }

    #[test]
    fn every_exercise_needs_a_failing_test() {
        let sum = exercise("sum", &["sum_"]);
        let problems = compare_handout(&[(&sum, &[])], &run(&[], &["t::x"], None));
        assert_eq!(
            problems,
            ["exercise `sum`: none of its tests fails in the handout (filters: sum_)"]
        );
    }

    #[test]
    fn a_handout_that_does_not_build_is_reported_alone() {
        let sum = exercise("sum", &["sum_"]);
        let broken = run(
            &[],
            &[],
            Some(Failure::BuildFailed("error[E0425]: x".into())),
        );
        assert_eq!(
            compare_handout(&[(&sum, &[])], &broken),
            ["the handout does not build: error[E0425]: x"]
        );
    }
}
