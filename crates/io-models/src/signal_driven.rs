//! Model 4 — signal-driven IO: the kernel sends a signal when a UDP socket has data.
//!
//! ```text
//!   application                              kernel
//!   fcntl: O_ASYNC, F_SETOWN, F_SETSIG ───▶  "signal this process when the socket is readable"
//!   (free to do other work)                  datagram arrives ┐ the process is not blocked
//!   signal handler ◀──────────────────────── SIGRTMIN+1       ┘
//!     writes one byte to a self-pipe, nothing else
//!   main loop wakes up on the pipe
//!   recvfrom() ───────────────────────────▶  copy the datagram to user space ┐ blocked
//!              ◀────────────────────────────  n bytes                        ┘ (the copy)
//! ```
//!
//! The process does not wait for data: it asks the kernel for a signal and the signal says "data
//! is ready". The copy is still the application's job — `recvfrom` after the signal — which is
//! why this is *not* asynchronous IO: asynchronous IO (POSIX AIO, io_uring) tells you when the
//! copy is *done* (see [`reactor`](crate::reactor) for the contrast).
//!
//! Why UDP: for a TCP socket the kernel raises the signal for almost everything — a connection
//! completed, data arrived, the peer half-closed, buffer space freed up, an error — and the signal
//! does not say which, so a TCP server learns nothing from it and falls back to polling. For a UDP
//! socket it means "a datagram (or an error) arrived", which is useful. That is why the model is
//! rare in practice and why this lesson is a UDP echo server.
//!
//! Why `SIGRTMIN+1` and not plain `SIGIO`: `F_SETSIG` makes the kernel send a real-time signal
//! instead. Real-time signals queue (one per event, with `si_fd` saying which descriptor), where
//! standard signals coalesce; the queue is bounded, though, and when it overflows the kernel falls
//! back to `SIGIO` — so this server listens for both. A process watching many sockets would read
//! `si_fd`; we watch one, and we drain it on every wake-up anyway.
//!
//! The pitfalls:
//! - **Signals do not count datagrams.** Ten datagrams may bring one signal (coalesced or
//!   overflowed), and a signal may arrive for datagrams an earlier drain already took. So each
//!   wake-up reads until `EAGAIN`, and a datagram that arrived before `O_ASYNC` was set (which sent
//!   no signal at all) is drained before the first wait.
//! - **A handler may only call async-signal-safe functions**: no allocation, no locks, no
//!   `println!`. Ours is signal-hook's: it writes one byte to a socket pair (`send` is
//!   async-signal-safe), and all the work happens in the main loop that reads the other end.
//! - **Signals belong to the process.** The default action of both signals is to *terminate the
//!   process*, so the handler is installed before `O_ASYNC` is set, and it stays installed (doing
//!   nothing) after [`run`] returns, so a late signal cannot kill the process.
//!
//! Linux only: `F_SETSIG` is a Linux extension.

use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;

use netkit::Stop;
use netkit::stop::Wake;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use signal_hook::SigId;
use signal_hook::consts::SIGIO;
use signal_hook::low_level::{pipe, unregister};

/// Large enough for any UDP datagram (at most 65,507 bytes of payload over IPv4).
const MAX_DATAGRAM: usize = 64 * 1024;

/// How many datagrams one turn may echo before looking at the stop flag again, so a client that
/// never stops sending cannot keep the server from stopping.
const TURN_BUDGET: usize = 1024;

/// `F_SETSIG` from `<asm-generic/fcntl.h>` (10 on every Linux architecture); the libc crate does
/// not export it for glibc targets.
const F_SETSIG: libc::c_int = 10;

/// The signal the kernel sends when our socket is readable: a real-time one, because they queue.
pub fn io_signal() -> libc::c_int {
    libc::SIGRTMIN() + 1
}

/// Echoes every datagram that arrives on `socket` back to its sender until `stop` is requested,
/// waiting for the kernel's signal (or the stop) in between.
pub fn run(socket: UdpSocket, stop: &Stop) -> io::Result<()> {
    let (mut wakeups, handler_end) = UnixStream::pair()?;
    let _armed = Armed::arm(&socket, handler_end)?;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // Drain first: datagrams that arrived before arming sent no signal.
        let drained = echo_waiting(&socket, &mut buf)?;
        if stop.is_stopped() {
            return Ok(());
        }
        if drained {
            wait_for_signal(&mut wakeups, stop)?;
        }
    }
}

/// A socket set up to signal us, and the signal handlers that write to our self-pipe. Dropping
/// it turns the signal off and removes the handlers' actions.
struct Armed<'a> {
    socket: &'a UdpSocket,
    handlers: Vec<SigId>,
}

impl<'a> Armed<'a> {
    fn arm(socket: &'a UdpSocket, handler_end: UnixStream) -> io::Result<Armed<'a>> {
        // The handlers first: the default action of these signals kills the process.
        let mut armed = Armed {
            socket,
            handlers: Vec::new(),
        };
        armed
            .handlers
            .push(pipe::register(io_signal(), handler_end.try_clone()?)?);
        // The kernel sends SIGIO instead when the real-time signal queue is full.
        armed.handlers.push(pipe::register(SIGIO, handler_end)?);

        socket.set_nonblocking(true)?;
        let fd = socket.as_raw_fd();
        let me = std::process::id() as libc::pid_t;
        // SAFETY: `fd` is open (borrowed from `socket` for this call) and F_SETOWN takes an
        // integer (the pid to signal); no memory is passed.
        check(unsafe { libc::fcntl(fd, libc::F_SETOWN, me) })?;
        let signal = io_signal();
        // SAFETY: as above; F_SETSIG takes an integer (the signal number).
        check(unsafe { libc::fcntl(fd, F_SETSIG, signal) })?;
        set_async(socket, true)?;
        Ok(armed)
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        // No more signals for this socket; the handlers stay installed, now without our action,
        // so a signal already on its way does nothing.
        let _ = set_async(self.socket, false);
        for id in self.handlers.drain(..) {
            unregister(id);
        }
    }
}

/// Switches `O_ASYNC` (signal on readiness) on or off.
fn set_async(socket: &UdpSocket, on: bool) -> io::Result<()> {
    let mut flags = OFlag::from_bits_retain(fcntl(socket.as_fd(), FcntlArg::F_GETFL)?);
    flags.set(OFlag::O_ASYNC, on);
    fcntl(socket.as_fd(), FcntlArg::F_SETFL(flags))?;
    Ok(())
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Blocks until a signal handler has written to the self-pipe (or `stop` is requested), and
/// empties it: however many signals came, one drain of the socket answers them all.
fn wait_for_signal(wakeups: &mut UnixStream, stop: &Stop) -> io::Result<()> {
    if stop.wait_readable(wakeups.as_fd(), None)? != Wake::Ready {
        return Ok(()); // stopped, or a signal cut the wait short: the caller looks again
    }
    let mut bytes = [0u8; 1024];
    loop {
        match wakeups.read(&mut bytes) {
            Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "self-pipe closed")),
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Receives and echoes datagrams until the socket has none left (`EAGAIN`: returns true) or the
/// turn's budget is used up (returns false: there may be more).
fn echo_waiting(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<bool> {
    for _ in 0..TURN_BUDGET {
        match socket.recv_from(buf) {
            Ok((len, peer)) => send_back(socket, &buf[..len], peer),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // An ICMP error for an earlier reply (the peer's port is closed): not our problem.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Sends one datagram back. UDP may lose datagrams, and so may we: if the send buffer is full
/// (`EAGAIN`) or the send fails, the reply is dropped and the server carries on.
fn send_back(socket: &UdpSocket, datagram: &[u8], peer: SocketAddr) {
    loop {
        match socket.send_to(datagram, peer) {
            Ok(_) => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("signal_driven: reply to {peer} dropped: {e}");
                return;
            }
        }
    }
}
