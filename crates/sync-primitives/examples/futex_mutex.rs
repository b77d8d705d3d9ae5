//! The three states of the futex mutex, its condition variable, and a contended count.
//!
//! Run:    cargo run -p sync-primitives --example futex_mutex
//! Output: unlocked: state 0
//!         locked by main: state 1
//!         a second thread is asleep in futex_wait: state 2
//!         main unlocked (wake_one): the second thread got the lock and added 1
//!         condvar: the waiter saw ready = true after notify_one
//!         4 threads x 100000 increments: count 400000 (expected 400000)

use std::thread;
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::futex_mutex::{Condvar, Mutex};
use sync_primitives::locks::hammer;

/// Walks the futex mutex through its states, then counts under contention.
#[derive(Parser)]
struct Args {
    /// Threads for the contended count.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Increments per thread.
    #[arg(long, default_value_t = 100_000)]
    increments: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let mutex = Mutex::new(0u64);
    println!("unlocked: state {}", mutex.state());
    thread::scope(|s| {
        let guard = mutex.lock();
        println!("locked by main: state {}", mutex.state());
        let second = s.spawn(|| *mutex.lock() += 1);
        // The second thread spins briefly, then marks the lock contended and sleeps.
        while mutex.state() != 2 {
            thread::sleep(Duration::from_millis(1));
        }
        println!("a second thread is asleep in futex_wait: state 2");
        drop(guard);
        second.join().unwrap();
    });
    println!(
        "main unlocked (wake_one): the second thread got the lock and added {}",
        *mutex.lock()
    );

    let ready = Mutex::new(false);
    let changed = Condvar::new();
    thread::scope(|s| {
        let waiter = s.spawn(|| *changed.wait_while(ready.lock(), |ready| !*ready));
        *ready.lock() = true;
        changed.notify_one();
        println!(
            "condvar: the waiter saw ready = {} after notify_one",
            waiter.join().unwrap()
        );
    });

    let counter = Mutex::new(0u64);
    let count = hammer(&counter, args.threads, args.increments);
    println!(
        "{} threads x {} increments: count {count} (expected {})",
        args.threads,
        args.increments,
        args.threads as u64 * args.increments
    );
    Ok(())
}
