//! The reactor: readiness events from epoll, turned into wake-ups of the waiting tasks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::task::Waker;
use std::time::Duration;

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
    events: RefCell<Events>,
}

impl Reactor {
    /// A reactor watching nothing yet.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            wakers: RefCell::new(HashMap::new()),
            events: RefCell::new(Events::new()),
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

    /// Blocks until a registered descriptor is ready (or `timeout` passes), and wakes the tasks
    /// waiting on the ready ones. Returns how many it woke.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = self.events.borrow_mut();
        events.clear();
        self.poller.wait(&mut events, timeout)?; // retries EINTR itself
        Ok(self.wake_ready(&events))
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
        let _ = self.poller.delete(stop.fd());
    }

    pub(super) fn detach(&self, fd: BorrowedFd<'_>) {
        self.wakers.borrow_mut().remove(&(fd.as_raw_fd() as usize));
        let _ = self.poller.delete(fd);
    }
}
