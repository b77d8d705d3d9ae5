//! "Threads for IO-bound, processes for CPU-bound" measured: the same total work split over
//! 1, 2 and 4 threads and processes, CPU-bound and IO-bound, with the speedup over 1 thread.
//!
//! Run:    cargo run -p multithread --release --example cpu_vs_io
//! Try:    -- --cpu-units 400 --io-units 400 --workers 1,2,4,8
//! Output: work  workers  threads    speedup  processes  speedup
//!         cpu   1        1.02s      1.00x    1.03s      0.99x
//!         ...   (one row per kind and worker count)

use clap::Parser;
use labkit::Failure;
use multithread::cpu_vs_io::{self, Kind};

/// CPU-bound vs IO-bound work on threads and processes.
#[derive(Parser)]
struct Args {
    /// Units of CPU work in total (one unit: 100,000 xorshift rounds).
    #[arg(long, default_value_t = 2000)]
    cpu_units: u64,
    /// Units of IO work in total (one unit: blocked for 1 ms).
    #[arg(long, default_value_t = 400)]
    io_units: u64,
    /// Worker counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// (internal) run as a process worker of this kind.
    #[arg(long, hide = true)]
    worker: Option<String>,
    /// (internal) units for a process worker.
    #[arg(long, hide = true, default_value_t = 0)]
    units: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    if let Some(kind) = &args.worker {
        let kind = if kind == "cpu" { Kind::Cpu } else { Kind::Io };
        println!("{}", cpu_vs_io::work(kind, args.units));
        return Ok(());
    }
    let program = std::env::current_exe()?;
    println!(
        "{:<5} {:<8} {:<10} {:<8} {:<10} {:<8}",
        "work", "workers", "threads", "speedup", "processes", "speedup"
    );
    for (kind, total) in [(Kind::Cpu, args.cpu_units), (Kind::Io, args.io_units)] {
        let base = cpu_vs_io::with_threads(kind, 1, total);
        for &workers in &args.workers {
            let threads = if workers == 1 {
                base
            } else {
                cpu_vs_io::with_threads(kind, workers, total)
            };
            let processes = cpu_vs_io::with_processes(&program, kind, workers, total)?;
            println!(
                "{:<5} {:<8} {:<10} {:<8} {:<10} {:<8}",
                kind.name(),
                workers,
                format!("{threads:.2?}"),
                format!("{:.2}x", base.as_secs_f64() / threads.as_secs_f64()),
                format!("{processes:.2?}"),
                format!("{:.2}x", base.as_secs_f64() / processes.as_secs_f64()),
            );
        }
    }
    Ok(())
}
