//! Reaping children as they die: SIGCHLD, a self-pipe, and a `waitpid(WNOHANG)` loop.
//!
//! A server that forks a child per client must reap each one, or it fills the process table
//! with zombies. It cannot block in `waitpid` (it has clients to accept), so it learns of deaths
//! from SIGCHLD — but a signal handler may do almost nothing (`signal-safety(7)`). signal-hook's
//! pipe registration does the one safe thing: the handler writes a byte to a pipe. The server's
//! event loop watches the pipe's read end beside its listener ([`Reaper::fd`]) and, when it is
//! readable, reaps in ordinary code ([`Reaper::reap`]).
//!
//! **The pitfall: signals coalesce.** While SIGCHLD is pending, more children dying add nothing:
//! ten deaths may arrive as one signal. So one wake-up must reap *everyone* who has died:
//! `waitpid(-1, WNOHANG)` in a loop until it says "children remain, none has exited"
//! (`StillAlive`) or "no children at all" (`ECHILD`). A handler that reaps one child per signal
//! leaks zombies under load.
//!
//! `waitpid(-1)` reaps *any* child of the process, so the whole process must agree on who
//! reaps: a program owns its children; tests that fork hold `harness::process_lock()`.

use std::io::{self, ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use signal_hook::SigId;
use signal_hook::consts::SIGCHLD;

use crate::spawn::Outcome;

/// A child that was reaped, and how it ended.
pub type Reaped = (Pid, Outcome);

/// Reaps every child that has exited, without blocking; returns them.
pub fn reap_exited() -> io::Result<Vec<Reaped>> {
    // BEGIN SOLUTION: mp-reap-loop
    let mut reaped = Vec::new();
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            // Children remain, and none of them has exited: done for now.
            Ok(WaitStatus::StillAlive) => break,
            Ok(status) => {
                // Stopped/continued children (only reported with WUNTRACED/WCONTINUED) are not
                // deaths; every status here that has a pid and an outcome is one.
                if let (Some(pid), Some(outcome)) = (status.pid(), Outcome::from_status(status)) {
                    reaped.push((pid, outcome));
                }
            }
            Err(Errno::EINTR) => continue,
            // No children at all.
            Err(Errno::ECHILD) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(reaped)
    // END SOLUTION
}

/// SIGCHLD turned into a readable descriptor, for an event loop.
#[derive(Debug)]
pub struct Reaper {
    /// The read end of the self-pipe (non-blocking); the SIGCHLD handler writes to the other.
    wakeups: UnixStream,
    signal: SigId,
}

impl Reaper {
    /// Registers the SIGCHLD handler. Children that died before this are reaped by the first
    /// [`reap`](Reaper::reap), so call it once right after installing.
    pub fn install() -> io::Result<Reaper> {
        let (wakeups, handler_end) = UnixStream::pair()?;
        wakeups.set_nonblocking(true)?;
        let signal = signal_hook::low_level::pipe::register(SIGCHLD, handler_end)?;
        Ok(Reaper { wakeups, signal })
    }

    /// Readable when SIGCHLD has arrived since the last [`reap`](Reaper::reap).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wakeups.as_fd()
    }

    /// Empties the self-pipe, then reaps every child that has exited. Returns them.
    pub fn reap(&self) -> io::Result<Vec<Reaped>> {
        self.drain()?;
        // Drain first, reap second: a child dying in between leaves a byte for next time.
        reap_exited()
    }

    /// Reaps `child` alone, if it has exited — for a program with one child, which need not
    /// loop over every child. Drains the wake-ups first, like [`reap`](Reaper::reap).
    pub fn reap_child(&self, child: Pid) -> io::Result<Option<Outcome>> {
        self.drain()?;
        loop {
            return match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                Ok(status) => Ok(Outcome::from_status(status)),
                Err(Errno::EINTR) => continue,
                Err(e) => Err(e.into()),
            };
        }
    }

    /// Empties the self-pipe, so its descriptor is readable again only after the next SIGCHLD.
    fn drain(&self) -> io::Result<()> {
        let mut buf = [0u8; 64];
        loop {
            match (&self.wakeups).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.signal);
    }
}
