//! Throughput of three ways to run many tiny tasks: this crate's pool, the `threadpool`
//! crate, and a thread spawned per task — measured in one run, as ratios.
//!
//! Run:    cargo run -p multithread --release --example pool_bench -- --tasks 1000000
//! Output: tasks    way             time      tasks/s     vs threadpool
//!         1000000  own pool        ...
//!         1000000  threadpool      ...
//!         1000000  spawn per task  ...

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Failure;
use multithread::pool::ThreadPool;

/// Pool vs threadpool vs spawn-per-task.
#[derive(Parser)]
struct Args {
    /// Tasks per way.
    #[arg(long, default_value_t = 1_000_000)]
    tasks: u64,
    /// Worker threads for both pools.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Queue slots of the own pool.
    #[arg(long, default_value_t = 1024)]
    queue: usize,
    /// Tasks for spawn-per-task (it is slow); default: --tasks.
    #[arg(long)]
    spawn_tasks: Option<u64>,
}

/// A tiny task: one relaxed add.
fn task(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn own_pool(args: &Args) -> Duration {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    {
        let pool = ThreadPool::new(args.workers, args.queue).expect("starting the pool");
        for _ in 0..args.tasks {
            let counter = Arc::clone(&counter);
            pool.execute(move || task(&counter)).expect("pool open");
        }
    } // drop: drains and joins
    let took = start.elapsed();
    assert_eq!(counter.load(Ordering::SeqCst), args.tasks);
    took
}

fn threadpool_crate(args: &Args) -> Duration {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let pool = threadpool::ThreadPool::new(args.workers);
    for _ in 0..args.tasks {
        let counter = Arc::clone(&counter);
        pool.execute(move || task(&counter));
    }
    pool.join();
    let took = start.elapsed();
    assert_eq!(counter.load(Ordering::SeqCst), args.tasks);
    took
}

fn spawn_per_task(tasks: u64) -> Duration {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    // Joined in batches, so at most 256 threads exist at once.
    let mut handles = Vec::with_capacity(256);
    for _ in 0..tasks {
        let counter = Arc::clone(&counter);
        handles.push(std::thread::spawn(move || task(&counter)));
        if handles.len() == 256 {
            handles.drain(..).for_each(|h| h.join().unwrap());
        }
    }
    handles.into_iter().for_each(|h| h.join().unwrap());
    let took = start.elapsed();
    assert_eq!(counter.load(Ordering::SeqCst), tasks);
    took
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let spawn_tasks = args.spawn_tasks.unwrap_or(args.tasks);
    // The two pools alternate, twice, so neither always runs on a colder machine.
    let mut own = Vec::new();
    let mut crate_pool = Vec::new();
    for _ in 0..2 {
        own.push(own_pool(&args));
        crate_pool.push(threadpool_crate(&args));
    }
    let own = own.into_iter().min().unwrap();
    let crate_pool = crate_pool.into_iter().min().unwrap();
    let spawned = spawn_per_task(spawn_tasks);
    let rate = |tasks: u64, took: Duration| tasks as f64 / took.as_secs_f64();
    let reference = rate(args.tasks, crate_pool);
    println!(
        "{:<9} {:<15} {:<10} {:<12} vs threadpool",
        "tasks", "way", "time", "tasks/s"
    );
    for (way, tasks, took) in [
        ("own pool", args.tasks, own),
        ("threadpool", args.tasks, crate_pool),
        ("spawn per task", spawn_tasks, spawned),
    ] {
        println!(
            "{:<9} {:<15} {:<10} {:<12.0} {:.2}x",
            tasks,
            way,
            format!("{took:.2?}"),
            rate(tasks, took),
            rate(tasks, took) / reference
        );
    }
    Ok(())
}
