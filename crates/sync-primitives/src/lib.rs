//! Chapter: synchronisation primitives — what a lock is, built from the ground up.
//!
//! Each primitive is built, broken on purpose, fixed, and proven with tests that force the
//! interleaving instead of hoping for it. Read the lessons in this order:
//!
//! | module | lesson | the pitfall it shows |
//! | --- | --- | --- |
//! | [`race`] | a counter that loses updates; `Mutex` and `AtomicUsize` fix it | read-modify-write is three steps |
//! | [`event`] | Python's `threading.Event` on `Mutex` + `Condvar` | trusting a wake-up |
//! | [`semaphore`] | a counting semaphore with an RAII permit | a permit leaked on an early return |
//! | [`bounded_queue`] | producer–consumer on two condition variables, with `close` | spurious wake-ups; waiters that sleep through the end |
//! | [`producer_consumer`] | the queue at work, beside std's `sync_channel`: every item exactly once | a channel that never closes because its last sender is still held |
//! | [`rwlock`] | readers together, writer alone | writer starvation |
//! | [`barrier`] | phases of a parallel computation | reading a neighbour's cells before they are written |
//! | [`atomics`] | memory ordering: passing a message with a flag | `Relaxed` is wrong, and x86 hides it |
//! | [`spinlock`] | a spinlock with a guard | spinning with more threads than cores |
//! | [`futex`], [`futex_mutex`] | a three-state futex mutex and a condition variable | the unlock path that forgets a sleeper |
//! | [`deadlock`] | two locks in opposite order; detection; two fixes | feature unification slows every lock |
//! | [`philosophers`] | the dining philosophers, deadlocked and fixed | a cycle of five |
//! | [`print_12a34b`] | two threads printing `12A34B…5152Z`, three ways | a notification sent before anyone waits |
//!
//! [`locks`] puts the four mutexes behind one trait for the shared mutual-exclusion test and
//! the benchmark.

pub mod atomics;
pub mod barrier;
pub mod bounded_queue;
pub mod deadlock;
pub mod event;
#[cfg(target_os = "linux")]
pub mod futex;
#[cfg(target_os = "linux")]
pub mod futex_mutex;
pub mod locks;
pub mod philosophers;
pub mod print_12a34b;
pub mod producer_consumer;
pub mod race;
pub mod rwlock;
pub mod semaphore;
pub mod spinlock;
