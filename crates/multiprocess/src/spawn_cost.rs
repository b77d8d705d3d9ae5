//! What starting a process costs, and why a pool pays it only once.
//!
//! `fork` copies the parent's page tables (the pages themselves are shared copy-on-write), so
//! its cost grows with the memory the parent has touched: a parent with 1 GiB resident copies
//! about 2 MiB of page-table entries on every fork. `posix_spawn` (glibc: `clone(CLONE_VFORK)`)
//! shares the parent's memory until the child calls `exec`, so it stays flat; `Command::spawn`
//! uses it where it can. A thread shares everything and is cheapest of all. [`measure`] times
//! each way with the parent's resident memory at a chosen size ([`Ballast`]); `cargo bench -p
//! multiprocess --bench spawn_cost` prints the table. [`pool_vs_process_per_task`] shows what
//! that means for many tiny tasks: a pool forks its workers once.

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use crate::pool::Pool;
use crate::process::Process;
use crate::spawn;

/// Ways to start something and wait for it to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `fork`, the child `_exit`s at once, `waitpid`.
    ForkExit,
    /// `fork` + `execvp("true")` + `waitpid`.
    ForkExec,
    /// `posix_spawnp("true")` + `waitpid`.
    PosixSpawn,
    /// `Command::new("true").status()`.
    Command,
    /// `thread::spawn` of an empty closure + `join`.
    Thread,
}

impl Method {
    /// All of them, in table order.
    pub const ALL: [Method; 5] = [
        Method::ForkExit,
        Method::ForkExec,
        Method::PosixSpawn,
        Method::Command,
        Method::Thread,
    ];
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::ForkExit => "fork + _exit + wait",
            Method::ForkExec => "fork + exec true + wait",
            Method::PosixSpawn => "posix_spawn true + wait",
            Method::Command => "Command::status (true)",
            Method::Thread => "thread::spawn + join",
        })
    }
}

/// Memory the parent has written to, so it is resident and `fork` must map it in the child.
#[derive(Debug)]
pub struct Ballast(Vec<u8>);

impl Ballast {
    /// Allocates `mib` MiB and writes to every page.
    pub fn of_mib(mib: usize) -> Ballast {
        let mut memory = vec![0u8; mib << 20];
        for page in memory.chunks_mut(4096) {
            page[0] = 1;
        }
        Ballast(memory)
    }

    /// Its size in MiB.
    pub fn mib(&self) -> usize {
        self.0.len() >> 20
    }
}

/// The process's resident memory (VmRSS), in MiB.
pub fn resident_mib() -> io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib / 1024)
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/self/status"))
}

/// The median time of one start-and-wait by `method`, over `iterations` runs.
pub fn measure(method: Method, iterations: usize) -> io::Result<Duration> {
    let times = benchkit::time_runs(iterations, || {
        let outcome = match method {
            Method::ForkExit => spawn::wait_for(spawn::fork_run(|| 0)?)?,
            Method::ForkExec => spawn::fork_exec_wait("true", &[])?,
            Method::PosixSpawn => spawn::posix_spawn_wait("true", &[])?,
            Method::Command => spawn::command_wait("true", &[])?,
            Method::Thread => {
                std::thread::spawn(|| {})
                    .join()
                    .map_err(|_| io::Error::other("the empty thread panicked"))?;
                spawn::Outcome::Exited(0)
            }
        };
        if outcome.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("{method}: the child {outcome}")))
        }
    })?;
    Ok(benchkit::Spread::of_durations(&times).median_duration())
}

/// Times for `tasks` tiny tasks (squaring a number): through a pool of `workers`, and with one
/// `Process` per task. Returns (pool, process per task); both results are checked.
pub fn pool_vs_process_per_task(tasks: u64, workers: usize) -> io::Result<(Duration, Duration)> {
    let expected: Vec<u64> = (0..tasks).map(|x| x * x).collect();

    let start = Instant::now();
    let mut pool = Pool::new(workers, |x: u64| x * x)?;
    let squares: Vec<u64> = pool
        .map(0..tasks)?
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(io::Error::other)?;
    pool.join()?;
    let pooled = start.elapsed();
    check(&squares, &expected)?;

    let start = Instant::now();
    let mut squares = Vec::with_capacity(tasks as usize);
    for x in 0..tasks {
        let exit = Process::start(move || x * x)?.join()?;
        match exit.result {
            Some(Ok(square)) => squares.push(square),
            other => return Err(io::Error::other(format!("task {x}: {other:?}"))),
        }
    }
    let per_task = start.elapsed();
    check(&squares, &expected)?;
    Ok((pooled, per_task))
}

fn check(got: &[u64], expected: &[u64]) -> io::Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(io::Error::other("wrong squares"))
    }
}
