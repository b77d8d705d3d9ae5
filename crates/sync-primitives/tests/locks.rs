//! Lessons 7 and 8: one mutual-exclusion test — N threads × M plain `+= 1` under the lock,
//! exact total — passed by std's Mutex, parking_lot's, the futex mutex and the spinlock (the
//! same hammer without a lock loses updates: see `tests/race.rs`). The futex mutex's states and
//! condition variable, forced step by step; message passing with Release/Acquire.

mod support;

use harness::ExampleProcess;

use std::sync::Arc;
use std::thread;

use harness::Deadline;
use support::{STEP, within};
use sync_primitives::atomics::{FlagOrdering, pass_message};
use sync_primitives::futex_mutex::{Condvar, Mutex};
use sync_primitives::locks::{CounterLock, hammer};
use sync_primitives::spinlock::SpinLock;

fn assert_mutual_exclusion<L: CounterLock + 'static>() {
    for threads in [2, 4, 8] {
        let count = within(
            STEP,
            &format!("{threads} threads hammering {}", L::NAME),
            move || hammer(&L::new(0), threads, 20_000),
        );
        assert_eq!(
            count,
            threads as u64 * 20_000,
            "{} lost increments with {threads} threads",
            L::NAME
        );
    }
}

#[test]
fn mutual_exclusion_std_mutex() {
    assert_mutual_exclusion::<std::sync::Mutex<u64>>();
}

#[test]
fn mutual_exclusion_parking_lot_mutex() {
    assert_mutual_exclusion::<parking_lot::Mutex<u64>>();
}

#[test]
fn mutual_exclusion_futex_mutex() {
    assert_mutual_exclusion::<Mutex<u64>>();
}

#[test]
fn mutual_exclusion_spinlock() {
    assert_mutual_exclusion::<SpinLock<u64>>();
}

#[test]
fn spinlock_try_lock_fails_while_held() {
    let lock = SpinLock::new(1);
    let guard = lock.lock();
    assert!(lock.try_lock().is_none());
    assert!(
        lock.try_lock().is_none(),
        "a failed try_lock must leave the lock held"
    );
    drop(guard);
    *lock.try_lock().expect("free again") += 1;
    assert_eq!(lock.into_inner(), 2);
}

#[test]
fn futex_mutex_second_locker_sleeps_contended_and_unlock_wakes_it() {
    let mutex = Arc::new(Mutex::new(0));
    let guard = mutex.lock();
    assert_eq!(mutex.state(), 1, "locked, nobody waiting");
    let second = {
        let mutex = Arc::clone(&mutex);
        thread::spawn(move || *mutex.lock() += 1)
    };
    // The second locker spins a little, then marks the mutex contended (2) and sleeps in
    // FUTEX_WAIT: seeing 2 while we still hold the lock proves it is waiting, not done.
    Deadline::after(STEP, "the second locker to mark the mutex contended")
        .poll(|| (mutex.state() == 2).then_some(()))
        .unwrap();
    assert!(!second.is_finished());
    drop(guard); // swap(0) sees 2: FUTEX_WAKE
    within(STEP, "the woken locker to take the lock", move || {
        second.join().unwrap()
    });
    assert_eq!(*mutex.lock(), 1);
    assert_eq!(mutex.state(), 0, "unlocked again, nobody left waiting");
}

#[test]
fn futex_condvar_wakes_a_waiter_and_it_sees_the_change() {
    // Every step that could block runs under the deadline: with a broken unlock, even the
    // test's own `lock()` would wait forever.
    let saw = within(
        STEP,
        "a condvar waiter to see ready after notify_one",
        || {
            let shared = Arc::new((Mutex::new(false), Condvar::new()));
            let waiter = {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (ready, changed) = &*shared;
                    *changed.wait_while(ready.lock(), |ready| !*ready)
                })
            };
            let (ready, changed) = &*shared;
            *ready.lock() = true;
            changed.notify_one();
            waiter.join().unwrap()
        },
    );
    assert!(saw);
}

#[test]
fn futex_condvar_hands_items_from_a_producer_to_consumers() {
    // A tiny queue on the futex mutex and condvar: 3 consumers, 3,000 items, none lost.
    let total = within(STEP, "3,000 items through a futex condvar queue", || {
        let shared = Arc::new((Mutex::new((Vec::new(), false)), Condvar::new()));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (state, changed) = &*shared;
                    let mut took = 0u64;
                    loop {
                        let mut guard = changed
                            .wait_while(state.lock(), |(items, done)| items.is_empty() && !*done);
                        match guard.0.pop() {
                            Some(item) => took += item,
                            None => return took, // done and empty
                        }
                    }
                })
            })
            .collect();
        let (state, changed) = &*shared;
        for item in 1..=3_000u64 {
            state.lock().0.push(item);
            changed.notify_one();
        }
        state.lock().1 = true;
        changed.notify_all();
        consumers
            .into_iter()
            .map(|c| c.join().unwrap())
            .sum::<u64>()
    });
    assert_eq!(total, 3_000 * 3_001 / 2);
}

#[test]
fn atomics_release_acquire_message_always_arrives() {
    for message in 1..=500 {
        assert_eq!(pass_message(message, FlagOrdering::ReleaseAcquire), message);
    }
}

#[test]
fn futex_mutex_example_walks_through_the_states() {
    let lines = support::output_of(ExampleProcess::spawn(
        "futex_mutex",
        &["--threads", "3", "--increments", "10000"],
    ));
    assert_eq!(
        lines,
        [
            "unlocked: state 0",
            "locked by main: state 1",
            "a second thread is asleep in futex_wait: state 2",
            "main unlocked (wake_one): the second thread got the lock and added 1",
            "condvar: the waiter saw ready = true after notify_one",
            "3 threads x 10000 increments: count 30000 (expected 30000)",
        ]
    );
}

#[test]
fn futex_and_spinlock_vs_mutex_example_counts_exactly_with_every_lock() {
    let lines = support::output_of(ExampleProcess::spawn(
        "spinlock_vs_mutex",
        &["--threads", "3", "--increments", "5000", "--work", "10"],
    ));
    assert!(
        lines[0].starts_with("3 threads x 5000 increments, 10 steps of work inside the lock, on "),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("lock "), "{lines:?}");
    let names = [
        "std::sync::Mutex",
        "parking_lot::Mutex",
        "futex mutex (lesson)",
        "spinlock (lesson)",
    ];
    assert_eq!(lines.len(), 2 + names.len(), "{lines:?}");
    for (line, name) in lines[2..].iter().zip(names) {
        let columns: Vec<&str> = line[name.len()..].split_whitespace().collect();
        assert!(line.starts_with(name) && columns[0] == "15000", "{line:?}");
    }
}
