//! Copying a directory tree with a process pool, progress fed back through a pipe.
//!
//! The course's exercise: copy every file of a directory, one pool task per file, while the
//! parent shows how much has been copied. Done for real:
//!
//! 1. the parent checks the request (the source is a directory; the destination is not inside
//!    it — copying a tree into itself never ends; an existing, non-empty destination is refused
//!    unless `force`), walks the tree, creates the directories and the symlinks (as symlinks),
//!    and lists the regular files;
//! 2. a [`Pool`] of worker processes copies the files, keeping each file's permissions;
//! 3. every worker writes progress records — 8 bytes: how many more bytes it copied — to **one
//!    pipe shared by all workers**. A write of at most `PIPE_BUF` (4096) bytes to a pipe is
//!    atomic, so records from different workers never interleave; the parent's reader thread
//!    sums them ([`read_progress`]) and moves the progress bar;
//! 4. a file that cannot be copied (unreadable, a FIFO or device) is reported and the others are
//!    copied anyway; the caller exits non-zero if anything failed. Each file is written under a
//!    temporary name (`.name.copy-tmp`) and renamed when complete, so an interrupted copy
//!    (Ctrl-C) never leaves a truncated file under the real name.
//!
//! Pitfall: the parent's copy of the pipe's write end lives inside the pool's job, so the reader
//! sees EOF only when the pool is dropped — the moment the last worker has exited.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;
use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use crate::pool::Pool;
use crate::spawn::ParentEnd;

/// One progress record: little-endian `u64`, bytes copied since the worker's last record.
pub const RECORD: usize = 8;

/// How a copy is done.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Worker processes.
    pub workers: usize,
    /// Copy into an existing, non-empty destination, overwriting files.
    pub force: bool,
}

/// What was copied, and what was not.
#[derive(Debug, Default)]
pub struct Summary {
    /// Regular files copied.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Directories created (the destination itself included).
    pub dirs: usize,
    /// Symlinks recreated.
    pub symlinks: usize,
    /// Pids of the workers that copied at least one file.
    pub workers_used: BTreeSet<i32>,
    /// The bytes the progress pipe reported, summed (equals `bytes` when all went well).
    pub progress_bytes: u64,
    /// One line per entry that could not be copied.
    pub errors: Vec<String>,
}

/// One file for a worker to copy.
#[derive(Debug, Serialize, Deserialize)]
struct Task {
    from: PathBuf,
    to: PathBuf,
}

/// A worker's answer for one file.
#[derive(Debug, Serialize, Deserialize)]
struct Copied {
    bytes: u64,
    pid: i32,
}

/// Why a copy could not start at all.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The total size of the regular files under `src` (for a progress bar's length).
pub fn total_bytes(src: &Path) -> u64 {
    WalkDir::new(src)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Copies the tree `src` to `dst`; `on_progress` is called (on another thread) with the bytes
/// copied so far, as the workers report them.
pub fn copy_dir(
    src: &Path,
    dst: &Path,
    options: Options,
    on_progress: impl FnMut(u64) + Send + 'static,
) -> Result<Summary, Refused> {
    check_request(src, dst, options.force)?;
    let refused = |what: &str, e: io::Error| Refused(format!("{what}: {e}"));
    let mut summary = Summary::default();
    let mut tasks = Vec::new();
    let mut dir_modes = Vec::new();
    for entry in WalkDir::new(src).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                summary.errors.push(format!("{}: {e}", path_of(&e)));
                continue;
            }
        };
        let relative = entry
            .path()
            .strip_prefix(src)
            .expect("walkdir stays under its root");
        let target = dst.join(relative);
        let kind = entry.file_type();
        let outcome = if kind.is_dir() {
            fs::create_dir_all(&target).map(|()| {
                summary.dirs += 1;
                if let Ok(meta) = entry.metadata() {
                    dir_modes.push((target.clone(), meta.permissions()));
                }
            })
        } else if kind.is_symlink() {
            copy_symlink(entry.path(), &target).map(|()| summary.symlinks += 1)
        } else if kind.is_file() {
            tasks.push(Task {
                from: entry.path().to_path_buf(),
                to: target,
            });
            Ok(())
        } else {
            Err(io::Error::other(
                "not a regular file, directory or symlink (a FIFO, socket or device); skipped",
            ))
        };
        if let Err(e) = outcome {
            summary
                .errors
                .push(format!("{}: {e}", entry.path().display()));
        }
    }

    let (progress_read, progress_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| refused("creating the progress pipe", e.into()))?;
    let progress_read = ParentEnd::new(progress_read);
    let reader = std::thread::spawn(move || read_progress(progress_read, on_progress));
    let progress_write = File::from(progress_write);
    let results = Pool::new(options.workers, move |task: Task| {
        copy_file(&task, &progress_write).map_err(|e| format!("{}: {e}", task.from.display()))
    })
    .and_then(|mut pool| {
        let results = pool.map(tasks);
        drop(pool); // joins the workers and closes our copy of the write end: the reader ends
        results
    });
    let progress = reader.join().expect("the progress reader does not panic");
    let results = results.map_err(|e| refused("running the worker pool", e))?;
    summary.progress_bytes = progress.map_err(|e| refused("reading progress", e))?;
    for result in results {
        match result {
            Ok(Ok(copied)) => {
                summary.files += 1;
                summary.bytes += copied.bytes;
                summary.workers_used.insert(copied.pid);
            }
            Ok(Err(message)) => summary.errors.push(message),
            Err(task_error) => summary.errors.push(task_error.to_string()),
        }
    }
    // Deepest first, and after the files: a read-only directory must not stop its own copy.
    for (dir, permissions) in dir_modes.into_iter().rev() {
        if let Err(e) = fs::set_permissions(&dir, permissions) {
            summary.errors.push(format!("{}: {e}", dir.display()));
        }
    }
    Ok(summary)
}

/// Sums the workers' progress records until every writer has closed the pipe, calling
/// `on_progress` with the running total after each record; returns the total.
pub fn read_progress(mut pipe: impl Read, mut on_progress: impl FnMut(u64)) -> io::Result<u64> {
    // BEGIN SOLUTION: mp-copy-progress
    let mut total = 0u64;
    let mut record = [0u8; RECORD];
    loop {
        // Records are written whole (8 bytes ≤ PIPE_BUF), but a read may still return part of
        // one when the pipe holds several: read_exact collects exactly one.
        match pipe.read_exact(&mut record) {
            Ok(()) => {
                total += u64::from_le_bytes(record);
                on_progress(total);
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(total)
    // END SOLUTION
}

/// In a worker: copies one regular file (contents and permissions), reporting progress.
fn copy_file(task: &Task, mut progress: &File) -> io::Result<Copied> {
    // Look before opening: opening a FIFO for reading would block until a writer appears.
    let meta = fs::symlink_metadata(&task.from)?;
    if !meta.is_file() {
        return Err(io::Error::other("no longer a regular file"));
    }
    let mut input = File::open(&task.from)?;
    // Written under a temporary name and renamed when complete, so an interrupted copy never
    // leaves a file that looks whole: only a `.copy-tmp` file to delete.
    let partial = partial_name(&task.to);
    let mut output = File::create(&partial)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let copied = loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        if let Err(e) = output.write_all(&buf[..n]) {
            break Err(e);
        }
        bytes += n as u64;
        // One write(2) of 8 bytes: atomic on a pipe, never mixed with another worker's.
        if let Err(e) = progress.write_all(&(n as u64).to_le_bytes()) {
            break Err(e);
        }
    };
    let finished = copied
        .and_then(|()| {
            output.set_permissions(fs::Permissions::from_mode(meta.permissions().mode()))
        })
        .and_then(|()| fs::rename(&partial, &task.to));
    if let Err(e) = finished {
        drop(output);
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    Ok(Copied {
        bytes,
        pid: std::process::id() as i32,
    })
}

/// `dir/name` → `dir/.name.copy-tmp`.
fn partial_name(to: &Path) -> PathBuf {
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    to.with_file_name(format!(".{name}.copy-tmp"))
}

fn copy_symlink(from: &Path, to: &Path) -> io::Result<()> {
    let target = fs::read_link(from)?;
    match fs::symlink_metadata(to) {
        Ok(_) => fs::remove_file(to)?, // only reachable with `force`
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    symlink(target, to)
}

/// Refuses what cannot be done: a missing source, a destination inside the source, an
/// existing non-empty destination without `force`.
fn check_request(src: &Path, dst: &Path, force: bool) -> Result<(), Refused> {
    let src_real = fs::canonicalize(src)
        .map_err(|e| Refused(format!("cannot read the source {}: {e}", src.display())))?;
    if !src_real.is_dir() {
        return Err(Refused(format!(
            "the source {} is not a directory",
            src.display()
        )));
    }
    let dst_real = where_it_would_be(dst)?;
    if dst_real.starts_with(&src_real) {
        return Err(Refused(format!(
            "the destination {} is inside the source {}: the copy would copy itself",
            dst.display(),
            src.display()
        )));
    }
    if dst_real.exists() {
        if !dst_real.is_dir() {
            return Err(Refused(format!(
                "the destination {} exists and is not a directory",
                dst.display()
            )));
        }
        let empty = fs::read_dir(&dst_real)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty && !force {
            return Err(Refused(format!(
                "the destination {} exists and is not empty; pass --force to copy into it",
                dst.display()
            )));
        }
    }
    Ok(())
}

/// The real path `dst` names, or would name once created: its nearest existing ancestor,
/// canonicalized (symlinks and `..` resolved), joined with the parts still to be created.
fn where_it_would_be(dst: &Path) -> Result<PathBuf, Refused> {
    let absolute = std::path::absolute(dst)
        .map_err(|e| Refused(format!("cannot resolve {}: {e}", dst.display())))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    loop {
        match fs::canonicalize(existing) {
            Ok(real) => {
                return Ok(missing
                    .iter()
                    .rev()
                    .fold(real, |path, part| path.join(part)));
            }
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    missing.push(name.to_owned());
                    existing = parent;
                }
                _ => return Err(Refused(format!("cannot create {}", dst.display()))),
            },
        }
    }
}

fn path_of(error: &walkdir::Error) -> String {
    error
        .path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "?".to_string())
}
