//! The instructor guide tells the truth: every sample that starts with `$ cargo xtask …` is
//! compared with what xtask prints today, and every count in it (exercises, chapters, regions,
//! points, rounds) with the exercise catalog. Adding, moving or re-pointing an exercise fails
//! here until the guide shows it. (It lives in xtask, not in the root package's tests: in a
//! handout the regions are gone, and `cargo xtask check` leaves xtask's tests out of the handout
//! run.)

use std::path::PathBuf;

use xtask::exercises::Catalog;
use xtask::handout::{HandoutOptions, write_handout};
use xtask::show;

/// The workspace xtask belongs to (the guide describes it, not a fixture).
fn root() -> PathBuf {
    xtask::default_workspace()
}

fn guide() -> String {
    std::fs::read_to_string(root().join("docs/src/instructor-guide.md")).unwrap()
}

fn catalog() -> Catalog {
    Catalog::load(&root()).unwrap()
}

/// The lines of the ```text block whose first line is `$ <command>`, after that line.
fn sample(guide: &str, command: &str) -> Vec<String> {
    let start = format!("```text\n$ {command}\n");
    let at = guide
        .find(&start)
        .unwrap_or_else(|| panic!("the guide has no sample of `{command}`"));
    let body = &guide[at + start.len()..];
    let end = body.find("```").expect("the sample block ends");
    body[..end].lines().map(str::to_string).collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[test]
fn the_list_sample_is_what_list_prints() {
    let printed = show::list(&catalog());
    assert_eq!(
        sample(&guide(), "cargo xtask list"),
        lines(&printed),
        "paste this into docs/src/instructor-guide.md:\n{printed}"
    );
}

#[test]
fn the_hint_sample_is_what_hint_prints() {
    let catalog = catalog();
    let printed = show::hint(catalog.exercise("io-epoll-et-drain").unwrap());
    assert_eq!(
        sample(&guide(), "cargo xtask hint io-epoll-et-drain"),
        lines(&printed),
        "paste this into docs/src/instructor-guide.md:\n{printed}"
    );
}

#[test]
fn the_handout_sample_is_what_handout_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labs-handout");
    let options = HandoutOptions {
        out: &out,
        chapter: None,
        force: false,
    };
    let written = write_handout(&catalog(), options).unwrap();
    let printed =
        show::handout(&written).replace(&written.out.display().to_string(), "../labs-handout");
    assert_eq!(
        sample(&guide(), "cargo xtask handout --out ../labs-handout"),
        lines(&printed),
        "paste this into docs/src/instructor-guide.md:\n{printed}"
    );
}

/// Each table row's first cells, split on runs of two or more spaces.
fn cells(row: &str) -> Vec<&str> {
    row.trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn the_grade_section_counts_every_exercise_and_point() {
    let catalog = catalog();
    let max: u32 = catalog.exercises.iter().map(|e| e.points).sum();
    let n = catalog.exercises.len();
    let guide = guide();
    for needle in [
        format!("`total: 0/{max} points (0/{n} exercises)`"),
        format!("\"max_points\": {max},"),
    ] {
        assert!(guide.contains(&needle), "the guide does not say {needle:?}");
    }
}

#[test]
fn the_check_sample_counts_exercises_chapters_regions_points_and_rounds() {
    let catalog = catalog();
    let regions: usize = catalog
        .regions()
        .unwrap()
        .iter()
        .map(|f| f.regions.len())
        .sum();
    let (n, chapters) = (catalog.exercises.len(), catalog.chapters_with_exercises());
    let max: u32 = catalog.exercises.iter().map(|e| e.points).sum();
    let rows = sample(
        &guide(),
        "cargo xtask check          # progress lines (grade: …) omitted",
    );
    let has = |line: String| {
        assert!(
            rows.contains(&line),
            "the check sample has no line {line:?}: {rows:#?}"
        );
    };
    has(format!(
        "  ok: {n} exercises in {chapters} chapters, {regions} solution regions"
    ));
    has(format!("  total: {max}/{max} points ({n}/{n} exercises)"));
    let mut per_chapter = std::collections::HashMap::new();
    for exercise in &catalog.exercises {
        *per_chapter.entry(&exercise.chapter).or_insert(0) += 1;
        let row = rows
            .iter()
            .find(|r| cells(r).first() == Some(&exercise.id.as_str()))
            .unwrap_or_else(|| panic!("no row for {} in the check sample", exercise.id));
        let points = format!("{0}/{0}", exercise.points);
        assert_eq!(
            cells(row)[1..4],
            [exercise.chapter.as_str(), "pass", &points],
            "{row}"
        );
    }
    // Step 4's lines, where the sample shows them, name real exercises in their rounds.
    for row in rows.iter().filter(|r| r.starts_with("  round ")) {
        let (round, rest) = row["  round ".len()..].split_once(": ").unwrap();
        let id = rest.split(' ').next().unwrap();
        let exercise = catalog.exercise(id).unwrap();
        let index = catalog
            .exercises
            .iter()
            .filter(|e| e.package == exercise.package)
            .position(|e| e.id == id)
            .unwrap();
        assert_eq!(round.parse::<usize>().unwrap(), index + 1, "{row}");
        assert!(rest.starts_with(&format!("{id} alone: ok (")), "{row}");
    }
    let rounds = per_chapter.values().max().unwrap();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("check 4/4") && r.ends_with(&format!(", {rounds} rounds"))),
        "{rows:#?}"
    );
}

#[test]
fn every_xtask_command_in_the_guide_is_a_command_of_xtask() {
    let guide = guide();
    for (at, _) in guide.match_indices("cargo xtask ") {
        let word = guide[at + "cargo xtask ".len()..]
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .next()
            .unwrap_or_default();
        assert!(
            ["list", "hint", "handout", "grade", "check", "watch"].contains(&word),
            "`cargo xtask {word}` in the guide is not a command"
        );
    }
}
