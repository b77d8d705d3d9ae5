//! Instructor tooling for the Concurrency Labs exercises, behind `cargo xtask <command>`.
//!
//! Chapters mark reference solutions in their code with `// BEGIN SOLUTION: <id>` /
//! `// END SOLUTION` lines and list them in `crates/<chapter>/exercises.toml`. This crate reads
//! those ([`exercises`], [`regions`]), writes student handouts with the solutions replaced by
//! `todo!()` ([`handout`]), grades a workspace by running each exercise's tests ([`grade`]), and
//! proves the whole setup works: reference solutions pass, the handout builds, and exactly the
//! exercise tests fail in it ([`check`]).
//!
//! The command-line interface in `main.rs` is a thin layer over these modules; everything here
//! returns errors (never panics on bad input) so it can be tested directly. See the crate README
//! for the commands and the `exercises.toml` format.

pub mod check;
pub mod classroom;
pub mod exercises;
pub mod giveaway;
pub mod grade;
pub mod gradebook;
pub mod handout;
pub mod manifest;
pub mod process;
pub mod regions;
pub mod show;
pub mod table;
pub mod watch;

use std::path::PathBuf;

/// The workspace xtask was built in: two levels above this crate's manifest directory.
pub fn default_workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target directory of the workspace at `root`: `CARGO_TARGET_DIR` when set (read when xtask
/// starts: the cargo runs it starts get it explicitly), else `root/target`.
pub fn target_dir(root: &std::path::Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => root.join("target"),
    }
}
