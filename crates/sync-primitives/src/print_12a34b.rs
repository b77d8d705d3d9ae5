//! The 12A34B printer (a course exercise): two threads, one printing the numbers 1–52 and one
//! the letters A–Z, together printing exactly `12A34B56C…5152Z`.
//!
//! The numbers thread prints two numbers, then hands the turn to the letters thread, which
//! prints one letter and hands the turn back — 26 times. It is the smallest program in which
//! *ordering* between threads, not just exclusion, is the whole point, and it can be built from
//! any of the chapter's primitives. Three solutions:
//!
//! - [`with_condvar`]: whose turn it is, in a `Mutex`; each thread waits on a `Condvar` until it
//!   is its turn.
//! - [`with_semaphores`]: two [`Semaphore`]s, one per thread, starting at 1 (numbers) and 0
//!   (letters). Each thread acquires its own and releases the other's — a baton passed back and
//!   forth.
//! - [`with_park`]: the turn in an `AtomicBool` (Release when handing it over, Acquire when
//!   taking it) and `thread::park`/`unpark` to sleep and wake. `park` may return spuriously, so
//!   each thread loops on the flag.
//!
//! The pitfall, shared by all three: "it is my turn" must be *state* that the waiter re-checks,
//! never a wake-up it trusts — a notification sent before the other thread waits is lost, and a
//! wake-up may come without one. Each thread sends what it prints down one channel; the order
//! the channel receives is the order the threads printed in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::{self, Thread};

use crate::semaphore::Semaphore;

/// What the two threads must print together.
pub const EXPECTED: &str = "12A34B56C78D910E1112F1314G1516H1718I1920J2122K2324L2526M2728N2930O3132P3334Q3536R3738S3940T4142U4344V4546W4748X4950Y5152Z";

/// The numbers thread's 26 turns: "12", "34", …, "5152".
fn numbers(turn: usize) -> String {
    format!("{}{}", 2 * turn + 1, 2 * turn + 2)
}

/// The letters thread's 26 turns: "A", …, "Z".
fn letter(turn: usize) -> String {
    char::from(b'A' + turn as u8).to_string()
}

/// Runs the two threads with `numbers_thread(out)` and `letters_thread(out)`, collecting what
/// they send, in order.
fn collect(
    numbers_thread: impl FnOnce(Sender<String>) + Send,
    letters_thread: impl FnOnce(Sender<String>) + Send,
) -> String {
    let (tx, rx) = mpsc::channel();
    let letters_tx = tx.clone();
    thread::scope(|s| {
        s.spawn(move || numbers_thread(tx));
        s.spawn(move || letters_thread(letters_tx));
    });
    rx.into_iter().collect()
}

/// Solution 1: the turn in a `Mutex<bool>` (true: numbers), a `Condvar` to wait for it.
pub fn with_condvar() -> String {
    // BEGIN SOLUTION: sync-12a34b-condvar
    let numbers_turn = Mutex::new(true);
    let turn_changed = Condvar::new();
    let take_turns = |mine: bool, out: Sender<String>, piece: fn(usize) -> String| {
        for turn in 0..26 {
            let guard = numbers_turn.lock().unwrap();
            let mut guard = turn_changed
                .wait_while(guard, |numbers| *numbers != mine)
                .unwrap();
            out.send(piece(turn)).unwrap();
            *guard = !mine;
            turn_changed.notify_one(); // only the other thread ever waits
        }
    };
    collect(
        |out| take_turns(true, out, numbers),
        |out| take_turns(false, out, letter),
    )
    // END SOLUTION
}

/// Solution 2: a semaphore per thread; each acquires its own and releases the other's.
pub fn with_semaphores() -> String {
    let numbers_may = Semaphore::new(1);
    let letters_may = Semaphore::new(0);
    let take_turns =
        |mine: &Semaphore, theirs: &Semaphore, out: Sender<String>, piece: fn(usize) -> String| {
            for turn in 0..26 {
                mine.acquire().forget(); // the baton is given back by the other thread
                out.send(piece(turn)).unwrap();
                theirs.release();
            }
        };
    collect(
        |out| take_turns(&numbers_may, &letters_may, out, numbers),
        |out| take_turns(&letters_may, &numbers_may, out, letter),
    )
}

/// Solution 3: the turn in an `AtomicBool` (true: numbers), `park`/`unpark` to sleep and wake.
pub fn with_park() -> String {
    let numbers_turn = AtomicBool::new(true);
    // Each thread's handle, so the other can unpark it; filled in before either takes a turn.
    let threads: [OnceLock<Thread>; 2] = [OnceLock::new(), OnceLock::new()];
    let take_turns = |me: usize, out: Sender<String>, piece: fn(usize) -> String| {
        let other = loop {
            match threads[1 - me].get() {
                Some(other) => break other,
                None => thread::park(), // woken once both handles are in
            }
        };
        let mine = me == 0;
        for turn in 0..26 {
            while numbers_turn.load(Ordering::Acquire) != mine {
                thread::park(); // may return spuriously: the loop looks again
            }
            out.send(piece(turn)).unwrap();
            numbers_turn.store(!mine, Ordering::Release);
            other.unpark(); // if it is not parked yet, its next park returns at once
        }
    };
    let (tx, rx) = mpsc::channel();
    let letters_tx = tx.clone();
    thread::scope(|s| {
        let take_turns = &take_turns;
        let handles = [
            s.spawn(move || take_turns(0, tx, numbers)),
            s.spawn(move || take_turns(1, letters_tx, letter)),
        ];
        for (cell, handle) in threads.iter().zip(&handles) {
            cell.set(handle.thread().clone()).expect("set once");
        }
        for handle in &handles {
            handle.thread().unpark();
        }
    });
    rx.into_iter().collect()
}
