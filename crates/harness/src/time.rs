//! Deadlines and the global time scale.
//!
//! Every blocking step in a test runs under a [`Deadline`]. Default durations are generous for a
//! loaded 2-core machine; on a slower one, set `LABS_TIMEOUT_SCALE` (e.g. `3`) to multiply every
//! harness deadline at once instead of editing tests.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The default deadline for one blocking step (connect, read a line, child start-up).
pub const STEP: Duration = Duration::from_secs(10);

/// The factor from `LABS_TIMEOUT_SCALE` (default 1.0; must be a positive number).
pub fn scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| match std::env::var("LABS_TIMEOUT_SCALE") {
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(factor) if factor > 0.0 && factor.is_finite() => factor,
            _ => panic!("LABS_TIMEOUT_SCALE must be a positive number, got {text:?}"),
        },
        Err(_) => 1.0,
    })
}

/// `duration` multiplied by the global time scale.
pub fn scaled(duration: Duration) -> Duration {
    duration.mul_f64(scale())
}

/// Runs `f` on a new thread and returns its result, or panics naming `what` if it has not
/// finished within `limit` (scaled); a panic in `f` is passed on. For a library call that may
/// block forever when broken (a lock, a queue): the test fails with a message instead of hanging.
/// A step that never finishes is left behind; the test process still exits when the tests end.
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let deadline = Deadline::after(limit, what);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    let left = deadline.remaining().unwrap_or_else(|e| panic!("{e}"));
    match rx.recv_timeout(left) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{}", deadline.expired()),
    }
}

/// A point in time by which something must have happened, and a description of that something.
#[derive(Debug, Clone)]
pub struct Deadline {
    what: String,
    start: Instant,
    limit: Duration,
}

impl Deadline {
    /// A deadline `limit` (scaled by `LABS_TIMEOUT_SCALE`) from now, awaiting `what`.
    pub fn after(limit: Duration, what: impl Into<String>) -> Self {
        Deadline {
            what: what.into(),
            start: Instant::now(),
            limit: scaled(limit),
        }
    }

    /// The time left, or a timeout error naming what was awaited if none is left.
    pub fn remaining(&self) -> Result<Duration> {
        let elapsed = self.start.elapsed();
        if elapsed >= self.limit {
            Err(self.expired())
        } else {
            Ok(self.limit - elapsed)
        }
    }

    /// The timeout error for this deadline.
    pub fn expired(&self) -> Error {
        Error::timeout(self.what.clone(), self.start.elapsed())
    }

    /// How long since the deadline was set.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// What is awaited.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// Calls `probe` until it returns `Some`, backing off from 1 ms to 50 ms between calls.
    ///
    /// This is for conditions no event announces (a count in `/proc` settling, a child's state);
    /// it is never used to wait for a server to be ready — that is announced by a line or an
    /// accepted connection.
    pub fn poll<T>(&self, mut probe: impl FnMut() -> Option<T>) -> Result<T> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(value) = probe() {
                return Ok(value);
            }
            let left = self.remaining()?;
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}
