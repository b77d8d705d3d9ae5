//! The workloads: each is a range of numbered tasks, an optional serial phase, and a schedule.
//!
//! | workload | bound by | serial phase | schedule | what it shows |
//! | --- | --- | --- | --- | --- |
//! | `primes` | CPU | none | cyclic | near-linear speedup up to the core count, flat beyond |
//! | `mandelbrot-static` | CPU, uneven | none | block | load imbalance: one worker gets the set |
//! | `mandelbrot-dynamic` | CPU, uneven | none | dynamic | manager/worker repairs the imbalance |
//! | `serial` | CPU | `f` of the work, known | block | Amdahl's law with a serial fraction you choose |
//! | `scaled` | CPU | fixed; parallel part grows with `p` | block | Gustafson's law (weak scaling) |
//! | `memsum` | memory bandwidth | none | block | stops scaling when DRAM, not the cores, is the limit |
//! | `io` | blocking waits | none | block | threads ≫ cores still help: waiting takes no core |
//!
//! Every workload's answer is a number (a count, a checksum) that must not depend on `p`, the
//! schedule, or threads versus processes: correctness before speed. Results of chunks are
//! combined by wrapping addition, which does not care about order.

pub mod mandelbrot;
pub mod memsum;
pub mod primes;
pub mod synthetic;

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::schedule::{self, Schedule};

/// The workloads the CLI can run (`--workload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// CPU-bound: count primes below SIZE by trial division (chunks dealt round-robin).
    Primes,
    /// CPU-bound, uneven: Mandelbrot image of SIZE rows split into contiguous blocks.
    MandelbrotStatic,
    /// The same image, rows claimed on demand (manager/worker).
    MandelbrotDynamic,
    /// A serial phase of a known fraction (--serial-fraction) of SIZE work units, then the rest in parallel.
    Serial,
    /// Gustafson: the same serial phase, and a parallel part that grows with p.
    Scaled,
    /// Memory-bound: sum an array of SIZE 64-bit numbers (threads only).
    Memsum,
    /// IO-bound: SIZE tasks that each wait 10 ms in a blocking call.
    Io,
}

/// How long one task of the `io` workload waits.
pub const IO_WAIT: Duration = Duration::from_millis(10);

impl Workload {
    /// Every workload, in the order of the chapter.
    pub const ALL: [Workload; 7] = [
        Workload::Primes,
        Workload::MandelbrotStatic,
        Workload::MandelbrotDynamic,
        Workload::Serial,
        Workload::Scaled,
        Workload::Memsum,
        Workload::Io,
    ];

    /// The CLI's name for this workload.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Primes => "primes",
            Workload::MandelbrotStatic => "mandelbrot-static",
            Workload::MandelbrotDynamic => "mandelbrot-dynamic",
            Workload::Serial => "serial",
            Workload::Scaled => "scaled",
            Workload::Memsum => "memsum",
            Workload::Io => "io",
        }
    }

    /// A size that takes a few tenths of a second on one core of the reference machine.
    pub fn default_size(self) -> u64 {
        match self {
            Workload::Primes => 2_000_000,
            Workload::MandelbrotStatic | Workload::MandelbrotDynamic => 400,
            Workload::Serial | Workload::Scaled => 200_000,
            Workload::Memsum => 128 << 20,
            Workload::Io => 64,
        }
    }

    /// Whether a run's work grows with `p` (weak scaling, Gustafson) rather than staying fixed.
    pub fn is_scaled(self) -> bool {
        self == Workload::Scaled
    }
}

/// One problem: a workload, its size, and (for `serial` and `scaled`) its serial fraction.
#[derive(Debug, Clone)]
pub struct Problem {
    pub workload: Workload,
    pub size: u64,
    pub serial_fraction: f64,
    /// For `scaled`: how many times the base parallel work this problem holds (1 otherwise).
    pub multiplier: u64,
    /// For `memsum`: the array, built once and shared by every run.
    data: Option<Arc<Vec<u64>>>,
}

impl Problem {
    /// A problem of `size` (see `--help` for what size means per workload).
    pub fn new(workload: Workload, size: u64, serial_fraction: f64) -> Result<Problem> {
        if size == 0 {
            bail!("the size must be at least 1");
        }
        if !(0.0..=1.0).contains(&serial_fraction) {
            bail!("the serial fraction must be between 0 and 1, got {serial_fraction}");
        }
        let data = (workload == Workload::Memsum).then(|| Arc::new(memsum::array(size)));
        Ok(Problem {
            workload,
            size,
            serial_fraction,
            multiplier: 1,
            data,
        })
    }

    /// The same problem with its parallel part `multiplier` times as large (`scaled` only;
    /// other workloads are fixed-size and come back unchanged).
    pub fn scaled_to(&self, multiplier: u64) -> Problem {
        let mut problem = self.clone();
        if self.workload.is_scaled() {
            problem.multiplier = multiplier.max(1);
        }
        problem
    }

    /// The serial phase's tasks and the parallel phase's tasks.
    pub fn phases(&self) -> (Range<u64>, Range<u64>) {
        match self.workload {
            Workload::Serial => synthetic::serial_phases(self.size, self.serial_fraction),
            Workload::Scaled => {
                synthetic::scaled_phases(self.size, self.serial_fraction, self.multiplier)
            }
            _ => (0..0, 0..self.size),
        }
    }

    /// How the parallel phase is split among workers.
    pub fn schedule(&self) -> Schedule {
        match self.workload {
            Workload::Primes => Schedule::Cyclic { chunk: 10_000 },
            Workload::MandelbrotDynamic => Schedule::Dynamic { chunk: 2 },
            _ => Schedule::Block,
        }
    }

    /// Bytes one run reads from memory (`memsum`), for the bandwidth column.
    pub fn bytes_read(&self) -> Option<u64> {
        (self.workload == Workload::Memsum).then(|| self.size * 8)
    }

    /// The answer for `tasks`: the work itself.
    pub fn task(&self, tasks: Range<u64>) -> u64 {
        match self.workload {
            Workload::Primes => primes::count(tasks),
            Workload::MandelbrotStatic | Workload::MandelbrotDynamic => {
                mandelbrot::rows(self.size, tasks)
            }
            Workload::Serial | Workload::Scaled => synthetic::units(tasks),
            Workload::Memsum => {
                let data = self
                    .data
                    .as_ref()
                    .expect("memsum problems hold their array");
                memsum::sum(&data[tasks.start as usize..tasks.end as usize])
            }
            Workload::Io => {
                let mut sum = 0u64;
                for task in tasks {
                    // The blocking call stands for a disk read or a network round trip.
                    std::thread::sleep(IO_WAIT);
                    sum = sum.wrapping_add(task);
                }
                sum
            }
        }
    }

    /// The answer for worker `index` of `of`'s static share of the parallel phase.
    pub fn share(&self, index: u64, of: u64) -> u64 {
        let (_, parallel) = self.phases();
        schedule::static_share(self.schedule(), parallel, index, of)
            .into_iter()
            .fold(0, |sum, tasks| sum.wrapping_add(self.task(tasks)))
    }

    /// Runs the whole problem with `p` threads: the serial phase on this thread, then the
    /// parallel phase on `p` threads under the workload's schedule.
    pub fn run_threads(&self, p: usize) -> Result<u64> {
        if p == 0 {
            bail!("p must be at least 1");
        }
        let (serial, parallel) = self.phases();
        let first = self.task(serial);
        let rest = match self.schedule() {
            Schedule::Dynamic { chunk } => {
                let workers = (0..p)
                    .map(|_| |tasks: Range<u64>| -> Result<u64> { Ok(self.task(tasks)) })
                    .collect();
                schedule::run_dynamic(parallel, chunk, workers)?
            }
            schedule => schedule::run_static(schedule, parallel, p, |tasks| self.task(tasks)),
        };
        Ok(first.wrapping_add(rest))
    }
}
