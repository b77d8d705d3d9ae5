//! How a side of the ring waits for the other: spin a while, then yield (step 1) or sleep on
//! the futex (step 2), and give up after its patience without progress.
//!
//! **How long to spin.** Spinning pays only while the other side is running on another CPU
//! and about to answer: then the answer comes within a microsecond, and no system call is made.
//! On a busy machine the other side is often *not* running — it waits for a CPU behind other
//! programs — and every microsecond spent spinning is taken from the programs that are, this
//! side's own peer among them. So step 2 adapts, as glibc's adaptive mutexes do: a side that
//! was answered while it spun spins twice as long next time (up to [`MAX_SPIN`]); a side that
//! had to sleep spins half as long (down to [`MIN_SPIN`]). Step 1 spins a fixed
//! [`SPIN_YIELD_SPIN`], then yields in a loop — it has nothing better to do.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use super::WaitStrategy;
use super::futex::{self, SharedFutex};

/// Step 1's spin before it starts yielding.
pub const SPIN_YIELD_SPIN: Duration = Duration::from_micros(50);
/// Step 2's shortest spin before sleeping.
pub const MIN_SPIN: Duration = Duration::from_nanos(500);
/// Step 2's longest spin before sleeping.
pub const MAX_SPIN: Duration = Duration::from_micros(50);

/// What one side of a ring (in this process) keeps from one wait to the next.
#[derive(Debug)]
pub(super) struct History {
    /// How long step 2 spins before it sleeps.
    spin: Cell<Duration>,
    /// How many times this side went to sleep on its futex.
    pub(super) sleeps: Cell<u64>,
}

impl History {
    pub(super) fn new() -> History {
        History {
            spin: Cell::new(MIN_SPIN),
            sleeps: Cell::new(0),
        }
    }
}

/// One wait of one side: from "nothing to do" to progress, or to the end of its patience.
pub(super) struct Idle<'a> {
    strategy: WaitStrategy,
    patience: Duration,
    history: &'a History,
    /// When the spinning started, if this side is waiting.
    spinning: Option<Instant>,
    /// Whether it slept (or yielded) since it started waiting.
    slept: bool,
    /// When the spinning ended: the patience counts from there.
    since: Option<Instant>,
}

impl<'a> Idle<'a> {
    pub(super) fn new(strategy: WaitStrategy, patience: Duration, history: &'a History) -> Self {
        Idle {
            strategy,
            patience,
            history,
            spinning: None,
            slept: false,
            since: None,
        }
    }

    /// The other side moved: adapt the spin if this side had waited, and start afresh.
    pub(super) fn progressed(&mut self) {
        if self.spinning.take().is_some() {
            let spin = &self.history.spin;
            spin.set(if self.slept {
                (spin.get() / 2).max(MIN_SPIN)
            } else {
                (spin.get() * 2).min(MAX_SPIN)
            });
        }
        self.slept = false;
        self.since = None;
    }

    /// One more round of waiting on `word` until `ready`: a spin, a yield or a sleep.
    pub(super) fn wait(
        &mut self,
        word: &SharedFutex,
        ready: impl Fn() -> bool,
        why: &str,
    ) -> io::Result<()> {
        let spinning = *self.spinning.get_or_insert_with(Instant::now);
        let spin = match self.strategy {
            WaitStrategy::SpinYield => SPIN_YIELD_SPIN,
            WaitStrategy::Futex => self.history.spin.get(),
        };
        if spinning.elapsed() < spin {
            std::hint::spin_loop();
            return Ok(());
        }
        let since = *self.since.get_or_insert_with(Instant::now);
        let left = self.patience.saturating_sub(since.elapsed());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, why.to_string()));
        }
        self.slept = true;
        match self.strategy {
            // On two cores the other side may need this one: give it up, and come back.
            WaitStrategy::SpinYield => std::thread::yield_now(),
            WaitStrategy::Futex => {
                let sleeps = &self.history.sleeps;
                sleeps.set(sleeps.get() + 1);
                futex::sleep_unless(word, ready, left)
            }
        }
        Ok(())
    }
}
