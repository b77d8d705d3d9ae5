//! Deadlines in an event loop: the one clock every connection shares.
//!
//! A blocking server bounds each wait with a socket timeout. A loop that serves many connections
//! from one thread cannot: it sleeps in one call (`select`, `poll`, `epoll_wait`) for all of
//! them. So each connection says when it wants to be told that time ran out
//! ([`Connection::deadline`](crate::Connection::deadline)), the loop keeps those instants in
//! [`Timers`], sleeps no longer than until the earliest, and after the wait calls
//! [`Connection::on_timeout`](crate::Connection::on_timeout) on every connection whose instant
//! has passed ([`timed_out`]).
//!
//! [`Timers`] is ordered by instant, so the earliest is found without looking at every
//! connection: with 10,000 idle connections an epoll loop still does work only for the ones
//! that are ready or due. A connection's deadline changes only when the loop touches it, so the
//! loop records it again after every turn it gives that connection ([`Timers::set`]).
//!
//! The pitfall is the wait's timeout: a loop that waits forever (`-1`) while a deadline is set
//! never wakes to enforce it — a client that sends half a request and goes quiet holds its slot
//! for good. And a deadline already past must make the wait return at once (timeout 0), not
//! round down to "forever".

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use nix::poll::PollTimeout;

use crate::Slab;
use crate::conn::{self, Connection};

/// The deadlines of a loop's connections, under the keys the loop uses for them.
#[derive(Debug, Default)]
pub struct Timers {
    /// (instant, key), earliest first.
    by_time: BTreeSet<(Instant, usize)>,
    by_key: HashMap<usize, Instant>,
}

impl Timers {
    /// No deadlines.
    pub fn new() -> Timers {
        Timers::default()
    }

    /// Records when `key` is due (`None`: never), replacing what it had.
    pub fn set(&mut self, key: usize, deadline: Option<Instant>) {
        if let Some(old) = self.by_key.remove(&key) {
            self.by_time.remove(&(old, key));
        }
        if let Some(at) = deadline {
            self.by_key.insert(key, at);
            self.by_time.insert((at, key));
        }
    }

    /// Forgets `key` (its connection was closed).
    pub fn remove(&mut self, key: usize) {
        self.set(key, None);
    }

    /// How long the loop may sleep: until the earliest deadline (zero if it has passed), or
    /// `None` — no deadline, wait for events alone.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        let (earliest, _) = self.by_time.first()?;
        Some(earliest.saturating_duration_since(now))
    }

    /// Takes out the keys whose deadline is at or before `now`, earliest first.
    pub fn expired(&mut self, now: Instant) -> Vec<usize> {
        let mut due = Vec::new();
        while let Some(&(at, key)) = self.by_time.first() {
            if at > now {
                break;
            }
            self.by_time.pop_first();
            self.by_key.remove(&key);
            due.push(key);
        }
        due
    }

    /// How many connections have a deadline.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no connection has a deadline.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

impl Timers {
    /// Tells every connection of `conns` whose deadline is at or before `now` that it passed
    /// ([`timed_out`]), records the new deadlines of those that go on, and returns the keys of
    /// those to close (finished or broken): the loop closes them its own way. `conn` finds the
    /// connection in a slot (`|c| c` when the slab holds connections).
    pub fn fire<T, C: Connection>(
        &mut self,
        model: &str,
        now: Instant,
        conns: &mut Slab<T>,
        conn: impl Fn(&mut T) -> &mut C,
    ) -> Vec<usize> {
        let mut close = Vec::new();
        for key in self.expired(now) {
            let Some(slot) = conns.get_mut(key) else {
                continue; // closed since it was recorded
            };
            let c = conn(slot);
            if timed_out(model, c) {
                self.set(key, c.deadline());
            } else {
                close.push(key);
            }
        }
        close
    }
}

/// Tells `conn` that its deadline passed; true if it goes on (the loop records its new
/// deadline), false when it is finished or broken (the loop closes it).
pub fn timed_out(model: &str, conn: &mut impl Connection) -> bool {
    let result = conn.on_timeout();
    conn::goes_on(model, conn, result)
}

/// The timeout for `poll(2)` or `epoll_wait(2)` (nix's `PollTimeout`, which is also its
/// `EpollTimeout`): milliseconds rounded *up*, so a loop never wakes a moment before the deadline
/// and goes straight back to sleep; forever only without a deadline.
pub fn poll_timeout(wait: Option<Duration>) -> PollTimeout {
    match wait {
        None => PollTimeout::NONE,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_deadline_bounds_the_wait_and_expires_first() {
        let now = Instant::now();
        let mut timers = Timers::new();
        assert_eq!(timers.wait(now), None, "no deadline: wait for events alone");
        timers.set(1, Some(now + Duration::from_secs(5)));
        timers.set(2, Some(now + Duration::from_secs(2)));
        timers.set(3, None);
        assert_eq!(timers.wait(now), Some(Duration::from_secs(2)));
        timers.set(2, Some(now + Duration::from_secs(9))); // moved: the old instant is gone
        assert_eq!(timers.wait(now), Some(Duration::from_secs(5)));
        assert_eq!(timers.expired(now + Duration::from_secs(6)), vec![1]);
        assert_eq!(timers.len(), 1);
        timers.remove(2);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_passed_deadline_means_do_not_sleep() {
        let now = Instant::now();
        let mut timers = Timers::new();
        timers.set(7, Some(now));
        assert_eq!(
            timers.wait(now + Duration::from_secs(1)),
            Some(Duration::ZERO)
        );
        let timeout = |wait| i32::from(poll_timeout(wait));
        assert_eq!(timeout(timers.wait(now + Duration::from_secs(1))), 0);
        assert_eq!(
            timeout(Some(Duration::from_micros(1))),
            1,
            "rounded up, not to 0"
        );
        assert_eq!(timeout(None), -1);
    }
}
