//! The same counter behind four locks, with more threads than cores: spinning hurts.
//!
//! Run:    cargo run -p sync-primitives --release --example spinlock_vs_mutex
//!         cargo run -p sync-primitives --release --example spinlock_vs_mutex -- --threads 2
//! Output: 4 threads x 200000 increments on 2 cores
//!         std::sync::Mutex        count 800000  41.2 ms  1.00x
//!         parking_lot::Mutex      count 800000  35.0 ms  0.85x
//!         futex mutex (lesson)    count 800000  44.9 ms  1.09x
//!         spinlock (lesson)       count 800000  410.3 ms  9.96x     <- times differ every run

use std::time::{Duration, Instant};

use clap::Parser;
use sync_primitives::futex_mutex;
use sync_primitives::locks::{CounterLock, hammer};
use sync_primitives::spinlock::SpinLock;

/// Times contended increments under std's Mutex, parking_lot's, the futex mutex and a spinlock.
#[derive(Parser)]
struct Args {
    /// Threads contending for the lock.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Increments per thread.
    #[arg(long, default_value_t = 200_000)]
    increments: u64,
}

fn main() {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} threads x {} increments on {cores} cores",
        args.threads, args.increments
    );
    let baseline = time::<std::sync::Mutex<u64>>(&args, None);
    time::<parking_lot::Mutex<u64>>(&args, Some(baseline));
    time::<futex_mutex::Mutex<u64>>(&args, Some(baseline));
    time::<SpinLock<u64>>(&args, Some(baseline));
}

fn time<L: CounterLock>(args: &Args, baseline: Option<Duration>) -> Duration {
    let lock = L::new(0);
    let start = Instant::now();
    let count = hammer(&lock, args.threads, args.increments);
    let took = start.elapsed();
    let ratio = baseline.map_or(1.0, |b| took.as_secs_f64() / b.as_secs_f64());
    println!(
        "{:<22}  count {count}  {:.1} ms  {ratio:.2}x",
        L::NAME,
        took.as_secs_f64() * 1e3
    );
    took
}
