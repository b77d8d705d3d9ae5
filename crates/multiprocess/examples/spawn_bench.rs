//! Measures what starting a process costs — fork, fork+exec, posix_spawn, Command, and a thread
//! for comparison — with the parent's resident memory at several sizes; then a pool against
//! one process per task on many tiny tasks. Prints markdown tables.
//!
//! Run:    cargo run -p multiprocess --release --example spawn_bench
//! Output: | method (median µs per start + wait; × a thread) | 10 MiB (RSS 12 MiB) | ... |
//!         | fork + _exit + wait | 1000 µs (31.9×) | ...
//!         ...
//!         | 10000 tiny tasks | pool of 2 workers | one process per task | ratio |
//! Quick:  --quick (1 and 8 MiB, 5 runs, 50 tasks: checks that everything runs)

use clap::Parser;
use labkit::Failure;
use multiprocess::spawn_cost::{self, Ballast, Method};

/// Process creation cost against parent RSS, and pool vs process per task.
#[derive(Parser)]
struct Args {
    /// Parent resident sizes to measure at, in MiB.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 100, 1024])]
    rss: Vec<usize>,
    /// Runs per method and size (the median is shown).
    #[arg(long, default_value_t = 200, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    iterations: usize,
    /// Tiny tasks for the pool comparison.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    tasks: u64,
    /// A quick run to check that everything works (small sizes, few runs).
    #[arg(long)]
    quick: bool,
}

fn main() -> Result<(), Failure> {
    let mut args = Args::parse();
    if args.quick {
        args.rss = vec![1, 8];
        args.iterations = 5;
        args.tasks = 50;
    }
    let mut columns = Vec::new();
    for &mib in &args.rss {
        let ballast = Ballast::of_mib(mib);
        let resident = spawn_cost::resident_mib()?;
        let mut column = Vec::new();
        for method in Method::ALL {
            column.push(spawn_cost::measure(method, args.iterations)?);
        }
        columns.push((ballast.mib(), resident, column));
    }

    let header: Vec<String> = columns
        .iter()
        .map(|(mib, rss, _)| format!("{mib} MiB (RSS {rss} MiB)"))
        .collect();
    println!(
        "| method (median µs per start + wait; × a thread) | {} |",
        header.join(" | ")
    );
    println!("| --- |{}", " --- |".repeat(columns.len()));
    for (row, method) in Method::ALL.iter().enumerate() {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, _, times)| {
                let thread = times[Method::ALL.len() - 1].as_secs_f64();
                let t = times[row].as_secs_f64();
                format!("{:.0} µs ({:.1}×)", t * 1e6, t / thread)
            })
            .collect();
        println!("| {method} | {} |", cells.join(" | "));
    }

    let (pooled, per_task) = spawn_cost::pool_vs_process_per_task(args.tasks, 2)?;
    println!();
    println!(
        "| {} tiny tasks | pool of 2 workers | one process per task | ratio |",
        args.tasks
    );
    println!("| --- | --- | --- | --- |");
    println!(
        "| total time | {:.0} ms | {:.0} ms | {:.1}× |",
        pooled.as_secs_f64() * 1e3,
        per_task.as_secs_f64() * 1e3,
        per_task.as_secs_f64() / pooled.as_secs_f64()
    );
    Ok(())
}
