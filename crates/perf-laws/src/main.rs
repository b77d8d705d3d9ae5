//! `perf-laws`: measure a workload at several worker counts and compare it with the laws.
//!
//! ```sh
//! cargo run -p perf-laws --release -- run --workload primes --p 1,2,4,8 --plot primes.svg
//! cargo run -p perf-laws --release -- run --workload serial --serial-fraction 0.2 --p 1,2 --json
//! cargo run -p perf-laws --release -- run --workload mandelbrot-dynamic --mode processes
//! cargo run -p perf-laws -- --help            # lists the workloads
//! ```

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use perf_laws::experiment::{Experiment, Mode};
use perf_laws::measure::Plan;
use perf_laws::processes::{self, Role};
use perf_laws::workloads::{Problem, Workload};

/// The workload list for the top-level `--help` (`run --help` describes each one).
const WORKLOADS: &str =
    "Workloads (--workload, see `perf-laws run --help`): primes, mandelbrot-static, \
mandelbrot-dynamic, serial, scaled, memsum, io

Example: perf-laws run --workload primes --p 1,2,4,8 --plot primes.svg";

#[derive(Parser, Debug)]
#[command(
    name = "perf-laws",
    about = "Measure speedup, efficiency and Karp-Flatt on real workloads, and compare them with Amdahl's and Gustafson's laws.",
    after_help = WORKLOADS
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Time a workload at each p and print speedup, efficiency, prediction and Karp-Flatt.
    Run(RunArgs),
    /// (internal) One worker process of `run --mode processes`.
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(clap::Args, Debug)]
struct ProblemArgs {
    /// The workload to run.
    #[arg(long, value_enum, default_value = "primes")]
    workload: Workload,
    /// Problem size (numbers, rows, units, elements or tasks; see the workload list). Default:
    /// a few tenths of a second on one core.
    #[arg(long)]
    size: Option<u64>,
    /// Serial fraction of the `serial` and `scaled` workloads.
    #[arg(long, default_value_t = 0.1)]
    serial_fraction: f64,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    /// The worker counts to measure, comma-separated.
    #[arg(long = "p", value_delimiter = ',', default_value = "1,2,4,8")]
    ps: Vec<usize>,
    /// Threads or worker processes.
    #[arg(long, value_enum, default_value = "threads")]
    mode: Mode,
    /// Timed repetitions per p (the median is reported).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Untimed warm-up runs per p.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also draw measured speedup against the laws into this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct WorkerArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    /// For `scaled`: how many times the base parallel work.
    #[arg(long, default_value_t = 1)]
    multiplier: u64,
    /// This worker's share number.
    #[arg(long, requires = "of", conflicts_with = "serve")]
    index: Option<u64>,
    /// The number of workers sharing the work.
    #[arg(long, requires = "index")]
    of: Option<u64>,
    /// Answer chunks `<start> <end>` from stdin until end of input.
    #[arg(long)]
    serve: bool,
}

impl ProblemArgs {
    fn problem(&self) -> Result<Problem> {
        let size = self.size.unwrap_or(self.workload.default_size());
        Problem::new(self.workload, size, self.serial_fraction)
    }
}

fn run(args: RunArgs) -> Result<()> {
    // A plot that cannot be written is refused now, not after a run of minutes.
    if let Some(path) = &args.plot {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            anyhow::bail!(
                "cannot write the plot to {}: the directory {} does not exist",
                path.display(),
                dir.display()
            );
        }
    }
    let experiment = Experiment {
        problem: args.problem.problem()?,
        ps: args.ps,
        mode: args.mode,
        plan: Plan {
            warmup: args.warmup,
            reps: args.reps,
        },
        worker_exe: Some(std::env::current_exe().context("locating this program")?),
    };
    let report = experiment.run()?;
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        report.table()
    };
    // `perf-laws run … | head` closes the pipe early: that is not an error worth a panic.
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    if let Some(path) = &args.plot {
        perf_laws::plot::write_svg(&report, path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn worker(args: WorkerArgs) -> Result<()> {
    let problem = args.problem.problem()?.scaled_to(args.multiplier);
    let role = match (args.index, args.of, args.serve) {
        (Some(index), Some(of), false) => Role::Share { index, of },
        (None, None, true) => Role::Serve,
        _ => anyhow::bail!("a worker needs either --index and --of, or --serve"),
    };
    let stdout = BufWriter::new(io::stdout().lock());
    processes::serve(&problem, role, io::stdin().lock(), stdout)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Worker(args) => worker(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("perf-laws: {error:#}");
            ExitCode::FAILURE
        }
    }
}
