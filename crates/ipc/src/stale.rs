//! Names left behind by a run that was killed, removed by the next run.
//!
//! Every named object here is unlinked by its guard on drop, on error and on Ctrl-C. SIGKILL
//! runs no code: a `fifo_reader` or `mq_recv` killed with `kill -9` leaves its FIFO in the
//! temporary directory and its queue in the kernel. Neither can be unlinked early — the name is
//! how the next writer or sender finds it — so the next run cleans up: a name made by
//! [`unique_name`](crate::unique_name) carries its maker's pid (`labs-<kind>-<pid>-…`), and one
//! whose maker no longer exists is removed. Only FIFOs owned by this user are touched, and a
//! name whose pid is alive is kept even if that pid was reused (a leftover, never a live one).
//!
//! Queues are listed through `/dev/mqueue`, where the `mqueue` file system is usually mounted;
//! where it is not (some containers), the names cannot be listed and stay in the kernel until
//! reboot — `mount -t mqueue none /dev/mqueue` shows them.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// Removes the FIFOs in the temporary directory that killed runs left; returns their paths.
pub fn remove_dead_fifos() -> io::Result<Vec<PathBuf>> {
    let uid = nix::unistd::geteuid().as_raw();
    let mut removed = Vec::new();
    for path in left_by_dead_runs(&std::env::temp_dir(), "fifo")? {
        let owned_fifo = fs::symlink_metadata(&path)
            .is_ok_and(|meta| meta.file_type().is_fifo() && meta.uid() == uid);
        if owned_fifo && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Removes the message queues that killed runs left (if `/dev/mqueue` lists them); returns
/// their names.
pub fn remove_dead_queues() -> io::Result<Vec<String>> {
    let listing = Path::new("/dev/mqueue");
    if !listing.is_dir() {
        return Ok(Vec::new());
    }
    let mut removed = Vec::new();
    for path in left_by_dead_runs(listing, "mq")? {
        let name = format!(
            "/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if nix::mqueue::mq_unlink(name.as_str()).is_ok() {
            removed.push(name);
        }
    }
    Ok(removed)
}

/// Entries of `dir` named `labs-<kind>-<pid>-…` whose pid names no process.
fn left_by_dead_runs(dir: &Path, kind: &str) -> io::Result<Vec<PathBuf>> {
    let prefix = format!("labs-{kind}-");
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(&prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
            .filter(|&pid| pid > 0)
        else {
            continue;
        };
        // Signal 0 checks existence only; EPERM means it exists (another user's process).
        if kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
            found.push(entry.path());
        }
    }
    Ok(found)
}
