//! What starting a process costs — fork, fork+exec, posix_spawn, Command, and a thread for
//! comparison — with the parent's resident memory at several sizes; then a pool against one
//! process per task on many tiny tasks (`multiprocess::spawn_cost`). Prints markdown tables.
//!
//! Run:    cargo bench -p multiprocess --bench spawn_cost
//! Quick:  cargo bench -p multiprocess --bench spawn_cost -- --quick   (1 and 8 MiB, 5 runs, 50 tasks)
//! Output: | method (median µs per start + wait; × a thread) | 10 MiB (RSS 12 MiB) | ... |
//!         | fork + _exit + wait | 1000 µs (31.9×) | ...
//!         ...
//!         | 10000 tiny tasks | pool of 2 workers | one process per task | ratio |
//!         and the machine/load line.
//!
//! The criterion bench `spawn` measures fork, posix_spawn and a thread with confidence intervals;
//! this one puts every method side by side, as ratios from one run.

use benchkit::{BenchArgs, Machine, Table};
use clap::Parser;
use multiprocess::spawn_cost::{self, Ballast, Method};

/// Process creation cost against parent RSS, and pool vs process per task.
#[derive(Parser)]
struct Args {
    /// Parent resident sizes to measure at, in MiB [default: 10,100,1024; quick: 1,8].
    #[arg(long, value_delimiter = ',')]
    rss: Vec<usize>,
    /// Runs per method and size, the median is shown [default: 200; quick: 5].
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    iterations: Option<usize>,
    /// Tiny tasks for the pool comparison [default: 10000; quick: 50].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    tasks: Option<u64>,
    #[command(flatten)]
    bench: BenchArgs,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let machine = Machine::start();
    let rss = match &args.rss[..] {
        [] => args.bench.pick(vec![10, 100, 1024], vec![1, 8]),
        given => given.to_vec(),
    };
    let iterations = args.iterations.unwrap_or(args.bench.pick(200, 5));
    let tasks = args.tasks.unwrap_or(args.bench.pick(10_000, 50));

    let mut header = vec!["method (median µs per start + wait; × a thread)".to_string()];
    let mut columns = Vec::new();
    for &mib in &rss {
        let ballast = Ballast::of_mib(mib);
        header.push(format!(
            "{mib} MiB (RSS {} MiB)",
            spawn_cost::resident_mib()?
        ));
        let column = Method::ALL
            .iter()
            .map(|&method| spawn_cost::measure(method, iterations))
            .collect::<std::io::Result<Vec<_>>>()?;
        columns.push(column);
        drop(ballast);
    }
    let mut starts = Table::new(header);
    for (row, method) in Method::ALL.iter().enumerate() {
        let cells = columns.iter().map(|times| {
            let thread = times[Method::ALL.len() - 1].as_secs_f64();
            let t = times[row].as_secs_f64();
            format!("{:.0} µs ({:.1}×)", t * 1e6, t / thread)
        });
        starts.row(std::iter::once(method.to_string()).chain(cells));
    }

    let (pooled, per_task) = spawn_cost::pool_vs_process_per_task(tasks, 2)?;
    let mut pool = Table::new([
        format!("{tasks} tiny tasks"),
        "pool of 2 workers".into(),
        "one process per task".into(),
        "ratio".into(),
    ]);
    pool.row([
        "total time".to_string(),
        format!("{:.0} ms", pooled.as_secs_f64() * 1e3),
        format!("{:.0} ms", per_task.as_secs_f64() * 1e3),
        format!("{:.1}×", per_task.as_secs_f64() / pooled.as_secs_f64()),
    ]);
    println!(
        "{starts}\n{pool}\nmedian of {iterations} runs per cell; {}.",
        args.bench.footer(&machine)
    );
    Ok(())
}
