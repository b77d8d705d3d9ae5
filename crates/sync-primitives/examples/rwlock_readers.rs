//! Readers share a read-write lock; a writer waits for them — and, with a reader-preferring
//! lock, may wait forever.
//!
//! Run:    cargo run -p sync-primitives --release --example rwlock_readers
//! Output: 4 readers were inside std::sync::RwLock at once
//!         writer wait with 4 overlapping readers, each holding 2 ms:
//!           reader-preferring (lesson): starved (still waiting after 500 ms)
//!           std::sync::RwLock: 2.1 ms
//!           parking_lot::RwLock: 2.3 ms

use std::sync::{Barrier, RwLock};
use std::thread;
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::rwlock::{ReadWriteLock, ReaderPreferringRwLock, writer_wait};

/// Readers in parallel, then how long a writer waits behind a stream of readers.
#[derive(Parser)]
struct Args {
    /// Reader threads.
    #[arg(long, default_value_t = 4)]
    readers: usize,
    /// How long each read holds the lock, in milliseconds.
    #[arg(long, default_value_t = 2)]
    hold_ms: u64,
    /// How long the writer waits before it is called starved, in milliseconds.
    #[arg(long, default_value_t = 500)]
    give_up_ms: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // Every reader waits at a barrier *inside* the read lock: it only opens if all are inside.
    let lock = RwLock::new(());
    let all_inside = Barrier::new(args.readers);
    thread::scope(|s| {
        for _ in 0..args.readers {
            s.spawn(|| {
                let _read = lock.read().unwrap();
                all_inside.wait();
            });
        }
    });
    println!(
        "{} readers were inside std::sync::RwLock at once",
        args.readers
    );

    let hold = Duration::from_millis(args.hold_ms);
    let give_up = Duration::from_millis(args.give_up_ms);
    println!(
        "writer wait with {} overlapping readers, each holding {} ms:",
        args.readers, args.hold_ms
    );
    measure::<ReaderPreferringRwLock>(&args, hold, give_up);
    measure::<RwLock<()>>(&args, hold, give_up);
    measure::<parking_lot::RwLock<()>>(&args, hold, give_up);
    Ok(())
}

fn measure<L: ReadWriteLock>(args: &Args, hold: Duration, give_up: Duration) {
    match writer_wait::<L>(args.readers, hold, give_up) {
        Some(waited) => println!("  {}: {:.1} ms", L::NAME, waited.as_secs_f64() * 1e3),
        None => println!(
            "  {}: starved (still waiting after {} ms)",
            L::NAME,
            args.give_up_ms
        ),
    }
}
