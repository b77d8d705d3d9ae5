//! Handouts: a copy of the workspace for students, with the reference solutions taken out.
//!
//! The copy leaves out `.git`, build output (`target/` and any directory cargo tagged with
//! `CACHEDIR.TAG`) and the rendered book (`docs/book`). Every solution region (or only one
//! chapter's) becomes a single line at the BEGIN marker's indentation:
//!
//! ```text
//! todo!("exercise <id>: <title> — see `cargo xtask hint <id>`")
//! ```
//!
//! so the handout still compiles and exactly the exercise tests fail until a student solves them.
//! A handout is only written from a workspace whose exercises check out (see
//! [`Catalog::regions`]): stripping half-marked code could leak or mangle solutions.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::exercises::{Catalog, Exercise, RegionFile};
use crate::regions;

/// What to write and where.
#[derive(Debug, Clone, Copy)]
pub struct HandoutOptions<'a> {
    /// Output directory; created if missing.
    pub out: &'a Path,
    /// Strip only this chapter's exercises (the others keep their reference solutions).
    pub chapter: Option<&'a str>,
    /// Write into a non-empty `out` (overwriting files, deleting nothing).
    pub force: bool,
}

/// One region replaced by a `todo!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// Exercise id.
    pub id: String,
    /// File, relative to the workspace root.
    pub file: PathBuf,
    /// Lines the region spanned in the original, markers included.
    pub lines: (usize, usize),
}

/// What [`write_handout`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handout {
    /// Canonical output directory.
    pub out: PathBuf,
    /// Number of files written.
    pub files: usize,
    /// Every region replaced, in file order.
    pub stripped: Vec<Stripped>,
}

/// The single line (without indentation) that replaces an exercise's region.
pub fn todo_line(exercise: &Exercise) -> String {
    let message = format!(
        "exercise {id}: {title} — see `cargo xtask hint {id}`",
        id = exercise.id,
        title = exercise.title
    );
    // `{:?}` of a str is a valid Rust string literal: quotes, backslashes and control characters
    // are escaped.
    format!("todo!({message:?})")
}

/// Copies `catalog`'s workspace to `options.out`, replacing solution regions by `todo!`s.
pub fn write_handout(catalog: &Catalog, options: HandoutOptions<'_>) -> Result<Handout> {
    if let Some(chapter) = options.chapter {
        catalog.check_chapter(chapter)?;
    }
    let region_files = catalog.regions()?;
    let out = prepare_out_dir(&catalog.root, options.out, options.force)?;
    let stripping = Stripping::new(catalog, &region_files, |e| {
        options.chapter.is_none_or(|c| e.chapter == c)
    });
    let mut handout = Handout {
        out: out.clone(),
        files: 0,
        stripped: Vec::new(),
    };
    let root = &catalog.root;
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| !is_excluded(root, &out, entry));
    for entry in walker {
        let entry = entry.with_context(|| format!("reading {}", root.display()))?;
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let target = out.join(relative);
        let file_type = entry.file_type();
        if file_type.is_dir() {
            fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?;
            continue;
        }
        if file_type.is_symlink() {
            copy_symlink(entry.path(), &target)?;
            continue;
        }
        match stripping.text_of(root, relative)? {
            Some((text, stripped)) => {
                fs::write(&target, text)
                    .with_context(|| format!("writing {}", target.display()))?;
                let permissions = entry.metadata()?.permissions();
                fs::set_permissions(&target, permissions)
                    .with_context(|| format!("setting permissions of {}", target.display()))?;
                handout.stripped.extend(stripped);
            }
            None => {
                fs::copy(entry.path(), &target).with_context(|| {
                    format!("copying {} to {}", entry.path().display(), target.display())
                })?;
            }
        }
        handout.files += 1;
    }
    Ok(handout)
}

/// Rewrites the files with solution regions in an existing handout at `out` so that exactly the
/// exercises `strip` selects are `todo!()`s and the others have their reference solutions.
/// Only files whose text changes are written (cargo rebuilds what was touched). Returns the
/// number of files written.
pub fn rewrite_regions(
    catalog: &Catalog,
    region_files: &[RegionFile],
    out: &Path,
    strip: impl Fn(&Exercise) -> bool,
) -> Result<usize> {
    let stripping = Stripping::new(catalog, region_files, strip);
    let mut written = 0;
    for file in region_files {
        let Some((text, _)) = stripping.text_of(&catalog.root, &file.path)? else {
            continue;
        };
        let target = out.join(&file.path);
        if fs::read_to_string(&target).is_ok_and(|old| old == text) {
            continue;
        }
        fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
        written += 1;
    }
    Ok(written)
}

/// Which regions become `todo!()`s, by file.
struct Stripping<'c> {
    exercises: HashMap<&'c str, &'c Exercise>,
    by_path: HashMap<&'c Path, &'c [regions::Region]>,
}

impl<'c> Stripping<'c> {
    fn new(
        catalog: &'c Catalog,
        region_files: &'c [RegionFile],
        strip: impl Fn(&Exercise) -> bool,
    ) -> Self {
        Self {
            exercises: catalog
                .exercises
                .iter()
                .filter(|e| strip(e))
                .map(|e| (e.id.as_str(), e))
                .collect(),
            by_path: region_files
                .iter()
                .map(|f| (f.path.as_path(), f.regions.as_slice()))
                .collect(),
        }
    }

    /// The handout text of `relative` (a path in the workspace at `root`) and the regions it
    /// strips, or `None` for a file without regions (copied as it is).
    fn text_of(&self, root: &Path, relative: &Path) -> Result<Option<(String, Vec<Stripped>)>> {
        let Some(regions) = self.by_path.get(relative) else {
            return Ok(None);
        };
        let path = root.join(relative);
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let (text, stripped) = regions::strip(
            &text,
            regions,
            |region| self.exercises.contains_key(region.id.as_str()),
            // Only called for regions the line above selected, so the id is present.
            |region| todo_line(self.exercises[region.id.as_str()]),
        );
        let stripped = stripped
            .into_iter()
            .map(|region| Stripped {
                id: region.id.clone(),
                file: relative.to_path_buf(),
                lines: (region.begin_line, region.end_line),
            })
            .collect();
        Ok(Some((text, stripped)))
    }
}

/// Creates (or accepts) the output directory and returns its canonical path.
fn prepare_out_dir(root: &Path, out: &Path, force: bool) -> Result<PathBuf> {
    if out.exists() {
        if !out.is_dir() {
            bail!("{} exists and is not a directory", out.display());
        }
        let non_empty = fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some();
        if non_empty && !force {
            bail!(
                "{} is not empty; pass --force to write the handout into it anyway (files are \
                 overwritten, nothing is deleted)",
                out.display()
            );
        }
    } else {
        fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    let out = out
        .canonicalize()
        .with_context(|| format!("resolving {}", out.display()))?;
    if root.starts_with(&out) {
        bail!(
            "refusing to write the handout into {}: it contains the workspace itself",
            out.display()
        );
    }
    Ok(out)
}

/// Whether a walked entry stays out of the handout.
fn is_excluded(root: &Path, out: &Path, entry: &walkdir::DirEntry) -> bool {
    if !entry.file_type().is_dir() || entry.depth() == 0 {
        return false;
    }
    let path = entry.path();
    let relative = path.strip_prefix(root).unwrap_or(path);
    path == out
        || relative == Path::new("target")
        || relative == Path::new("docs/book")
        || entry.file_name() == ".git"
        || path.join("CACHEDIR.TAG").is_file()
}

/// Recreates the symlink `source` at `target`.
fn copy_symlink(source: &Path, target: &Path) -> Result<()> {
    let link = fs::read_link(source).with_context(|| format!("reading {}", source.display()))?;
    if target.symlink_metadata().is_ok() {
        fs::remove_file(target).with_context(|| format!("replacing {}", target.display()))?;
    }
    std::os::unix::fs::symlink(&link, target)
        .with_context(|| format!("creating symlink {}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises::Difficulty;

    #[test]
    fn todo_line_escapes_the_title() {
        let exercise = Exercise {
            id: "io-select-rebuild".into(),
            title: r#"Rebuild the "fd set" \ every loop"#.into(),
            difficulty: Difficulty::Easy,
            points: 1,
            chapter: "io".into(),
            package: "io".into(),
            file: "crates/io/src/select.rs".into(),
            tests: vec!["select".into()],
            hint: String::new(),
            manifest: "crates/io/exercises.toml".into(),
            line: 1,
            file_line: 1,
        };
        assert_eq!(
            todo_line(&exercise),
            r#"todo!("exercise io-select-rebuild: Rebuild the \"fd set\" \\ every loop — see `cargo xtask hint io-select-rebuild`")"#
        );
    }

    /// Writes `files` (path, contents) under a new temporary workspace root.
    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, contents) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
        dir
    }

    fn chapter(name: &str) -> [(String, String); 3] {
        let begin = regions::BEGIN_MARKER;
        let end = regions::END_MARKER;
        [
            (
                format!("crates/{name}/Cargo.toml"),
                format!("[package]\nname = \"{name}\"\n"),
            ),
            (
                format!("crates/{name}/exercises.toml"),
                format!(
                    "[[exercise]]\nid = \"{name}-ex\"\ntitle = \"T\"\ndifficulty = \"easy\"\n\
                     file = \"src/lib.rs\"\ntests = [\"t\"]\nhint = \"\"\n"
                ),
            ),
            (
                format!("crates/{name}/src/lib.rs"),
                format!("pub fn f() -> u8 {{\n    {begin}: {name}-ex\n    1\n    {end}\n}}\n"),
            ),
        ]
    }

    fn two_chapter_workspace() -> tempfile::TempDir {
        let files: Vec<(String, String)> =
            chapter("one").into_iter().chain(chapter("two")).collect();
        let mut all: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        all.extend([
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            ("target/debug/x", "build output"),
            (".git/HEAD", "ref"),
            ("docs/book/index.html", "rendered"),
            ("docs/src/intro.md", "kept"),
            (
                "crates/one/other-target/CACHEDIR.TAG",
                "Signature: 8a477f597d28d172789f06886806bc55",
            ),
        ]);
        workspace(&all)
    }

    #[test]
    fn strips_only_the_chosen_chapter_and_skips_build_output() {
        let ws = two_chapter_workspace();
        let catalog = Catalog::load(ws.path()).unwrap();
        let out = tempfile::tempdir().unwrap();
        let handout = write_handout(
            &catalog,
            HandoutOptions {
                out: out.path(),
                chapter: Some("two"),
                force: true,
            },
        )
        .unwrap();
        assert_eq!(
            handout.stripped,
            [Stripped {
                id: "two-ex".into(),
                file: "crates/two/src/lib.rs".into(),
                lines: (2, 4),
            }]
        );
        let read = |p: &str| fs::read_to_string(out.path().join(p)).unwrap();
        assert_eq!(
            read("crates/two/src/lib.rs"),
            "pub fn f() -> u8 {\n    todo!(\"exercise two-ex: T — see `cargo xtask hint two-ex`\")\n}\n"
        );
        assert_eq!(
            read("crates/one/src/lib.rs"),
            fs::read_to_string(ws.path().join("crates/one/src/lib.rs")).unwrap()
        );
        assert_eq!(read("docs/src/intro.md"), "kept");
        for skipped in ["target", ".git", "docs/book", "crates/one/other-target"] {
            assert!(!out.path().join(skipped).exists(), "{skipped} was copied");
        }
    }

    #[test]
    fn an_output_directory_inside_the_workspace_is_not_copied_into_itself() {
        let ws = two_chapter_workspace();
        let catalog = Catalog::load(ws.path()).unwrap();
        let out = ws.path().join("handout");
        let options = HandoutOptions {
            out: &out,
            chapter: None,
            force: false,
        };
        let handout = write_handout(&catalog, options).unwrap();
        assert_eq!(handout.stripped.len(), 2);
        assert!(!out.join("handout").exists());
    }

    #[test]
    fn refuses_non_empty_directories_and_the_workspace_itself() {
        let ws = two_chapter_workspace();
        let catalog = Catalog::load(ws.path()).unwrap();
        let options = |out| HandoutOptions {
            out,
            chapter: None,
            force: false,
        };
        let crates = ws.path().join("crates");
        let err = write_handout(&catalog, options(&crates)).unwrap_err();
        assert!(
            err.to_string().contains("is not empty; pass --force"),
            "{err}"
        );
        for out in [ws.path(), ws.path().parent().unwrap()] {
            let err = write_handout(
                &catalog,
                HandoutOptions {
                    force: true,
                    ..options(out)
                },
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("it contains the workspace itself"),
                "{err}"
            );
        }
        let err = write_handout(
            &catalog,
            HandoutOptions {
                chapter: Some("three"),
                ..options(ws.path())
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown chapter `three`; chapters with exercises: one, two"
        );
    }
}
