//! Examples are built before they run: a test never starts a stale program.
//!
//! `cargo test -p <package>` builds the package's examples, but narrower forms do not
//! (`cargo test -p <package> --test x`, `--lib`, a test of one package running another package's
//! example). A test would then run whatever binary an earlier build left in
//! `<target>/<profile>/examples/`, and a student's correct solution would fail with the old
//! `todo!()` message. So before the first start of an example in a test binary, [`example_path`]
//! compares the binary's modification time with the workspace's sources (every `src/` and
//! `examples/` file and manifest under `crates/`, the root manifest and `Cargo.lock`). When any
//! source is newer, or the binary is missing, it runs
//! `cargo build -p <owner> --example <name>` into the target directory the test binary itself
//! lives in (so `CARGO_TARGET_DIR` and the profile are honoured), and cargo decides what really
//! needs rebuilding.
//!
//! The pitfall: doing this on every start would cost a cargo run per test. The check runs once
//! per example per test binary (tests run in parallel; the first one to need an example builds
//! it while the others wait on the same cell). `cargo test` holds no build lock while its test
//! binaries run, so the nested build cannot deadlock against the outer one; a concurrent build
//! elsewhere only makes it wait for cargo's lock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::{Error, Result};

/// Where the running test binary's build lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDir {
    /// The target directory (`CARGO_TARGET_DIR`, or the workspace's `target/`).
    pub target_dir: PathBuf,
    /// `--target` triple, when the build was for an explicit target.
    pub triple: Option<String>,
    /// The profile directory's name: `debug`, `release`, or a custom profile's name.
    pub profile_dir: String,
}

impl BuildDir {
    /// Reads the layout from the path of a test binary: `<target>[/<triple>]/<profile>/deps/x`.
    pub fn of_test_binary(exe: &Path) -> Result<BuildDir> {
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| Error::new("locating target/<profile>", exe.display()))?;
        let above = profile
            .parent()
            .ok_or_else(|| Error::new("locating the target directory", exe.display()))?;
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        // A cross build puts `<triple>/<profile>` inside the target directory, which holds
        // cargo's `.rustc_info.json` or a `CACHEDIR.TAG`.
        let is_target_dir =
            |p: &Path| p.join("CACHEDIR.TAG").exists() || p.join(".rustc_info.json").exists();
        let (target_dir, triple) = match above.parent() {
            Some(outer) if !is_target_dir(above) && is_target_dir(outer) => {
                (outer.to_path_buf(), name(above))
            }
            _ => (above.to_path_buf(), None),
        };
        Ok(BuildDir {
            target_dir,
            triple,
            profile_dir: name(profile).unwrap_or_default(),
        })
    }

    /// The profile directory, `<target>[/<triple>]/<profile>`.
    pub fn profile_path(&self) -> PathBuf {
        let mut path = self.target_dir.clone();
        if let Some(triple) = &self.triple {
            path.push(triple);
        }
        path.join(&self.profile_dir)
    }

    /// The cargo arguments that build into this directory (`--profile`, `--target`).
    pub fn cargo_args(&self) -> Vec<String> {
        let profile = match self.profile_dir.as_str() {
            "debug" => "dev",
            other => other,
        };
        let mut args = vec!["--profile".to_string(), profile.to_string()];
        if let Some(triple) = &self.triple {
            args.extend(["--target".to_string(), triple.clone()]);
        }
        args
    }
}

/// The path of an example, built first if it is missing or older than the workspace's sources.
pub fn example_path(name: &str) -> Result<PathBuf> {
    /// One cell per example: the first test to ask checks (and builds); the others wait on it.
    type Checked = Mutex<HashMap<String, Arc<OnceLock<Result<PathBuf>>>>>;
    static CHECKED: OnceLock<Checked> = OnceLock::new();
    let cell = {
        let mut map = CHECKED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(name.to_string()).or_default())
    };
    cell.get_or_init(|| fresh_example(name)).clone()
}

fn fresh_example(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::new("locating the test binary", e))?;
    let build = BuildDir::of_test_binary(&exe)?;
    let path = build.profile_path().join("examples").join(name);
    let workspace = Workspace::find()?;
    let (owner, features) = workspace.owner_of(name)?;
    if !is_stale(&path, &workspace.sources_of(&owner)) {
        return Ok(path);
    }
    build_example(&build, &workspace.root, &owner, name, &features)?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::new(
            format!("building example `{name}`"),
            format!(
                "cargo reported success but {} does not exist",
                path.display()
            ),
        ))
    }
}

/// Whether `binary` is missing or older than any of `sources`.
pub fn is_stale(binary: &Path, sources: &[PathBuf]) -> bool {
    let Ok(built) = binary.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    sources.iter().any(|source| {
        source
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified > built)
    })
}

/// `cargo build -p <owner> --example <name>` (with the example's required features) into
/// `build`'s directory; cargo's errors on failure.
fn build_example(
    build: &BuildDir,
    root: &Path,
    owner: &str,
    name: &str,
    features: &[String],
) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &build.target_dir)
        .args(["build", "--quiet", "-p", owner, "--example", name]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let output = command
        .args(build.cargo_args())
        .output()
        .map_err(|e| Error::new(format!("running cargo to build example `{name}`"), e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::new(
        format!("building example `{name}` (`cargo build -p {owner} --example {name}`)"),
        String::from_utf8_lossy(&output.stderr).trim_end(),
    ))
}

/// A package's name, directory, examples (name, required features), and the workspace packages
/// it depends on (by path).
type Package = (String, PathBuf, Vec<(String, Vec<String>)>, Vec<String>);

/// The workspace the running test belongs to, as `cargo metadata` describes it.
#[derive(Debug)]
struct Workspace {
    root: PathBuf,
    packages: Vec<Package>,
}

impl Workspace {
    /// Asks cargo, from the test's package directory (cargo sets `CARGO_MANIFEST_DIR` for tests).
    fn find() -> Result<Workspace> {
        static FOUND: OnceLock<std::result::Result<(PathBuf, Vec<Package>), String>> =
            OnceLock::new();
        let found = FOUND.get_or_init(|| metadata().map_err(|e| e.to_string()));
        match found {
            Ok((root, packages)) => Ok(Workspace {
                root: root.clone(),
                packages: packages.clone(),
            }),
            Err(e) => Err(Error::new("reading the workspace with `cargo metadata`", e)),
        }
    }

    /// The package that has `example`, and the features the example requires.
    fn owner_of(&self, example: &str) -> Result<(String, Vec<String>)> {
        self.packages
            .iter()
            .find_map(|(name, _, examples, _)| {
                let (_, features) = examples.iter().find(|(e, _)| e == example)?;
                Some((name.clone(), features.clone()))
            })
            .ok_or_else(|| {
                Error::new(
                    format!("finding example `{example}`"),
                    "no package of the workspace has an example of that name",
                )
            })
    }

    /// Every file whose change can change an example of `owner`: the workspace manifest and
    /// lock file, and the manifest, `src/`, `examples/` and `build.rs` of `owner` and of every
    /// workspace package it depends on (an edit elsewhere does not make its examples stale).
    fn sources_of(&self, owner: &str) -> Vec<PathBuf> {
        let mut needed = vec![owner.to_string()];
        let mut i = 0;
        while let Some(name) = needed.get(i).cloned() {
            i += 1;
            if let Some((_, _, _, deps)) = self.packages.iter().find(|p| p.0 == name) {
                for dep in deps {
                    if !needed.contains(dep) {
                        needed.push(dep.clone());
                    }
                }
            }
        }
        let mut files = vec![self.root.join("Cargo.toml"), self.root.join("Cargo.lock")];
        let packages = self.packages.iter().filter(|p| needed.contains(&p.0));
        for (_, dir, _, _) in packages {
            files.push(dir.join("Cargo.toml"));
            files.push(dir.join("build.rs"));
            for sub in ["src", "examples"] {
                let walk = walkdir::WalkDir::new(dir.join(sub)).into_iter();
                files.extend(
                    walk.filter_map(|entry| entry.ok())
                        .filter(|entry| entry.file_type().is_file())
                        .map(|entry| entry.into_path()),
                );
            }
        }
        files
    }
}

fn metadata() -> Result<(PathBuf, Vec<Package>)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        command.current_dir(dir);
    }
    let output = command
        .output()
        .map_err(|e| Error::new("running `cargo metadata`", e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::new("running `cargo metadata`", stderr.trim_end()));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::new("reading `cargo metadata` output", e))?;
    let root = PathBuf::from(json["workspace_root"].as_str().unwrap_or("."));
    let packages = json["packages"].as_array().cloned().unwrap_or_default();
    let packages = packages.iter().map(package_of).collect();
    Ok((root, packages))
}

fn package_of(package: &serde_json::Value) -> Package {
    let name = package["name"].as_str().unwrap_or_default().to_string();
    let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
    let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let examples = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "example"))
        })
        .filter_map(|t| {
            let features = t["required-features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            Some((t["name"].as_str()?.to_string(), features))
        })
        .collect();
    let path_deps = package["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["path"].is_string()) // examples may use dev-dependencies too
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .collect();
    (name, dir, examples, path_deps)
}

/// The newest modification time among `files` (for tests and diagnostics).
pub fn newest(files: &[PathBuf]) -> Option<SystemTime> {
    files
        .iter()
        .filter_map(|f| f.metadata().and_then(|m| m.modified()).ok())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_layout_of_a_test_binary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::create_dir_all(target.join("x86_64-unknown-linux-gnu/release/deps")).unwrap();
        std::fs::create_dir_all(target.join("debug/deps")).unwrap();
        std::fs::write(target.join("CACHEDIR.TAG"), "").unwrap();

        let plain = BuildDir::of_test_binary(&target.join("debug/deps/t-123")).unwrap();
        assert_eq!(plain.target_dir, target);
        assert_eq!(plain.triple, None);
        assert_eq!(plain.cargo_args(), ["--profile", "dev"]);
        assert_eq!(plain.profile_path(), target.join("debug"));

        let exe = target.join("x86_64-unknown-linux-gnu/release/deps/t-123");
        let cross = BuildDir::of_test_binary(&exe).unwrap();
        assert_eq!(cross.target_dir, target);
        assert_eq!(
            cross.cargo_args(),
            [
                "--profile",
                "release",
                "--target",
                "x86_64-unknown-linux-gnu"
            ]
        );
        assert_eq!(
            cross.profile_path(),
            target.join("x86_64-unknown-linux-gnu/release")
        );
    }

    #[test]
    fn a_binary_older_than_any_source_or_missing_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let (binary, source) = (dir.path().join("bin"), dir.path().join("lib.rs"));
        assert!(is_stale(&binary, &[]), "a missing binary is stale");
        std::fs::write(&binary, "").unwrap();
        std::fs::write(&source, "").unwrap();
        let hour = std::time::Duration::from_secs(3600);
        let now = SystemTime::now();
        set_modified(&binary, now - hour);
        set_modified(&source, now);
        assert!(is_stale(&binary, std::slice::from_ref(&source)));
        set_modified(&binary, now + hour);
        assert!(!is_stale(&binary, std::slice::from_ref(&source)));
        assert!(!is_stale(&binary, &[dir.path().join("gone.rs")]));
    }

    fn set_modified(path: &Path, when: SystemTime) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(when).unwrap();
    }
}
