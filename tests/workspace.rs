//! Workspace-wide rules that no single crate can check:
//!
//! - every example of every crate is run by some test, and example names are unique (they share
//!   `target/<profile>/examples/`);
//! - every example starts with a header comment giving its own `cargo run` command;
//! - every `cargo run -p X --example Y` (and `cargo run/test/bench -p X [--bench Z]`) written in a
//!   README or a docs page names a real package, example and bench — or a chapter the README
//!   lists as planned; every bench is listed with its command in docs/src/benchmarks.md;
//! - every crate has a README.md and inherits the workspace lints.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One workspace member: its package name, directory, examples and benches.
#[derive(Debug)]
struct Crate {
    package: String,
    dir: PathBuf,
    examples: Vec<(String, PathBuf)>,
    benches: Vec<(String, PathBuf)>,
}

/// The targets cargo finds in `dir` (`examples/`, `benches/`): `NAME.rs` and `NAME/main.rs`.
fn targets(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = entry.expect("target directory entry").path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.extension().is_some_and(|e| e == "rs") {
                found.push((name, path));
            } else if path.join("main.rs").is_file() {
                found.push((name, path.join("main.rs")));
            }
        }
    }
    found.sort();
    found
}

fn crates(root: &Path) -> Vec<Crate> {
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .expect("reading crates/")
        .map(|entry| entry.expect("crates/ entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("reading Cargo.toml");
        let package = manifest
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("no package name in {}", dir.display()))
            .to_string();
        found.push(Crate {
            package,
            examples: targets(&dir.join("examples")),
            benches: targets(&dir.join("benches")),
            dir,
        });
    }
    found
}

fn rust_files_under(dir: &Path) -> Vec<PathBuf> {
    WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter(|e| !e.path().components().any(|c| c.as_os_str() == "fixture"))
        .map(|e| e.into_path())
        .collect()
}

/// Examples that no test runs. A test runs an example when a test source that uses
/// `ExampleProcess` (or `example_path`) mentions the example's name as a string literal.
fn unrun_examples(root: &Path, crates: &[Crate]) -> Vec<String> {
    let mut test_sources = String::new();
    let mut dirs = vec![root.join("tests")];
    dirs.extend(crates.iter().map(|c| c.dir.join("tests")));
    dirs.extend(crates.iter().map(|c| c.dir.join("src")));
    for dir in dirs {
        for file in rust_files_under(&dir) {
            let text = fs::read_to_string(&file).expect("reading a test source");
            if text.contains("ExampleProcess") || text.contains("example_path") {
                test_sources.push_str(&text);
            }
        }
    }
    crates
        .iter()
        .flat_map(|c| &c.examples)
        .filter(|(name, _)| !test_sources.contains(&format!("\"{name}\"")))
        .map(|(name, path)| format!("{name} ({})", path.display()))
        .collect()
}

#[test]
fn every_example_is_run_by_some_test() {
    let root = root();
    let unrun = unrun_examples(&root, &crates(&root));
    assert!(
        unrun.is_empty(),
        "examples that no test runs (start them with harness::ExampleProcess in a test):\n  {}",
        unrun.join("\n  ")
    );
}

#[test]
fn the_unrun_example_check_can_fail() {
    let tree = tempfile::tempdir().unwrap();
    let demo = tree.path().join("crates/demo");
    fs::create_dir_all(demo.join("examples")).unwrap();
    fs::create_dir_all(demo.join("tests")).unwrap();
    fs::write(demo.join("Cargo.toml"), "[package]\nname = \"demo\"\n").unwrap();
    fs::write(demo.join("examples/ran.rs"), "fn main() {}").unwrap();
    fs::write(demo.join("examples/forgotten.rs"), "fn main() {}").unwrap();
    fs::write(
        demo.join("tests/t.rs"),
        "fn t() { harness::ExampleProcess::start(\"ran\", &[]); }",
    )
    .unwrap();
    let unrun = unrun_examples(tree.path(), &crates(tree.path()));
    assert_eq!(unrun.len(), 1, "{unrun:?}");
    assert!(unrun[0].starts_with("forgotten"), "{unrun:?}");
}

#[test]
fn example_names_are_unique_across_the_workspace() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut clashes = Vec::new();
    for krate in crates(&root()) {
        for (name, _) in &krate.examples {
            if let Some(other) = seen.insert(name.clone(), krate.package.clone()) {
                clashes.push(format!("{name}: {other} and {}", krate.package));
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "example names shared by two crates: {clashes:?}"
    );
}

#[test]
fn every_example_header_gives_its_own_run_command() {
    let mut missing = Vec::new();
    for krate in crates(&root()) {
        for (name, path) in &krate.examples {
            let text = fs::read_to_string(path).unwrap();
            let header: String = text
                .lines()
                .take_while(|line| line.starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let command = format!("cargo run -p {} --example {name}", krate.package);
            let release = format!("cargo run -p {} --release --example {name}", krate.package);
            if !header.contains(&command) && !header.contains(&release) {
                missing.push(format!(
                    "{} (expected `{command}` in its header)",
                    path.display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "examples without a run command in their header:\n  {}",
        missing.join("\n  ")
    );
}

/// A `cargo <verb> ...` command found in a markdown file.
#[derive(Debug)]
struct Command {
    place: String,
    verb: String,
    package: Option<String>,
    example: Option<String>,
    bench: Option<String>,
}

/// Finds `cargo run|test|bench ... -p X [--example Y]` in `text`.
fn cargo_commands(place: &str, text: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("cargo ") {
            let after = &rest[start + "cargo ".len()..];
            let end = after.find(['`', '|', ';', '&', ')']).unwrap_or(after.len());
            let words: Vec<&str> = after[..end].split_whitespace().collect();
            rest = &after[end..];
            let Some(verb) = words.first() else { continue };
            if !["run", "test", "bench", "build"].contains(verb) {
                continue;
            }
            let value_of = |flags: &[&str]| {
                words
                    .iter()
                    .position(|w| flags.contains(w))
                    .and_then(|i| words.get(i + 1))
                    .map(|w| w.to_string())
            };
            commands.push(Command {
                place: format!("{place}:{}", number + 1),
                verb: verb.to_string(),
                package: value_of(&["-p", "--package"]),
                example: value_of(&["--example"]),
                bench: value_of(&["--bench"]),
            });
        }
    }
    commands
}

/// Chapters the README's chapter table marks as planned (their crates do not exist yet).
fn planned_chapters(readme: &str) -> BTreeSet<String> {
    readme
        .lines()
        .filter(|line| line.starts_with('|') && line.contains("planned"))
        .flat_map(|line| line.split('`').skip(1).step_by(2).map(str::to_string))
        .collect()
}

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    files.extend(
        WalkDir::new(root.join("crates"))
            .into_iter()
            .chain(WalkDir::new(root.join("docs/src")))
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
            .filter(|e| {
                !e.path()
                    .components()
                    .any(|c| c.as_os_str() == "fixture" || c.as_os_str() == "target")
            })
            .map(|e| e.into_path()),
    );
    files
}

#[test]
fn docs_name_only_real_packages_and_examples() {
    let root = root();
    let crates = crates(&root);
    let packages: BTreeMap<&str, &Crate> = crates.iter().map(|c| (c.package.as_str(), c)).collect();
    let planned = planned_chapters(&fs::read_to_string(root.join("README.md")).unwrap());
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in markdown_files(&root) {
        let text = fs::read_to_string(&file).unwrap();
        let place = file.strip_prefix(&root).unwrap().display().to_string();
        for command in cargo_commands(&place, &text) {
            // `-p <chapter>` is a placeholder, not a name.
            let Some(package) = command.package.as_ref().filter(|p| !p.starts_with('<')) else {
                continue;
            };
            checked += 1;
            match packages.get(package.as_str()) {
                Some(krate) => {
                    let named = [("example", &command.example, &krate.examples), ("bench", &command.bench, &krate.benches)];
                    for (kind, name, targets) in named {
                        if let Some(name) = name
                            && !targets.iter().any(|(target, _)| target == name)
                        {
                            wrong.push(format!(
                                "{}: package `{package}` has no {kind} `{name}`",
                                command.place
                            ));
                        }
                    }
                }
                None if planned.contains(package) => {}
                None => wrong.push(format!(
                    "{}: `cargo {} -p {package}` names no workspace package (nor a planned chapter)",
                    command.place, command.verb
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs name things that do not exist:\n  {}",
        wrong.join("\n  ")
    );
    assert!(
        checked > 0,
        "no `cargo ... -p X` command found in any README or docs page"
    );
}

#[test]
fn the_docs_command_check_finds_what_it_should() {
    let found = cargo_commands(
        "x.md",
        "Run `cargo run -p io-models --example select_chat` and `cargo run --release -p loadgen -- idle`.\n\
         | `cargo bench -p perf-laws` | then cargo xtask list\n\
         cargo bench -p io-models --bench c10k -- --quick",
    );
    let summary: Vec<_> = found
        .iter()
        .map(|c| {
            let target = c.example.as_deref().or(c.bench.as_deref());
            (c.verb.as_str(), c.package.as_deref(), target)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("run", Some("io-models"), Some("select_chat")),
            ("run", Some("loadgen"), None),
            ("bench", Some("perf-laws"), None),
            ("bench", Some("io-models"), Some("c10k")),
        ]
    );
    assert_eq!(found[3].example, None);
    assert_eq!(found[2].place, "x.md:2");
    let planned = planned_chapters(
        "| io-models | `io-models` | IO models | planned |\n| x | `loadgen` | y | ready |",
    );
    assert_eq!(planned.into_iter().collect::<Vec<_>>(), ["io-models"]);
}

#[test]
fn every_bench_is_listed_with_its_command_on_the_benchmarks_page() {
    let root = root();
    let page = fs::read_to_string(root.join("docs/src/benchmarks.md")).unwrap();
    let mut missing = Vec::new();
    let mut benches = 0;
    for krate in crates(&root) {
        for (name, _) in &krate.benches {
            benches += 1;
            let command = format!("cargo bench -p {} --bench {name}", krate.package);
            if !page.contains(&command) {
                missing.push(command);
            }
        }
    }
    assert!(benches > 0, "no benches/ found in any crate");
    assert!(
        missing.is_empty(),
        "docs/src/benchmarks.md does not list:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_crate_has_a_readme_and_inherits_the_workspace_lints() {
    let mut problems = Vec::new();
    for krate in crates(&root()) {
        let readme = krate.dir.join("README.md");
        match fs::read_to_string(&readme) {
            Ok(text) if text.trim().len() > 200 => {}
            Ok(_) => problems.push(format!(
                "{} is too short to explain the crate",
                readme.display()
            )),
            Err(_) => problems.push(format!("{} is missing", readme.display())),
        }
        let manifest = fs::read_to_string(krate.dir.join("Cargo.toml")).unwrap();
        if !manifest.contains("[lints]\nworkspace = true") {
            problems.push(format!(
                "{}/Cargo.toml lacks `[lints] workspace = true`",
                krate.dir.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Examples whose `main` has another shape, each for a reason a reader can check.
const OTHER_MAINS: [(&str, &str); 2] = [
    (
        "harness_child",
        "a test fixture that exits with the statuses the harness tests need",
    ),
    (
        "copy_dir",
        "its exit status tells 'refused, nothing copied' (2) from 'some files failed' (1)",
    ),
];

/// The examples whose `main` is not `fn main() -> Result<(), Failure>`, the one shape.
fn mains_of_another_shape(examples: &[(String, String)]) -> Vec<String> {
    examples
        .iter()
        .filter(|(name, _)| !OTHER_MAINS.iter().any(|(other, _)| other == name))
        .filter(|(_, source)| !source.contains("\nfn main() -> Result<(), Failure> {\n"))
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn every_example_main_returns_a_failure_that_prints_a_sentence() {
    let mut examples = Vec::new();
    for krate in crates(&root()) {
        for path in rust_files_under(&krate.dir.join("examples")) {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            examples.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(
        examples.len() > 40,
        "found only {} examples",
        examples.len()
    );
    let odd = mains_of_another_shape(&examples);
    assert!(
        odd.is_empty(),
        "these examples' main does not return `Result<(), labkit::Failure>` (errors would \
         print as Debug dumps, or each its own way): {odd:?}"
    );
}

#[test]
fn the_main_shape_check_can_fail() {
    let examples = [
        (
            "ok".to_string(),
            "\nfn main() -> Result<(), Failure> {\n".to_string(),
        ),
        (
            "dump".to_string(),
            "\nfn main() -> std::io::Result<()> {\n".to_string(),
        ),
        (
            "copy_dir".to_string(),
            "\nfn main() -> ExitCode {\n".to_string(),
        ),
    ];
    assert_eq!(mains_of_another_shape(&examples), ["dump"]);
}
