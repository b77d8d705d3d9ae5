//! Lesson 9 — deadlock: two threads, two locks, opposite order; detected, then fixed two ways.
//!
//! Thread 1 moves money from account A to B: it locks A, then B. Thread 2 moves money from B to
//! A: it locks B, then A. If each takes its first lock before the other takes its second, each
//! waits for a lock the other holds, forever. All four Coffman conditions hold: *mutual
//! exclusion* (a mutex), *hold and wait* (each holds one lock while asking for the next), *no
//! preemption* (nobody can take a lock away), *circular wait* (1 waits for 2 waits for 1).
//! Break any one and deadlock is impossible:
//!
//! - **Global lock ordering** breaks circular wait: every thread locks the account with the
//!   lower id first ([`transfer_ordered`]). A cycle would need someone to lock a lower id while
//!   holding a higher one, and nobody does.
//! - **`try_lock` with back-off** breaks hold-and-wait: take the first lock, *try* the second,
//!   and if it is taken let go of the first, wait a little, and start over
//!   ([`transfer_backoff`]). The back-off grows, so two threads that keep colliding drift apart
//!   instead of colliding forever (a *livelock*).
//!
//! [`make_deadlock`] makes the deadlock on purpose — a barrier between the two locks makes both
//! threads hold their first lock before either asks for its second, so it deadlocks on every run.
//! With the crate feature `deadlock-detection`, parking_lot records who holds and who waits for
//! each of its locks, and [`find_deadlock`] asks it for a cycle among given threads. Detection is
//! destructive: the threads it reports stay blocked for good (they are leaked, and the process
//! can still exit, because a Rust process ends when `main` returns).
//!
//! The pitfall of the feature: cargo unifies features, so turning it on for this lesson turns it
//! on for every parking_lot lock in the same build. It is off by default; the chapter README says
//! how the tests turn it on and why the benchmark builds without it.

use std::sync::{Arc, Barrier};
use std::thread::{self, ThreadId};
#[cfg(feature = "deadlock-detection")]
use std::time::Duration;

use parking_lot::Mutex;

/// A bank account: an id (for lock ordering) and a balance behind a parking_lot mutex.
#[derive(Debug)]
pub struct Account {
    /// Unique; the global lock order is by id.
    pub id: usize,
    balance: Mutex<i64>,
}

impl Account {
    /// An account with `id` and an opening `balance`.
    pub fn new(id: usize, balance: i64) -> Self {
        Account {
            id,
            balance: Mutex::new(balance),
        }
    }

    /// The balance now.
    pub fn balance(&self) -> i64 {
        *self.balance.lock()
    }
}

/// The naive transfer: lock `from`, then `to`. Deadlocks against a transfer the other way.
pub fn transfer_naive(from: &Account, to: &Account, amount: i64) {
    transfer_naive_with(from, to, amount, || {});
}

/// The naive transfer with `between` called while holding only the first lock — where the
/// deadlock is made on purpose.
pub fn transfer_naive_with(from: &Account, to: &Account, amount: i64, between: impl FnOnce()) {
    let mut from_balance = from.balance.lock();
    between();
    let mut to_balance = to.balance.lock();
    *from_balance -= amount;
    *to_balance += amount;
}

/// Fix 1: lock the account with the lower id first, whichever way the money goes.
pub fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    assert_ne!(from.id, to.id, "a transfer needs two accounts");
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let mut first_balance = first.balance.lock();
    let mut second_balance = second.balance.lock();
    let (from_balance, to_balance) = if from.id < to.id {
        (&mut *first_balance, &mut *second_balance)
    } else {
        (&mut *second_balance, &mut *first_balance)
    };
    *from_balance -= amount;
    *to_balance += amount;
}

/// Fix 2: take `from`, *try* `to`; if it is taken, let go of `from`, back off, retry.
/// Returns how many times it had to retry.
pub fn transfer_backoff(from: &Account, to: &Account, amount: i64) -> u32 {
    let mut retries = 0;
    loop {
        let mut from_balance = from.balance.lock();
        if let Some(mut to_balance) = to.balance.try_lock() {
            *from_balance -= amount;
            *to_balance += amount;
            return retries;
        }
        drop(from_balance); // the step that breaks hold-and-wait
        retries += 1;
        // Exponential back-off, capped; then give the other thread the CPU.
        for _ in 0..(1u32 << retries.min(10)) {
            std::hint::spin_loop();
        }
        thread::yield_now();
    }
}

/// A thread of a deadlock made on purpose: its id and the name it was spawned with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The thread's id, as parking_lot's detector reports it.
    pub id: ThreadId,
    /// Its name, e.g. `transfer A→B`.
    pub name: String,
}

/// Deadlocks two threads on purpose: `transfer A→B` and `transfer B→A`, each holding its first
/// lock before asking for its second. Returns them; they stay blocked forever (detached).
pub fn make_deadlock() -> Vec<Party> {
    let a = Arc::new(Account::new(1, 100));
    let b = Arc::new(Account::new(2, 100));
    let both_hold_one = Arc::new(Barrier::new(2));
    [("transfer A→B", &a, &b), ("transfer B→A", &b, &a)]
        .into_iter()
        .map(|(name, from, to)| {
            let (from, to, barrier) =
                (Arc::clone(from), Arc::clone(to), Arc::clone(&both_hold_one));
            let handle = thread::Builder::new()
                .name(name.to_string())
                .spawn(move || {
                    transfer_naive_with(&from, &to, 10, || {
                        barrier.wait();
                    })
                })
                .expect("spawning a transfer thread");
            Party {
                id: handle.thread().id(),
                name: name.to_string(),
            }
        })
        .collect()
}

/// One thread of a detected deadlock.
#[cfg(feature = "deadlock-detection")]
#[derive(Debug, Clone)]
pub struct Deadlocked {
    /// The thread.
    pub id: ThreadId,
    /// The functions of this crate on its stack, innermost first: where it is blocked.
    pub blocked_in: Vec<String>,
}

/// Asks parking_lot's detector, every few milliseconds for up to `limit`, for a deadlock cycle
/// that includes every thread of `parties`; returns the cycle (all its threads).
///
/// Cycles that do not include them are reported to stderr and dropped (detection is
/// destructive). Fails after `limit` with a message naming the threads it waited for.
#[cfg(feature = "deadlock-detection")]
pub fn find_deadlock(parties: &[Party], limit: Duration) -> Result<Vec<Deadlocked>, String> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        for cycle in parking_lot::deadlock::check_deadlock() {
            let found: Vec<Deadlocked> = cycle
                .iter()
                .map(|thread| Deadlocked {
                    id: thread.thread_id(),
                    blocked_in: crate_frames(thread.backtrace()),
                })
                .collect();
            if parties.iter().all(|p| found.iter().any(|t| t.id == p.id)) {
                return Ok(found);
            }
            eprintln!(
                "find_deadlock: another deadlock, of {} threads",
                found.len()
            );
        }
        if start.elapsed() >= limit {
            let names: Vec<&str> = parties.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "no deadlock among {names:?} detected within {limit:?}"
            ));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The names of this crate's functions in a backtrace, innermost first.
#[cfg(feature = "deadlock-detection")]
fn crate_frames(backtrace: &impl std::fmt::Debug) -> Vec<String> {
    // The backtrace type belongs to parking_lot's dependencies; its Debug output lists one
    // resolved symbol per line, which is all a report needs.
    format!("{backtrace:?}")
        .lines()
        .filter_map(|line| line.split("sync_primitives::").nth(1))
        .map(|rest| {
            format!(
                "sync_primitives::{}",
                rest.trim_end_matches(['"', ',', ' '])
            )
        })
        .collect()
}
