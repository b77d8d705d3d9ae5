//! Lesson 10 — the dining philosophers: five threads, five forks, two forks to eat.
//!
//! Philosopher *i* sits between fork *i* (on the left) and fork *i + 1 mod n* (on the right).
//! The naive philosopher picks up the left fork, then the right one. If all pick up their left
//! fork at the same moment, every right fork is somebody's left fork: a cycle of *n* threads,
//! each holding one lock and waiting for the next — deadlock. [`dine_naive`] makes that moment
//! happen on purpose (a barrier after the first fork), so it deadlocks on every run, and the
//! detector of lesson 9 reports the cycle of five.
//!
//! Two fixes, each breaking one Coffman condition:
//!
//! - **Ordering** ([`dine_ordered`]): every philosopher picks up the lower-numbered of their two
//!   forks first. The last philosopher (between fork n − 1 and fork 0) now reaches for fork 0
//!   first, against the others' direction, and the cycle cannot close.
//! - **A waiter** ([`dine_with_waiter`]): a [`Semaphore`] with n − 1 seats. With at most n − 1
//!   philosophers at the table, at least one of them can get both forks.
//!
//! Both fixed versions return how many meals each philosopher ate (every one eats every meal)
//! and check, while eating, that neither neighbour is eating — the forks really exclude.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, ThreadId};

use parking_lot::Mutex;

use crate::deadlock::Party;
use crate::semaphore::Semaphore;

/// The table: one fork (a mutex) per seat, and who is eating.
#[derive(Debug)]
struct Table {
    forks: Vec<Mutex<()>>,
    eating: Vec<AtomicBool>,
}

impl Table {
    fn new(n: usize) -> Self {
        assert!(n >= 2, "dining needs at least two philosophers");
        Table {
            forks: (0..n).map(|_| Mutex::new(())).collect(),
            eating: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    fn len(&self) -> usize {
        self.forks.len()
    }

    /// Philosopher `i` eats, holding both forks: checks neither neighbour eats meanwhile.
    fn eat(&self, i: usize) {
        let n = self.len();
        self.eating[i].store(true, Ordering::SeqCst);
        for neighbour in [(i + n - 1) % n, (i + 1) % n] {
            assert!(
                !self.eating[neighbour].load(Ordering::SeqCst),
                "philosophers {i} and {neighbour} share a fork but ate at the same time"
            );
        }
        thread::yield_now(); // chew: give a neighbour the chance to (wrongly) start
        self.eating[i].store(false, Ordering::SeqCst);
    }
}

/// The two forks of philosopher `i` of `n`: (left, right).
pub fn forks_of(i: usize, n: usize) -> (usize, usize) {
    (i, (i + 1) % n)
}

/// The forks of philosopher `i` of `n` in the order the ordering fix picks them up: the
/// lower-numbered one first.
pub fn forks_in_order(i: usize, n: usize) -> (usize, usize) {
    // BEGIN SOLUTION: sync-philosophers-order
    let (left, right) = forks_of(i, n);
    (left.min(right), left.max(right))
    // END SOLUTION
}

/// The naive table, deadlocked on purpose: every philosopher holds the left fork before anyone
/// reaches for a right one. Returns the `n` philosophers; they stay blocked forever.
pub fn dine_naive(n: usize) -> Vec<Party> {
    let table = Arc::new(Table::new(n));
    let all_hold_left = Arc::new(Barrier::new(n));
    (0..n)
        .map(|i| {
            let (table, barrier) = (Arc::clone(&table), Arc::clone(&all_hold_left));
            let name = format!("philosopher {i}");
            let handle = thread::Builder::new()
                .name(name.clone())
                .spawn(move || {
                    let (left, right) = forks_of(i, table.len());
                    let _left = table.forks[left].lock();
                    barrier.wait();
                    let _right = table.forks[right].lock(); // everyone waits here, forever
                    table.eat(i);
                })
                .expect("spawning a philosopher");
            let id: ThreadId = handle.thread().id();
            Party { id, name }
        })
        .collect()
}

/// Fix 1: forks picked up in global order. Each of `n` philosophers eats `meals` times;
/// returns the meals each ate.
pub fn dine_ordered(n: usize, meals: usize) -> Vec<usize> {
    dine(n, meals, |table, i| {
        let (first, second) = forks_in_order(i, table.len());
        let _first = table.forks[first].lock();
        let _second = table.forks[second].lock();
        table.eat(i);
    })
}

/// Fix 2: a waiter lets at most `n − 1` philosophers sit down; forks left, then right.
pub fn dine_with_waiter(n: usize, meals: usize) -> Vec<usize> {
    let seats = Semaphore::new(n - 1);
    dine(n, meals, |table, i| {
        let _seat = seats.acquire();
        let (left, right) = forks_of(i, table.len());
        let _left = table.forks[left].lock();
        let _right = table.forks[right].lock();
        table.eat(i);
    })
}

/// Runs `n` philosophers, each calling `meal(table, i)` `meals` times; returns meals eaten.
fn dine(n: usize, meals: usize, meal: impl Fn(&Table, usize) + Sync) -> Vec<usize> {
    let table = Table::new(n);
    let start = Barrier::new(n);
    thread::scope(|s| {
        let philosophers: Vec<_> = (0..n)
            .map(|i| {
                let (table, start, meal) = (&table, &start, &meal);
                s.spawn(move || {
                    start.wait(); // all hungry at once: the worst case for the forks
                    (0..meals).map(|_| meal(table, i)).count()
                })
            })
            .collect();
        philosophers
            .into_iter()
            .map(|p| p.join().expect("a philosopher panicked"))
            .collect()
    })
}
