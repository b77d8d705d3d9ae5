//! Copying a directory tree with a process pool, progress fed back through a pipe.
//!
//! The course's exercise: copy every file of a directory, one pool task per file, while the
//! parent shows how much has been copied. Done for real:
//!
//! 1. the parent checks the request (the source is a directory; the destination is not inside
//!    it — copying a tree into itself never ends; an existing, non-empty destination is refused
//!    unless `force`), walks the tree, creates the directories and the symlinks (as symlinks),
//!    and lists the regular files;
//! 2. a [`Pool`] of worker processes copies the files, keeping each file's permissions and its
//!    holes ([`sparse`]);
//! 3. every worker writes progress records — 8 bytes: how many more bytes it copied — to **one
//!    pipe shared by all workers**. A write of at most `PIPE_BUF` (4096) bytes to a pipe is
//!    atomic, so records from different workers never interleave; the parent's reader thread
//!    sums them ([`read_progress`]) and moves the progress bar;
//! 4. a file that cannot be copied (unreadable, a FIFO or device) is reported and the others are
//!    copied anyway; the caller exits non-zero if anything failed. Each file is written under a
//!    temporary name (`.name.copy-tmp`) and renamed when complete, so an interrupted copy
//!    (Ctrl-C) never leaves a truncated file under the real name.
//!
//! Two things a real copy must not get wrong. **Names are bytes**: a Linux file name is any
//! bytes but `/` and NUL, not necessarily UTF-8, so paths stay `OsStr` all the way (the tasks
//! carry them as bytes) and messages show them with `Path::display`. **DST is not trusted**: with
//! `force` it already holds entries, and a symlink among them must not carry the copy outside
//! DST — every name in DST is resolved beneath a descriptor of DST ([`dest`]).
//!
//! Pitfall: the parent's copy of the pipe's write end lives inside the pool's job, so the reader
//! sees EOF only when the pool is dropped — the moment the last worker has exited.

pub mod dest;
mod request;
pub mod sparse;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;
use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use crate::pool::Pool;
use crate::spawn::ParentEnd;
use dest::{Destination, MadeDir};
use request::check_request;

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
    /// One line per symlink in DST replaced by a directory of the source.
    pub notes: Vec<String>,
}

/// One file for a worker to copy: its path under SRC and DST, as bytes (a name need not be
/// UTF-8, and JSON strings must be).
#[derive(Debug, Serialize, Deserialize)]
struct Task {
    relative: Vec<u8>,
}

impl Task {
    fn relative(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.relative))
    }
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
    let dest = Destination::open(dst)
        .map_err(|e| refused(&format!("cannot open the destination {}", dst.display()), e))?;
    let mut summary = Summary {
        dirs: 1, // DST itself
        ..Summary::default()
    };
    let (tasks, dir_modes) = plan(src, &dest, &mut summary);
    let (progress_read, progress_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| refused("creating the progress pipe", e.into()))?;
    let progress_read = ParentEnd::new(progress_read);
    let reader = std::thread::spawn(move || read_progress(progress_read, on_progress));
    let progress_write = File::from(progress_write);
    let (src_root, workers_dest) = (
        src.to_path_buf(),
        dest.try_clone()
            .map_err(|e| refused("duplicating the destination", e))?,
    );
    let results = Pool::new(options.workers, move |task: Task| {
        let from = src_root.join(task.relative());
        copy_file(&from, &workers_dest, task.relative(), &progress_write)
            .map_err(|e| format!("{}: {e}", from.display()))
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
    for (relative, mode) in dir_modes.into_iter().rev() {
        if let Err(e) = mode.map(|mode| dest.set_mode(&relative, mode)) {
            summary
                .errors
                .push(format!("{}: {e}", dst.join(relative).display()));
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

/// The permission bits of a directory: where it is under DST, and its mode in SRC.
type DirMode = (PathBuf, io::Result<u32>);

/// In the parent: walks SRC, making its directories and symlinks in DST; returns a task per
/// regular file, and the directories' modes (set last).
fn plan(src: &Path, dest: &Destination, summary: &mut Summary) -> (Vec<Task>, Vec<DirMode>) {
    let mut tasks = Vec::new();
    let mut dir_modes = vec![(PathBuf::new(), mode_of(src))];
    for entry in WalkDir::new(src).min_depth(1).sort_by_file_name() {
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
        let outcome = place(dest, &entry, relative, summary).map(|task| {
            if entry.file_type().is_dir() {
                dir_modes.push((relative.to_path_buf(), mode_of(entry.path())));
            }
            tasks.extend(task);
        });
        if let Err(e) = outcome {
            summary
                .errors
                .push(format!("{}: {e}", entry.path().display()));
        }
    }
    (tasks, dir_modes)
}

/// In the parent: makes the directory or symlink `entry` in DST, or returns the task that
/// copies it (a regular file).
fn place(
    dest: &Destination,
    entry: &walkdir::DirEntry,
    relative: &Path,
    summary: &mut Summary,
) -> io::Result<Option<Task>> {
    let kind = entry.file_type();
    if kind.is_dir() {
        if dest.make_dir(relative)? == MadeDir::ReplacedSymlink {
            summary.notes.push(format!(
                "{}: a symlink in the destination, replaced by a directory (its target untouched)",
                relative.display()
            ));
        }
        summary.dirs += 1;
        Ok(None)
    } else if kind.is_symlink() {
        dest.symlink(&fs::read_link(entry.path())?, relative)?;
        summary.symlinks += 1;
        Ok(None)
    } else if kind.is_file() {
        Ok(Some(Task {
            relative: relative.as_os_str().as_bytes().to_vec(),
        }))
    } else {
        Err(io::Error::other(
            "not a regular file, directory or symlink (a FIFO, socket or device); skipped",
        ))
    }
}

/// The permission bits of `path` (a directory of the source), if it can be read.
fn mode_of(path: &Path) -> io::Result<u32> {
    Ok(fs::metadata(path)?.permissions().mode())
}

/// In a worker: copies the regular file `from` to `relative` in DST (contents, holes and
/// permissions), reporting progress.
fn copy_file(
    from: &Path,
    dest: &Destination,
    relative: &Path,
    mut progress: &File,
) -> io::Result<Copied> {
    // Opened without following a symlink and without waiting (a FIFO swapped in since the walk
    // would block a plain open forever), then checked on the descriptor itself.
    let input = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(from)?;
    let meta = input.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("no longer a regular file"));
    }
    let partial = dest.create_partial(relative)?;
    let bytes = sparse::copy_keeping_holes(&input, &partial.file, |n| {
        // One write(2) of 8 bytes: atomic on a pipe, never mixed with another worker's.
        progress.write_all(&n.to_le_bytes())
    })?;
    partial.finish(meta.permissions().mode())?;
    Ok(Copied {
        bytes,
        pid: std::process::id() as i32,
    })
}

fn path_of(error: &walkdir::Error) -> String {
    error
        .path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "?".to_string())
}
