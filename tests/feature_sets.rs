//! Every documented way to build compiles each third-party crate with the same features.
//!
//! Cargo picks a dependency's features from the packages a command selects: `cargo test
//! --workspace` unifies what every member asks for, `cargo run -p perf-laws` only what perf-laws
//! and its dependencies ask for, and dev-dependencies count only when tests, examples or benches
//! are built. A crate built with other features is another artifact, and so is everything above
//! it: `cargo run -p sync-primitives --release --example producer_consumer` right after `cargo
//! build --workspace --release` once recompiled 68 crates (nix, rustix, clap, serde, ...) for
//! 69 s. The `workspace-hack` crate, which every member depends on, asks for the union, so each
//! crate has one feature set whatever is selected; this test keeps it so.
//!
//! It asks `cargo tree` for the features of every crate in each form — `--workspace` and `-p X`
//! for every member X, each with and without dev-dependencies — and fails on any third-party
//! crate that two forms build differently, naming the forms and the features to add to
//! crates/workspace-hack/Cargo.toml. (A crate absent from a form is fine: it is simply not built.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// crate (`name vX.Y.Z`) → feature list (comma-separated, as cargo prints it) → forms using it.
type Features = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Adds the third-party crates of one form to `features`, from `cargo tree` output in the
/// format `{p}|{f}` without prefixes (workspace members, which have a path, are skipped).
fn record(features: &mut Features, form: &str, tree: &str) {
    for line in tree.lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, list)) = line.split_once('|') else {
            continue;
        };
        if package.is_empty() || package.contains(" (/") || package.contains(" (proc-macro)") {
            continue;
        }
        features
            .entry(package.to_string())
            .or_default()
            .entry(list.to_string())
            .or_default()
            .insert(form.to_string());
    }
}

/// One message per crate that is built with different features by different forms.
fn disagreements(features: &Features) -> Vec<String> {
    features
        .iter()
        .filter(|(_, lists)| lists.len() > 1)
        .map(|(package, lists)| {
            let union: BTreeSet<String> = lists
                .keys()
                .flat_map(|list| list.split(','))
                .filter(|f| !f.is_empty())
                .map(|f| format!("\"{f}\""))
                .collect();
            let forms: Vec<String> = lists
                .iter()
                .map(|(list, forms)| {
                    let first = forms.iter().next().expect("a recorded form");
                    match forms.len() - 1 {
                        0 => format!("[{list}] in `{first}`"),
                        more => format!("[{list}] in `{first}` and {more} more"),
                    }
                })
                .collect();
            let union = union.into_iter().collect::<Vec<_>>().join(", ");
            format!(
                "{package}: {}; crates/workspace-hack/Cargo.toml must ask for features = [{union}]",
                forms.join(", ")
            )
        })
        .collect()
}

fn members(root: &Path) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .expect("running cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    json["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().expect("package name").to_string())
        .collect()
}

fn tree(root: &Path, selection: &[&str], edges: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "tree", "--prefix", "none", "--format", "{p}|{f}", "-e", edges,
        ])
        .args(selection)
        .output()
        .expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree {selection:?} -e {edges} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo tree prints UTF-8")
}

#[test]
fn every_build_form_compiles_each_dependency_with_the_same_features() {
    let root = root();
    let mut features = Features::new();
    let mut selections = vec![("--workspace".to_string(), vec!["--workspace".to_string()])];
    for member in members(&root) {
        selections.push((format!("-p {member}"), vec!["-p".to_string(), member]));
    }
    for (name, selection) in &selections {
        let selection: Vec<&str> = selection.iter().map(String::as_str).collect();
        for (edges, what) in [("normal,build", "build"), ("normal,build,dev", "test")] {
            let form = format!("cargo {what} {name}");
            record(&mut features, &form, &tree(&root, &selection, edges));
        }
    }
    assert!(
        features.len() > 20,
        "cargo tree listed only {} third-party crates",
        features.len()
    );
    let problems = disagreements(&features);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_feature_check_finds_a_crate_built_two_ways() {
    let mut features = Features::new();
    record(
        &mut features,
        "cargo test --workspace",
        "nix v0.31.3|fs,signal\nlabkit v0.1.0 (/w/crates/labkit)|\nlibc v0.2.1|default (*)\n",
    );
    record(
        &mut features,
        "cargo build -p xtask",
        "nix v0.31.3|signal\nlabkit v0.1.0 (/w/crates/labkit)|x\nlibc v0.2.1|default\n",
    );
    assert_eq!(features.len(), 2, "members are skipped, `(*)` is ignored");
    let problems = disagreements(&features);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("nix v0.31.3: [fs,signal] in `cargo test --workspace`"),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains(r#"features = ["fs", "signal"]"#),
        "{}",
        problems[0]
    );
}
