//! The exercise catalog: every chapter's `exercises.toml`, checked and put in one list.
//!
//! A chapter is a directory `crates/<chapter>/` with a `Cargo.toml`; its exercises live in
//! `crates/<chapter>/exercises.toml` as `[[exercise]]` tables (see the crate README for the
//! format). [`Catalog::load`] reads and checks all of them: field values, id format and
//! workspace-wide id uniqueness. [`Catalog::regions`] goes further and checks the source: every
//! listed exercise has a solution region in its `file`, every region in a chapter's `.rs` files is
//! listed, and the markers themselves are well formed.
//!
//! Both collect *all* problems, each with `file:line`, into a [`Problems`] error instead of
//! stopping at the first: a maintainer fixing a chapter sees the whole list at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::manifest;
use crate::regions::{self, Region};

/// Name of the per-chapter exercise list.
pub const EXERCISES_TOML: &str = "exercises.toml";

/// How hard an exercise is; sets the default points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    /// 1 point by default.
    Easy,
    /// 2 points by default.
    Medium,
    /// 3 points by default.
    Hard,
}

impl Difficulty {
    /// Parses `easy`, `medium` or `hard`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "easy" => Some(Self::Easy),
            "medium" => Some(Self::Medium),
            "hard" => Some(Self::Hard),
            _ => None,
        }
    }

    /// Points an exercise of this difficulty is worth when `points` is not given.
    pub fn default_points(self) -> u32 {
        match self {
            Self::Easy => 1,
            Self::Medium => 2,
            Self::Hard => 3,
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Easy => "easy",
            Self::Medium => "medium",
            Self::Hard => "hard",
        })
    }
}

/// One exercise, as listed in a chapter's `exercises.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// Unique across the workspace, `[a-z0-9-]+`.
    pub id: String,
    /// One-line description.
    pub title: String,
    /// How hard it is.
    pub difficulty: Difficulty,
    /// What it is worth (the difficulty's default unless given).
    pub points: u32,
    /// Chapter (crate directory name) it belongs to.
    pub chapter: String,
    /// Cargo package name of the chapter crate (for `cargo test -p`).
    pub package: String,
    /// File holding the solution region, relative to the workspace root.
    pub file: PathBuf,
    /// `cargo test` name filters (substring match) that grade it; never empty.
    pub tests: Vec<String>,
    /// Help for students, possibly several lines.
    pub hint: String,
    /// The `exercises.toml` it is listed in, relative to the workspace root.
    pub manifest: PathBuf,
    /// Line of its `id` in `manifest`.
    pub line: usize,
    /// Line of its `file` in `manifest`.
    pub file_line: usize,
}

#[cfg(test)]
impl Exercise {
    /// An easy one-point exercise `id` of chapter `demo`, graded by `tests`: for unit tests.
    pub(crate) fn demo(id: &str, tests: &[&str]) -> Exercise {
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
}

/// A crate directory under `crates/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// Directory name, e.g. `io-multiplexing`.
    pub name: String,
    /// `package.name` from its `Cargo.toml`, when that could be read.
    pub package: Option<String>,
    /// The directory, relative to the workspace root (`crates/<name>`).
    pub dir: PathBuf,
    /// Whether it has an `exercises.toml`.
    pub has_exercises: bool,
}

/// A problem found while checking exercises, located at `file:line` (paths are relative to the
/// workspace root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File the problem is in, relative to the workspace root.
    pub file: PathBuf,
    /// 1-based line, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(
        file: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// All problems found in a workspace's exercises; the error [`Catalog::load`] and
/// [`Catalog::regions`] return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    /// The workspace that was checked.
    pub root: PathBuf,
    /// Every problem, sorted by file and line.
    pub list: Vec<Diagnostic>,
}

impl Problems {
    fn new(root: &Path, mut list: Vec<Diagnostic>) -> Self {
        list.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Self {
            root: root.to_path_buf(),
            list,
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.list.len();
        write!(
            f,
            "{n} problem{} with the exercises of {}:",
            if n == 1 { "" } else { "s" },
            self.root.display()
        )?;
        for problem in &self.list {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Source files that contain solution regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionFile {
    /// Path relative to the workspace root.
    pub path: PathBuf,
    /// Chapter the file belongs to.
    pub chapter: String,
    /// Its regions in file order.
    pub regions: Vec<Region>,
}

/// Every chapter and exercise of a workspace.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Canonical workspace root.
    pub root: PathBuf,
    /// Crate directories under `crates/`, in reading order, then by name.
    pub chapters: Vec<Chapter>,
    /// Exercises sorted by chapter, then by their order in `exercises.toml`.
    pub exercises: Vec<Exercise>,
    /// Test-name filters of every chapter's `[crossing]` table: tests that go through several
    /// chapters' exercise regions. A handout may fail them; no exercise grades them.
    pub crossing: Vec<String>,
}

impl Catalog {
    /// Reads and checks every chapter's `exercises.toml` under `root/crates/`.
    ///
    /// Fails with [`Problems`] listing everything wrong with the lists themselves (the source
    /// files are checked by [`Catalog::regions`]), or with an I/O error.
    pub fn load(root: &Path) -> Result<Self> {
        let root = root
            .canonicalize()
            .with_context(|| format!("workspace directory {} not found", root.display()))?;
        if !root.join("Cargo.toml").is_file() {
            bail!(
                "{} is not a cargo workspace (no Cargo.toml); pass the workspace root with \
                 --workspace",
                root.display()
            );
        }
        let chapters = discover_chapters(&root)?;
        let mut problems = Vec::new();
        let mut exercises = Vec::new();
        let mut crossing = Vec::new();
        // Every id as written, valid or not, for the duplicate check.
        let mut ids = Vec::new();
        for chapter in chapters.iter().filter(|c| c.has_exercises) {
            let manifest = chapter.dir.join(EXERCISES_TOML);
            let Some(package) = &chapter.package else {
                problems.push(Diagnostic::new(
                    chapter.dir.join("Cargo.toml"),
                    None,
                    "cannot read `package.name`, needed to run this chapter's tests",
                ));
                continue;
            };
            let text = fs::read_to_string(root.join(&manifest))
                .with_context(|| format!("reading {}", manifest.display()))?;
            let parsed = manifest::parse_exercises_toml(&text, &chapter.name, package, &manifest);
            exercises.extend(parsed.exercises);
            crossing.extend(parsed.crossing);
            problems.extend(parsed.problems);
            ids.extend(parsed.ids);
        }
        problems.extend(manifest::duplicate_ids(&ids));
        if !problems.is_empty() {
            return Err(Problems::new(&root, problems).into());
        }
        Ok(Self {
            root,
            chapters,
            exercises,
            crossing,
        })
    }

    /// The exercise with this id, or an error listing the known ids.
    pub fn exercise(&self, id: &str) -> Result<&Exercise> {
        match self.exercises.iter().find(|e| e.id == id) {
            Some(exercise) => Ok(exercise),
            None if self.exercises.is_empty() => bail!(
                "unknown exercise `{id}`: there are no exercises in {}",
                self.root.display()
            ),
            None => bail!(
                "unknown exercise `{id}`; known exercises: {}",
                self.exercises
                    .iter()
                    .map(|e| e.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Checks that `name` is a chapter with exercises.
    pub fn check_chapter(&self, name: &str) -> Result<()> {
        if self.exercises.iter().any(|e| e.chapter == name) {
            return Ok(());
        }
        let mut known: Vec<&str> = self.exercises.iter().map(|e| e.chapter.as_str()).collect();
        known.dedup();
        let problem = if self.chapters.iter().any(|c| c.name == name) {
            format!("chapter `{name}` has no exercises")
        } else {
            format!("unknown chapter `{name}`")
        };
        if known.is_empty() {
            bail!(
                "{problem}: there are no exercises in {}",
                self.root.display()
            );
        }
        bail!("{problem}; chapters with exercises: {}", known.join(", "))
    }

    /// The exercises of `chapter` (all when `None`), narrowed to `ids` when that is not empty.
    /// Unknown chapters and ids are errors.
    pub fn select(&self, chapter: Option<&str>, ids: &[String]) -> Result<Vec<&Exercise>> {
        if let Some(chapter) = chapter {
            self.check_chapter(chapter)?;
        }
        for id in ids {
            self.exercise(id)?;
        }
        Ok(self
            .exercises
            .iter()
            .filter(|e| chapter.is_none_or(|c| e.chapter == c))
            .filter(|e| ids.is_empty() || ids.contains(&e.id))
            .collect())
    }

    /// Number of distinct chapters that have exercises.
    pub fn chapters_with_exercises(&self) -> usize {
        let chapters: HashSet<&str> = self.exercises.iter().map(|e| e.chapter.as_str()).collect();
        chapters.len()
    }

    /// Checks the source against the lists and returns every file that has regions.
    ///
    /// Scans every `.rs` file of every chapter (skipping `target/`, hidden directories and nested
    /// packages such as test fixtures) plus each exercise's `file`, and fails with [`Problems`]
    /// for: malformed, unmatched or nested markers; regions not listed in their chapter's
    /// `exercises.toml` (or in another file than the one listed); listed exercises whose `file`
    /// is missing or has no region for them.
    pub fn regions(&self) -> Result<Vec<RegionFile>> {
        let mut scan = RegionScan::default();
        let files = self.files_to_scan(&mut scan)?;
        let by_id: HashMap<&str, &Exercise> =
            self.exercises.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut region_files = Vec::new();
        for (path, chapter) in files {
            let text = match fs::read_to_string(self.root.join(&path)) {
                Ok(text) => text,
                Err(err) => {
                    let message = format!("cannot read: {err}");
                    scan.problems.push(Diagnostic::new(&path, None, message));
                    continue;
                }
            };
            let parsed = regions::parse(&text);
            for error in &parsed.errors {
                let problem = Diagnostic::new(&path, Some(error.line), &error.message);
                scan.problems.push(problem);
            }
            if !parsed.errors.is_empty() {
                scan.not_reported.extend(parsed.begin_ids.iter().cloned());
            }
            for region in &parsed.regions {
                match region_owner(&by_id, &path, chapter, region) {
                    Ok(exercise) => scan.found.insert(exercise.id.clone()),
                    Err(problem) => {
                        scan.problems.push(problem);
                        false
                    }
                };
            }
            if !parsed.regions.is_empty() {
                region_files.push(RegionFile {
                    path,
                    chapter: chapter.name.clone(),
                    regions: parsed.regions,
                });
            }
        }
        let mut problems = scan.problems;
        for exercise in &self.exercises {
            let id = &exercise.id;
            if !scan.found.contains(id) && !scan.not_reported.contains(id) {
                problems.push(no_region(exercise));
            }
        }
        if !problems.is_empty() {
            return Err(Problems::new(&self.root, problems).into());
        }
        Ok(region_files)
    }

    /// Every chapter's `.rs` files and each exercise's `file`, with the chapter they belong to;
    /// a listed `file` that does not exist is a problem.
    fn files_to_scan(&self, scan: &mut RegionScan) -> Result<BTreeMap<PathBuf, &Chapter>> {
        let mut files = BTreeMap::new();
        for chapter in &self.chapters {
            for path in rust_sources(&self.root, &chapter.dir)? {
                files.insert(path, chapter);
            }
        }
        for exercise in &self.exercises {
            if !self.root.join(&exercise.file).is_file() {
                scan.not_reported.insert(exercise.id.clone());
                scan.problems.push(Diagnostic::new(
                    &exercise.manifest,
                    Some(exercise.file_line),
                    format!(
                        "file of exercise `{}` does not exist: {}",
                        exercise.id,
                        exercise.file.display()
                    ),
                ));
            } else if let Some(chapter) = self.chapters.iter().find(|c| c.name == exercise.chapter)
            {
                files.insert(exercise.file.clone(), chapter);
            }
        }
        Ok(files)
    }
}

/// What [`Catalog::regions`] has learnt so far.
#[derive(Debug, Default)]
struct RegionScan {
    problems: Vec<Diagnostic>,
    /// Exercises whose region was found where it is listed.
    found: HashSet<String>,
    /// Exercises whose file is missing or has marker errors: "no region" would only repeat
    /// those problems.
    not_reported: HashSet<String>,
}

/// The exercise a region in `path` (of `chapter`) belongs to, or why it belongs to none.
fn region_owner<'e>(
    by_id: &HashMap<&str, &'e Exercise>,
    path: &Path,
    chapter: &Chapter,
    region: &Region,
) -> std::result::Result<&'e Exercise, Diagnostic> {
    let id = &region.id;
    let message = match by_id.get(id.as_str()) {
        Some(exercise) if exercise.chapter == chapter.name && exercise.file == path => {
            return Ok(exercise);
        }
        None if chapter.has_exercises => format!(
            "region not listed: `{id}` is not an exercise in {}",
            chapter.dir.join(EXERCISES_TOML).display()
        ),
        None => format!(
            "region not listed: `{id}` is in chapter `{}`, which has no {EXERCISES_TOML}",
            chapter.name
        ),
        Some(exercise) if exercise.chapter != chapter.name => format!(
            "region not listed: `{id}` is an exercise of chapter `{}` ({}:{}), not of `{}`",
            exercise.chapter,
            exercise.manifest.display(),
            exercise.line,
            chapter.name
        ),
        Some(exercise) => format!(
            "region `{id}` is in {}, but {}:{} lists file = \"{}\"",
            path.display(),
            exercise.manifest.display(),
            exercise.file_line,
            relative_to(&exercise.file, &chapter.dir).display()
        ),
    };
    Err(Diagnostic::new(path, Some(region.begin_line), message))
}

/// "No region for this exercise", at its `id` line.
fn no_region(exercise: &Exercise) -> Diagnostic {
    let id = &exercise.id;
    Diagnostic::new(
        &exercise.manifest,
        Some(exercise.line),
        format!(
            "no region for exercise `{id}` in {}: wrap the reference solution in `{}: {id}` ... \
             `{}` lines",
            exercise.file.display(),
            regions::BEGIN_MARKER,
            regions::END_MARKER
        ),
    )
}

/// The crate directories under `root/crates/`, in reading order, then by name.
fn discover_chapters(root: &Path) -> Result<Vec<Chapter>> {
    let crates = root.join("crates");
    if !crates.is_dir() {
        return Ok(Vec::new());
    }
    let mut chapters = Vec::new();
    for entry in fs::read_dir(&crates).with_context(|| format!("listing {}", crates.display()))? {
        let entry = entry.with_context(|| format!("listing {}", crates.display()))?;
        let manifest = entry.path().join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        chapters.push(Chapter {
            package: package_name(&manifest),
            dir: Path::new("crates").join(&name),
            has_exercises: entry.path().join(EXERCISES_TOML).is_file(),
            name,
        });
    }
    // Reading order first (`[workspace.metadata.labs] reading-order` in the root manifest), the
    // rest by name after it.
    let order = reading_order(&root.join("Cargo.toml"));
    let rank = |name: &str| order.iter().position(|c| c == name).unwrap_or(order.len());
    chapters.sort_by(|a, b| (rank(&a.name), &a.name).cmp(&(rank(&b.name), &b.name)));
    Ok(chapters)
}

/// The chapters in the order a student reads them, from the root manifest's
/// `[workspace.metadata.labs] reading-order` (empty when absent).
fn reading_order(manifest: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        return Vec::new();
    };
    let order = table
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("labs"))
        .and_then(|l| l.get("reading-order"))
        .and_then(|o| o.as_array());
    order
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

/// `package.name` of a crate manifest, if it can be read.
fn package_name(manifest: &Path) -> Option<String> {
    let text = fs::read_to_string(manifest).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_string())
}

/// The `.rs` files of a chapter, relative to `root`, skipping build output, hidden directories and
/// nested packages (directories with their own `Cargo.toml`, e.g. test fixtures).
fn rust_sources(root: &Path, chapter_dir: &Path) -> Result<Vec<PathBuf>> {
    let top = root.join(chapter_dir);
    let walker = walkdir::WalkDir::new(&top)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            if entry.depth() == 0 || !entry.file_type().is_dir() {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            !(name == "target" || name.starts_with('.') || entry.path().join("Cargo.toml").exists())
        });
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.with_context(|| format!("scanning {}", top.display()))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            files.push(relative.to_path_buf());
        }
    }
    Ok(files)
}

/// `path` without the `base` prefix (or unchanged when it has none).
fn relative_to<'p>(path: &'p Path, base: &Path) -> &'p Path {
    path.strip_prefix(base).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway workspace: `files` are (path, lines) pairs, joined with newlines.
    fn workspace(files: &[(&str, &[&str])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        for (path, lines) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, lines.join("\n") + "\n").unwrap();
        }
        dir
    }

    const DEMO_MANIFEST: (&str, &[&str]) = (
        "crates/demo/Cargo.toml",
        &["[package]", "name = \"demo-pkg\""],
    );
    const DEMO_EXERCISES: (&str, &[&str]) = (
        "crates/demo/exercises.toml",
        &[
            "[[exercise]]",
            "id = \"demo-sum\"",
            "title = \"Sum\"",
            "difficulty = \"easy\"",
            "file = \"src/lib.rs\"",
            "tests = [\"sum\"]",
            "hint = \"\"",
        ],
    );

    /// What `DEMO_EXERCISES` gets when `src/lib.rs` has no `demo-sum` region.
    const NO_DEMO_SUM_REGION: &str = "crates/demo/exercises.toml:2: no region for exercise \
        `demo-sum` in crates/demo/src/lib.rs: wrap the reference solution in `// BEGIN SOLUTION: \
        demo-sum` ... `// END SOLUTION` lines";

    fn problems(result: Result<impl fmt::Debug>) -> Vec<String> {
        let err = result.unwrap_err();
        let problems = err
            .downcast_ref::<Problems>()
            .unwrap_or_else(|| panic!("{err:#}"));
        problems.list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn loads_chapters_and_finds_regions() {
        let dir = workspace(&[
            DEMO_MANIFEST,
            DEMO_EXERCISES,
            (
                "crates/demo/src/lib.rs",
                &[
                    "pub fn sum() {",
                    "    // BEGIN SOLUTION: demo-sum",
                    "    // END SOLUTION",
                    "}",
                ],
            ),
            (
                "crates/other/Cargo.toml",
                &["[package]", "name = \"other\""],
            ),
            // Nested packages (fixtures) and build output are not scanned.
            ("crates/other/fixture/Cargo.toml", &[]),
            (
                "crates/other/fixture/src/lib.rs",
                &["// BEGIN SOLUTION: stray"],
            ),
            ("crates/other/target/x.rs", &["// BEGIN SOLUTION: stray"]),
        ]);
        let catalog = Catalog::load(dir.path()).unwrap();
        let names: Vec<_> = catalog.chapters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["demo", "other"]);
        assert_eq!(catalog.exercises[0].package, "demo-pkg");
        assert_eq!(catalog.chapters_with_exercises(), 1);
        let files = catalog.regions().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, Path::new("crates/demo/src/lib.rs"));
        assert_eq!(files[0].regions[0].begin_line, 2);
    }

    #[test]
    fn region_not_listed_and_no_region() {
        let dir = workspace(&[
            DEMO_MANIFEST,
            DEMO_EXERCISES,
            (
                "crates/demo/src/lib.rs",
                &[
                    "fn f() {",
                    "    // BEGIN SOLUTION: demo-extra",
                    "    // END SOLUTION",
                    "}",
                ],
            ),
            (
                "crates/other/Cargo.toml",
                &["[package]", "name = \"other\""],
            ),
            (
                "crates/other/src/lib.rs",
                &["", "// BEGIN SOLUTION: demo-sum", "// END SOLUTION"],
            ),
        ]);
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(
            problems(catalog.regions()),
            [
                NO_DEMO_SUM_REGION,
                "crates/demo/src/lib.rs:2: region not listed: `demo-extra` is not an exercise in \
                 crates/demo/exercises.toml",
                "crates/other/src/lib.rs:2: region not listed: `demo-sum` is an exercise of \
                 chapter `demo` (crates/demo/exercises.toml:2), not of `other`",
            ]
        );
    }

    #[test]
    fn region_in_another_file_and_missing_file() {
        let (manifest, demo_sum) = DEMO_EXERCISES;
        let exercises = [
            demo_sum,
            &[
                "[[exercise]]",
                "id = \"demo-gone\"",
                "title = \"Gone\"",
                "difficulty = \"easy\"",
                "file = \"src/gone.rs\"",
                "tests = [\"gone\"]",
                "hint = \"\"",
            ],
        ]
        .concat();
        let dir = workspace(&[
            DEMO_MANIFEST,
            (manifest, &exercises),
            ("crates/demo/src/lib.rs", &["mod other;"]),
            (
                "crates/demo/src/other.rs",
                &["// BEGIN SOLUTION: demo-sum", "// END SOLUTION"],
            ),
        ]);
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(
            problems(catalog.regions()),
            [
                NO_DEMO_SUM_REGION,
                "crates/demo/exercises.toml:12: file of exercise `demo-gone` does not exist: \
                 crates/demo/src/gone.rs",
                "crates/demo/src/other.rs:1: region `demo-sum` is in crates/demo/src/other.rs, but \
                 crates/demo/exercises.toml:5 lists file = \"src/lib.rs\"",
            ]
        );
    }

    #[test]
    fn regions_in_a_chapter_without_exercises_toml() {
        let dir = workspace(&[
            (
                "crates/plain/Cargo.toml",
                &["[package]", "name = \"plain\""],
            ),
            (
                "crates/plain/src/lib.rs",
                &["// BEGIN SOLUTION: x", "// END SOLUTION"],
            ),
        ]);
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(
            problems(catalog.regions()),
            [
                "crates/plain/src/lib.rs:1: region not listed: `x` is in chapter `plain`, which has \
              no exercises.toml"
            ]
        );
    }

    #[test]
    fn marker_errors_are_reported_with_file_and_line_without_cascades() {
        let dir = workspace(&[
            DEMO_MANIFEST,
            DEMO_EXERCISES,
            (
                "crates/demo/src/lib.rs",
                &["fn f() {", "    // BEGIN SOLUTION: demo-sum", "}"],
            ),
        ]);
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(
            problems(catalog.regions()),
            [
                "crates/demo/src/lib.rs:2: unmatched BEGIN SOLUTION `demo-sum`: no `// END \
              SOLUTION` before end of file"
            ]
        );
    }

    #[test]
    fn load_reports_problems_from_every_chapter_and_duplicates() {
        let dir = workspace(&[
            DEMO_MANIFEST,
            DEMO_EXERCISES,
            ("crates/copy/Cargo.toml", &["[package]", "name = \"copy\""]),
            ("crates/copy/exercises.toml", DEMO_EXERCISES.1),
            ("crates/bad/Cargo.toml", &["[package]", "name = \"bad\""]),
            ("crates/bad/exercises.toml", &["[[exercise]]", "id = 3"]),
            ("crates/nameless/Cargo.toml", &["[workspace]"]),
            ("crates/nameless/exercises.toml", &[]),
        ]);
        let found = problems(Catalog::load(dir.path()));
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("crates/bad/exercises.toml:2: invalid exercises.toml"));
        assert_eq!(
            found[1],
            "crates/demo/exercises.toml:2: duplicate exercise id `demo-sum` (also defined at \
             crates/copy/exercises.toml:2)"
        );
        assert!(found[2].starts_with("crates/nameless/Cargo.toml: cannot read `package.name`"));
    }

    #[test]
    fn lookups_name_what_is_known() {
        let dir = workspace(&[DEMO_MANIFEST, DEMO_EXERCISES]);
        let catalog = Catalog::load(dir.path()).unwrap();
        assert_eq!(catalog.exercise("demo-sum").unwrap().title, "Sum");
        let err = catalog.exercise("nope").unwrap_err().to_string();
        assert_eq!(err, "unknown exercise `nope`; known exercises: demo-sum");
        let err = catalog.select(Some("nope"), &[]).unwrap_err().to_string();
        assert_eq!(err, "unknown chapter `nope`; chapters with exercises: demo");
        let err = catalog
            .select(None, &["x".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown exercise `x`"), "{err}");
        assert_eq!(catalog.select(Some("demo"), &[]).unwrap().len(), 1);

        let empty = workspace(&[]);
        let catalog = Catalog::load(empty.path()).unwrap();
        let err = catalog.exercise("nope").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown exercise `nope`: there are no exercises in"),
            "{err}"
        );
        let err = catalog.check_chapter("demo").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown chapter `demo`: there are no exercises in"),
            "{err}"
        );
    }

    #[test]
    fn load_rejects_a_directory_that_is_not_a_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let err = Catalog::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not a cargo workspace"), "{err}");
        let err = Catalog::load(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not found"), "{err}");
    }
}
