//! `Process`: Python's `multiprocessing.Process`, built on `fork`.
//!
//! `Process::start(f)` forks; the child runs `f` and sends its return value back through a pipe
//! as one frame of JSON ([`crate::frame`]), then exits 0 — or exits 101 if `f` panicked, and
//! the panic message is sent instead. The parent can ask [`is_alive`](Process::is_alive),
//! [`terminate`](Process::terminate) it (SIGTERM) or [`kill`](Process::kill) it, and
//! [`join`](Process::join) it for its [`Outcome`] and result. [`exitcode`](Process::exitcode)
//! answers like Python: `None` while it runs, the exit status, or minus the killing signal.
//!
//! Pitfall 1 — **join before draining deadlocks.** A pipe holds 64 KiB. A child whose result is
//! bigger blocks in `write` until someone reads, so a parent that calls `waitpid` first waits
//! forever for a child that waits for it. [`join`](Process::join) reads the pipe to its end
//! first, then reaps. (Python's docs warn about the same trap with `Queue` and `join`.)
//!
//! Pitfall 2 — **a handle dropped unjoined would leave a zombie** (or an orphan still running).
//! Dropping a `Process` that was not joined terminates it and reaps it.
//!
//! The child runs Rust code after `fork` without `exec`: see [`crate::spawn`] for when that is
//! sound. Tests that start processes hold `harness::process_lock()`.

use std::fs::File;
use std::io::{self, Read};
use std::marker::PhantomData;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frame;
use crate::spawn::{self, Outcome, ParentEnd};

/// The exit status of a child whose function panicked (as a Rust `main` that panics).
pub const PANICKED: i32 = 101;

/// What the child sends back: its function's value, or its panic message.
type Reply<T> = Result<T, String>;

/// A child process running a function; see the module docs.
#[derive(Debug)]
pub struct Process<T> {
    pid: Pid,
    /// The read end of the result pipe; `None` once drained.
    results: Option<ParentEnd>,
    /// Set once the child has been reaped; a reaped pid must never be signalled or waited again.
    outcome: Option<Outcome>,
    reply: Option<Reply<T>>,
    _result: PhantomData<fn() -> T>,
}

/// What [`Process::join`] returns.
#[derive(Debug, PartialEq)]
pub struct Exit<T> {
    /// How the child ended.
    pub outcome: Outcome,
    /// Its function's value, its panic message, or `None` if it died before sending either.
    pub result: Option<Result<T, String>>,
}

impl<T: Serialize + DeserializeOwned> Process<T> {
    /// Forks a child that runs `f`.
    pub fn start(f: impl FnOnce() -> T) -> io::Result<Process<T>> {
        let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        // Parent-only: this child and any later one close their copies of the read end.
        let results = ParentEnd::new(read_end);
        let pid = spawn::fork_run(move || {
            let mut out = File::from(write_end);
            // The panic message goes to the parent (the hook is silent in children).
            let reply: Reply<T> = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .map_err(|payload| labkit::panic::message(payload.as_ref()));
            let code = if reply.is_ok() { 0 } else { PANICKED };
            match frame::send(&mut out, &reply) {
                Ok(()) => code,
                Err(_) => 1, // the parent is gone or the value does not serialize
            }
        })?;
        // `write_end` moved into the closure and was dropped with it here, in the parent: only
        // the child holds it, so the parent sees EOF when the child exits.
        Ok(Process {
            pid,
            results: Some(results),
            outcome: None,
            reply: None,
            _result: PhantomData,
        })
    }

    /// The child's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Whether the child is still running (reaps it if it has ended).
    pub fn is_alive(&mut self) -> io::Result<bool> {
        if self.outcome.is_some() {
            return Ok(false);
        }
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(status) => {
                    self.outcome = Outcome::from_status(status);
                    return Ok(self.outcome.is_none());
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `None` while the child runs; then its exit status, or minus the signal that killed it.
    pub fn exitcode(&mut self) -> io::Result<Option<i32>> {
        self.is_alive()?;
        Ok(self.outcome.map(|o| o.exitcode()))
    }

    /// Asks the child to stop (SIGTERM). A child that has ended is left alone.
    pub fn terminate(&mut self) -> io::Result<()> {
        self.signal(Signal::SIGTERM)
    }

    /// Stops the child at once (SIGKILL). A child that has ended is left alone.
    pub fn kill(&mut self) -> io::Result<()> {
        self.signal(Signal::SIGKILL)
    }

    fn signal(&mut self, signal: Signal) -> io::Result<()> {
        // Never signal a pid we reaped: the kernel may have given it to another process.
        if self.is_alive()? {
            kill(self.pid, signal)?;
        }
        Ok(())
    }

    /// Waits for the child to end: drains its result pipe first (see the module docs), then
    /// reaps it.
    pub fn join(&mut self) -> io::Result<Exit<T>>
    where
        T: Clone,
    {
        self.drain()?;
        let outcome = match self.outcome {
            Some(outcome) => outcome,
            None => {
                let outcome = spawn::wait_for(self.pid)?;
                self.outcome = Some(outcome);
                outcome
            }
        };
        Ok(Exit {
            outcome,
            result: self.reply.clone(),
        })
    }

    /// Reads the child's reply to the end of the pipe (the child exiting closes it).
    fn drain(&mut self) -> io::Result<()> {
        let Some(mut pipe) = self.results.take() else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes)?;
        // A child killed mid-write leaves half a frame: that is "no result", not an error.
        self.reply = frame::receive::<Reply<T>>(&mut &bytes[..]).ok().flatten();
        Ok(())
    }
}

impl<T> Drop for Process<T> {
    fn drop(&mut self) {
        if self.outcome.is_none() {
            let _ = kill(self.pid, Signal::SIGTERM);
            drop(self.results.take()); // a child blocked writing its result gets EPIPE
            let _ = spawn::wait_for(self.pid);
        }
    }
}
