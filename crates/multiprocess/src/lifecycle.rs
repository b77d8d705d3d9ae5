//! Process states you can see: a zombie, an orphan, and a child that dies with its parent.
//!
//! - **Zombie** (僵尸进程): a child that has exited but whose parent has not called `waitpid`.
//!   Its memory is gone, but the kernel keeps its pid and exit status for the parent, and
//!   `/proc/<pid>/stat` shows state `Z`. A server that never reaps collects them until it can
//!   fork no more. [`make_zombie`] makes one on purpose; [`Zombie::reap`] ends it.
//! - **Orphan** (孤儿进程): a child whose parent exited first. It is re-parented — to PID 1, or
//!   to the nearest ancestor that declared itself a *subreaper* (`PR_SET_CHILD_SUBREAPER`), which
//!   then reaps it. Depending on PID 1 makes a demonstration depend on the machine (in a
//!   container PID 1 may be anything), so [`make_orphan`] runs under a [`Subreaper`] and the new
//!   parent is known: this process.
//! - **Dies with its parent**: Python's `daemon=True` kills children when the parent exits
//!   *normally*. `PR_SET_PDEATHSIG` is the kernel's honest version: the child is sent a signal
//!   when its parent dies by any means, `SIGKILL` included. [`parent_death_signal`] shows it.
//!   Pitfalls: the signal fires when the parent *thread* that forked the child exits, not the
//!   process; and the parent may die before the child sets it, so the child checks `getppid()`
//!   afterwards.
//!
//! Every demonstration forks; tests hold `harness::process_lock()`.

use std::fs::File;
use std::io::{self, Read, Write};

use nix::fcntl::OFlag;
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{Pid, getpid, getppid, pause, pipe2};

use crate::spawn::{self, Outcome, ParentEnd};

/// A process's `/proc/<pid>/stat` line: the state (`Z` for a zombie) and the parent (1, or a
/// subreaper, for an orphan) are what this lesson shows.
pub use labkit::proc::Stat;

/// A child that has exited and has not been reaped.
#[derive(Debug)]
pub struct Zombie {
    pid: Pid,
    reaped: bool,
}

/// Forks a child that exits at once, and waits until it has exited — *without* reaping it
/// (`waitid` with `WNOWAIT`), so it is a zombie when this returns. No polling, no sleeping.
pub fn make_zombie(exit_code: i32) -> io::Result<Zombie> {
    let pid = spawn::fork_run(move || exit_code)?;
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Zombie { pid, reaped: false })
}

impl Zombie {
    /// The zombie's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Reaps it (`waitpid`): its `/proc` entry disappears and its exit status is returned.
    pub fn reap(mut self) -> io::Result<Outcome> {
        self.reaped = true;
        spawn::wait_for(self.pid)
    }
}

impl Drop for Zombie {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = spawn::wait_for(self.pid);
        }
    }
}

/// While it lives, this process is a *child subreaper*: orphans among its descendants are
/// re-parented to it instead of to PID 1.
#[derive(Debug)]
pub struct Subreaper(());

impl Subreaper {
    /// Sets `PR_SET_CHILD_SUBREAPER` (a process-wide setting) until the guard is dropped.
    pub fn become_one() -> io::Result<Subreaper> {
        prctl::set_child_subreaper(true)?;
        Ok(Subreaper(()))
    }
}

impl Drop for Subreaper {
    fn drop(&mut self) {
        let _ = prctl::set_child_subreaper(false);
    }
}

/// A grandchild whose parent has exited; it waits until [`Orphan::release`].
#[derive(Debug)]
pub struct Orphan {
    /// The orphan.
    pub pid: Pid,
    /// Its parent at birth, now gone.
    pub first_parent: Pid,
    /// How its first parent ended.
    pub first_parent_outcome: Outcome,
    /// Closing this tells the orphan to exit.
    release: Option<ParentEnd>,
}

/// Forks a child that forks a grandchild and exits; the grandchild becomes an orphan and is
/// re-parented to this process, which must be a [`Subreaper`] (so the new parent is known).
pub fn make_orphan(_subreaper: &Subreaper) -> io::Result<Orphan> {
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC)?;
    let (release_read, release_write) = pipe2(OFlag::O_CLOEXEC)?;
    // A parent-only end: the children would otherwise inherit it, and the orphan's read
    // would never see EOF while it held a copy of the write end itself.
    let release = ParentEnd::new(release_write);
    let middle = spawn::fork_run(|| {
        let mut report = File::from(report_write);
        let mut wait_for_release = File::from(release_read);
        let grandchild = spawn::fork_run(move || {
            // Blocks until the grandparent closes its end: EOF.
            let _ = wait_for_release.read(&mut [0u8; 1]);
            0
        });
        match grandchild {
            Ok(pid) => match report.write_all(&pid.as_raw().to_le_bytes()) {
                Ok(()) => 0,
                Err(_) => 2,
            },
            Err(_) => 1,
        }
        // Returning exits the middle child: its child is now an orphan.
    })?;
    // Our copies of the children's ends are gone with the closure; only `release` remains.
    let mut pid = [0u8; 4];
    File::from(report_read).read_exact(&mut pid)?;
    let first_parent_outcome = spawn::wait_for(middle)?;
    Ok(Orphan {
        pid: Pid::from_raw(i32::from_le_bytes(pid)),
        first_parent: middle,
        first_parent_outcome,
        release: Some(release),
    })
}

impl Orphan {
    /// Tells the orphan to exit and reaps it — possible because it is now our child.
    pub fn release(mut self) -> io::Result<Outcome> {
        drop(self.release.take());
        spawn::wait_for(self.pid)
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if self.release.take().is_some() {
            let _ = spawn::wait_for(self.pid);
        }
    }
}

/// How a parent and its `PR_SET_PDEATHSIG` child ended when the parent was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentDeath {
    /// The parent (killed with SIGKILL: no cleanup code of its own ran).
    pub parent: Outcome,
    /// The child, which asked to be sent SIGTERM when its parent dies.
    pub child: Outcome,
}

/// Forks a parent that forks a child with `PR_SET_PDEATHSIG(SIGTERM)`, kills the parent with
/// SIGKILL, and reaps both (the child is re-parented to this [`Subreaper`] as it dies).
pub fn parent_death_signal(_subreaper: &Subreaper) -> io::Result<ParentDeath> {
    let (armed_read, armed_write) = pipe2(OFlag::O_CLOEXEC)?;
    let parent = spawn::fork_run(move || {
        let parent_pid = getpid();
        let mut armed = File::from(armed_write);
        let child = spawn::fork_run(move || {
            if prctl::set_pdeathsig(Signal::SIGTERM).is_err() {
                return 1;
            }
            // The parent may have died before prctl: then no signal will ever come.
            if getppid() != parent_pid {
                return 2;
            }
            if armed.write_all(&getpid().as_raw().to_le_bytes()).is_err() {
                return 3;
            }
            loop {
                pause(); // until a signal ends us
            }
        });
        if child.is_err() {
            return 1;
        }
        loop {
            pause(); // the parent waits to be killed
        }
    })?;
    let mut child = [0u8; 4];
    let armed = File::from(armed_read).read_exact(&mut child);
    kill(parent, Signal::SIGKILL)?;
    let parent_outcome = spawn::wait_for(parent)?;
    armed?;
    let child = Pid::from_raw(i32::from_le_bytes(child));
    Ok(ParentDeath {
        parent: parent_outcome,
        child: spawn::wait_for(child)?,
    })
}
