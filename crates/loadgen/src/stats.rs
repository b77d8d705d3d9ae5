//! What a server process costs, read from `/proc`: resident memory, open descriptors, CPU time.
//!
//! "epoll holds 100,000 idle connections" is only half a claim without its price: how much
//! memory, how many descriptors. These numbers come from the kernel's own books —
//! `/proc/<pid>/status` (`VmRSS`), `/proc/<pid>/fd`, `/proc/<pid>/stat` (utime + stime) — summed
//! over the process and its descendants, because a pre-forked server holds its connections in
//! its children, not in the pid you started.
//!
//! Pitfall: summing RSS over forked processes counts pages they share (the binary, copy-on-write
//! memory not yet written) once per process, so the total is an upper bound.

use std::fs;
use std::io;

use labkit::proc;
use serde::{Deserialize, Serialize};

/// A process tree's resources at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Resident memory (`VmRSS`), KiB, summed over the processes.
    pub rss_kib: u64,
    /// Open file descriptors, summed over the processes.
    pub fds: u64,
    /// How many processes were counted (the pid and its descendants).
    pub processes: u64,
    /// CPU time used so far (user + system), seconds, summed over the processes.
    pub cpu_secs: f64,
}

/// The resources of process `pid` and all its descendants.
pub fn server_stats(pid: u32) -> io::Result<ServerStats> {
    let mut total = process_stats(pid)?;
    for child in proc::descendants(pid).unwrap_or_default() {
        // A child may exit between listing and reading; skip it then.
        if let Ok(stats) = process_stats(child) {
            total.rss_kib += stats.rss_kib;
            total.fds += stats.fds;
            total.processes += 1;
            total.cpu_secs += stats.cpu_secs;
        }
    }
    Ok(total)
}

/// The resources of process `pid` alone.
pub fn process_stats(pid: u32) -> io::Result<ServerStats> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0); // a zombie has no VmRSS line
    let fds = fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    let cpu_secs =
        proc::Stat::of(pid).map_or(0.0, |stat| stat.cpu_ticks() as f64 / clock_ticks_per_sec());
    Ok(ServerStats {
        rss_kib,
        fds,
        processes: 1,
        cpu_secs,
    })
}

fn clock_ticks_per_sec() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |ticks| ticks as f64)
}

/// The calling thread's CPU time (user + system), seconds: what one engine's event loop cost.
pub fn thread_cpu_secs() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_THREAD).map_or(0.0, |usage| {
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        secs(usage.user_time()) + secs(usage.system_time())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_descriptors() {
        let stats = server_stats(std::process::id()).unwrap();
        assert!(stats.rss_kib > 0, "{stats:?}");
        assert!(stats.fds >= 3, "{stats:?}");
        assert!(stats.processes >= 1);
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(server_stats(u32::MAX - 1).is_err());
    }
}
