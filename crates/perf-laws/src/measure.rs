//! The measurement runner: warm-up, repetitions, median and spread, wall time and CPU time.
//!
//! One timing of a parallel program says little on a shared machine: the first run pays for
//! page faults and cold caches, and any run can be slowed by a neighbour. So the runner throws
//! away `warmup` runs, times `reps` more, and reports the **median** (robust to one slow
//! outlier) with the **spread** (min and max), so a reader can see how noisy it was.
//!
//! It also reports **CPU time** (user + system, of this process and of the worker processes it
//! waited for, from `getrusage(2)`) next to wall time. Their ratio is the number of cores that
//! were busy on average: about `p` for a CPU-bound run on `p ≤ cores`, stuck at the core count
//! beyond, and near 0 for a run that mostly waits. That ratio tells a CPU-bound workload from
//! an IO-bound one at a glance.
//!
//! The pitfall: a run that is fast because it computed the wrong thing. Every repetition
//! returns its answer, and the runner fails if two repetitions disagree.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use nix::sys::resource::{UsageWho, getrusage};

/// Median, minimum and maximum of a set of timings, in seconds: the workspace's one summary of
/// repeated runs (`benchkit`, which every bench uses too).
pub use benchkit::Spread;

/// The timings of one configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sample {
    /// Wall-clock seconds per repetition.
    pub wall: Spread,
    /// CPU seconds (user + system, this process and waited-for children) per repetition.
    pub cpu: Spread,
    /// The answer every repetition computed.
    pub answer: u64,
}

/// How many runs to throw away and how many to time.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub warmup: usize,
    pub reps: usize,
}

/// CPU time used so far by this process and by the children it has waited for.
pub fn cpu_time() -> Duration {
    let mut total = Duration::ZERO;
    for who in [UsageWho::RUSAGE_SELF, UsageWho::RUSAGE_CHILDREN] {
        if let Ok(usage) = getrusage(who) {
            for time in [usage.user_time(), usage.system_time()] {
                total += Duration::from_micros(time.tv_sec() as u64 * 1_000_000)
                    + Duration::from_micros(time.tv_usec() as u64);
            }
        }
    }
    total
}

/// Runs `job` `plan.warmup` times untimed, then `plan.reps` times timed, and checks that every
/// run gave the same answer.
pub fn measure(plan: Plan, mut job: impl FnMut() -> Result<u64>) -> Result<Sample> {
    if plan.reps == 0 {
        bail!("at least one timed repetition is needed");
    }
    let mut answers = Vec::with_capacity(plan.warmup + plan.reps);
    for _ in 0..plan.warmup {
        answers.push(job()?);
    }
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..plan.reps {
        let (cpu_start, start) = (cpu_time(), Instant::now());
        answers.push(job()?);
        wall.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_time().saturating_sub(cpu_start).as_secs_f64());
    }
    if let Some(other) = answers.iter().find(|&&a| a != answers[0]) {
        bail!(
            "the workload is not deterministic: one run answered {}, another {other}",
            answers[0]
        );
    }
    Ok(Sample {
        wall: Spread::of(&wall),
        cpu: Spread::of(&cpu),
        answer: answers[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_runs_warmups_untimed_then_the_timed_repetitions() {
        let mut calls = 0;
        let sample = measure(Plan { warmup: 2, reps: 3 }, || {
            calls += 1;
            Ok(42)
        })
        .unwrap();
        assert_eq!(calls, 5);
        assert_eq!(sample.answer, 42);
        assert!(sample.wall.min <= sample.wall.median && sample.wall.median <= sample.wall.max);
    }

    #[test]
    fn measure_rejects_a_workload_whose_answer_changes() {
        let mut n = 0;
        let error = measure(Plan { warmup: 0, reps: 3 }, || {
            n += 1;
            Ok(if n == 2 { 7 } else { 6 })
        })
        .unwrap_err();
        assert!(error.to_string().contains("not deterministic"), "{error}");
        assert!(measure(Plan { warmup: 0, reps: 0 }, || Ok(1)).is_err());
    }

    #[test]
    fn cpu_time_counts_a_busy_loop_on_this_thread() {
        let before = cpu_time();
        let mut x = 1u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        // 30 ms of spinning is at least a few ms of CPU even on a loaded machine.
        assert!(cpu_time() - before >= Duration::from_millis(3), "x = {x}");
    }
}
