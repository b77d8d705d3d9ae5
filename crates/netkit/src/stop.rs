//! One way to stop a server: a flag, and a descriptor that turns readable when it is set.
//!
//! A server loop checks a flag between turns — but a loop blocked in `accept`, `poll` or
//! `epoll_wait` does not run a turn until something happens. So a stop must also *wake* it.
//! [`Stop`] carries both: [`Stop::stop`] sets the flag and writes one byte into a socket pair
//! made when the `Stop` was; the other end, [`Stop::fd`], is then readable and stays readable
//! (nobody reads the byte), so every loop that watches it — any number, in any thread, even in
//! forked children that inherited it — wakes up, now or whenever it next waits.
//!
//! The wake-up descriptor exists from the start. The obvious alternative, connecting to the
//! server's own listener after setting the flag, needs a *new* descriptor at the moment of
//! stopping — and a server that is out of descriptors (`EMFILE`) is exactly the one that cannot
//! get one, so it never stops. That trick stays in one place only, the blocking-IO lesson, whose
//! `accept` can watch nothing but its listener ([`Stop::on_stop`] lets it ask for it).
//!
//! Ctrl-C and SIGTERM: a signal handler may only do async-signal-safe work, so
//! [`Stop::on_ctrl_c`] lets signal-hook's handler write to its own self-pipe, and a plain
//! thread then calls [`Stop::stop`].
//!
//! **Two levels.** A stop is graceful: a server stops accepting and finishes what is in flight
//! (see [`crate::graceful`]), for at most its [grace period](Stop::grace). A second request,
//! [`Stop::force`] — a second Ctrl-C — ends that wait at once. It has its own descriptor
//! ([`Stop::force_fd`]), made with the first: the stop's descriptor stays readable for good, so
//! a loop that is draining cannot watch it (every wait would return at once) and watches this
//! one instead.
//!
//! The pitfall: install the Ctrl-C handler before printing the `listening on` banner. A test (or
//! a script) may send SIGINT the moment it reads that line, and a process without a handler dies
//! of it.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long a server may take, once stopped, to finish what is in flight, unless told otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// A request to stop, shared by whoever asks for it and every loop that should end.
pub struct Stop {
    /// The graceful stop: stop accepting, finish what is in flight.
    stop: Level,
    /// The second request: end the drain now.
    force: Level,
    /// How long a drain may last.
    grace: Duration,
}

/// One level of a stop: a flag, a descriptor readable once it is set, and hooks run then.
struct Level {
    requested: AtomicBool,
    /// Readable once requested (a byte waits in it, never read).
    watch: UnixStream,
    /// Where the request writes that byte.
    ring: UnixStream,
    /// Extra wake-ups, run once by the first request.
    hooks: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

impl Level {
    fn new() -> io::Result<Level> {
        let (watch, ring) = UnixStream::pair()?;
        ring.set_nonblocking(true)?;
        Ok(Level {
            requested: AtomicBool::new(false),
            watch,
            ring,
            hooks: Mutex::new(Vec::new()),
        })
    }

    /// Sets the flag, makes `watch` readable, runs the hooks; the first time only.
    fn request(&self) {
        if self.requested.swap(true, Ordering::SeqCst) {
            return;
        }
        // The socket pair's buffer is empty (this is the only write), so one byte always fits.
        let _ = (&self.ring).write(&[1]);
        let hooks = std::mem::take(&mut *self.hooks.lock().unwrap_or_else(|p| p.into_inner()));
        for hook in hooks {
            hook();
        }
    }

    fn is_set(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    fn on(&self, hook: impl FnOnce() + Send + 'static) {
        let mut hooks = self.hooks.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_set() {
            drop(hooks);
            hook();
        } else {
            hooks.push(Box::new(hook));
        }
    }
}

/// What [`Stop::wait_readable`] saw first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The descriptor is readable (or hung up, or in error: a read will tell).
    Ready,
    /// A stop was requested.
    Stopped,
    /// The timeout passed with neither.
    TimedOut,
}

impl Stop {
    /// A stop not yet requested, with its wake-up descriptors already open, and a drain of at
    /// most [`DEFAULT_GRACE`].
    pub fn new() -> io::Result<Stop> {
        Stop::with_grace(DEFAULT_GRACE)
    }

    /// A stop whose drain lasts at most `grace`.
    pub fn with_grace(grace: Duration) -> io::Result<Stop> {
        Ok(Stop {
            stop: Level::new()?,
            force: Level::new()?,
            grace,
        })
    }

    /// A stop requested by the first Ctrl-C (SIGINT) or SIGTERM this process receives, and
    /// forced by a second signal of the same kind.
    pub fn on_ctrl_c() -> io::Result<Arc<Stop>> {
        Stop::on_ctrl_c_with_grace(DEFAULT_GRACE)
    }

    /// [`Stop::on_ctrl_c`], with a drain of at most `grace`.
    ///
    /// Only a second signal *of the same kind* forces: a supervisor passing Ctrl-C on as
    /// SIGTERM to a worker that the terminal's SIGINT reached too must not cut its drain short.
    pub fn on_ctrl_c_with_grace(grace: Duration) -> io::Result<Arc<Stop>> {
        let stop = Arc::new(Stop::with_grace(grace)?);
        let requester = Arc::clone(&stop);
        let mut first = None;
        on_each_ctrl_c(move |signal| match first {
            None => {
                first = Some(signal);
                requester.stop();
            }
            Some(kind) if kind == signal => requester.force(),
            Some(_) => {}
        })?;
        Ok(stop)
    }

    /// Requests the stop: sets the flag, makes [`Stop::fd`] readable, and runs the
    /// [`on_stop`](Stop::on_stop) hooks. Allocates no descriptor; calling it again does nothing.
    pub fn stop(&self) {
        self.stop.request();
    }

    /// True once a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.stop.is_set()
    }

    /// Ends the drain at once (and requests the stop, if nobody had): what is still in flight
    /// is cut. Makes [`Stop::force_fd`] readable and runs the [`on_force`](Stop::on_force)
    /// hooks; allocates no descriptor.
    pub fn force(&self) {
        self.stop();
        self.force.request();
    }

    /// True once the stop was forced.
    pub fn is_forced(&self) -> bool {
        self.force.is_set()
    }

    /// How long a server may take, once stopped, to finish what is in flight.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// A descriptor that is readable once a stop was requested — register it with `poll`,
    /// `epoll` or `select` beside the sockets, and look at [`Stop::is_stopped`] when it fires.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.stop.watch.as_fd()
    }

    /// A descriptor that is readable once the stop was [forced](Stop::force): what a draining
    /// loop watches (the stop's own descriptor is readable for good by then).
    pub fn force_fd(&self) -> BorrowedFd<'_> {
        self.force.watch.as_fd()
    }

    /// Blocks until `fd` is readable, the stop is requested, or `timeout` passes (`None`: no
    /// timeout). A signal interrupting the wait counts as a time-out, so the caller looks again.
    pub fn wait_readable(&self, fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<Wake> {
        self.wait_ready(fd, PollFlags::POLLIN, timeout)
    }

    /// [`wait_readable`](Stop::wait_readable) for any `poll(2)` events of `fd` (`POLLOUT`: a
    /// non-blocking `connect` finished).
    pub fn wait_ready(
        &self,
        fd: BorrowedFd<'_>,
        events: PollFlags,
        timeout: Option<Duration>,
    ) -> io::Result<Wake> {
        let mut fds = [
            PollFd::new(fd, events),
            PollFd::new(self.fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, poll_timeout(timeout)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        let fired = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        Ok(if self.is_stopped() || fired(&fds[1]) {
            Wake::Stopped
        } else if fired(&fds[0]) {
            Wake::Ready
        } else {
            Wake::TimedOut
        })
    }

    /// Sleeps until the stop is requested or `timeout` passes; returns true if stopped.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        if !self.is_stopped() {
            let mut fds = [PollFd::new(self.fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, poll_timeout(timeout));
        }
        self.is_stopped()
    }

    /// Runs `hook` when the stop is requested (at once if it already was) — for a wait that
    /// cannot watch [`Stop::fd`], such as a plain blocking `accept` (see [`wake_tcp`]).
    pub fn on_stop(&self, hook: impl FnOnce() + Send + 'static) {
        self.stop.on(hook);
    }

    /// Runs `hook` when the stop is forced (at once if it already was) — for a drain that waits
    /// on something that cannot watch [`Stop::force_fd`] (threads ending).
    pub fn on_force(&self, hook: impl FnOnce() + Send + 'static) {
        self.force.on(hook);
    }
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop")
            .field("requested", &self.is_stopped())
            .field("forced", &self.is_forced())
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// `None` → wait forever; otherwise whole milliseconds, rounded up so a short wait still waits.
fn poll_timeout(timeout: Option<Duration>) -> PollTimeout {
    match timeout {
        None => PollTimeout::NONE,
        Some(t) => {
            let ms = t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    }
}

/// Runs `on_signal` on a helper thread when SIGINT or SIGTERM first arrives.
pub fn on_ctrl_c(on_signal: impl FnOnce() + Send + 'static) -> io::Result<()> {
    let mut once = Some(on_signal);
    on_each_ctrl_c(move |_| {
        if let Some(on_signal) = once.take() {
            on_signal();
        }
    })
}

/// Runs `on_signal(signal)` on a helper thread for every SIGINT or SIGTERM that arrives, with
/// its number: a second Ctrl-C may mean more than the first ([`Stop::force`]).
pub fn on_each_ctrl_c(mut on_signal: impl FnMut(i32) + Send + 'static) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || signals.forever().for_each(&mut on_signal))?;
    Ok(())
}

/// Connects once to `addr` and hangs up, so a server blocked in a plain `accept` on it wakes
/// up. Failure is fine: the server may already be gone. Needs a descriptor, so it is only for
/// the one lesson that cannot watch [`Stop::fd`].
pub fn wake_tcp(addr: SocketAddr) {
    let _ = TcpStream::connect_timeout(&connectable(addr), Duration::from_secs(1));
}

/// Sends an empty datagram to `addr`, so a server blocked receiving on it wakes up.
pub fn wake_udp(addr: SocketAddr) {
    let local = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    if let Ok(socket) = UdpSocket::bind(local) {
        let _ = socket.send_to(&[], connectable(addr));
    }
}

/// A server bound to the wildcard address is reached through loopback.
fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    addr
}
