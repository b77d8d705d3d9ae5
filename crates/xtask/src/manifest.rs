//! One chapter's `exercises.toml`: parsed with serde, then checked field by field.
//!
//! Values are checked after parsing, not by serde, so that every problem of every exercise is
//! reported at once with its `file:line` (a typo in one field does not hide the next). The
//! format itself is described in the crate README.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::exercises::{Diagnostic, Difficulty, EXERCISES_TOML, Exercise};
use crate::regions;

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `exercises.toml` as written; values are checked after parsing so that all problems are
/// reported together.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exercise: Vec<RawExercise>,
    /// Tests that go through other chapters' exercises as well as this one's.
    #[serde(default)]
    crossing: Option<RawCrossing>,
}

/// `[crossing]`: the chapter's tests that drive its code through another chapter's exercise
/// regions (the HTTP server over io-models' event loops), so that no one region grades them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrossing {
    tests: Vec<String>,
    /// Why, for the reader of the file (not used).
    #[allow(dead_code)]
    why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    id: Spanned<String>,
    title: Spanned<String>,
    difficulty: Spanned<String>,
    points: Option<Spanned<i64>>,
    file: Spanned<String>,
    tests: Spanned<Vec<String>>,
    hint: String,
}

/// What [`parse_exercises_toml`] found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedManifest {
    /// The exercises without problems, in file order.
    pub exercises: Vec<Exercise>,
    /// A diagnostic for each problem.
    pub problems: Vec<Diagnostic>,
    /// Every id as written, with where it is, including those of invalid exercises.
    pub ids: Vec<IdSite>,
    /// `[crossing]` test filters: tests a handout may fail and no exercise grades.
    pub crossing: Vec<String>,
}

/// Where an exercise id is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdSite {
    /// The id as written.
    pub id: String,
    /// The `exercises.toml`, relative to the workspace root.
    pub manifest: PathBuf,
    /// Line of the id.
    pub line: usize,
}

/// Parses one chapter's `exercises.toml` (`manifest` is its path, for messages) and checks every
/// field.
pub fn parse_exercises_toml(
    text: &str,
    chapter: &str,
    package: &str,
    manifest: &Path,
) -> ParsedManifest {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let line = err.span().map(|span| line_of(text, span.start));
            let message = format!("invalid {EXERCISES_TOML}: {}", err.message().trim_end());
            return ParsedManifest {
                problems: vec![Diagnostic::new(manifest, line, message)],
                ..ParsedManifest::default()
            };
        }
    };
    let mut checker = Checker {
        text,
        manifest,
        chapter,
        package,
        problems: Vec::new(),
    };
    let mut parsed = ParsedManifest {
        crossing: raw.crossing.map(|c| c.tests).unwrap_or_default(),
        ..ParsedManifest::default()
    };
    for raw in raw.exercise {
        parsed.ids.push(IdSite {
            id: raw.id.get_ref().clone(),
            manifest: manifest.to_path_buf(),
            line: line_of(text, raw.id.span().start),
        });
        parsed.exercises.extend(checker.exercise(raw));
    }
    parsed.problems = checker.problems;
    parsed
}

/// Checks the fields of one `[[exercise]]` table after another, collecting every problem.
struct Checker<'a> {
    text: &'a str,
    manifest: &'a Path,
    chapter: &'a str,
    package: &'a str,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// The exercise, or `None` (with its problems recorded) when any field is wrong.
    fn exercise(&mut self, raw: RawExercise) -> Option<Exercise> {
        let before = self.problems.len();
        let id = raw.id.get_ref().clone();
        let line = self.line(&raw.id);
        if !regions::is_valid_id(&id) {
            self.problem(
                line,
                format!("invalid exercise id `{id}`: use lowercase letters, digits and `-`"),
            );
        }
        if raw.title.get_ref().trim().is_empty() {
            let at = self.line(&raw.title);
            self.problem(at, format!("exercise `{id}` has an empty title"));
        }
        let difficulty = self.difficulty(&id, &raw.difficulty);
        let points = self.points(&id, raw.points.as_ref(), difficulty);
        let file = self.file(&id, &raw.file);
        self.tests(&id, &raw.tests);
        if self.problems.len() > before {
            return None;
        }
        Some(Exercise {
            id,
            title: raw.title.into_inner().trim().to_string(),
            difficulty: difficulty?,
            points,
            chapter: self.chapter.to_string(),
            package: self.package.to_string(),
            file: Path::new("crates").join(self.chapter).join(file?),
            tests: raw.tests.into_inner(),
            hint: raw.hint.trim_end().to_string(),
            manifest: self.manifest.to_path_buf(),
            line,
            file_line: self.line(&raw.file),
        })
    }

    fn difficulty(&mut self, id: &str, raw: &Spanned<String>) -> Option<Difficulty> {
        let difficulty = Difficulty::parse(raw.get_ref());
        if difficulty.is_none() {
            self.problem(
                self.line(raw),
                format!(
                    "exercise `{id}` has bad difficulty `{}`: expected easy, medium or hard",
                    raw.get_ref()
                ),
            );
        }
        difficulty
    }

    /// The points given, or the difficulty's default (0 after a problem).
    fn points(&mut self, id: &str, raw: Option<&Spanned<i64>>, by: Option<Difficulty>) -> u32 {
        let Some(points) = raw else {
            return by.map_or(0, Difficulty::default_points);
        };
        match u32::try_from(*points.get_ref()) {
            Ok(p) if p > 0 => p,
            _ => {
                self.problem(
                    self.line(points),
                    format!(
                        "exercise `{id}` has points = {}: must be a positive integer",
                        points.get_ref()
                    ),
                );
                0
            }
        }
    }

    /// The solution file relative to the chapter crate, without `.` components.
    fn file(&mut self, id: &str, raw: &Spanned<String>) -> Option<PathBuf> {
        let file = raw.get_ref();
        let inside = !file.is_empty()
            && Path::new(file)
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            self.problem(
                self.line(raw),
                format!(
                    "exercise `{id}` has file = \"{file}\": must be a path inside the chapter \
                     crate, relative to it (e.g. \"src/lib.rs\")"
                ),
            );
            return None;
        }
        Some(
            Path::new(file)
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect(),
        )
    }

    fn tests(&mut self, id: &str, raw: &Spanned<Vec<String>>) {
        let at = self.line(raw);
        if raw.get_ref().is_empty() {
            self.problem(
                at,
                format!(
                    "exercise `{id}` has empty tests: list at least one `cargo test` name filter"
                ),
            );
        }
        for filter in raw.get_ref() {
            if filter.trim().is_empty() {
                self.problem(
                    at,
                    format!("exercise `{id}` has an empty test filter (it would match every test)"),
                );
            } else if filter.starts_with('-') {
                self.problem(
                    at,
                    format!(
                        "exercise `{id}` has test filter `{filter}`, which libtest would read \
                         as a flag"
                    ),
                );
            }
        }
    }

    fn line<T>(&self, spanned: &Spanned<T>) -> usize {
        line_of(self.text, spanned.span().start)
    }

    fn problem(&mut self, line: usize, message: String) {
        self.problems
            .push(Diagnostic::new(self.manifest, Some(line), message));
    }
}

/// A diagnostic for every id defined more than once, at each later definition.
pub(crate) fn duplicate_ids(sites: &[IdSite]) -> Vec<Diagnostic> {
    let mut first: HashMap<&str, &IdSite> = HashMap::new();
    let mut problems = Vec::new();
    for site in sites {
        if let Some(earlier) = first.get(site.id.as_str()) {
            problems.push(Diagnostic::new(
                &site.manifest,
                Some(site.line),
                format!(
                    "duplicate exercise id `{}` (also defined at {}:{})",
                    site.id,
                    earlier.manifest.display(),
                    earlier.line
                ),
            ));
        } else {
            first.insert(&site.id, site);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "crates/demo/exercises.toml";

    fn parse(text: &str) -> (Vec<Exercise>, Vec<String>) {
        let parsed = parse_exercises_toml(text, "demo", "demo-pkg", Path::new(MANIFEST));
        let problems = parsed.problems.iter().map(ToString::to_string).collect();
        (parsed.exercises, problems)
    }

    const GOOD: &str = r#"
[[exercise]]
id = "demo-sum"
title = "Sum a slice"
difficulty = "easy"
file = "src/lib.rs"
tests = ["tests::sum"]
hint = """
Iterate.
Add."""

[[exercise]]
id = "demo-hard"
title = "Something hard"
difficulty = "hard"
points = 5
file = "./src/hard.rs"
tests = ["a", "b"]
hint = ""
"#;

    #[test]
    fn parses_a_good_file() {
        let (exercises, problems) = parse(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(exercises.len(), 2);
        let sum = &exercises[0];
        assert_eq!(sum.id, "demo-sum");
        assert_eq!(sum.difficulty, Difficulty::Easy);
        assert_eq!(sum.points, 1, "easy defaults to 1 point");
        assert_eq!(sum.chapter, "demo");
        assert_eq!(sum.package, "demo-pkg");
        assert_eq!(sum.file, Path::new("crates/demo/src/lib.rs"));
        assert_eq!(sum.hint, "Iterate.\nAdd.");
        assert_eq!((sum.line, sum.file_line), (3, 6));
        let hard = &exercises[1];
        assert_eq!(hard.points, 5);
        assert_eq!(hard.file, Path::new("crates/demo/src/hard.rs"));
        assert_eq!(hard.tests, ["a", "b"]);
    }

    #[test]
    fn default_points_follow_difficulty() {
        assert_eq!(Difficulty::Easy.default_points(), 1);
        assert_eq!(Difficulty::Medium.default_points(), 2);
        assert_eq!(Difficulty::Hard.default_points(), 3);
    }

    #[test]
    fn an_empty_file_has_no_exercises() {
        assert_eq!(parse(""), (vec![], vec![]));
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let (_, problems) = parse("[[exercise]]\nid = \"a\"\ntitle = oops\n");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("crates/demo/exercises.toml:3: invalid exercises.toml"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_errors() {
        let (_, problems) = parse("[[exercises]]\nid = \"a\"\n");
        assert!(
            problems[0].contains("unknown field `exercises`"),
            "{problems:?}"
        );
        let (_, problems) = parse("[[exercise]]\nid = \"a\"\ntitle = \"t\"\n");
        assert!(problems[0].contains("missing field"), "{problems:?}");
    }

    #[test]
    fn every_bad_value_is_reported_with_its_line() {
        let text = r#"[[exercise]]
id = "Bad_Id"
title = " "
difficulty = "impossible"
points = 0
file = "../elsewhere.rs"
tests = []
hint = ""

[[exercise]]
id = "ok-id"
title = "t"
difficulty = "medium"
file = "/abs.rs"
tests = ["", "--ignored"]
hint = ""
"#;
        let (exercises, problems) = parse(text);
        assert!(exercises.is_empty());
        let expected = [
            "crates/demo/exercises.toml:2: invalid exercise id `Bad_Id`",
            "crates/demo/exercises.toml:3: exercise `Bad_Id` has an empty title",
            "crates/demo/exercises.toml:4: exercise `Bad_Id` has bad difficulty `impossible`",
            "crates/demo/exercises.toml:5: exercise `Bad_Id` has points = 0",
            "crates/demo/exercises.toml:6: exercise `Bad_Id` has file = \"../elsewhere.rs\"",
            "crates/demo/exercises.toml:7: exercise `Bad_Id` has empty tests",
            "crates/demo/exercises.toml:14: exercise `ok-id` has file = \"/abs.rs\"",
            "crates/demo/exercises.toml:15: exercise `ok-id` has an empty test filter",
            "crates/demo/exercises.toml:15: exercise `ok-id` has test filter `--ignored`",
        ];
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
        for (problem, expected) in problems.iter().zip(expected) {
            assert!(
                problem.starts_with(expected),
                "{problem:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn duplicate_ids_point_at_both_definitions() {
        let mut ids = parse_exercises_toml(GOOD, "demo", "demo", Path::new(MANIFEST)).ids;
        // The copy's exercises are invalid, but their ids still count.
        let broken = GOOD.replace("\"easy\"", "\"trivial\"");
        let other = parse_exercises_toml(
            &broken,
            "other",
            "other",
            Path::new("crates/other/exercises.toml"),
        );
        assert_eq!(other.exercises.len(), 1);
        ids.extend(other.ids);
        let problems: Vec<String> = duplicate_ids(&ids)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "crates/other/exercises.toml:3: duplicate exercise id `demo-sum` (also defined at crates/demo/exercises.toml:3)",
                "crates/other/exercises.toml:13: duplicate exercise id `demo-hard` (also defined at crates/demo/exercises.toml:13)",
            ]
        );
    }

    #[test]
    fn line_of_counts_newlines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
