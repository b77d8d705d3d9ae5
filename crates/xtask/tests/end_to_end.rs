//! End-to-end tests: the built `xtask` binary on copies of `tests/fixture`, a tiny workspace
//! with one chapter (`crates/demo`, package `fixture-demo`) and two exercises.
//!
//! Every test copies the fixture into its own temporary directory first, so builds (and their
//! `target/` directories and `Cargo.lock`) never land in the repository and tests can run in
//! parallel. Every child process runs with a deadline and is killed, with its process group,
//! if it overruns, so a hung build fails the test instead of hanging it.
//!
//! Markers are spelled through the `BEGIN`/`END` constants: xtask scans every `.rs` file of the
//! workspace's crates, this one included, for lines that start with a marker.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use xtask::process::{self, Output};

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
/// Backstop for a whole xtask run; xtask's own `--timeout` limits each cargo run inside it.
const DEADLINE: Duration = Duration::from_secs(240);
const LIB_RS: &str = "crates/demo/src/lib.rs";
const EXERCISES_TOML: &str = "crates/demo/exercises.toml";

/// A fresh copy of the fixture workspace in a temporary directory.
fn fixture() -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let copy = tempfile::Builder::new()
        .prefix("xtask-e2e-")
        .tempdir()
        .unwrap();
    for entry in walkdir::WalkDir::new(&source)
        .into_iter()
        .filter_entry(|e| e.file_name() != "target" && e.file_name() != "Cargo.lock")
    {
        let entry = entry.unwrap();
        let target = copy
            .path()
            .join(entry.path().strip_prefix(&source).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
    copy
}

/// Runs `command` to completion (or the deadline) and returns what it printed.
fn run(command: Command) -> Output {
    let description = format!("{command:?}");
    let output = process::run(command, DEADLINE).expect("the command starts");
    assert!(
        !output.timed_out,
        "{description} timed out\nstdout:\n{}\nstderr:\n{}",
        output.stdout, output.stderr
    );
    output
}

/// Runs `xtask --workspace <workspace> <args>`.
fn xtask(workspace: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("--workspace").arg(workspace).args(args);
    run(command)
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
}

/// Asserts a non-zero exit whose stderr contains every one of `needles`.
fn assert_fails_with(output: &Output, needles: &[&str]) {
    assert!(
        !output.success() && output.status.is_some(),
        "expected a failure, got {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
    for needle in needles {
        assert!(
            output.stderr.contains(needle),
            "stderr should contain {needle:?}:\n{}",
            output.stderr
        );
    }
}

fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.as_ref().display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{text}"))
        + 1
}

/// Edits a file of a workspace copy in place.
fn edit(workspace: &Path, file: &str, change: impl FnOnce(String) -> String) {
    let path = workspace.join(file);
    fs::write(&path, change(read(&path))).unwrap();
}

/// Asserts that `output` printed `needle` on stdout.
fn assert_prints(output: &Output, needle: &str) {
    assert!(
        output.stdout.contains(needle),
        "stdout should contain {needle:?}:\n{}",
        output.stdout
    );
}

/// Grades `handout` with the JSON report written to `json`, asserts that it ran and printed the
/// `total` line, and returns the report.
fn grade_into(workspace: &Path, handout: &Path, json: &Path, total: &str) -> Value {
    let (handout, json) = (handout.to_str().unwrap(), json.to_str().unwrap());
    let args = ["grade", handout, "--json", json, "--timeout", "120"];
    let out = xtask(workspace, &args);
    assert_success(&out, "grade (a report, even when exercises fail)");
    assert_prints(&out, total);
    read_json(Path::new(json))
}

/// The handout's `todo!` for exercise `demo-sum`.
const SUM_TODO: &str =
    "todo!(\"exercise demo-sum: Sum a slice — see `cargo xtask hint demo-sum`\")";

/// Solves `demo-sum` in a handout, the way a student would.
fn solve_sum(handout: &Path) {
    edit(handout, LIB_RS, |src| {
        src.replace(SUM_TODO, "values.iter().sum()")
    });
}

/// The gradebook entry of exercise `id`.
fn entry<'j>(json: &'j Value, id: &str) -> &'j Value {
    json["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {json:#}"))
}

#[test]
fn check_passes_on_the_fixture() {
    let ws = fixture();
    let out = xtask(ws.path(), &["check", "--timeout", "120"]);
    assert_success(&out, "check");
    assert!(
        out.stdout
            .contains("ok: 2 exercises in 1 chapter, 2 solution regions")
    );
    assert!(out.stdout.contains("total: 4/4 points (2/2 exercises)"));
    assert!(
        out.stdout
            .contains("failing tests: 4 (exactly those the exercises select); passing tests: 1")
    );
    for exercise in ["demo-sum", "demo-reverse"] {
        assert!(
            out.stdout.contains(&format!("{exercise} alone: ok")),
            "{}",
            out.stdout
        );
    }
    let last = out.stdout.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("check passed in "), "{}", out.stdout);
}

#[test]
fn check_catches_an_exercise_whose_tests_need_another_region() {
    let ws = fixture();
    // A test of `demo-reverse` that also goes through `demo-sum`: solving reverse alone does
    // not move its points.
    edit(ws.path(), LIB_RS, |src| {
        src.replace(
            "assert_eq!(reverse(\"abc\"), \"cba\");",
            "assert_eq!(reverse(\"abc\"), \"cba\");\n        assert_eq!(sum(&[1]), 1);",
        )
    });
    let out = xtask(ws.path(), &["check", "--timeout", "120"]);
    assert_fails_with(
        &out,
        &[
            "check failed with 1 problem",
            "test `tests::reverse_ascii` of `demo-reverse` does not pass with only its region \
             solved",
        ],
    );
}

#[test]
fn check_catches_a_hint_that_quotes_the_solution() {
    let ws = fixture();
    edit(ws.path(), EXERCISES_TOML, |toml| {
        toml.replace(
            "hint = \"Reverse the `chars()`, not the bytes.\"",
            "hint = \"Write `let reversed: String = s.chars().rev().collect();`.\"",
        )
    });
    let out = xtask(ws.path(), &["check", "--timeout", "120"]);
    assert_fails_with(
        &out,
        &[
            "check failed with 1 problem",
            "crates/demo/src/lib.rs:12: the solution of `demo-reverse` is given away: its hint \
             quotes the code `let reversed: String = s.chars().rev().collect();`",
        ],
    );
}

#[test]
fn check_catches_a_handout_that_breaks_a_non_exercise_test() {
    let ws = fixture();
    // `greeting` now calls into an exercise, so stripping it breaks an ungraded test.
    edit(ws.path(), LIB_RS, |src| {
        src.replace(
            "    \"hello\"\n",
            "    if sum(&[]) == 0 { \"hello\" } else { \"\" }\n",
        )
    });
    let out = xtask(ws.path(), &["check", "--timeout", "120"]);
    assert_fails_with(
        &out,
        &[
            "check failed with 1 problem",
            "test `tests::greeting_is_friendly` fails in the handout, but no exercise's tests \
             select it",
            // The panic, read from libtest's real output, says why.
            "(thread 'tests::greeting_is_friendly'",
            "panicked at crates/demo/src/lib.rs:",
            "not yet implemented",
        ],
    );
}

#[test]
fn handout_grade_and_solve() {
    let ws = fixture();
    // Things a handout must leave out.
    for junk in ["target/debug/junk", ".git/HEAD", "docs/book/index.html"] {
        let path = ws.path().join(junk);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "junk").unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let handout: PathBuf = work.path().join("handout");

    let out = xtask(ws.path(), &["handout", "--out", handout.to_str().unwrap()]);
    assert_success(&out, "handout");
    assert_prints(&out, "stripped demo-sum (crates/demo/src/lib.rs:5-7)");
    assert!(
        out.stdout
            .contains("stripped demo-reverse (crates/demo/src/lib.rs:12-15)")
    );
    let lib = read(handout.join(LIB_RS));
    assert!(lib.contains(&format!("    {SUM_TODO}\n")), "{lib}");
    assert!(lib.contains(
        "    todo!(\"exercise demo-reverse: Reverse a string \\\"by chars\\\" — see `cargo xtask \
         hint demo-reverse`\")\n"
    ));
    assert!(!lib.contains(BEGIN) && !lib.contains(END), "{lib}");
    assert!(
        !lib.contains("values.iter().sum()"),
        "the solution leaked:\n{lib}"
    );
    assert!(lib.contains("fn greeting_is_friendly()"), "tests are kept");
    assert_eq!(
        read(handout.join(EXERCISES_TOML)),
        read(ws.path().join(EXERCISES_TOML))
    );
    for junk in ["target", ".git", "docs/book"] {
        assert!(!handout.join(junk).exists(), "{junk} was copied");
    }

    // A second handout into the same directory needs --force.
    let again = xtask(ws.path(), &["handout", "--out", handout.to_str().unwrap()]);
    assert_fails_with(&again, &["is not empty; pass --force"]);

    // Nothing solved: no points, every exercise test fails.
    let json = work.path().join("grade.json");
    let report = grade_into(
        ws.path(),
        &handout,
        &json,
        "total: 0/4 points (0/2 exercises)",
    );
    assert_eq!(report["total_points"], 0);
    assert_eq!(report["max_points"], 4);
    assert_eq!(report["passed"], 0);
    for id in ["demo-sum", "demo-reverse"] {
        let e = entry(&report, id);
        assert_eq!(e["passed"], false, "{e}");
        assert_eq!(e["points"], 0);
        assert_eq!(
            (e["tests_passed"].as_u64(), e["tests_failed"].as_u64()),
            (Some(0), Some(2))
        );
    }
    assert_eq!(
        entry(&report, "demo-sum")["detail"],
        "failed: tests::sum_adds_values, tests::sum_of_nothing_is_zero"
    );

    // The handout broke only exercise tests: the other test still passes there.
    let mut cargo = process::cargo_command(&handout, &handout.join("target"));
    cargo.args(["test", "-p", "fixture-demo", "--", "tests::greeting"]);
    let greeting = run(cargo);
    assert_success(&greeting, "the non-exercise test in the handout");
    assert!(
        greeting
            .stdout
            .contains("test tests::greeting_is_friendly ... ok")
    );
    assert!(
        greeting.stdout.contains("1 passed; 0 failed"),
        "{}",
        greeting.stdout
    );

    solve_sum(&handout);
    let report = grade_into(
        ws.path(),
        &handout,
        &json,
        "total: 1/4 points (1/2 exercises)",
    );
    assert_eq!(
        (report["total_points"].as_u64(), report["passed"].as_u64()),
        (Some(1), Some(1))
    );
    let sum = entry(&report, "demo-sum");
    assert_eq!(sum["passed"], true);
    assert_eq!(sum["points"], 1);
    assert_eq!(sum["detail"], "2 tests passed");
    assert_eq!(entry(&report, "demo-reverse")["passed"], false);
}

#[test]
fn grade_with_a_filter_that_matches_nothing_fails_the_exercise() {
    let ws = fixture();
    edit(ws.path(), EXERCISES_TOML, |toml| {
        toml.replace("\"tests::reverse_unicode\"", "\"tests::no_such_test\"")
    });
    let out = xtask(
        ws.path(),
        &["grade", "--exercise", "demo-reverse", "--timeout", "120"],
    );
    assert_success(&out, "grade");
    assert_prints(&out, "no test matched filter `tests::no_such_test`");
    assert_prints(&out, "total: 0/3 points (0/1 exercises)");
}

#[test]
fn unmatched_region_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), LIB_RS, |src| {
        // Drop the END of the first region (line 7).
        let mut lines: Vec<&str> = src.lines().collect();
        assert_eq!(lines[6].trim(), END);
        lines.remove(6);
        lines.join("\n") + "\n"
    });
    for command in ["check", "handout"] {
        let out = match command {
            "check" => xtask(ws.path(), &["check"]),
            _ => xtask(
                ws.path(),
                &["handout", "--out", "/nonexistent/never-written"],
            ),
        };
        assert_fails_with(
            &out,
            &[
                "crates/demo/src/lib.rs:11: nested region: BEGIN SOLUTION while region \
                 `demo-sum` opened at line 5 has no END SOLUTION yet",
            ],
        );
    }
}

#[test]
fn unmatched_region_at_end_of_file_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), LIB_RS, |src| {
        format!("{src}\nfn late() {{\n    {BEGIN}: demo-late\n}}\n")
    });
    let line = line_of(&read(ws.path().join(LIB_RS)), "demo-late");
    let out = xtask(ws.path(), &["check"]);
    assert_fails_with(
        &out,
        &[&format!(
            "crates/demo/src/lib.rs:{line}: unmatched BEGIN SOLUTION `demo-late`: no `{END}` \
             before end of file"
        )],
    );
}

#[test]
fn nested_region_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), LIB_RS, |src| {
        src.replace(
            "    values.iter().sum()\n",
            &format!("    {BEGIN}: demo-inner\n    values.iter().sum()\n    {END}\n"),
        )
    });
    let out = xtask(ws.path(), &["check"]);
    assert_fails_with(
        &out,
        &[
            "crates/demo/src/lib.rs:6: nested region",
            "crates/demo/src/lib.rs:9: END SOLUTION without a matching BEGIN SOLUTION",
        ],
    );
}

#[test]
fn listed_exercise_without_region_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), EXERCISES_TOML, |toml| {
        toml + "\n[[exercise]]\nid = \"demo-ghost\"\ntitle = \"Ghost\"\ndifficulty = \"hard\"\n\
                file = \"src/lib.rs\"\ntests = [\"tests::ghost\"]\nhint = \"boo\"\n"
    });
    let line = line_of(&read(ws.path().join(EXERCISES_TOML)), "demo-ghost");
    let out = xtask(ws.path(), &["check"]);
    assert_fails_with(
        &out,
        &[&format!(
            "crates/demo/exercises.toml:{line}: no region for exercise `demo-ghost` in \
             crates/demo/src/lib.rs"
        )],
    );
}

#[test]
fn region_not_listed_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), LIB_RS, |src| {
        format!("{src}\npub fn extra() {{\n    {BEGIN}: demo-extra\n    {END}\n}}\n")
    });
    let line = line_of(&read(ws.path().join(LIB_RS)), "demo-extra");
    let out = xtask(ws.path(), &["check"]);
    assert_fails_with(
        &out,
        &[&format!(
            "crates/demo/src/lib.rs:{line}: region not listed: `demo-extra` is not an exercise \
             in crates/demo/exercises.toml"
        )],
    );
}

#[test]
fn bad_exercises_toml_names_file_and_line() {
    let ws = fixture();
    edit(ws.path(), EXERCISES_TOML, |toml| {
        toml.replace("difficulty = \"easy\"", "difficulty = \"trivial\"")
            .replace(
                "tests = [\"tests::reverse_ascii\", \"tests::reverse_unicode\"]",
                "tests = []",
            )
    });
    let out = xtask(ws.path(), &["list"]);
    assert_fails_with(
        &out,
        &[
            "2 problems with the exercises of",
            "crates/demo/exercises.toml:4: exercise `demo-sum` has bad difficulty `trivial`",
            "crates/demo/exercises.toml:17: exercise `demo-reverse` has empty tests",
        ],
    );
}

#[test]
fn unknown_ids_and_chapters_are_errors_that_list_the_known_ones() {
    let ws = fixture();
    let out = xtask(ws.path(), &["hint", "nope"]);
    assert_fails_with(
        &out,
        &["unknown exercise `nope`; known exercises: demo-sum, demo-reverse"],
    );
    let out = xtask(ws.path(), &["grade", "--exercise", "nope"]);
    assert_fails_with(&out, &["unknown exercise `nope`"]);
    let out = xtask(ws.path(), &["grade", "--chapter", "nope"]);
    assert_fails_with(
        &out,
        &["unknown chapter `nope`; chapters with exercises: demo"],
    );
    let out = xtask(
        ws.path(),
        &["handout", "--out", "/nonexistent/x", "--chapter", "nope"],
    );
    assert_fails_with(&out, &["unknown chapter `nope`"]);
}

#[test]
fn list_and_hint() {
    let ws = fixture();
    let out = xtask(ws.path(), &["list"]);
    assert_success(&out, "list");
    assert_eq!(
        out.stdout,
        "ID            CHAPTER  TITLE                        DIFFICULTY  POINTS\n\
         demo-sum      demo     Sum a slice                  easy        1\n\
         demo-reverse  demo     Reverse a string \"by chars\"  medium      3\n"
    );
    let out = xtask(ws.path(), &["hint", "demo-sum"]);
    assert_success(&out, "hint");
    assert!(
        out.stdout
            .starts_with("demo-sum: Sum a slice\nchapter:    demo\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("tests:      tests::sum_\n"));
    assert!(
        out.stdout
            .ends_with("Iterators have a method for this.\nOne line is enough.\n")
    );
}

#[test]
fn a_workspace_without_exercises_checks_clean_without_building() {
    let ws = tempfile::tempdir().unwrap();
    fs::write(ws.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let out = xtask(ws.path(), &["check"]);
    assert_success(&out, "check");
    assert_prints(&out, "no exercises found");
    assert!(
        !ws.path().join("target").exists(),
        "nothing should have been built"
    );
    let out = xtask(ws.path(), &["list"]);
    assert!(out.stdout.starts_with("no exercises in"), "{}", out.stdout);
}

#[test]
fn grade_a_class_into_one_gradebook() {
    let ws = fixture();
    let class = tempfile::tempdir().unwrap();
    let dir = |name: &str| class.path().join(name);
    for student in ["ada", "bob"] {
        let out = xtask(
            ws.path(),
            &["handout", "--out", dir(student).to_str().unwrap()],
        );
        assert_success(&out, "handout");
    }
    // ada solves one exercise; bob's copy does not build; eve handed in an empty folder.
    solve_sum(&dir("ada"));
    edit(&dir("bob"), LIB_RS, |src| {
        src.replace("pub fn greeting", "pub fn greeting(")
    });
    fs::create_dir(dir("eve")).unwrap();
    let (csv, json) = (
        class.path().join("book.csv"),
        class.path().join("book.json"),
    );

    let mut args = vec!["grade"];
    let dirs: Vec<String> = ["ada", "bob", "eve"]
        .iter()
        .map(|s| dir(s).display().to_string())
        .collect();
    args.extend(dirs.iter().map(String::as_str));
    args.extend([
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = xtask(ws.path(), &args);
    assert_success(&out, "grade of a class");

    let book = read(&csv);
    let rows: Vec<&str> = book.lines().collect();
    assert_eq!(
        rows[0], "student,demo-sum,demo-reverse,total,seconds,error",
        "{book}"
    );
    assert!(rows[1].starts_with("ada,1,0,1,"), "{book}");
    assert!(rows[2].starts_with("bob,0,0,0,"), "{book}");
    assert!(
        rows[3].starts_with("eve,0,0,0,") && rows[3].contains("no Cargo.toml"),
        "{book}"
    );
    let json: Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(json["max_points"], 4);
    let detail = &json["submissions"][1]["report"]["exercises"][0]["detail"];
    assert!(
        detail.as_str().unwrap().starts_with("build failed"),
        "{json:#}"
    );
    // One shared target directory for the class, none inside the submissions.
    assert!(ws.path().join("target/xtask-grade").is_dir());
    assert!(!dir("ada").join("target").exists() && !dir("bob").join("target").exists());
}

#[test]
fn the_classroom_workflow_grades_each_exercise_by_its_own_command() {
    let ws = fixture();
    let work = tempfile::tempdir().unwrap();
    let handout = work.path().join("handout");
    let out = xtask(
        ws.path(),
        &["handout", "--out", handout.to_str().unwrap(), "--classroom"],
    );
    assert_success(&out, "handout --classroom");
    let yaml = read(handout.join(".github/workflows/classroom.yml"));
    let commands: Vec<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("command: "))
        .collect();
    assert_eq!(
        commands,
        [
            "cargo xtask grade --exercise demo-sum --strict",
            "cargo xtask grade --exercise demo-reverse --strict"
        ]
    );
    for points in ["max-score: 1", "max-score: 3"] {
        assert!(yaml.contains(points), "{yaml}");
    }
    // Each command, as the runner would run it (here with this xtask, told which workspace):
    // it fails in the fresh handout and passes once the exercise is solved.
    let run_step = |dir: &Path, command: &str| {
        let args: Vec<&str> = command["cargo xtask ".len()..].split(' ').collect();
        xtask(dir, &args)
    };
    for command in &commands {
        let out = run_step(&handout, command);
        assert_fails_with(&out, &["1 of 1 exercises did not pass"]);
        assert_success(&run_step(ws.path(), command), command);
    }
}

#[test]
fn watch_regrades_the_exercise_whose_file_changed() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    let ws = fixture();
    let handout = ws.path().join("handout");
    assert_success(
        &xtask(ws.path(), &["handout", "--out", handout.to_str().unwrap()]),
        "handout",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--workspace")
        .arg(&handout)
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |wanted: &str| {
        let deadline = std::time::Instant::now() + DEADLINE;
        while !seen.iter().any(|l: &String| l.contains(wanted)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!(
                    "watch never printed {wanted:?}; it printed:\n{}",
                    seen.join("\n")
                ),
            }
        }
    };
    wait_for("0/4 points, 0/2 exercises solved");
    wait_for("next: demo-sum in crates/demo/src/lib.rs");
    wait_for("watching ");
    solve_sum(&handout);
    wait_for("1/4 points, 1/2 exercises solved");
    wait_for("stuck? cargo xtask hint demo-reverse");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}
