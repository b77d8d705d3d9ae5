//! `cargo xtask check`: the maintainers' and CI's proof that the exercises work.
//!
//! 1. **Validate**: every `exercises.toml` and every solution region (see [`Catalog::regions`]),
//!    and no region given away: a region whose body stands nearly verbatim elsewhere in the
//!    handout (a hint, a neighbouring function) is a problem ([`crate::giveaway`]).
//! 2. **Reference**: grade the workspace itself; every exercise must pass with its reference
//!    solution. This also records exactly which tests each exercise's filters select; a test
//!    selected by two exercises could never be graded by one region alone, so it is a problem.
//! 3. **Handout**: write a handout of every chapter to `<workspace>/target/xtask-check/handout`
//!    and run `cargo test --workspace --no-fail-fast` there, building into
//!    `<workspace>/target/xtask-check` (kept between runs, so dependencies are not rebuilt and
//!    the handout's fixed path keeps cargo's fingerprints valid). The handout must build, and
//!    the failing tests must be exactly the tests the exercise filters select: a failing test no
//!    filter selects means the handout broke something else; a selected test that still passes
//!    does not depend on the solution.
//! 4. **Each exercise alone**: in the same handout, restore one reference region at a time and
//!    run the package's exercise tests: that exercise's tests must pass and every other
//!    exercise's tests must still fail, so solving one exercise moves exactly its points. One
//!    exercise of every chapter is restored per round (chapters are separate packages), so the
//!    number of rounds is the largest number of exercises in one chapter, not the total.
//!
//! Every problem is collected and reported at the end; any problem makes `check` fail.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::exercises::{Catalog, Exercise, RegionFile};
use crate::giveaway;
use crate::grade::{self, CargoTestRun, Failure, GradeOptions, GradeReport};
use crate::handout::{self, HandoutOptions};

/// Settings for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Limit for each `cargo test` run.
    pub timeout: Duration,
}

/// Runs all four steps, printing progress to stdout. Fails if anything is wrong.
pub fn check(catalog: &Catalog, options: CheckOptions) -> Result<()> {
    let started = Instant::now();
    let mut problems = Vec::new();
    let Some(region_files) = validate(catalog, &mut problems)? else {
        println!("check passed");
        return Ok(());
    };
    println!("check 2/4: grading the reference solutions");
    let all: Vec<&Exercise> = catalog.exercises.iter().collect();
    let mut grade_options = GradeOptions::new(&catalog.root, options.timeout);
    grade_options.target_dir = crate::target_dir(&catalog.root);
    let reference = grade::grade(&all, &grade_options)?;
    print!("{}", indent(&reference.table()));
    for result in reference.exercises.iter().filter(|r| !r.passed) {
        problems.push(format!(
            "reference solution of `{}` does not pass: {}",
            result.id, result.detail
        ));
    }
    let selected = selections(catalog, &reference);
    problems.extend(shared_tests(&selected));

    let work = crate::target_dir(&catalog.root).join("xtask-check");
    let out = work.join("handout");
    problems.extend(check_handout(catalog, options, &work, &out, &selected)?);
    problems.extend(check_each_alone(
        catalog,
        options,
        &region_files,
        &work,
        &out,
        &selected,
    )?);

    let elapsed = started.elapsed().as_secs();
    if problems.is_empty() {
        println!("check passed in {}m{:02}s", elapsed / 60, elapsed % 60);
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

/// Step 1: the lists, the regions, and no region given away. `None`: no exercises, nothing to
/// build.
fn validate(catalog: &Catalog, problems: &mut Vec<String>) -> Result<Option<Vec<RegionFile>>> {
    println!(
        "check 1/4: validating exercises in {}",
        catalog.root.display()
    );
    let region_files = catalog.regions()?;
    let regions: usize = region_files.iter().map(|f| f.regions.len()).sum();
    let exercises = catalog.exercises.len();
    if exercises == 0 {
        println!("  no exercises found: nothing to grade, skipping the builds");
        return Ok(None);
    }
    let chapters = catalog.chapters_with_exercises();
    println!(
        "  ok: {exercises} exercise{} in {chapters} chapter{}, {regions} solution region{}",
        plural(exercises),
        plural(chapters),
        plural(regions)
    );
    let given_away = giveaway::find(catalog, &region_files)?;
    problems.extend(given_away.iter().map(ToString::to_string));
    Ok(Some(region_files))
}

/// Each exercise with the names of the tests its filters ran against the reference solution.
fn selections<'c>(
    catalog: &'c Catalog,
    reference: &GradeReport,
) -> Vec<(&'c Exercise, Vec<String>)> {
    catalog
        .exercises
        .iter()
        .zip(&reference.exercises)
        .map(|(exercise, result)| (exercise, result.tests_run.clone()))
        .collect()
}

/// A test selected by two exercises of one package needs both regions: neither can be graded
/// alone.
pub fn shared_tests(selected: &[(&Exercise, Vec<String>)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, (a, a_tests)) in selected.iter().enumerate() {
        for (b, b_tests) in selected[i + 1..]
            .iter()
            .filter(|(b, _)| b.package == a.package)
        {
            let shared: Vec<&str> = a_tests
                .iter()
                .filter(|name| b_tests.contains(name))
                .map(String::as_str)
                .collect();
            if !shared.is_empty() {
                problems.push(format!(
                    "exercises `{}` and `{}` both select {}: such a test needs both regions, so \
                     neither exercise is graded by its own region alone",
                    a.id,
                    b.id,
                    shared.join(", ")
                ));
            }
        }
    }
    problems
}

/// Step 3: the handout builds, and exactly the selected tests fail in it.
fn check_handout(
    catalog: &Catalog,
    options: CheckOptions,
    work: &Path,
    out: &Path,
    selected: &[(&Exercise, Vec<String>)],
) -> Result<Vec<String>> {
    println!(
        "check 3/4: writing a handout to {} and running cargo test --workspace there",
        out.display()
    );
    if out.exists() {
        fs::remove_dir_all(out)
            .with_context(|| format!("removing the previous handout {}", out.display()))?;
    }
    let handout_options = HandoutOptions {
        out,
        chapter: None,
        force: false,
    };
    let written = handout::write_handout(catalog, handout_options)?;
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
    let run = grade::run_cargo_test(out, work, &args, options.timeout)?;
    let borrowed: Vec<(&Exercise, &[String])> =
        selected.iter().map(|(e, t)| (*e, t.as_slice())).collect();
    let problems = compare_handout(&borrowed, &catalog.crossing, &run);
    if problems.is_empty() {
        println!(
            "  ok: the handout builds; failing tests: {} (exactly those the exercises select); \
             passing tests: {}",
            run.outcome.failed, run.outcome.passed
        );
    }
    // Said now as well as at the end: step 4 takes a while.
    for problem in &problems {
        println!("  problem: {problem}");
    }
    Ok(problems)
}

/// Step 4: every exercise graded by its own region alone.
fn check_each_alone(
    catalog: &Catalog,
    options: CheckOptions,
    region_files: &[RegionFile],
    work: &Path,
    out: &Path,
    selected: &[(&Exercise, Vec<String>)],
) -> Result<Vec<String>> {
    let rounds = rounds(selected);
    println!(
        "check 4/4: each exercise alone: one reference region restored per chapter, {} round{}",
        rounds.len(),
        plural(rounds.len())
    );
    let mut problems = Vec::new();
    for (number, round) in rounds.iter().enumerate() {
        let restored: HashSet<&str> = round.iter().map(|e| e.id.as_str()).collect();
        handout::rewrite_regions(catalog, region_files, out, |e| {
            !restored.contains(e.id.as_str())
        })?;
        for exercise in round {
            let started = Instant::now();
            let in_package: Vec<&(&Exercise, Vec<String>)> = selected
                .iter()
                .filter(|(e, _)| e.package == exercise.package)
                .collect();
            let mut args = vec!["-p", &exercise.package, "--tests", "--no-fail-fast", "--"];
            for (e, _) in &in_package {
                args.extend(e.tests.iter().map(String::as_str));
            }
            let run = grade::run_cargo_test(out, work, &args, options.timeout)?;
            let found = compare_alone(exercise, &in_package, &run);
            println!(
                "  round {}: {} alone: {} ({:.0}s)",
                number + 1,
                exercise.id,
                if found.is_empty() { "ok" } else { "PROBLEM" },
                started.elapsed().as_secs_f64()
            );
            for problem in &found {
                println!("    {problem}");
            }
            problems.extend(found);
        }
    }
    // Leave the handout as step 3 wrote it: every region stripped.
    handout::rewrite_regions(catalog, region_files, out, |_| true)?;
    Ok(problems)
}

/// Round `r` restores the `r`-th exercise of every package.
fn rounds<'c>(selected: &[(&'c Exercise, Vec<String>)]) -> Vec<Vec<&'c Exercise>> {
    let mut rounds: Vec<Vec<&Exercise>> = Vec::new();
    let mut packages: Vec<(&str, usize)> = Vec::new();
    for (exercise, _) in selected {
        let index = match packages.iter_mut().find(|(p, _)| *p == exercise.package) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                packages.push((&exercise.package, 1));
                0
            }
        };
        if rounds.len() <= index {
            rounds.push(Vec::new());
        }
        rounds[index].push(exercise);
    }
    rounds
}

/// Test names, to look up.
fn name_set(names: &[String]) -> HashSet<&str> {
    names.iter().map(String::as_str).collect()
}

/// With only `alone`'s region restored: its tests pass, every other exercise's tests fail.
pub fn compare_alone(
    alone: &Exercise,
    in_package: &[&(&Exercise, Vec<String>)],
    run: &CargoTestRun,
) -> Vec<String> {
    match &run.failure {
        None | Some(Failure::TestsFailed) => {}
        Some(failure) => {
            return vec![format!(
                "with only `{}` solved, cargo test -p {}: {failure}",
                alone.id, alone.package
            )];
        }
    }
    let passed = name_set(&run.outcome.passed_tests);
    let failed = name_set(&run.outcome.failed_tests);
    let mut problems = Vec::new();
    for (exercise, tests) in in_package {
        let solved = exercise.id == alone.id;
        for name in tests.iter().map(String::as_str) {
            if solved && !passed.contains(name) {
                problems.push(format!(
                    "test `{name}` of `{}` does not pass with only its region solved: it needs \
                     another exercise's region too",
                    alone.id
                ));
            } else if !solved && !failed.contains(name) {
                problems.push(format!(
                    "test `{name}` of `{}` passes with only `{}` solved: it is graded by \
                     another exercise's region",
                    exercise.id, alone.id
                ));
            }
        }
    }
    problems
}

/// Compares the handout's `cargo test --workspace` run with what the exercises select.
///
/// `selected` pairs each exercise with the names of the tests its filters ran against the
/// reference solution; `crossing` holds the filters of tests that go through several chapters'
/// regions, which the handout may fail. Returns one message per problem (empty: all good).
pub fn compare_handout(
    selected: &[(&Exercise, &[String])],
    crossing: &[String],
    run: &CargoTestRun,
) -> Vec<String> {
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

    let failed = name_set(&run.outcome.failed_tests);
    let selects = |exercise: &Exercise, name: &str| exercise.tests.iter().any(|f| name.contains(f));

    let crosses = |name: &str| crossing.iter().any(|f| name.contains(f.as_str()));
    for name in &run.outcome.failed_tests {
        if !crosses(name) && !selected.iter().any(|(exercise, _)| selects(exercise, name)) {
            let why = match run.outcome.panics.get(name) {
                Some(panic) => format!(" ({panic})"),
                None => String::new(),
            };
            problems.push(format!(
                "test `{name}` fails in the handout, but no exercise's tests select it: only \
                 exercise tests may fail there{why}"
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
    use crate::grade::TestOutcome;

    fn exercise(id: &str, tests: &[&str]) -> Exercise {
        Exercise::demo(id, tests)
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
        assert_eq!(
            compare_handout(&selected, &[], &handout),
            Vec::<String>::new()
        );
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
        let problems = compare_handout(&[(&sum, sum_tests.as_slice())], &[], &handout);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("test `t::other` fails in the handout, but no exercise"));
        assert!(problems[1].starts_with("test `t::sum_b` (selected by `sum`) still passes"));
    }

    #[test]
    fn a_crossing_test_may_fail_in_the_handout() {
        let sum = exercise("sum", &["sum_"]);
        let sum_tests = names(&["t::sum_a"]);
        let handout = run(
            &["t::sum_a", "t::over_every_loop"],
            &[],
            Some(Failure::TestsFailed),
        );
        let selected = [(&sum, sum_tests.as_slice())];
        assert_eq!(
            compare_handout(&selected, &names(&["over_every_"]), &handout),
            Vec::<String>::new()
        );
        // Without the `[crossing]` entry it is a problem, as any unselected failure is.
        assert_eq!(compare_handout(&selected, &[], &handout).len(), 1);
    }

    #[test]
    fn every_exercise_needs_a_failing_test() {
        let sum = exercise("sum", &["sum_"]);
        let problems = compare_handout(&[(&sum, &[])], &[], &run(&[], &["t::x"], None));
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
            compare_handout(&[(&sum, &[])], &[], &broken),
            ["the handout does not build: error[E0425]: x"]
        );
    }

    /// Exercises `sum` and `rev` of one package, selecting `sum_tests` and `rev_tests`, after a
    /// round with only `sum` solved, in which `t::rev` failed and `t::sum` passed.
    fn in_package(sum_tests: &[&str], rev_tests: &[&str]) -> Vec<String> {
        let (sum, rev) = (exercise("sum", &["sum"]), exercise("rev", &["rev"]));
        let selected = [(&sum, names(sum_tests)), (&rev, names(rev_tests))];
        let refs: Vec<&(&Exercise, Vec<String>)> = selected.iter().collect();
        let run = run(&["t::rev"], &["t::sum"], Some(Failure::TestsFailed));
        compare_alone(&sum, &refs, &run)
    }

    #[test]
    fn alone_its_tests_pass_and_the_others_fail() {
        assert_eq!(in_package(&["t::sum"], &["t::rev"]), Vec::<String>::new());
    }

    #[test]
    fn alone_reports_a_test_that_needs_another_region_and_one_graded_by_another() {
        // `t::rev` failed although `sum` alone was solved: `sum` needs `rev` too.
        let problems = in_package(&["t::sum", "t::rev"], &["t::sum"]);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("test `t::rev` of `sum` does not pass with only its"));
        assert!(problems[1].starts_with("test `t::sum` of `rev` passes with only `sum` solved"));
    }

    #[test]
    fn a_test_two_exercises_select_is_reported() {
        let (sum, rev) = (exercise("sum", &["sum"]), exercise("rev", &["rev"]));
        let selected = [
            (&sum, names(&["t::a", "t::cli"])),
            (&rev, names(&["t::cli"])),
        ];
        assert_eq!(
            shared_tests(&selected),
            [
                "exercises `sum` and `rev` both select t::cli: such a test needs both regions, so \
              neither exercise is graded by its own region alone"
            ]
        );
    }

    #[test]
    fn each_round_restores_one_exercise_per_package() {
        let mut other = exercise("other", &["o"]);
        other.package = "other".into();
        let (a, b, c) = (
            exercise("a", &["a"]),
            exercise("b", &["b"]),
            exercise("c", &["c"]),
        );
        let selected: Vec<(&Exercise, Vec<String>)> = [&a, &other, &b, &c]
            .into_iter()
            .map(|e| (e, vec![]))
            .collect();
        let ids: Vec<Vec<&str>> = rounds(&selected)
            .iter()
            .map(|round| round.iter().map(|e| e.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["a", "other"], vec!["b"], vec!["c"]]);
    }
}
