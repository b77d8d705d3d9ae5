//! Ranks every IPC mechanism of the chapter: throughput and ping-pong round trip between a
//! parent and a forked child at 64 B, 4 KiB, 64 KiB and 1 MiB, with memcpy as the ceiling.
//!
//! Run:    cargo bench -p ipc --bench ipc_bench -- --plot docs/src/ipc-bench.svg
//! Quick:  cargo bench -p ipc --bench ipc_bench -- --quick   (a few messages per cell: checks
//!         that everything runs, measures nothing; `cargo test -p ipc --benches` runs it too)
//! Output: | throughput: MB/s (messages/s) [× memcpy] | 64 B | 4 KiB | 64 KiB | 1 MiB |
//!         | shm ring, futex | 700 (11M) [9%] | … |
//!         …
//!         | ping-pong round trip, µs | 64 B | … |
//!         64 B messages/s: shm ring, futex 11M > … > TCP loopback 120k
//!         idle consumer, producer silent for 1000 ms: shm ring, spin+yield 97.5% of a CPU, …
//!         2 CPUs, Linux 6.18.5; load average before 0.52 0.61 0.70, after …; took 76 s
//!
//! Each mechanism is an `ipc::mechanisms` endpoint pair made before the fork; the child takes
//! one end ([`measure`] times them). The ring is measured with both ways of waiting, and the
//! idle line shows what each costs while there is nothing to read
//! (`ipc::ring::idle::idle_consumer_cpu`). The numbers depend on the machine and its load:
//! compare rows within one run.

mod measure;
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use benchkit::{BenchArgs, Machine};
use clap::Parser;
use ipc::mechanisms::Mechanism;
use ipc::ring::WaitStrategy;
use ipc::ring::idle::idle_consumer_cpu;
use labkit::Failure;
use measure::{Plan, Subject};

/// The message sizes measured.
pub const SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];

/// Throughput and latency of every IPC mechanism, side by side.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    bench: BenchArgs,
    /// Write the plot here (SVG; a relative path is from the workspace root)
    /// [default: <out dir>/ipc-bench.svg].
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let machine = Machine::start();
    let plan = args.bench.pick(Plan::FULL, Plan::QUICK);
    let mut cells = Vec::new();
    for subject in Subject::all() {
        for size in SIZES {
            eprintln!(
                "measuring {} at {}",
                subject.name(),
                report::size_name(size)
            );
            cells.push(measure::measure(subject, size, plan)?);
        }
    }
    println!("{}", report::throughput_table(&cells));
    println!("{}", report::latency_table(&cells));
    println!("{}", report::ranking(&cells, 64));
    let window = args
        .bench
        .pick(Duration::from_secs(1), Duration::from_millis(100));
    let mut idle = Vec::new();
    for (mechanism, strategy) in [
        (Mechanism::ShmRingSpin, WaitStrategy::SpinYield),
        (Mechanism::ShmRing, WaitStrategy::Futex),
    ] {
        let share = idle_consumer_cpu(strategy, window)?;
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
    println!("{}", machine.line());
    let path = match args.plot {
        // cargo runs a bench in its package's directory; the docs name paths from the root.
        Some(path) => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .map_or(path.clone(), |root| root.join(&path)),
        None => args.bench.out_dir("ipc_bench")?.join("ipc-bench.svg"),
    };
    report::plot(&cells, &path)
        .map_err(|e| Failure::new(format!("writing the plot {}: {e}", path.display())))?;
    println!("\nplot written to {}", path.display());
    Ok(())
}
