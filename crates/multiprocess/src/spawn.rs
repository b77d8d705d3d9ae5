//! Starting a program: `fork` + `execvp` + `waitpid`, `posix_spawn`, and `std::process::Command`.
//!
//! Unix starts a program in two steps. `fork` copies the calling process — memory (copy-on-write),
//! descriptors, signal dispositions — and returns twice: the child's pid in the parent, 0 in the
//! child. The child then calls `execvp`, which replaces its program with another one; the parent
//! calls `waitpid` to learn how the child ended. [`Outcome`] is what `waitpid` reports: an exit
//! status (the child called `exit(n)`), or the signal that killed it.
//!
//! `posix_spawn` does both steps in one call (glibc uses `clone(CLONE_VFORK)`: the page tables are
//! not copied), and `std::process::Command` — the everyday way — uses `posix_spawn` where it can.
//!
//! **The pitfall: fork in a multi-threaded process.** Only the thread that called `fork` exists
//! in the child, but every lock the other threads held at that instant is still held — forever.
//! So between `fork` and `exec` the child may only make async-signal-safe calls (`signal-safety(7)`):
//! no `malloc` in general, no `println!` (stdout's lock), no mutex. [`fork_exec_wait`] therefore
//! builds every C string and the argument array *before* forking, and the child does nothing but
//! `execvp` and `_exit`.
//!
//! Running Rust code in a child without `exec` — what `Process`, `Pool` and the servers are
//! built on — is the plumbing of [`crate::fork`]: [`fork_run`], [`fork_run_tied`] and
//! [`ParentEnd`] are re-exported here, where the lessons call them.

use std::ffi::{CString, NulError};
use std::fmt;
use std::io;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

pub use crate::fork::{ParentEnd, fork_run, fork_run_tied};

/// How a child process ended, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It called `exit(code)` (or returned `code` from `main`).
    Exited(i32),
    /// A signal killed it.
    Signaled {
        /// The signal.
        signal: Signal,
        /// A core file was written.
        core_dumped: bool,
    },
}

impl Outcome {
    /// Exited with status 0.
    pub fn success(&self) -> bool {
        *self == Outcome::Exited(0)
    }

    /// Python's `exitcode`: the exit status, or minus the number of the signal that killed it.
    pub fn exitcode(&self) -> i32 {
        match *self {
            Outcome::Exited(code) => code,
            Outcome::Signaled { signal, .. } => -(signal as i32),
        }
    }

    /// The outcome in a status that says it ended, `None` for stopped/continued/still running.
    pub fn from_status(status: WaitStatus) -> Option<Outcome> {
        match status {
            WaitStatus::Exited(_, code) => Some(Outcome::Exited(code)),
            WaitStatus::Signaled(_, signal, core_dumped) => Some(Outcome::Signaled {
                signal,
                core_dumped,
            }),
            _ => None,
        }
    }
}

impl From<std::process::ExitStatus> for Outcome {
    fn from(status: std::process::ExitStatus) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::Exited(code),
            (None, Some(number)) => Outcome::Signaled {
                signal: Signal::try_from(number).unwrap_or(Signal::SIGKILL),
                core_dumped: status.core_dumped(),
            },
            (None, None) => unreachable!("a finished process either exited or was signalled"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(code) => write!(f, "exited with status {code}"),
            Outcome::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "killed by {signal}")?;
                if *core_dumped {
                    write!(f, " (core dumped)")?;
                }
                Ok(())
            }
        }
    }
}

/// Waits for child `pid` to end (retrying on `EINTR`) and says how it did.
pub fn wait_for(pid: Pid) -> io::Result<Outcome> {
    loop {
        match waitpid(pid, None) {
            Ok(status) => {
                if let Some(outcome) = Outcome::from_status(status) {
                    return Ok(outcome);
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The status a child exits with when `execvp` fails (the shell's "command not found").
pub const EXEC_FAILED: i32 = 127;

/// Runs `program` with `args` the classic way — `fork`, `execvp` in the child, `waitpid` in the
/// parent — and returns how it ended. A program that cannot be run ends with [`EXEC_FAILED`].
pub fn fork_exec_wait(program: &str, args: &[&str]) -> io::Result<Outcome> {
    // Everything the child needs is allocated here, before fork: after it, the child may only
    // make async-signal-safe calls.
    let argv = c_strings(program, args)?;
    let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    pointers.push(std::ptr::null());

    // BEGIN SOLUTION: mp-fork-exec
    // SAFETY: the child calls only execvp and _exit, both async-signal-safe, on memory that was
    // prepared before the fork; so forking in a multi-threaded process is sound here.
    match unsafe { fork() }? {
        ForkResult::Child => {
            // SAFETY: `pointers` is a null-terminated array of pointers into `argv`, which
            // outlives the call; execvp returns only on failure.
            unsafe { libc::execvp(pointers[0], pointers.as_ptr()) };
            // SAFETY: _exit ends the child at once, without running the parent's atexit
            // handlers or flushing its copied stdio buffers.
            unsafe { libc::_exit(EXEC_FAILED) }
        }
        ForkResult::Parent { child } => wait_for(child),
    }
    // END SOLUTION
}

/// Runs `program` with `posix_spawnp` and waits for it.
pub fn posix_spawn_wait(program: &str, args: &[&str]) -> io::Result<Outcome> {
    use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, posix_spawnp};
    let argv = c_strings(program, args)?;
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(key, value)| {
            use std::os::unix::ffi::OsStrExt;
            let mut pair = key.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            CString::new(pair).ok()
        })
        .collect();
    let pid = posix_spawnp(
        &argv[0],
        &PosixSpawnFileActions::init()?,
        &PosixSpawnAttr::init()?,
        &argv,
        &env,
    )?;
    wait_for(pid)
}

/// Runs `program` with `std::process::Command` and waits for it: the everyday way.
pub fn command_wait(program: &str, args: &[&str]) -> io::Result<Outcome> {
    Ok(Command::new(program).args(args).status()?.into())
}

fn c_strings(program: &str, args: &[&str]) -> io::Result<Vec<CString>> {
    std::iter::once(program)
        .chain(args.iter().copied())
        .map(CString::new)
        .collect::<Result<_, NulError>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}
