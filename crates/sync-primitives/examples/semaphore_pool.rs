//! A pool of N "connections" shared by more workers: a semaphore keeps at most N in use.
//!
//! Run:    cargo run -p sync-primitives --example semaphore_pool
//!         cargo run -p sync-primitives --example semaphore_pool -- --permits 2 --workers 20
//! Output: 10 workers, 3 permits, 5 jobs each
//!         at most 3 workers held a permit at once (limit 3)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::semaphore::Semaphore;

/// Workers sharing a few permits; prints the most that were ever in use at once.
#[derive(Parser)]
struct Args {
    /// Permits (the pool's size).
    #[arg(long, default_value_t = 3)]
    permits: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 10)]
    workers: usize,
    /// Jobs per worker; each holds a permit for --hold-ms.
    #[arg(long, default_value_t = 5)]
    jobs: usize,
    /// How long a job holds its permit, in milliseconds (it stands for using a connection).
    #[arg(long, default_value_t = 2)]
    hold_ms: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let pool = Semaphore::new(args.permits);
    let (inside, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    thread::scope(|s| {
        for _ in 0..args.workers {
            s.spawn(|| {
                for _ in 0..args.jobs {
                    let _permit = pool.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(args.hold_ms)); // "use the connection"
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    println!(
        "{} workers, {} permits, {} jobs each",
        args.workers, args.permits, args.jobs
    );
    println!(
        "at most {} workers held a permit at once (limit {})",
        most.into_inner(),
        args.permits
    );
    Ok(())
}
