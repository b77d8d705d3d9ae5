//! "Threads for IO-bound work, processes for CPU-bound work" — measured, in Rust.
//!
//! The course gives this rule for Python, where the GIL lets only one thread run Python code at
//! a time: CPU-bound threads take turns and gain nothing, so CPU-bound work needs processes.
//! Rust has no GIL. Threads of one process run on every core at once, so the rule's reason is
//! gone; what is left is what the hardware says:
//!
//! - **CPU-bound** work ([`Kind::Cpu`]: arithmetic, no waiting) speeds up with workers only up
//!   to the number of cores — threads and processes alike. On a 2-core machine, 4 workers are
//!   no faster than 2.
//! - **IO-bound** work ([`Kind::Io`]: each unit waits 1 ms, standing in for a disk or network
//!   round trip — the thread is blocked in a syscall and uses no core) speeds up with workers
//!   far beyond the number of cores, again with threads and processes alike; a thread is just
//!   the cheaper of the two to start and to talk to.
//!
//! The same total work is split evenly over 1, 2, 4 workers; a process worker is this program
//! run again (`exec`, never a bare `fork` from a threaded program) with a `--worker` argument.
//! `cargo run -p multithread --release --example cpu_vs_io` prints the table.

use std::io;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use benchkit::Worker;

/// The kind of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Arithmetic: one unit is a fixed amount of computation.
    Cpu,
    /// Waiting: one unit is blocked for 1 ms.
    Io,
}

impl Kind {
    /// The name used on command lines (`cpu`, `io`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cpu => "cpu",
            Kind::Io => "io",
        }
    }
}

/// One unit of CPU work: 100,000 rounds of an xorshift generator. The result is returned so the
/// optimiser cannot remove the loop.
pub fn cpu_unit(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Does `units` units of `kind` work on the calling thread; a checksum of the CPU work.
pub fn work(kind: Kind, units: u64) -> u64 {
    match kind {
        Kind::Cpu => (0..units).fold(0, |acc, unit| acc ^ cpu_unit(unit)),
        Kind::Io => {
            for _ in 0..units {
                thread::sleep(Duration::from_millis(1));
            }
            units
        }
    }
}

/// Splits `total` units over `workers` as evenly as possible.
pub fn split(total: u64, workers: usize) -> Vec<u64> {
    let workers = workers.max(1) as u64;
    (0..workers)
        .map(|i| total / workers + u64::from(i < total % workers))
        .collect()
}

/// Runs `total` units of `kind` on `workers` threads; the wall-clock time.
pub fn with_threads(kind: Kind, workers: usize, total: u64) -> Duration {
    let start = Instant::now();
    thread::scope(|scope| {
        for units in split(total, workers) {
            scope.spawn(move || std::hint::black_box(work(kind, units)));
        }
    });
    start.elapsed()
}

/// Runs `total` units of `kind` in `workers` processes, each `program --worker <kind> --units
/// N`; the wall-clock time, start-up included. A worker that fails is an error, and every other
/// worker is still waited for (a `benchkit::Worker` reaps on drop), so none is left a zombie.
pub fn with_processes(
    program: &Path,
    kind: Kind,
    workers: usize,
    total: u64,
) -> io::Result<Duration> {
    let start = Instant::now();
    let children = split(total, workers)
        .into_iter()
        .map(|units| {
            let units = units.to_string();
            Worker::start_program(program, ["--worker", kind.name(), "--units", &units])
        })
        .collect::<io::Result<Vec<_>>>()?;
    for child in children {
        child.finish()?;
    }
    Ok(start.elapsed())
}
