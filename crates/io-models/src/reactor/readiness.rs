//! The reactor: readiness events from epoll, turned into wake-ups of the waiting tasks.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::task::Waker;
use std::time::{Duration, Instant};

use netkit::Stop;
use polling::{Event, Events, Poller};

/// What a task waits for on a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Readable (or a connection waiting to be accepted).
    Read,
    /// Writable: room in the send buffer.
    Write,
    /// Either (a connection that has output waiting and room to read more).
    Both,
}

/// The key of the stop descriptor: never a descriptor number, so never a task's. (`usize::MAX`
/// itself is taken: `polling` keeps it for its own wake-up.)
const STOP: usize = usize::MAX - 1;

/// Descriptors → wakers, on top of epoll. One waiting task per descriptor at a time, which is
/// all a task-per-connection server needs.
#[derive(Debug)]
pub struct Reactor {
    poller: Poller,
    /// The waker of the task waiting on each descriptor (keyed by descriptor number).
    wakers: RefCell<HashMap<usize, Waker>>,
    /// Tasks waiting for an instant (a connection's deadline), earliest first.
    timers: RefCell<BTreeMap<TimerId, Waker>>,
    /// Tells apart two timers set for the same instant.
    timers_made: Cell<u64>,
    events: RefCell<Events>,
    /// The server is stopping ([`Reactor::is_stopping`]).
    stopping: Cell<bool>,
}

/// A timer of a [`Reactor`], to [cancel](Reactor::cancel) it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerId(Instant, u64);

impl Reactor {
    /// A reactor watching nothing yet.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            wakers: RefCell::new(HashMap::new()),
            timers: RefCell::new(BTreeMap::new()),
            timers_made: Cell::new(0),
            events: RefCell::new(Events::new()),
            stopping: Cell::new(false),
        })
    }

    /// Asks the reactor to wake `waker` once `fd` is ready for `interest`. The descriptor must
    /// belong to an [`AsyncListener`](super::AsyncListener) or [`AsyncStream`](super::AsyncStream)
    /// of this reactor.
    pub fn register(
        &self,
        fd: BorrowedFd<'_>,
        interest: Interest,
        waker: &Waker,
    ) -> io::Result<()> {
        // BEGIN SOLUTION: io-reactor-wakers
        let key = fd.as_raw_fd() as usize;
        self.wakers.borrow_mut().insert(key, waker.clone());
        let event = match interest {
            Interest::Read => Event::readable(key),
            Interest::Write => Event::writable(key),
            Interest::Both => Event::all(key),
        };
        // Arming re-checks readiness: data that came after our EAGAIN is reported, not lost.
        self.poller.modify(fd, event)
        // END SOLUTION
    }

    /// Asks the reactor to wake `waker` once `at` has passed: a task that waits for readiness
    /// *or* a deadline registers both, with the same waker, and looks at the clock when it runs.
    pub fn wake_at(&self, at: Instant, waker: &Waker) -> TimerId {
        let id = TimerId(at, self.timers_made.get());
        self.timers_made.set(id.1 + 1);
        self.timers.borrow_mut().insert(id, waker.clone());
        id
    }

    /// Forgets a timer that is no longer needed (its task was woken by readiness first).
    pub fn cancel(&self, id: TimerId) {
        self.timers.borrow_mut().remove(&id);
    }

    /// Blocks until a registered descriptor is ready, the earliest timer is due, or `timeout`
    /// passes, and wakes the tasks waiting on what is ready or due. Returns how many it woke.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = self.events.borrow_mut();
        events.clear();
        let next_timer = self.timers.borrow().keys().next().map(|id| id.0);
        let until_timer = next_timer.map(|at| at.saturating_duration_since(Instant::now()));
        let timeout = match (timeout, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.poller.wait(&mut events, timeout)?; // retries EINTR itself
        Ok(self.wake_ready(&events) + self.wake_due(Instant::now()))
    }

    /// Wakes the tasks whose timers are due.
    fn wake_due(&self, now: Instant) -> usize {
        let mut woken = 0;
        loop {
            let mut timers = self.timers.borrow_mut();
            let Some(entry) = timers.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let waker = entry.remove();
            drop(timers); // a waker may run code that sets a timer
            waker.wake();
            woken += 1;
        }
        woken
    }

    fn wake_ready(&self, events: &Events) -> usize {
        // BEGIN SOLUTION: io-reactor-wakers
        let mut woken = 0;
        for event in events.iter() {
            // Oneshot: the descriptor is disarmed now; the task registers again if it must wait.
            let waker = self.wakers.borrow_mut().remove(&event.key);
            if let Some(waker) = waker {
                waker.wake();
                woken += 1;
            }
        }
        woken
        // END SOLUTION
    }

    /// Starts watching `fd`, with no interest yet. Only the wrappers' constructors call this, and
    /// their `Drop` calls [`detach`](Self::detach).
    pub(super) fn attach(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        let key = fd.as_raw_fd() as usize;
        // SAFETY: `add` requires the descriptor to be deleted before it is closed. Its owner (an
        // `AsyncListener` or `AsyncStream`) calls `detach` in `Drop`, before its socket closes.
        unsafe { self.poller.add(fd.as_raw_fd(), Event::none(key)) }
    }

    /// Also returns from [`wait`](Self::wait) once `stop` is requested (no task is woken: the
    /// executor looks at the stop after every wait). Undone by [`unwatch_stop`](Self::unwatch_stop).
    pub(super) fn watch_stop(&self, stop: &Stop) -> io::Result<()> {
        // SAFETY: the executor calls `unwatch_stop` before `run` returns, while the borrowed
        // `Stop` (and its descriptor) is still alive.
        unsafe {
            self.poller
                .add(stop.fd().as_raw_fd(), Event::readable(STOP))
        }
    }

    pub(super) fn unwatch_stop(&self, stop: &Stop) {
        let watched = if self.is_stopping() {
            stop.force_fd()
        } else {
            stop.fd()
        };
        let _ = self.poller.delete(watched);
    }

    /// True once the server is stopping gracefully ([`netkit::graceful`]): a task that can end
    /// without cutting anything — an accept loop, a connection between requests — ends now.
    pub fn is_stopping(&self) -> bool {
        self.stopping.get()
    }

    /// The server is stopping: says so to the tasks, and trades the stop descriptor (readable
    /// for good now) for the force descriptor, so [`wait`](Self::wait) still returns on a
    /// second stop.
    pub(super) fn begin_stopping(&self, stop: &Stop) -> io::Result<()> {
        if self.stopping.replace(true) {
            return Ok(());
        }
        self.poller.delete(stop.fd())?;
        // SAFETY: `unwatch_stop` deletes it before the executor's `run` returns, while the
        // borrowed `Stop` (and its descriptor) is still alive.
        unsafe {
            self.poller
                .add(stop.force_fd().as_raw_fd(), Event::readable(STOP))
        }
    }

    pub(super) fn detach(&self, fd: BorrowedFd<'_>) {
        self.wakers.borrow_mut().remove(&(fd.as_raw_fd() as usize));
        let _ = self.poller.delete(fd);
    }
}
