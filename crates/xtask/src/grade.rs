//! Grading: run each exercise's tests with `cargo test` and turn libtest's output into points.
//!
//! For every exercise, xtask runs `cargo test -p <package> --no-fail-fast -- <its filters>` in
//! the graded directory, into the target directory the options name, and splits the result by
//! filter (libtest's rule: a test belongs to a filter when its name contains it).
//!
//! An exercise passes only when its filters together ran at least one test, none failed, and
//! every cargo run exited 0. A filter that matches nothing is a failure ("no test matched"), never
//! a vacuous pass; so are build failures, crashed test binaries and timeouts.
//!
//! The parsing of libtest's and rustc's text output lives here as pure functions
//! ([`parse_libtest`], [`classify`]) so it can be tested on strings.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::exercises::Exercise;
use crate::process;
use crate::table::render_table;

/// What libtest reported across all test binaries of one `cargo test` run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestOutcome {
    /// Sum of `N passed` over every `test result:` line.
    pub passed: usize,
    /// Sum of `N failed` over every `test result:` line.
    pub failed: usize,
    /// Sum of `N ignored` over every `test result:` line.
    pub ignored: usize,
    /// Number of `test result:` lines (one per test binary that finished).
    pub binaries: usize,
    /// Names from `test NAME ... ok` lines.
    pub passed_tests: Vec<String>,
    /// Names from `test NAME ... FAILED` lines.
    pub failed_tests: Vec<String>,
    /// Why each failed test failed: the panic line and the message after it, from the test's
    /// `---- NAME stdout ----` section (a test that printed no panic has no entry).
    pub panics: BTreeMap<String, String>,
}

/// Reads libtest's human output (cargo's stdout).
///
/// Counts come from the `test result: ok. 3 passed; 1 failed; ...` summaries, names from the
/// per-test `test NAME ... ok|FAILED` lines.
pub fn parse_libtest(stdout: &str) -> TestOutcome {
    /// How many lines of a panic's message are kept.
    const PANIC_LINES: usize = 6;
    let mut outcome = TestOutcome::default();
    // The failed test whose captured output is being read, its panic lines so far, and
    // whether they are complete (a blank line or a `note:` ends a panic's message).
    let mut section: Option<(String, Vec<String>, bool)> = None;
    for line in stdout.lines() {
        let line = line.trim_end();
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            section = Some((name.to_string(), Vec::new(), false));
            continue;
        }
        if line == "failures:" {
            section = None;
        }
        if let Some((name, panic, complete)) = &mut section {
            if panic.is_empty() {
                // `thread 'NAME' panicked at FILE:LINE:COL:`, and since Rust 1.89 with the
                // thread's id: `thread 'NAME' (1234) panicked at ...`.
                if line.starts_with("thread '") && line.contains(" panicked at ") {
                    panic.push(line.to_string());
                }
            } else if line.is_empty()
                || line.starts_with("note: ")
                || line.starts_with("stack backtrace:")
            {
                *complete = true;
            } else if !*complete && panic.len() < PANIC_LINES {
                panic.push(line.to_string());
            }
            if !panic.is_empty() {
                outcome.panics.insert(name.clone(), panic.join(" "));
            }
            continue;
        }
        if let Some(summary) = line.strip_prefix("test result: ") {
            outcome.binaries += 1;
            let words: Vec<&str> = summary.split_whitespace().collect();
            for pair in words.windows(2) {
                let Ok(n) = pair[0].parse::<usize>() else {
                    continue;
                };
                match pair[1].trim_end_matches([';', ',', '.']) {
                    "passed" => outcome.passed += n,
                    "failed" => outcome.failed += n,
                    "ignored" => outcome.ignored += n,
                    _ => {}
                }
            }
        } else if let Some(rest) = line.strip_prefix("test ") {
            let Some((name, status)) = rest.rsplit_once(" ... ") else {
                continue;
            };
            if status == "ok" {
                outcome.passed_tests.push(name.to_string());
            } else if status == "FAILED" {
                outcome.failed_tests.push(name.to_string());
            }
        }
    }
    outcome
}

/// Why a `cargo test` run did not simply succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Some tests failed (their names are in the [`TestOutcome`]).
    TestsFailed,
    /// The code did not compile; the first compiler errors.
    BuildFailed(String),
    /// A test binary died from a signal (abort, segfault) before reporting.
    Crashed(String),
    /// Killed after the timeout, in seconds.
    TimedOut(u64),
    /// Cargo itself failed (bad package name, bad manifest, ...).
    Cargo(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TestsFailed => f.write_str("tests failed"),
            Self::BuildFailed(errors) => write!(f, "build failed: {errors}"),
            Self::Crashed(what) => write!(f, "test binary crashed: {what}"),
            Self::TimedOut(secs) => write!(f, "timed out after {secs}s"),
            Self::Cargo(errors) => write!(f, "cargo test failed: {errors}"),
        }
    }
}

/// One finished `cargo test` run, interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoTestRun {
    /// What libtest reported.
    pub outcome: TestOutcome,
    /// `None` when cargo exited 0.
    pub failure: Option<Failure>,
}

/// The first few `error` lines of cargo/rustc output, each with its `--> file:line:col` when
/// rustc gave one, joined on one line.
pub fn first_errors(stderr: &str, max: usize) -> String {
    const NOISE: &[&str] = &[
        "error: could not compile",
        "error: aborting",
        "error: test failed",
        "error: failed to compile",
        "error: build failed",
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    let mut errors = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if !line.starts_with("error") || NOISE.iter().any(|noise| line.starts_with(noise)) {
            continue;
        }
        let location = lines[i + 1..]
            .iter()
            .take(3)
            .find_map(|next| next.trim_start().strip_prefix("--> "));
        errors.push(match location {
            Some(location) => format!("{line} at {location}"),
            None => line.to_string(),
        });
    }
    if errors.is_empty() {
        // Fall back to the last thing cargo said.
        return lines
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
            .unwrap_or("(no output)")
            .to_string();
    }
    let more = errors.len().saturating_sub(max);
    errors.truncate(max);
    let mut summary = errors.join("; ");
    if more > 0 {
        summary.push_str(&format!("; and {more} more"));
    }
    summary
}

/// Interprets a `cargo test` run from its output and exit status (`None`: it timed out).
pub fn classify(
    stdout: &str,
    stderr: &str,
    status: Option<ExitStatus>,
    timeout: Duration,
) -> CargoTestRun {
    let outcome = parse_libtest(stdout);
    let Some(status) = status else {
        let failure = Failure::TimedOut(timeout.as_secs());
        return CargoTestRun {
            outcome,
            failure: Some(failure),
        };
    };
    let crashes: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("process didn't exit successfully") && l.contains("signal:"))
        .collect();
    let failure = if stderr.contains("error: could not compile") || stderr.contains("error[E") {
        Some(Failure::BuildFailed(first_errors(stderr, 3)))
    } else if !crashes.is_empty() {
        let what = crashes
            .iter()
            .map(|l| {
                l.rsplit_once('(')
                    .map_or(*l, |(_, tail)| tail.trim_end_matches(')'))
            })
            .collect::<Vec<_>>()
            .join("; ");
        Some(Failure::Crashed(what))
    } else if status.success() {
        None
    } else if outcome.failed > 0 {
        Some(Failure::TestsFailed)
    } else {
        Some(Failure::Cargo(first_errors(stderr, 3)))
    };
    CargoTestRun { outcome, failure }
}

/// Runs `cargo test <args>` in `dir` with `CARGO_TARGET_DIR=target_dir` and interprets it.
pub fn run_cargo_test(
    dir: &Path,
    target_dir: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<CargoTestRun> {
    let mut command = process::cargo_command(dir, target_dir);
    command.arg("test").args(args);
    let output = process::run(command, timeout)?;
    Ok(classify(
        &output.stdout,
        &output.stderr,
        output.status,
        timeout,
    ))
}

/// Where and how to grade.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// Workspace to run the tests in (the instructor's, or a student's handout).
    pub dir: PathBuf,
    /// `CARGO_TARGET_DIR` for those runs.
    pub target_dir: PathBuf,
    /// Limit for each `cargo test` run.
    pub timeout: Duration,
    /// Print a line per cargo run to stderr.
    pub progress: bool,
    /// When grading must be over (a submission's time limit); no limit when `None`.
    pub deadline: Option<Instant>,
    /// Mark every source of `dir` as just changed before grading. Needed when `target_dir` is
    /// shared with other copies of the workspace: cargo names a workspace crate's artifacts
    /// independently of where the workspace is and judges them by the sources' times, so an
    /// older copy's sources would look fresh against a newer copy's build and its tests would
    /// not even be compiled.
    pub touch_sources: bool,
}

impl GradeOptions {
    /// Grade `dir`, building in `dir/target`.
    pub fn new(dir: &Path, timeout: Duration) -> Self {
        Self {
            dir: dir.to_path_buf(),
            target_dir: dir.join("target"),
            timeout,
            progress: true,
            deadline: None,
            touch_sources: false,
        }
    }

    /// The limit for the next cargo run: `timeout`, or less when the deadline is nearer.
    pub fn time_left(&self) -> Duration {
        match self.deadline {
            Some(deadline) => self
                .timeout
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.timeout,
        }
    }
}

/// The graded result of one exercise; also its JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExerciseResult {
    /// Exercise id.
    pub id: String,
    /// Its chapter.
    pub chapter: String,
    /// Its title.
    pub title: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points earned: all or nothing.
    pub points: u32,
    /// Points it is worth.
    pub max_points: u32,
    /// Tests that passed, over all its filters.
    pub tests_passed: usize,
    /// Tests that failed, over all its filters.
    pub tests_failed: usize,
    /// Why it failed, or how many tests passed.
    pub detail: String,
    /// Names of the tests its filters ran (not in the JSON; used by `check`).
    #[serde(skip)]
    pub tests_run: Vec<String>,
}

/// A grading report; serializes to the `--json` gradebook format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeReport {
    /// Points earned.
    pub total_points: u32,
    /// Points available.
    pub max_points: u32,
    /// Number of exercises passed.
    pub passed: usize,
    /// One entry per graded exercise, in catalog order.
    pub exercises: Vec<ExerciseResult>,
}

impl GradeReport {
    fn new(exercises: Vec<ExerciseResult>) -> Self {
        Self {
            total_points: exercises.iter().map(|e| e.points).sum(),
            max_points: exercises.iter().map(|e| e.max_points).sum(),
            passed: exercises.iter().filter(|e| e.passed).count(),
            exercises,
        }
    }

    /// The human-readable table, ending with the `total:` line.
    pub fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .exercises
            .iter()
            .map(|e| {
                vec![
                    e.id.clone(),
                    e.chapter.clone(),
                    if e.passed { "pass" } else { "FAIL" }.to_string(),
                    format!("{}/{}", e.points, e.max_points),
                    e.detail.clone(),
                ]
            })
            .collect();
        let mut out = render_table(
            &["EXERCISE", "CHAPTER", "RESULT", "POINTS", "DETAIL"],
            &rows,
        );
        out.push_str(&format!(
            "total: {}/{} points ({}/{} exercises)\n",
            self.total_points,
            self.max_points,
            self.passed,
            self.exercises.len()
        ));
        out
    }

    /// Writes the JSON gradebook to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self).context("serializing report")?;
        json.push('\n');
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
    }
}

/// Runs cargo for the exercises: one `cargo test` per exercise with all of its filters, split
/// afterwards by filter. Exercises run apart, so a test of one that hangs, crashes or leaves
/// children behind costs only that exercise; runs are shared by exercises with the same
/// package and filters.
struct Runner<'o> {
    options: &'o GradeOptions,
    /// Runs by (package, filters).
    runs: HashMap<(String, Vec<String>), CargoTestRun>,
}

impl Runner<'_> {
    /// The run of `exercise`'s tests, split by filter.
    fn runs_of<'e>(&mut self, exercise: &'e Exercise) -> Result<Vec<(&'e str, CargoTestRun)>> {
        let key = (exercise.package.clone(), exercise.tests.clone());
        if !self.runs.contains_key(&key) {
            let filters: Vec<&str> = exercise.tests.iter().map(String::as_str).collect();
            let run = self.cargo_test(&exercise.package, &filters)?;
            self.runs.insert(key.clone(), run);
        }
        let run = &self.runs[&key];
        Ok(exercise
            .tests
            .iter()
            .map(|filter| (filter.as_str(), run.narrowed_to(filter)))
            .collect())
    }

    /// `cargo test -p <package> --no-fail-fast -- <filters>`, with a progress line.
    fn cargo_test(&self, package: &str, filters: &[&str]) -> Result<CargoTestRun> {
        let timeout = self.options.time_left();
        if timeout.is_zero() {
            return Ok(CargoTestRun {
                outcome: TestOutcome::default(),
                failure: Some(Failure::TimedOut(self.options.timeout.as_secs())),
            });
        }
        // `--tests`: the library's and the integration tests; examples are built by the harness
        // when a test starts one, and doctests (a binary each) are not exercise tests.
        let mut args = vec!["-p", package, "--tests", "--no-fail-fast", "--"];
        args.extend(filters);
        if self.options.progress {
            eprintln!(
                "grade: {package}: tests matching `{}`",
                filters.join("`, `")
            );
        }
        let started = Instant::now();
        let run = run_cargo_test(&self.options.dir, &self.options.target_dir, &args, timeout)?;
        if self.options.progress {
            let problem = match &run.failure {
                None | Some(Failure::TestsFailed) => String::new(),
                Some(other) => format!(", {other}"),
            };
            eprintln!(
                "grade:   {} passed, {} failed{problem} ({:.1}s)",
                run.outcome.passed,
                run.outcome.failed,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(run)
    }
}

impl CargoTestRun {
    /// The part of this run that `filter` selects (libtest's rule: the name contains it). A
    /// build or cargo failure applies to every filter.
    pub fn narrowed_to(&self, filter: &str) -> CargoTestRun {
        let select = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .filter(|n| n.contains(filter))
                .cloned()
                .collect()
        };
        let passed_tests = select(&self.outcome.passed_tests);
        let failed_tests = select(&self.outcome.failed_tests);
        let failure = match &self.failure {
            Some(Failure::TestsFailed) | None if failed_tests.is_empty() => None,
            Some(Failure::TestsFailed) | None => Some(Failure::TestsFailed),
            Some(other) => Some(other.clone()),
        };
        let panics = (self.outcome.panics.iter())
            .filter(|(name, _)| failed_tests.contains(name))
            .map(|(name, panic)| (name.clone(), panic.clone()))
            .collect();
        CargoTestRun {
            outcome: TestOutcome {
                passed: passed_tests.len(),
                failed: failed_tests.len(),
                ignored: 0,
                binaries: self.outcome.binaries,
                passed_tests,
                failed_tests,
                panics,
            },
            failure,
        }
    }
}

/// Sets the modification time of every `.rs` and `.toml` file under `dir` (outside `target/`
/// and hidden directories) to now.
fn touch_sources(dir: &Path) -> Result<()> {
    let now = std::time::SystemTime::now();
    let walker = walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0 || !(name == "target" || name.starts_with('.'))
    });
    for entry in walker {
        let entry = entry.with_context(|| format!("scanning {}", dir.display()))?;
        let source = entry
            .path()
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "toml");
        if entry.file_type().is_file() && source {
            let file = std::fs::File::options()
                .write(true)
                .open(entry.path())
                .and_then(|f| f.set_modified(now));
            file.with_context(|| format!("marking {} as changed", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Grades `exercises` by running their tests in `options.dir`.
///
/// Errors only when grading itself is impossible (no workspace at `dir`, cargo cannot start,
/// interrupted); failing exercises are part of the report.
pub fn grade(exercises: &[&Exercise], options: &GradeOptions) -> Result<GradeReport> {
    if !options.dir.join("Cargo.toml").is_file() {
        bail!(
            "cannot grade {}: no Cargo.toml there",
            options.dir.display()
        );
    }
    if options.touch_sources {
        touch_sources(&options.dir)?;
    }
    let mut runner = Runner {
        options,
        runs: HashMap::new(),
    };
    let mut results = Vec::new();
    for exercise in exercises {
        results.push(score(exercise, &runner.runs_of(exercise)?));
    }
    Ok(GradeReport::new(results))
}

/// The first five failed tests by name (sorted: libtest runs them in parallel), or the count
/// when libtest gave no names.
fn failed_list(mut names: Vec<&str>, failed: usize) -> String {
    names.sort_unstable();
    let mut list = names.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        list.push_str(&format!(", and {} more", names.len() - 5));
    }
    if list.is_empty() {
        list = format!("{failed} tests");
    }
    list
}

/// Scores one exercise from the runs of its filters.
pub fn score(exercise: &Exercise, runs: &[(&str, CargoTestRun)]) -> ExerciseResult {
    let mut problems: Vec<String> = Vec::new();
    let mut failed_names: Vec<&str> = Vec::new();
    let mut tests_run = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    let mut add_problem = |problem: String| {
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    };
    for (filter, run) in runs {
        passed += run.outcome.passed;
        failed += run.outcome.failed;
        tests_run.extend(run.outcome.passed_tests.iter().cloned());
        tests_run.extend(run.outcome.failed_tests.iter().cloned());
        for name in &run.outcome.failed_tests {
            if !failed_names.contains(&name.as_str()) {
                failed_names.push(name);
            }
        }
        match &run.failure {
            None | Some(Failure::TestsFailed) => {
                if run.outcome.passed + run.outcome.failed == 0 {
                    add_problem(format!("no test matched filter `{filter}`"));
                }
            }
            Some(other) => add_problem(other.to_string()),
        }
    }
    if failed > 0 {
        problems.insert(0, format!("failed: {}", failed_list(failed_names, failed)));
    }
    let ok = problems.is_empty() && failed == 0 && passed > 0;
    let detail = if ok {
        format!("{passed} test{} passed", if passed == 1 { "" } else { "s" })
    } else {
        problems.join("; ")
    };
    tests_run.sort();
    tests_run.dedup();
    ExerciseResult {
        id: exercise.id.clone(),
        chapter: exercise.chapter.clone(),
        title: exercise.title.clone(),
        passed: ok,
        points: if ok { exercise.points } else { 0 },
        max_points: exercise.points,
        tests_passed: passed,
        tests_failed: failed,
        detail,
        tests_run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises::Difficulty;
    use std::os::unix::process::ExitStatusExt;

    const LIB_OUTPUT: &str = "
running 3 tests
test tests::sum_of_nothing ... ok
test tests::sum_adds ... FAILED
test tests::slow ... ignored, needs network
test tests::odd name with spaces ... ok

failures:

---- tests::sum_adds stdout ----

thread 'tests::sum_adds' (4242) panicked at src/lib.rs:4:5:
not yet implemented: exercise demo-sum: Sum — see `cargo xtask hint demo-sum`
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    tests::sum_adds

test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 4 filtered out; finished in 0.00s

";

    const DOC_OUTPUT: &str = "
running 1 test
test src/lib.rs - sum (line 12) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.21s

";

    const NOTHING_MATCHED: &str = "
running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 7 filtered out; finished in 0.00s

";

    fn exit(code: i32) -> Option<ExitStatus> {
        Some(ExitStatus::from_raw(code << 8))
    }

    fn exercise(tests: &[&str]) -> Exercise {
        Exercise {
            title: "Sum".into(),
            difficulty: Difficulty::Medium,
            points: 2,
            line: 2,
            file_line: 5,
            ..Exercise::demo("demo-sum", tests)
        }
    }

    fn ran(stdout: &str, code: i32) -> CargoTestRun {
        classify(stdout, "", exit(code), Duration::from_secs(5))
    }

    #[test]
    fn parses_counts_and_names() {
        let outcome = parse_libtest(LIB_OUTPUT);
        assert_eq!((outcome.passed, outcome.failed, outcome.ignored), (2, 1, 1));
        assert_eq!(outcome.binaries, 1);
        assert_eq!(
            outcome.passed_tests,
            ["tests::sum_of_nothing", "tests::odd name with spaces"]
        );
        assert_eq!(outcome.failed_tests, ["tests::sum_adds"]);
        assert_eq!(
            outcome.panics["tests::sum_adds"],
            "thread 'tests::sum_adds' (4242) panicked at src/lib.rs:4:5: not yet implemented: \
             exercise demo-sum: Sum — see `cargo xtask hint demo-sum`"
        );
        assert_eq!(outcome.panics.len(), 1);
    }

    #[test]
    fn sums_across_binaries_including_doc_tests() {
        let outcome = parse_libtest(&format!("{LIB_OUTPUT}{NOTHING_MATCHED}{DOC_OUTPUT}"));
        assert_eq!(
            (outcome.passed, outcome.failed, outcome.binaries),
            (3, 1, 3)
        );
        assert!(
            outcome
                .passed_tests
                .contains(&"src/lib.rs - sum (line 12)".to_string())
        );
    }

    #[test]
    fn ignores_unrelated_lines() {
        let outcome = parse_libtest(
            "test foo has been running for over 60 seconds\ntest result: garbage\nhello\n",
        );
        assert_eq!(outcome.passed + outcome.failed, 0);
        assert!(outcome.passed_tests.is_empty() && outcome.failed_tests.is_empty());
    }

    #[test]
    fn classifies_success_and_test_failures() {
        assert_eq!(ran(DOC_OUTPUT, 0).failure, None);
        assert_eq!(ran(LIB_OUTPUT, 101).failure, Some(Failure::TestsFailed));
    }

    #[test]
    fn classifies_build_failures_with_first_errors() {
        let stderr = "   Compiling demo v0.1.0 (/tmp/x/crates/demo)
warning: unused variable: `values`
 --> crates/demo/src/lib.rs:3:12
error[E0425]: cannot find value `total` in this scope
 --> crates/demo/src/lib.rs:5:5
  |
5 |     total
  |     ^^^^^ not found in this scope

error: could not compile `demo` (lib test) due to 1 previous error
";
        let run = classify("", stderr, exit(101), Duration::from_secs(5));
        assert_eq!(
            run.failure,
            Some(Failure::BuildFailed(
                "error[E0425]: cannot find value `total` in this scope at \
                 crates/demo/src/lib.rs:5:5"
                    .into()
            ))
        );
    }

    #[test]
    fn classifies_crashes_timeouts_and_cargo_errors() {
        let stderr = "error: test failed, to rerun pass `--lib`\n\nCaused by:\n  process didn't \
                      exit successfully: `/t/debug/deps/demo-1f2e` (signal: 6, SIGABRT: process \
                      abort signal)\n";
        let run = classify(
            "running 2 tests\n",
            stderr,
            exit(101),
            Duration::from_secs(5),
        );
        assert_eq!(
            run.failure,
            Some(Failure::Crashed(
                "signal: 6, SIGABRT: process abort signal".into()
            ))
        );

        let run = classify("", "", None, Duration::from_secs(42));
        assert_eq!(run.failure, Some(Failure::TimedOut(42)));
        assert_eq!(run.failure.unwrap().to_string(), "timed out after 42s");

        let stderr = "error: package ID specification `nope` did not match any packages\n";
        let run = classify("", stderr, exit(101), Duration::from_secs(5));
        assert_eq!(
            run.failure,
            Some(Failure::Cargo(
                "error: package ID specification `nope` did not match any packages".into()
            ))
        );
    }

    #[test]
    fn first_errors_limits_and_falls_back() {
        let stderr = "error: a\nerror: b\nerror: c\nerror: d\n";
        assert_eq!(first_errors(stderr, 2), "error: a; error: b; and 2 more");
        assert_eq!(first_errors("\nsomething odd\n\n", 3), "something odd");
        assert_eq!(first_errors("", 3), "(no output)");
    }

    #[test]
    fn passes_only_when_tests_ran_and_none_failed() {
        let result = score(
            &exercise(&["tests::sum"]),
            &[("tests::sum", ran(DOC_OUTPUT, 0))],
        );
        assert!(result.passed);
        assert_eq!((result.points, result.max_points), (2, 2));
        assert_eq!(result.detail, "1 test passed");
        assert_eq!(result.tests_run, ["src/lib.rs - sum (line 12)"]);

        let result = score(
            &exercise(&["tests::sum"]),
            &[("tests::sum", ran(LIB_OUTPUT, 101))],
        );
        assert!(!result.passed);
        assert_eq!(
            (result.points, result.tests_passed, result.tests_failed),
            (0, 2, 1)
        );
        assert_eq!(result.detail, "failed: tests::sum_adds");
    }

    #[test]
    fn a_filter_matching_nothing_is_a_failure_not_a_vacuous_pass() {
        let result = score(
            &exercise(&["tests::sum", "typo"]),
            &[
                ("tests::sum", ran(DOC_OUTPUT, 0)),
                ("typo", ran(NOTHING_MATCHED, 0)),
            ],
        );
        assert!(!result.passed);
        assert_eq!(result.points, 0);
        assert_eq!(result.detail, "no test matched filter `typo`");
    }

    #[test]
    fn build_failures_and_timeouts_fail_with_their_reason() {
        let broken = classify(
            "",
            "error[E0308]: mismatched types\n",
            exit(101),
            Duration::ZERO,
        );
        let result = score(
            &exercise(&["a", "b"]),
            &[("a", broken.clone()), ("b", broken)],
        );
        assert!(!result.passed);
        assert_eq!(
            result.detail,
            "build failed: error[E0308]: mismatched types"
        );

        let slow = classify("", "", None, Duration::from_secs(600));
        let result = score(&exercise(&["a"]), &[("a", slow)]);
        assert_eq!(result.detail, "timed out after 600s");
    }

    #[test]
    fn a_crash_fails_even_if_every_reported_test_passed() {
        let crash = classify(
            DOC_OUTPUT,
            "process didn't exit successfully: `x` (signal: 11, SIGSEGV: invalid memory reference)",
            exit(101),
            Duration::ZERO,
        );
        let result = score(&exercise(&["a"]), &[("a", crash)]);
        assert!(!result.passed);
        assert!(
            result.detail.starts_with("test binary crashed: signal: 11"),
            "{}",
            result.detail
        );
    }

    #[test]
    fn report_table_and_json() {
        let pass = score(&exercise(&["a"]), &[("a", ran(DOC_OUTPUT, 0))]);
        let mut fail = score(&exercise(&["a"]), &[("a", ran(LIB_OUTPUT, 101))]);
        fail.id = "demo-other".into();
        let report = GradeReport::new(vec![pass, fail]);
        assert_eq!(
            (report.total_points, report.max_points, report.passed),
            (2, 4, 1)
        );
        let table = report.table();
        assert!(
            table.starts_with("EXERCISE    CHAPTER  RESULT  POINTS  DETAIL\n"),
            "{table}"
        );
        assert!(
            table.contains("demo-sum    demo     pass    2/2     1 test passed\n"),
            "{table}"
        );
        assert!(
            table.ends_with("total: 2/4 points (1/2 exercises)\n"),
            "{table}"
        );

        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["total_points"], 2);
        assert_eq!(json["max_points"], 4);
        assert_eq!(json["passed"], 1);
        let mut keys: Vec<&str> = json["exercises"][0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "chapter",
                "detail",
                "id",
                "max_points",
                "passed",
                "points",
                "tests_failed",
                "tests_passed",
                "title"
            ]
        );
        assert_eq!(json["exercises"][1]["tests_failed"], 1);
    }
}
