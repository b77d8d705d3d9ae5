//! An Event (Python's threading.Event): waiters sleep until one thread sets it.
//!
//! Run:    cargo run -p sync-primitives --example event_wait
//! Output: wait_timeout(50ms) before set: false
//!         3 waiters started
//!         set
//!         3 of 3 waiters woke
//!         wait_timeout(50ms) after set: true
//!         after clear: is_set = false

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use clap::Parser;
use labkit::Failure;
use sync_primitives::event::Event;

/// Waiters on an Event, woken together by one set().
#[derive(Parser)]
struct Args {
    /// Threads waiting for the event.
    #[arg(long, default_value_t = 3)]
    waiters: usize,
    /// How long the timed waits wait, in milliseconds.
    #[arg(long, default_value_t = 50)]
    timeout_ms: u64,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let timeout = Duration::from_millis(args.timeout_ms);
    let event = Arc::new(Event::new());
    println!(
        "wait_timeout({timeout:?}) before set: {}",
        event.wait_timeout(timeout)
    );
    let waiters: Vec<_> = (0..args.waiters)
        .map(|_| {
            let event = Arc::clone(&event);
            thread::spawn(move || event.wait())
        })
        .collect();
    println!("{} waiters started", args.waiters);
    event.set();
    println!("set");
    let woke = waiters.into_iter().filter_map(|w| w.join().ok()).count();
    println!("{woke} of {} waiters woke", args.waiters);
    println!(
        "wait_timeout({timeout:?}) after set: {}",
        event.wait_timeout(timeout)
    );
    event.clear();
    println!("after clear: is_set = {}", event.is_set());
    Ok(())
}
