//! How a side of the ring waits for the other: spin a while, then yield (step 1) or sleep on
//! the futex (step 2), and give up after its patience without progress.
//!
//! **How long to spin.** Spinning pays only while the other side is running on another CPU
//! and about to answer: then the answer comes within a microsecond, and no system call is made.
//! On a busy machine the other side is often *not* running — it waits for a CPU behind other
//! programs — and every microsecond spent spinning is taken from the programs that are, this
//! side's own peer among them. So step 2 learns how long its waits last, as glibc's adaptive
//! mutexes learn how long a lock is held: it keeps a running average of its waits, and spins
//! twice that average when the average is short (an answer is likely within the spin), and only
//! [`MIN_SPIN`] when waits are long (spinning would only burn the CPU before the same sleep).
//!
//! The pitfall is a rule that learns only from its own spins — "spun and was answered: spin
//! longer; slept: spin shorter". A side whose spin starts shorter than the other side's answer
//! always sleeps, so it only ever shortens its spin, and never learns that a slightly longer one
//! would have been answered: a ping-pong then pays a wake-up per message.
//! Step 1 spins a fixed [`SPIN_YIELD_SPIN`], then yields in a loop — it has nothing better to do.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use nix::time::ClockId;

use super::WaitStrategy;
use super::futex::{self, SharedFutex};

/// Step 1's spin before it starts yielding.
pub const SPIN_YIELD_SPIN: Duration = Duration::from_micros(50);
/// Step 2's shortest spin before sleeping.
pub const MIN_SPIN: Duration = Duration::from_nanos(500);
/// Step 2's longest spin before sleeping: a wait that usually lasts longer than this is
/// spent asleep.
pub const MAX_SPIN: Duration = Duration::from_micros(50);

/// What one side of a ring (in this process) keeps from one wait to the next.
#[derive(Debug)]
pub(super) struct History {
    /// The running average of this side's waits (each new wait weighs 1/4).
    typical: Cell<Duration>,
    /// How many times this side went to sleep on its futex.
    pub(super) sleeps: Cell<u64>,
}

impl History {
    /// How long step 2 spins before it sleeps: twice the typical wait if that is short.
    fn spin(&self) -> Duration {
        let twice = self.typical.get() * 2;
        if twice <= MAX_SPIN {
            twice.max(MIN_SPIN)
        } else {
            MIN_SPIN
        }
    }

    pub(super) fn new() -> History {
        History {
            typical: Cell::new(Duration::ZERO),
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
            since: None,
        }
    }

    /// The other side moved: learn from how long this side waited, and start afresh.
    pub(super) fn progressed(&mut self) {
        if let Some(spinning) = self.spinning.take() {
            let typical = &self.history.typical;
            typical.set(typical.get() * 3 / 4 + spinning.elapsed() / 4);
        }
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
            WaitStrategy::Futex => self.history.spin(),
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

/// What each step costs while there is nothing to do: the share of a CPU a ring's consumer uses
/// while its producer is silent for `window`. It waits in `read_exact` with `window` of
/// patience (and times out); this thread's CPU time is read around the wait.
pub fn idle_consumer_cpu(strategy: WaitStrategy, window: Duration) -> io::Result<f64> {
    let ring = super::Ring::with_strategy(64, strategy)?;
    let cpu_time = || ClockId::CLOCK_THREAD_CPUTIME_ID.now().map(Duration::from);
    let (cpu_before, start) = (cpu_time()?, Instant::now());
    let waited = ring.read_exact(&mut [0u8; 1], window);
    let (cpu, wall) = (cpu_time()? - cpu_before, start.elapsed());
    match waited {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
        Err(e) => return Err(e),
        Ok(()) => return Err(io::Error::other("a byte arrived that nobody sent")),
    }
    Ok(cpu.as_secs_f64() / wall.as_secs_f64())
}
