//! Lesson 2: the Event — every waiter wakes on `set`, a spurious wake-up wakes nobody, and the
//! timed wait times out (or not) as Python's does.

mod support;

use harness::ExampleProcess;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use harness::Deadline;
use support::{STEP, within};
use sync_primitives::event::Event;

/// Starts `n` threads that each count themselves in, wait on `event`, then count themselves
/// out. Returns the counters once all of them are in (about to wait, or waiting).
fn waiters(event: &Arc<Event>, n: usize) -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (started, woke) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    for _ in 0..n {
        let (event, started, woke) = (Arc::clone(event), Arc::clone(&started), Arc::clone(&woke));
        thread::spawn(move || {
            started.fetch_add(1, Ordering::SeqCst);
            event.wait();
            woke.fetch_add(1, Ordering::SeqCst);
        });
    }
    Deadline::after(STEP, "the waiter threads to start")
        .poll(|| (started.load(Ordering::SeqCst) == n).then_some(()))
        .unwrap();
    (started, woke)
}

#[test]
fn event_set_wakes_every_waiter() {
    let event = Arc::new(Event::new());
    let (_, woke) = waiters(&event, 4);
    assert_eq!(woke.load(Ordering::SeqCst), 0, "nobody wakes before set");
    event.set();
    Deadline::after(STEP, "all 4 waiters to wake after set")
        .poll(|| (woke.load(Ordering::SeqCst) == 4).then_some(()))
        .unwrap();
}

#[test]
fn event_waiters_ignore_a_spurious_wake_up() {
    let event = Arc::new(Event::new());
    let (_, woke) = waiters(&event, 2);
    // Wake them again and again with the flag still clear, for 50 ms (the time is the thing
    // observed): each must look at the flag and sleep again, never return.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(50) {
        event.wake_spuriously();
        thread::yield_now();
        assert_eq!(woke.load(Ordering::SeqCst), 0, "a waiter trusted a wake-up");
    }
    event.set();
    Deadline::after(STEP, "both waiters to wake after the real set")
        .poll(|| (woke.load(Ordering::SeqCst) == 2).then_some(()))
        .unwrap();
}

#[test]
fn event_wait_timeout_times_out_when_nobody_sets() {
    let event = Event::new();
    let start = Instant::now();
    assert!(!event.wait_timeout(Duration::from_millis(50)));
    assert!(
        start.elapsed() >= Duration::from_millis(50),
        "returned early: {:?}",
        start.elapsed()
    );
}

#[test]
fn event_wait_timeout_returns_true_at_once_when_set() {
    let event = Event::new();
    event.set();
    let start = Instant::now();
    assert!(event.wait_timeout(Duration::from_secs(30)));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "waited although set"
    );
}

#[test]
fn event_wait_timeout_wakes_on_set_before_the_timeout() {
    let event = Arc::new(Event::new());
    let waiter = {
        let event = Arc::clone(&event);
        thread::spawn(move || event.wait_timeout(Duration::from_secs(60)))
    };
    event.set();
    let set = within(STEP, "a 60 s wait_timeout to return after set", move || {
        waiter.join().unwrap()
    });
    assert!(set);
}

/// Sets its flag when dropped, so a helper thread stops even if the test panics.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn event_wait_timeout_keeps_its_deadline_across_spurious_wake_ups() {
    let event = Arc::new(Event::new());
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let waker = {
        let (event, stop) = (Arc::clone(&event), Arc::clone(&stop.0));
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                event.wake_spuriously();
                thread::yield_now();
            }
        })
    };
    let start = Instant::now();
    let set = within(
        STEP,
        "wait_timeout(100ms) under a stream of spurious wake-ups",
        {
            let event = Arc::clone(&event);
            move || event.wait_timeout(Duration::from_millis(100))
        },
    );
    let waited = start.elapsed();
    drop(stop);
    waker.join().unwrap();
    assert!(!set, "nobody set the event");
    assert!(
        waited >= Duration::from_millis(100),
        "returned early: {waited:?}"
    );
}

#[test]
fn event_wait_example_shows_set_clear_and_timeouts() {
    let lines = support::output_of(ExampleProcess::spawn(
        "event_wait",
        &["--waiters", "3", "--timeout-ms", "20"],
    ));
    assert_eq!(
        lines,
        [
            "wait_timeout(20ms) before set: false",
            "3 waiters started",
            "set",
            "3 of 3 waiters woke",
            "wait_timeout(20ms) after set: true",
            "after clear: is_set = false",
        ]
    );
}
