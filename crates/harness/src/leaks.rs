//! Leak checks through `/proc`: open file descriptors and zombie children.
//!
//! A server that forgets to close an accepted socket passes every functional test and dies in
//! production with `EMFILE`. These helpers let a test count what a process holds — all its
//! descriptors, or just the TCP sockets on one local port — and find children that exited but
//! were never reaped (state `Z`).

use std::fs;
use std::io;
use std::time::Duration;

use labkit::proc;

use crate::time::Deadline;
use crate::{Error, Result};

/// The open descriptors of process `pid`: `(fd, link target)` pairs, e.g. `(7, "socket:[123]")`.
pub fn open_fds(pid: u32) -> io::Result<Vec<(i32, String)>> {
    let mut fds = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // The descriptor may close between read_dir and read_link; skip it then.
        if let Ok(target) = fs::read_link(entry.path()) {
            fds.push((fd, target.to_string_lossy().into_owned()));
        }
    }
    Ok(fds)
}

/// How many descriptors process `pid` has open.
pub fn fd_count(pid: u32) -> io::Result<usize> {
    Ok(open_fds(pid)?.len())
}

/// How many of process `pid`'s descriptors are TCP sockets whose local port is `port`
/// (the listener and the connections it accepted).
pub fn sockets_on_port(pid: u32, port: u16) -> io::Result<usize> {
    let mut inodes = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // fields[1] = "0100007F:1F90" (local address:port in hex), fields[9] = inode
            let (Some(local), Some(inode)) = (fields.get(1), fields.get(9)) else {
                continue;
            };
            let local_port = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port) && *inode != "0" {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    Ok(open_fds(pid)?
        .iter()
        .filter(|(_, target)| inodes.contains(target))
        .count())
}

/// Pids of the children of process `pid` (a forking server's workers, say).
pub fn children_of(pid: u32) -> io::Result<Vec<u32>> {
    Ok(proc::children_of(pid)?
        .into_iter()
        .map(|child| child.pid)
        .collect())
}

/// The state letter of process `pid` from `/proc/<pid>/stat` (`R` running, `S` sleeping, `Z`
/// zombie, …), or `None` if it is gone.
pub fn state_of(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ...": the state follows the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next().map(str::to_string)
}

/// Whether process `pid` ignores `signal` (its bit in the `SigIgn` mask of `/proc/<pid>/status`)
/// — for a test that must not send a signal before a child has set itself up to ignore it.
pub fn ignores_signal(pid: u32, signal: i32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
    mask.is_some_and(|mask| (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0)
}

/// Whether process `pid` still runs: it exists and is not a zombie (exited, awaiting its reaper).
pub fn is_running(pid: u32) -> bool {
    state_of(pid).is_some_and(|state| state != "Z" && state != "X")
}

/// Waits (up to `limit`, scaled) until none of `pids` runs any more: the children of a killed
/// parent must die with it, not linger as orphans.
pub fn expect_gone(pids: &[u32], limit: Duration) -> Result<()> {
    let deadline = Deadline::after(limit, format!("processes {pids:?} to end"));
    deadline
        .poll(|| pids.iter().all(|&pid| !is_running(pid)).then_some(()))
        .map_err(|e| {
            let left: Vec<_> = pids.iter().filter(|&&pid| is_running(pid)).collect();
            e.context(format!("still running: {left:?}"))
        })
}

/// Pids of this process's children that are zombies (exited, not yet reaped).
pub fn zombie_children() -> io::Result<Vec<u32>> {
    zombie_children_of(std::process::id())
}

/// Pids of process `pid`'s children that are zombies: a server that does not reap.
pub fn zombie_children_of(pid: u32) -> io::Result<Vec<u32>> {
    Ok(proc::children_of(pid)?
        .into_iter()
        .filter(|child| child.state == 'Z')
        .map(|child| child.pid)
        .collect())
}

/// Waits (up to `limit`, scaled) until this process has no zombie children.
///
/// A child that just died is a zombie until its parent reaps it, so a brief zombie is normal;
/// one that stays is a leak.
pub fn expect_no_zombies(limit: Duration) -> Result<()> {
    expect_no_zombies_of(std::process::id(), limit)
}

/// Waits (up to `limit`, scaled) until process `pid` has no zombie children.
pub fn expect_no_zombies_of(pid: u32, limit: Duration) -> Result<()> {
    let deadline = Deadline::after(limit, format!("zombie children of {pid} to be reaped"));
    let mut last = Vec::new();
    deadline
        .poll(|| match zombie_children_of(pid) {
            Ok(zombies) if zombies.is_empty() => Some(()),
            Ok(zombies) => {
                last = zombies;
                None
            }
            Err(_) => None,
        })
        .map_err(|e| e.context(format!("zombie children still present: {last:?}")))
}

/// A count of a process's descriptors to compare against later.
#[derive(Debug, Clone)]
pub struct FdSnapshot {
    pid: u32,
    count: usize,
}

impl FdSnapshot {
    /// Counts process `pid`'s descriptors now.
    pub fn of(pid: u32) -> Result<FdSnapshot> {
        let count = fd_count(pid).map_err(|e| Error::new(format!("reading /proc/{pid}/fd"), e))?;
        Ok(FdSnapshot { pid, count })
    }

    /// Counts this process's descriptors now.
    pub fn of_self() -> Result<FdSnapshot> {
        FdSnapshot::of(std::process::id())
    }

    /// The count at the time of the snapshot.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Waits (up to `limit`, scaled) until the process holds at most `slack` more descriptors
    /// than at the snapshot. Closing is asynchronous (a server closes after it reads EOF), so
    /// the count is polled until it settles.
    ///
    /// Use `slack = 0` for a child process; in the test process other tests run in parallel
    /// threads and open descriptors of their own, so allow a small slack there.
    pub fn expect_no_growth(&self, slack: usize, limit: Duration) -> Result<()> {
        let deadline = Deadline::after(
            limit,
            format!(
                "descriptors of pid {} to return to {} (+{slack})",
                self.pid, self.count
            ),
        );
        let mut now = self.count;
        deadline
            .poll(|| {
                now = fd_count(self.pid).ok()?;
                (now <= self.count + slack).then_some(())
            })
            .map_err(|e| e.context(format!("still {now} open, was {}", self.count)))
    }
}
