//! The machine/load line every recorded table carries: where it ran and how busy it was.
//!
//! Benchmarks here compare ratios measured in one run, on a shared machine; a table is only
//! worth recording with the load it ran under. [`Machine::start`] notes the CPUs, the kernel
//! and the load average when a run begins; [`Machine::line`] adds the load average after and
//! the time taken:
//!
//! ```text
//! 2 CPUs, Linux 6.18.5; load average before 0.52 0.61 0.70, after 1.10 0.75 0.74; took 41 s
//! ```

use std::fmt;
use std::time::{Duration, Instant};

/// A run's machine, noted when it began.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPUs online (not only those this thread may use: pinning does not change it).
    pub cpus: usize,
    /// The kernel release, e.g. `6.18.5`.
    pub kernel: String,
    /// The 1, 5 and 15 minute load averages when the run began.
    pub load_before: String,
    started: Instant,
}

impl Machine {
    /// Notes the machine and its load now.
    pub fn start() -> Machine {
        Machine {
            cpus: online_cpus(),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            load_before: load_average(),
            started: Instant::now(),
        }
    }

    /// Time since [`Machine::start`].
    pub fn took(&self) -> Duration {
        self.started.elapsed()
    }

    /// The line for the report, with the load average now.
    pub fn line(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} CPUs, Linux {}; load average before {}, after {}; took {}",
            self.cpus,
            self.kernel,
            self.load_before,
            load_average(),
            seconds(self.took())
        )
    }
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg` (`?` where unreadable).
pub fn load_average() -> String {
    let all = read_trimmed("/proc/loadavg");
    let three: Vec<&str> = all.split_whitespace().take(3).collect();
    if three.len() == 3 {
        three.join(" ")
    } else {
        "?".into()
    }
}

/// CPUs online, counted in `/proc/cpuinfo` (at least 1).
fn online_cpus() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| info.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0)
        .max(1)
}

/// `0.4 s`, `12 s`: a tenth where it matters.
fn seconds(took: Duration) -> String {
    let s = took.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| "?".into(), |s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_cpus_kernel_loads_and_time() {
        let machine = Machine::start();
        assert!(machine.cpus >= 1);
        let line = machine.line();
        assert!(
            line.starts_with(&format!("{} CPUs, Linux ", machine.cpus)),
            "{line}"
        );
        assert!(
            line.contains("load average before ") && line.contains(", after "),
            "{line}"
        );
        assert!(line.ends_with(" s"), "{line}");
        // Three numbers, as /proc/loadavg gives them.
        let loads: Vec<f64> = load_average()
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(loads.len(), 3);
    }
}
