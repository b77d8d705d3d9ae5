//! What the pool is for, measured: many tiny tasks through this crate's [`ThreadPool`], through
//! the `threadpool` crate, and with a thread spawned per task.
//!
//! A task here is one relaxed atomic add, so the time is all overhead: handing a job over (a
//! channel send, a wake-up) for the pools, `clone(2)` + a stack `mmap` + a join for a thread per
//! task. The pools run alternately, twice each, and each keeps its best time, so neither always
//! runs on the colder machine. `cargo bench -p multithread --bench pool` prints the table.
//!
//! The pitfall: a benchmark whose tasks did not all run measures less work. Every way counts
//! its tasks and [`compare`] fails if one went missing.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::pool::ThreadPool;

/// How much work each way gets.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Tasks for each pool.
    pub tasks: u64,
    /// Tasks for spawn-per-task (it is slow).
    pub spawn_tasks: u64,
    /// Worker threads of both pools.
    pub workers: usize,
    /// Queue slots of the own pool.
    pub queue: usize,
}

/// One way's result.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub way: &'static str,
    pub tasks: u64,
    pub took: Duration,
}

impl Run {
    pub fn tasks_per_sec(&self) -> f64 {
        self.tasks as f64 / self.took.as_secs_f64()
    }
}

/// The own pool, the `threadpool` crate, a thread per task — in that order.
pub fn compare(plan: Plan) -> io::Result<Vec<Run>> {
    let (mut own, mut crate_pool) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        own.push(own_pool(plan)?);
        crate_pool.push(threadpool_crate(plan)?);
    }
    let best = |times: Vec<Duration>| times.into_iter().min().expect("two runs");
    Ok(vec![
        Run {
            way: "own pool",
            tasks: plan.tasks,
            took: best(own),
        },
        Run {
            way: "threadpool",
            tasks: plan.tasks,
            took: best(crate_pool),
        },
        Run {
            way: "spawn per task",
            tasks: plan.spawn_tasks,
            took: spawn_per_task(plan.spawn_tasks)?,
        },
    ])
}

/// A tiny task: one relaxed add.
fn task(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn counted(counter: &AtomicU64, tasks: u64, way: &str) -> io::Result<()> {
    let ran = counter.load(Ordering::SeqCst);
    if ran == tasks {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{way}: {ran} of {tasks} tasks ran"
        )))
    }
}

fn own_pool(plan: Plan) -> io::Result<Duration> {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    {
        let pool = ThreadPool::new(plan.workers, plan.queue)?;
        for _ in 0..plan.tasks {
            let counter = Arc::clone(&counter);
            pool.execute(move || task(&counter))
                .map_err(|_| io::Error::other("the pool closed before every task was submitted"))?;
        }
    } // drop: drains and joins
    let took = start.elapsed();
    counted(&counter, plan.tasks, "own pool")?;
    Ok(took)
}

fn threadpool_crate(plan: Plan) -> io::Result<Duration> {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let pool = threadpool::ThreadPool::new(plan.workers);
    for _ in 0..plan.tasks {
        let counter = Arc::clone(&counter);
        pool.execute(move || task(&counter));
    }
    pool.join();
    let took = start.elapsed();
    counted(&counter, plan.tasks, "threadpool")?;
    Ok(took)
}

fn spawn_per_task(tasks: u64) -> io::Result<Duration> {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    // Joined in batches, so at most 256 threads exist at once.
    let mut handles = Vec::with_capacity(256);
    let join = |handles: &mut Vec<std::thread::JoinHandle<()>>| -> io::Result<()> {
        for handle in handles.drain(..) {
            handle
                .join()
                .map_err(|_| io::Error::other("a task thread panicked"))?;
        }
        Ok(())
    };
    for _ in 0..tasks {
        let counter = Arc::clone(&counter);
        handles.push(std::thread::spawn(move || task(&counter)));
        if handles.len() == 256 {
            join(&mut handles)?;
        }
    }
    join(&mut handles)?;
    let took = start.elapsed();
    counted(&counter, tasks, "spawn per task")?;
    Ok(took)
}
