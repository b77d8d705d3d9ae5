//! Lessons 9 and 10 with the deadlock detector (crate feature `deadlock-detection`, which
//! `cargo test --workspace` turns on): the deadlock made on purpose is found within a deadline
//! with both threads named, the five naive philosophers are found as a cycle of five, the fixes
//! complete, and both examples print the cycle and exit — the deadlocked threads stay blocked,
//! and neither the test binary nor the example hangs because of them.
//!
//! Detection is process-wide and destructive, so the tests that detect take [`DETECTOR`] first:
//! one test's detection must not take (and consume) another test's deadlock.

mod support;

use harness::ExampleProcess;

use std::sync::Mutex;
use std::thread;

use support::{STEP, within};
use sync_primitives::deadlock::{
    Account, find_deadlock, make_deadlock, transfer_backoff, transfer_ordered,
};
use sync_primitives::philosophers::dine_naive;

static DETECTOR: Mutex<()> = Mutex::new(());

#[test]
fn deadlock_made_on_purpose_is_detected_with_both_threads() {
    let _detector = DETECTOR.lock().unwrap_or_else(|p| p.into_inner());
    let parties = make_deadlock();
    let cycle = find_deadlock(&parties, harness::time::scaled(STEP)).unwrap();
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    for party in &parties {
        let thread = cycle
            .iter()
            .find(|t| t.id == party.id)
            .unwrap_or_else(|| panic!("{} not reported", party.name));
        assert!(
            thread
                .blocked_in
                .iter()
                .any(|f| f.contains("transfer_naive_with")),
            "{} should be blocked in transfer_naive_with: {:?}",
            party.name,
            thread.blocked_in
        );
    }
}

#[test]
fn deadlock_naive_philosophers_form_a_cycle_of_five() {
    let _detector = DETECTOR.lock().unwrap_or_else(|p| p.into_inner());
    let philosophers = dine_naive(5);
    let cycle = find_deadlock(&philosophers, harness::time::scaled(STEP)).unwrap();
    assert_eq!(cycle.len(), 5, "{cycle:?}");
}

/// Two threads move money back and forth between the same two accounts with `transfer`.
fn opposite_transfers(transfer: fn(&Account, &Account) -> u32) -> (i64, u32) {
    within(STEP, "20,000 opposite transfers", move || {
        let (a, b) = (Account::new(1, 100), Account::new(2, 100));
        let retries = thread::scope(|s| {
            let there = s.spawn(|| (0..10_000).map(|_| transfer(&a, &b)).sum::<u32>());
            let back = s.spawn(|| (0..10_000).map(|_| transfer(&b, &a)).sum::<u32>());
            there.join().unwrap() + back.join().unwrap()
        });
        (a.balance() + b.balance(), retries)
    })
}

#[test]
fn deadlock_fixed_by_lock_ordering() {
    let (total, _) = opposite_transfers(|from, to| {
        transfer_ordered(from, to, 1);
        0
    });
    assert_eq!(total, 200, "money was created or destroyed");
}

#[test]
fn deadlock_fixed_by_try_lock_with_back_off() {
    let (total, retries) = opposite_transfers(|from, to| transfer_backoff(from, to, 1));
    assert_eq!(total, 200, "money was created or destroyed");
    eprintln!("try_lock + back-off: {retries} retries in 20,000 transfers");
}

#[test]
fn deadlock_demo_example_prints_the_cycle_then_runs_the_fixes() {
    let lines = support::output_of(ExampleProcess::spawn(
        "deadlock_demo",
        &["--transfers", "2000"],
    ));
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0], "deadlock detected: a cycle of 2 threads");
    assert!(
        lines[1].starts_with("  transfer A→B (ThreadId("),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("  transfer B→A (ThreadId("),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with("blocked in sync_primitives::deadlock::transfer_naive_with"),
        "{lines:?}"
    );
    assert_eq!(
        lines[3],
        "lock ordering: 2 x 2000 opposite transfers done, total 200 (expected 200)"
    );
    assert!(
        lines[4].starts_with(
            "try_lock + back-off: 2 x 2000 opposite transfers done, total 200 (expected 200), "
        ),
        "{lines:?}"
    );
}

#[test]
fn philosophers_ordered_and_waiter_example_detects_the_naive_cycle() {
    let lines = support::output_of(ExampleProcess::spawn(
        "philosophers",
        &["--n", "5", "--meals", "200"],
    ));
    assert_eq!(
        lines,
        [
            "naive: deadlock detected, a cycle of 5: philosopher 0, philosopher 1, philosopher 2, philosopher 3, philosopher 4",
            "ordered forks: 5 philosophers ate [200, 200, 200, 200, 200] meals",
            "a waiter with 4 seats: 5 philosophers ate [200, 200, 200, 200, 200] meals",
        ]
    );
}
