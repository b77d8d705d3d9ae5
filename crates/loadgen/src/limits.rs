//! The limits that stop a load generator, and how loadgen plans around them.
//!
//! Holding 100,000 connections on one machine runs into three walls long before CPU or memory:
//!
//! 1. **Descriptors per process.** Every socket is a file descriptor, and `RLIMIT_NOFILE` caps
//!    how many one process may hold. The soft limit (often 1024) can be raised by the process
//!    itself up to the hard limit; the hard limit here is 20,000. So loadgen raises soft to hard
//!    and spreads connections over `procs = ceil(conns / (hard − headroom))` worker processes.
//! 2. **Local ports.** A TCP connection is identified by its 4-tuple (source ip, source port,
//!    destination ip, destination port). To one server address, one source ip has only the
//!    ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 = 28,232 ports).
//!    Loopback has 16 million addresses (127.0.0.0/8), so loadgen binds sockets to 127.0.0.1,
//!    127.0.0.2, … (`--sources`), each good for another range of ports. It fills each source
//!    only to about a third of the range: past that, `connect`'s port search slows down ten-fold
//!    (see [`CONNS_PER_SOURCE`]).
//! 3. **The system.** `fs.file-max` caps descriptors for the whole machine (`ENFILE`); kernel
//!    socket memory can run out (`ENOMEM`/`ENOBUFS`).
//!
//! Pitfall: `bind(127.0.0.x:0)` before `connect` reserves a port *per bind* — ports are then
//! unique per source ip no matter the destination, and `bind` fails with `EADDRINUSE` long before
//! the 4-tuples run out. `IP_BIND_ADDRESS_NO_PORT` defers the port choice to `connect`, which
//! can pick per 4-tuple (see [`crate::socket`]).

use std::fs;
use std::io;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors a loadgen process keeps for itself and never gives to connections: stdin, stdout,
/// stderr, the epoll descriptor and its wake-up pipe, `/proc` reads, the control pipes.
pub const FD_HEADROOM: u64 = 64;

/// Most connections loadgen puts on one source address.
///
/// Measured, not guessed: `connect` searches for a free port starting with one parity half of the
/// range (Linux leaves the other half for `bind`), so once a source holds more than ~14,000
/// connections each connect scans thousands of taken ports first. Here 19,000 connections from
/// one source took 5.2 s to open, from two sources (9,500 each) 0.6 s. So a source gets at most
/// 35% of the range — 70% of one half — and never more than this.
pub const CONNS_PER_SOURCE: u64 = 10_000;

/// The most source addresses `--sources` may name (127.0.0.1 ..= 127.0.0.250).
pub const MAX_SOURCES: usize = 250;

/// A process's `RLIMIT_NOFILE`: how many descriptors it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FdLimit {
    /// The limit in force (`ulimit -n`); a process may raise it up to `hard`.
    pub soft: u64,
    /// The ceiling an unprivileged process cannot raise (`ulimit -Hn`).
    pub hard: u64,
}

impl FdLimit {
    /// How many connections one process can hold under the soft limit.
    pub fn conns_per_process(&self) -> u64 {
        self.soft.saturating_sub(FD_HEADROOM).max(1)
    }
}

/// This process's descriptor limit.
pub fn fd_limit() -> io::Result<FdLimit> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(FdLimit { soft, hard })
}

/// Raises this process's soft descriptor limit to its hard limit (netkit's
/// [`raise_fd_limit`](netkit::workers::raise_fd_limit)) and returns the new limit.
///
/// Every loadgen process does this first. In a test process, take `harness::process_lock()`
/// around it: rlimits are process-wide state.
pub fn raise_fd_limit() -> io::Result<FdLimit> {
    netkit::workers::raise_fd_limit()?;
    fd_limit()
}

/// Sets the soft descriptor limit to `max` (at most the hard limit): how the tests make a small
/// process hit the descriptor wall without opening 20,000 sockets.
pub fn set_fd_soft_limit(max: u64) -> io::Result<FdLimit> {
    let FdLimit { hard, .. } = fd_limit()?;
    setrlimit(Resource::RLIMIT_NOFILE, max.min(hard), hard)?;
    fd_limit()
}

/// The ephemeral port range, from `/proc/sys/net/ipv4/ip_local_port_range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortRange {
    /// First port `connect` may pick.
    pub low: u16,
    /// Last port `connect` may pick.
    pub high: u16,
}

impl PortRange {
    /// The Linux default, used when `/proc` cannot be read.
    pub const LINUX_DEFAULT: PortRange = PortRange {
        low: 32768,
        high: 60999,
    };

    /// How many ports the range holds.
    pub fn len(&self) -> u64 {
        u64::from(self.high.saturating_sub(self.low)) + 1
    }

    /// Never true for a range read from the kernel; here for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.high < self.low
    }
}

/// The kernel's ephemeral port range (the Linux default if it cannot be read).
pub fn port_range() -> PortRange {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(|p| p.parse::<u16>());
            match (parts.next(), parts.next()) {
                (Some(Ok(low)), Some(Ok(high))) => Some(PortRange { low, high }),
                _ => None,
            }
        })
        .unwrap_or(PortRange::LINUX_DEFAULT)
}

/// The system-wide descriptor limit (`fs.file-max`), if readable.
pub fn system_file_max() -> Option<u64> {
    fs::read_to_string("/proc/sys/fs/file-max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// How a run of `conns` connections is spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Worker processes: each holds at most `FdLimit::conns_per_process` connections.
    pub procs: usize,
    /// Source addresses 127.0.0.1 ..= 127.0.0.`sources`.
    pub sources: usize,
}

/// The fewest processes and source addresses that fit `conns` connections under `fd` (the
/// limit each worker will have) and `ports`.
///
/// Sources are only spread for a loopback IPv4 target; anything else uses one source.
pub fn plan(conns: u64, fd: FdLimit, ports: PortRange, loopback_v4: bool) -> Plan {
    let procs = conns.div_ceil(fd.conns_per_process()).max(1);
    let per_source = CONNS_PER_SOURCE.min(ports.len() * 7 / 20).max(1);
    let sources = if loopback_v4 {
        conns.div_ceil(per_source).clamp(1, MAX_SOURCES as u64)
    } else {
        1
    };
    Plan {
        procs: procs as usize,
        sources: sources as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARD_20K: FdLimit = FdLimit {
        soft: 20_000,
        hard: 20_000,
    };

    #[test]
    fn a_small_run_needs_one_process_and_one_source() {
        let plan = plan(100, HARD_20K, PortRange::LINUX_DEFAULT, true);
        assert_eq!(
            plan,
            Plan {
                procs: 1,
                sources: 1
            }
        );
    }

    #[test]
    fn a_hundred_thousand_connections_need_six_processes_and_eleven_sources() {
        // 100,000 / (20,000 − 64) = 5.02 → 6 processes;
        // 100,000 / (28,232 × 35% = 9,881) = 10.1 → 11 sources.
        let plan = plan(100_000, HARD_20K, PortRange::LINUX_DEFAULT, true);
        assert_eq!((plan.procs, plan.sources), (6, 11));
    }

    #[test]
    fn a_remote_target_keeps_one_source() {
        let plan = plan(100_000, HARD_20K, PortRange::LINUX_DEFAULT, false);
        assert_eq!(plan.sources, 1);
    }

    #[test]
    fn a_narrow_port_range_needs_more_sources() {
        let narrow = PortRange {
            low: 50_000,
            high: 50_999,
        };
        // 1,000 ports, 350 used per source → 3,000 connections need 9 sources.
        assert_eq!(plan(3_000, HARD_20K, narrow, true).sources, 9);
    }
}
