//! Throughput of three ways to run many tiny tasks: this crate's pool, the `threadpool` crate,
//! and a thread spawned per task — measured in one run, as ratios (`multithread::pool_speed`).
//!
//! Run:    cargo bench -p multithread --bench pool -- --tasks 1000000
//! Quick:  cargo bench -p multithread --bench pool -- --quick   (20,000 tasks, 500 spawned)
//! Output: | way | tasks | time | tasks/s | vs threadpool |
//!         | own pool | 1000000 | 141 ms | 7,073,092 | 1.47× |
//!         …, then the machine/load line.

use benchkit::{BenchArgs, Machine, Table};
use clap::Parser;
use multithread::pool_speed::{self, Plan};

/// Pool vs threadpool vs spawn-per-task.
#[derive(Parser)]
struct Args {
    /// Tasks per pool [default: 1000000; quick: 20000].
    #[arg(long)]
    tasks: Option<u64>,
    /// Tasks for spawn-per-task (it is slow) [default: --tasks; quick: 500].
    #[arg(long)]
    spawn_tasks: Option<u64>,
    /// Worker threads for both pools.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Queue slots of the own pool.
    #[arg(long, default_value_t = 1024)]
    queue: usize,
    #[command(flatten)]
    bench: BenchArgs,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let machine = Machine::start();
    let tasks = args.tasks.unwrap_or(args.bench.pick(1_000_000, 20_000));
    let plan = Plan {
        tasks,
        spawn_tasks: args.spawn_tasks.unwrap_or(args.bench.pick(tasks, 500)),
        workers: args.workers,
        queue: args.queue,
    };
    eprintln!(
        "pool: {} tasks through each pool and {} threads spawned, best of two runs each...",
        plan.tasks, plan.spawn_tasks
    );
    let runs = pool_speed::compare(plan)?;
    let reference = runs[1].tasks_per_sec();
    let mut table = Table::new(["way", "tasks", "time", "tasks/s", "vs threadpool"]).numeric();
    for run in &runs {
        table.row([
            run.way.to_string(),
            run.tasks.to_string(),
            format!("{:.2?}", run.took),
            format!("{:.0}", run.tasks_per_sec()),
            format!("{:.2}×", run.tasks_per_sec() / reference),
        ]);
    }
    println!(
        "{table}\n{} workers, queue {}; each pool's best of two alternating runs; {}.",
        plan.workers,
        plan.queue,
        args.bench.footer(&machine)
    );
    Ok(())
}
