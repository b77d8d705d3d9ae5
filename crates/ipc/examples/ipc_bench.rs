//! Ranks every IPC mechanism of the chapter: throughput and ping-pong round trip between a
//! parent and a forked child at 64 B, 4 KiB, 64 KiB and 1 MiB, with memcpy as the ceiling.
//! Prints markdown tables (and writes an SVG plot with `--plot`).
//!
//! Run:    cargo run -p ipc --release --example ipc_bench -- --plot docs/src/ipc-bench.svg
//! Output: | throughput: MB/s (messages/s) [× memcpy] | 64 B | 4 KiB | 64 KiB | 1 MiB |
//!         | shm ring, futex | 700 (11M) [9%] | … |
//!         …
//!         | ping-pong round trip, µs | 64 B | … |
//!         64 B messages/s: shm ring, futex 11M > … > TCP loopback 120k
//!         idle consumer, producer silent for 1000 ms: shm ring, spin+yield 97.5% of a CPU, …
//! Quick:  --quick (a few messages per cell: checks that everything runs, measures nothing)

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipc::bench::{self, Mechanism, Plan, SIZES, report};
use ipc::ring::WaitStrategy;
use labkit::Failure;

/// Throughput and latency of every IPC mechanism, side by side.
#[derive(Parser)]
struct Args {
    /// A few messages per cell instead of the full plan.
    #[arg(long)]
    quick: bool,
    /// Write the plot here (SVG).
    #[arg(long)]
    plot: Option<PathBuf>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let plan = if args.quick { Plan::QUICK } else { Plan::FULL };
    let mut cells = Vec::new();
    for mechanism in Mechanism::ALL {
        for size in SIZES {
            eprintln!(
                "measuring {} at {}",
                mechanism.name(),
                report::size_name(size)
            );
            cells.push(bench::measure(mechanism, size, plan)?);
        }
    }
    println!("{}", report::throughput_table(&cells));
    println!("{}", report::latency_table(&cells));
    println!("{}", report::ranking(&cells, 64));
    let window = Duration::from_millis(if args.quick { 100 } else { 1000 });
    let mut idle = Vec::new();
    for (mechanism, strategy) in [
        (Mechanism::ShmRingSpin, WaitStrategy::SpinYield),
        (Mechanism::ShmRing, WaitStrategy::Futex),
    ] {
        let share = bench::idle_consumer_cpu(strategy, window)?;
        idle.push(format!(
            "{} {:.1}% of a CPU",
            mechanism.name(),
            100.0 * share
        ));
    }
    println!(
        "idle consumer, producer silent for {} ms: {}",
        window.as_millis(),
        idle.join(", ")
    );
    if let Some(path) = &args.plot {
        report::plot(&cells, path)
            .map_err(|e| Failure::new(format!("writing the plot {}: {e}", path.display())))?;
        println!("\nplot written to {}", path.display());
    }
    Ok(())
}
