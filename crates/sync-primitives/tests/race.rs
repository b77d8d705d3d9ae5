//! Lesson 1: the lost update, forced and free-running, and the two fixes — in-process and
//! through the `lost_updates` example.

mod support;

use harness::ExampleProcess;

use std::time::Duration;

use harness::Deadline;
use sync_primitives::race::{
    atomic_increments, forced_lost_update, mutex_increments, split_increments,
};

#[test]
fn race_load_then_store_loses_updates_when_threads_overlap() {
    // Free-running, a loss depends on the scheduler: two threads must be inside the
    // load-to-store window at once. Run after run until one loses updates (almost always the
    // first); the deadline only bounds a machine where the threads never overlap.
    let deadline = Deadline::after(
        Duration::from_secs(20),
        "a run of split increments that loses an update",
    );
    let mut runs = 0;
    let lost = deadline
        .poll(|| {
            runs += 1;
            let tally = split_increments(2, 200_000);
            assert!(tally.actual <= tally.expected, "{tally:?}");
            (tally.lost() > 0).then_some(tally.lost())
        })
        .unwrap();
    eprintln!("lost {lost} of 400000 increments (run {runs})");
}

#[test]
fn race_forced_interleaving_loses_one_update_every_time() {
    for _ in 0..200 {
        assert_eq!(forced_lost_update(), 1);
    }
}

#[test]
fn race_mutex_and_fetch_add_count_exactly() {
    for threads in [2, 4, 8] {
        assert_eq!(
            mutex_increments(threads, 20_000).lost(),
            0,
            "Mutex, {threads} threads"
        );
        assert_eq!(
            atomic_increments(threads, 20_000).lost(),
            0,
            "fetch_add, {threads} threads"
        );
    }
}

#[test]
fn race_lost_updates_example() {
    let lines = support::output_of(ExampleProcess::spawn(
        "lost_updates",
        &["--threads", "2", "--increments", "100000"],
    ));
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        lines[0],
        "forced interleaving: 2 increments, counter = 1 (1 lost)"
    );
    assert!(
        lines[1].starts_with("load then store: counter = "),
        "{lines:?}"
    );
    assert!(lines[1].contains(" of 200000 ("), "{lines:?}");
    assert_eq!(lines[2], "Mutex: counter = 200000 of 200000 (0 lost)");
    assert_eq!(lines[3], "fetch_add: counter = 200000 of 200000 (0 lost)");
}
