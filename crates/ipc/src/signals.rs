//! Signals: `kill`, handlers (signal-hook), `signalfd`, and why standard signals coalesce while
//! real-time signals queue.
//!
//! A signal is a number sent to a process (`kill(pid, sig)`): the smallest message there is.
//! The kernel keeps, per process, a *set* of pending standard signals — one bit each. So
//! **standard signals coalesce**: ten SIGUSR1s sent while the first is still pending are one
//! SIGUSR1 delivered. Real-time signals (`SIGRTMIN`..`SIGRTMAX`) are kept in a *queue*: every one
//! sent is delivered, in order, and `sigqueue` attaches a value (an `int`) to each.
//!
//! [`send_while_blocked`] shows it by counting, with nothing left to timing: a child blocks
//! SIGUSR1 and SIGRTMIN, the parent sends `n` of each, then the child takes delivery — through
//! handlers (unblocking runs them all before `sigprocmask` returns) or by reading a `signalfd`
//! (the pending signals become readable records, and no handler runs at all). Either way it gets
//! one SIGUSR1 and `n` SIGRTMINs carrying `0, 1, …, n-1`.
//!
//! Pitfalls:
//! - a signal handler may only do async-signal-safe work: the handlers here increment an
//!   atomic; signal-hook's `flag` and `iterator` do the same and leave the rest to normal code;
//! - a signal sent to a *process* goes to any one thread that does not block it; a
//!   `signalfd` only sees signals that every thread blocks. The demonstration runs in a forked
//!   child, which has one thread, so there is no other thread to take them;
//! - do not use signals to count events: whoever relies on one signal per event (SIGCHLD per
//!   child, say) loses some. Use them to say "look", then look (the `waitpid` loop in the
//!   multiprocess chapter).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use multiprocess::process::Process;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::pipe::pipe;

/// How the child takes delivery of the signals it blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Handlers registered with signal-hook run when the child unblocks the signals.
    Handler,
    /// The child reads them from a `signalfd`; they stay blocked and no handler runs.
    Signalfd,
}

/// What the child received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// SIGUSR1s delivered.
    pub standard: usize,
    /// SIGRTMINs delivered.
    pub realtime: usize,
    /// The values the SIGRTMINs carried, in delivery order (`signalfd` only).
    pub values: Vec<i32>,
}

/// `SIGRTMIN` (its number is chosen by the C library at run time, so it is not a `Signal`).
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// Sends signal `signo` with `value` to `pid` (`sigqueue`; nix has no wrapper).
pub fn sigqueue(pid: Pid, signo: i32, value: i32) -> io::Result<()> {
    let value = libc::sigval {
        // The C union's int member, carried in the pointer member libc exposes.
        sival_ptr: value as isize as *mut libc::c_void,
    };
    // SAFETY: sigqueue only reads its arguments; a bad pid or signal is an error return.
    if unsafe { libc::sigqueue(pid.as_raw(), signo, value) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// SIGUSR1 and SIGRTMIN.
fn the_two_signals() -> SigSet {
    let mut raw = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe { libc::sigemptyset(raw.as_mut_ptr()) };
    // SAFETY: initialised just above.
    let mut raw = unsafe { raw.assume_init() };
    for signo in [libc::SIGUSR1, sigrtmin()] {
        // SAFETY: an initialised set and a valid signal number.
        unsafe { libc::sigaddset(&mut raw, signo) };
    }
    // SAFETY: `raw` was built by the C library's own functions above.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

static STANDARD: AtomicUsize = AtomicUsize::new(0);
static REALTIME: AtomicUsize = AtomicUsize::new(0);

/// Forks a child that blocks SIGUSR1 and SIGRTMIN; sends it `n` SIGUSR1 (`kill`) and `n`
/// SIGRTMIN (`sigqueue` with values `0..n`) while they are blocked; then the child takes
/// delivery `via` handlers or a `signalfd` and reports what it got.
pub fn send_while_blocked(n: usize, via: Via) -> io::Result<Received> {
    let (mut ready_read, ready_write) = pipe()?;
    let (go_read, mut go_write) = pipe()?;
    let mut child = Process::start(move || -> Result<Received, String> {
        receive_in_child(via, ready_write, go_read).map_err(|e| e.to_string())
    })?;
    let mut byte = [0u8];
    ready_read.read_exact(&mut byte)?; // the child has blocked the signals
    for i in 0..n {
        kill(child.pid(), Signal::SIGUSR1)?;
        sigqueue(child.pid(), sigrtmin(), i as i32)?;
    }
    go_write.write_all(b"g")?;
    let exit = child.join()?;
    match exit.result {
        Some(Ok(Ok(received))) => Ok(received),
        Some(Ok(Err(e))) => Err(io::Error::other(format!("in the child: {e}"))),
        Some(Err(panic)) => Err(io::Error::other(format!("the child panicked: {panic}"))),
        None => Err(io::Error::other(format!("the child {}", exit.outcome))),
    }
}

fn receive_in_child(
    via: Via,
    mut ready: std::fs::File,
    mut go: std::fs::File,
) -> io::Result<Received> {
    let signals = the_two_signals();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&signals), None)?;
    ready.write_all(b"r")?;
    let mut byte = [0u8];
    go.read_exact(&mut byte)?; // everything has been sent, and is pending
    match via {
        Via::Handler => {
            STANDARD.store(0, Ordering::SeqCst);
            REALTIME.store(0, Ordering::SeqCst);
            // SAFETY: the action only increments an atomic, which is async-signal-safe.
            unsafe {
                signal_hook::low_level::register(libc::SIGUSR1, || {
                    STANDARD.fetch_add(1, Ordering::SeqCst);
                })
            }?;
            // SAFETY: as above.
            unsafe {
                signal_hook::low_level::register(sigrtmin(), || {
                    REALTIME.fetch_add(1, Ordering::SeqCst);
                })
            }?;
            // Every pending signal is delivered before this call returns to us.
            pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&signals), None)?;
            Ok(Received {
                standard: STANDARD.load(Ordering::SeqCst),
                realtime: REALTIME.load(Ordering::SeqCst),
                values: Vec::new(),
            })
        }
        Via::Signalfd => {
            let fd =
                SignalFd::with_flags(&signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
            let mut received = Received {
                standard: 0,
                realtime: 0,
                values: Vec::new(),
            };
            while let Some(info) = fd.read_signal()? {
                if info.ssi_signo as i32 == libc::SIGUSR1 {
                    received.standard += 1;
                } else if info.ssi_signo as i32 == sigrtmin() {
                    received.realtime += 1;
                    received.values.push(info.ssi_int);
                }
            }
            Ok(received)
        }
    }
}
