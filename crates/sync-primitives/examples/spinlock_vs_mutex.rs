//! The same counter behind four locks, with more threads than cores: spinning hurts.
//!
//! Run:    cargo run -p sync-primitives --release --example spinlock_vs_mutex
//!         cargo run -p sync-primitives --release --example spinlock_vs_mutex -- --threads 2
//! Output: 4 threads x 5000 increments, 2000 steps of work inside the lock, on 2 cores
//!         lock                    count     wall ms  CPU ms  CPU/wall  wall vs std
//!         std::sync::Mutex        20000        45.7     45.7    1.0      1.00x
//!         parking_lot::Mutex      20000        56.6     45.5    0.8      1.24x
//!         futex mutex (lesson)    20000        45.3     45.0    1.0      0.99x
//!         spinlock (lesson)       20000       120.7    132.5    1.1      2.64x   <- differs every run

use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

use clap::Parser;
use labkit::Failure;
use sync_primitives::futex_mutex;
use sync_primitives::locks::{CounterLock, hammer_with_work};
use sync_primitives::spinlock::SpinLock;

/// Times contended increments under std's Mutex, parking_lot's, the futex mutex and a spinlock.
#[derive(Parser)]
struct Args {
    /// Threads contending for the lock.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Increments per thread.
    #[arg(long, default_value_t = 5_000)]
    increments: u64,
    /// Steps of busy work (about 1.5 ns each) inside every critical section.
    #[arg(long, default_value_t = 2_000)]
    work: u32,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} threads x {} increments, {} steps of work inside the lock, on {cores} cores",
        args.threads, args.increments, args.work
    );
    println!("lock                    count     wall ms  CPU ms  CPU/wall  wall vs std");
    let baseline = time::<std::sync::Mutex<u64>>(&args, None);
    time::<parking_lot::Mutex<u64>>(&args, Some(baseline));
    time::<futex_mutex::Mutex<u64>>(&args, Some(baseline));
    time::<SpinLock<u64>>(&args, Some(baseline));
    Ok(())
}

fn time<L: CounterLock>(args: &Args, baseline: Option<Duration>) -> Duration {
    let lock = L::new(0);
    let (start, cpu_start) = (Instant::now(), cpu_time());
    let count = hammer_with_work(&lock, args.threads, args.increments, args.work);
    let (wall, cpu) = (start.elapsed(), cpu_time() - cpu_start);
    let ratio = baseline.map_or(1.0, |b| wall.as_secs_f64() / b.as_secs_f64());
    println!(
        "{:<22}  {count:<8}  {:>7.1}  {:>7.1}  {:>5.1}     {ratio:>5.2}x",
        L::NAME,
        wall.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() / wall.as_secs_f64()
    );
    wall
}

/// CPU time used by this process so far (user + system, all threads).
fn cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let (user, system) = (usage.user_time(), usage.system_time());
    Duration::from_secs((user.tv_sec() + system.tv_sec()) as u64)
        + Duration::from_micros((user.tv_usec() + system.tv_usec()) as u64)
}
