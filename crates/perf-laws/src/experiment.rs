//! One experiment: a problem measured at several `p`, turned into speedups and compared with
//! the laws.
//!
//! For a fixed-size workload every `p` is compared with the same one-worker time `T1`
//! (strong scaling). For `scaled` the problem grows with `p`, so each `p` is compared with
//! one worker doing *that* grown problem (weak scaling), and the law to hold it against is
//! Gustafson's. The serial fraction is fitted (see [`crate::fit`]) on the points with
//! `p ≤ cores`, the only ones where `p` processors existed; the prediction column is the law
//! with that fitted fraction, and Karp–Flatt is computed for every point on its own.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::fit::{self, Point};
use crate::laws;
use crate::measure::{self, Plan, Sample};
use crate::processes;
use crate::workloads::{Problem, Workload};

/// Threads or processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Scoped threads of this process (`std::thread::scope`).
    Threads,
    /// Worker processes: this program re-run with its hidden `worker` subcommand.
    Processes,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub problem: Problem,
    pub ps: Vec<usize>,
    pub mode: Mode,
    pub plan: Plan,
    /// The executable whose `worker` subcommand the processes run.
    pub worker_exe: Option<PathBuf>,
}

/// One row of the table: the measurements at one `p`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub p: usize,
    /// Median wall time, seconds.
    pub time: f64,
    pub time_min: f64,
    pub time_max: f64,
    /// Median CPU time (user + system), seconds.
    pub cpu_time: f64,
    /// The one-worker time this row's speedup is measured against (the same for every row
    /// but in `scaled`, whose problem grows with `p`).
    pub t1: f64,
    pub speedup: f64,
    pub efficiency: f64,
    /// The law's speedup at this `p` with the fitted serial fraction.
    pub prediction: Option<f64>,
    /// The serial fraction this row's speedup implies (none at `p = 1`).
    pub karp_flatt: Option<f64>,
    /// Bytes read per second (`memsum` only), in GB/s.
    pub bandwidth_gbs: Option<f64>,
    pub answer: u64,
}

/// The whole experiment, as printed and as written by `--json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub workload: Workload,
    pub mode: Mode,
    pub size: u64,
    /// The cores this process may run on (`available_parallelism`).
    pub cores: usize,
    pub reps: usize,
    /// `amdahl` (fixed problem) or `gustafson` (scaled problem).
    pub law: &'static str,
    /// The serial fraction the workload was built with (`serial`, `scaled`).
    pub serial_fraction_nominal: Option<f64>,
    /// The serial fraction fitted to the measured speedups at `p ≤ cores`.
    pub serial_fraction_fit: Option<f64>,
    pub rows: Vec<Row>,
}

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Experiment {
    fn run_once(&self, problem: &Problem, p: usize) -> Result<u64> {
        match (self.mode, &self.worker_exe) {
            (Mode::Threads, _) => problem.run_threads(p),
            (Mode::Processes, Some(exe)) => processes::run_processes(problem, p, exe),
            (Mode::Processes, None) => bail!("processes need the worker executable"),
        }
    }

    fn sample(&self, problem: &Problem, p: usize) -> Result<Sample> {
        measure::measure(self.plan, || self.run_once(problem, p))
    }

    /// Measures `p` workers on the problem scaled to `p` (the same problem, for a fixed-size
    /// workload), against `t1_fixed` — the one-worker run of a fixed-size workload, measured
    /// once — or a one-worker run of the same scaled problem.
    fn row(&self, p: usize, t1_fixed: Option<&Sample>) -> Result<Row> {
        let problem = self.problem.scaled_to(p as u64);
        let sample = match t1_fixed {
            Some(base) if p == 1 => base.clone(),
            _ => self.sample(&problem, p)?,
        };
        let t1 = match t1_fixed {
            Some(base) => {
                if base.answer != sample.answer {
                    bail!(
                        "p = {p} answered {}, p = 1 answered {}",
                        sample.answer,
                        base.answer
                    );
                }
                base.wall.median
            }
            None if p == 1 => sample.wall.median,
            None => self.sample(&problem, 1)?.wall.median,
        };
        let speedup = laws::speedup(t1, sample.wall.median);
        Ok(Row {
            p,
            time: sample.wall.median,
            time_min: sample.wall.min,
            time_max: sample.wall.max,
            cpu_time: sample.cpu.median,
            t1,
            speedup,
            efficiency: laws::efficiency(speedup, p as f64),
            prediction: None,
            karp_flatt: laws::karp_flatt(speedup, p as f64),
            bandwidth_gbs: problem
                .bytes_read()
                .map(|b| b as f64 / sample.wall.median / 1e9),
            answer: sample.answer,
        })
    }

    /// Measures every `p` and builds the report.
    pub fn run(&self) -> Result<Report> {
        if self.ps.is_empty() || self.ps.contains(&0) {
            bail!("give at least one p, each at least 1");
        }
        let scaled = self.problem.workload.is_scaled();
        let t1_fixed = if scaled {
            None
        } else {
            Some(self.sample(&self.problem, 1)?)
        };
        let mut rows = Vec::new();
        for &p in &self.ps {
            rows.push(self.row(p, t1_fixed.as_ref())?);
        }
        let cores = cores();
        let fitted = fit_rows(&rows, cores, scaled);
        for row in &mut rows {
            row.prediction = fitted.map(|f| predict(scaled, f, row.p as f64));
        }
        let nominal = matches!(self.problem.workload, Workload::Serial | Workload::Scaled)
            .then_some(self.problem.serial_fraction);
        Ok(Report {
            workload: self.problem.workload,
            mode: self.mode,
            size: self.problem.size,
            cores,
            reps: self.plan.reps,
            law: if scaled { "gustafson" } else { "amdahl" },
            serial_fraction_nominal: nominal,
            serial_fraction_fit: fitted,
            rows,
        })
    }
}

/// The law's speedup at `p` for serial fraction `f`.
pub fn predict(scaled: bool, f: f64, p: f64) -> f64 {
    if scaled {
        laws::gustafson(f, p)
    } else {
        laws::amdahl(f, p)
    }
}

/// Fits the serial fraction to the rows with `1 < p ≤ cores` (all rows if there are none).
fn fit_rows(rows: &[Row], cores: usize, scaled: bool) -> Option<f64> {
    let points = |within: bool| -> Vec<Point> {
        rows.iter()
            .filter(|row| !within || row.p <= cores)
            .map(|row| Point {
                p: row.p as f64,
                s: row.speedup,
            })
            .collect()
    };
    let fit = |points: &[Point]| {
        if scaled {
            fit::fit_gustafson_alpha(points)
        } else {
            fit::fit_serial_fraction(points)
        }
    };
    fit(&points(true)).or_else(|| fit(&points(false)))
}

impl Report {
    /// The table the CLI prints.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let fraction = |f: Option<f64>| f.map_or("-".to_string(), |f| format!("{f:.3}"));
        out.push_str(&format!(
            "workload {} on {} ({} cores), size {}, median of {} runs\n",
            self.workload.name(),
            match self.mode {
                Mode::Threads => "threads",
                Mode::Processes => "processes",
            },
            self.cores,
            self.size,
            self.reps
        ));
        out.push_str(&format!(
            "serial fraction: fitted {} (at p <= {}), nominal {}; prediction = {}'s law\n",
            fraction(self.serial_fraction_fit),
            self.cores,
            fraction(self.serial_fraction_nominal),
            self.law
        ));
        let bandwidth = self.rows.iter().any(|row| row.bandwidth_gbs.is_some());
        out.push_str("    p    time (s)  min..max (s)    cpu/wall  speedup  efficiency  prediction  karp-flatt");
        out.push_str(if bandwidth { "  GB/s\n" } else { "\n" });
        for row in &self.rows {
            out.push_str(&format!(
                "{:>5}  {:>10.4}  {:>6.3}..{:<6.3}  {:>8.2}  {:>7.2}  {:>10.2}  {:>10}  {:>10}",
                row.p,
                row.time,
                row.time_min,
                row.time_max,
                row.cpu_time / row.time,
                row.speedup,
                row.efficiency,
                row.prediction.map_or("-".into(), |s| format!("{s:.2}")),
                row.karp_flatt.map_or("-".into(), |e| format!("{e:.3}")),
            ));
            if let Some(gbs) = row.bandwidth_gbs {
                out.push_str(&format!("  {gbs:.1}"));
            }
            out.push('\n');
        }
        out
    }
}
