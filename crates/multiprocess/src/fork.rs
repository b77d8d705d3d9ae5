//! Fork plumbing: running Rust code in a child process, safely enough, and the pipe ends only
//! the parent may keep.
//!
//! [`fork_run`] forks a child that runs a closure and exits with the status it returns — no
//! `exec`. That is sound when the parent has one thread, or when the child touches nothing
//! another thread could have locked: glibc's `malloc` resets its locks across `fork`, std's
//! stdout/stderr locks do not (see [`crate::spawn`] for the rule). Children made here allocate and
//! use their own pipes, and never print through std's locks unless the parent was
//! single-threaded when it forked. Three things make it work, each a bug found the hard way:
//!
//! - **signals**: SIGINT/SIGTERM/SIGCHLD are blocked across the fork and reset to their default
//!   actions in the child, so a child never runs (or swallows) a handler of its parent's;
//! - **panics**: a child's panic is reported to its parent, not printed, and the hook that keeps
//!   children quiet is installed once, in the parent;
//! - **descriptors**: a [`ParentEnd`] is closed in every child, so a child never holds open the
//!   pipe whose EOF another child waits for.
//!
//! [`fork_run_tied`] also kills the child when its parent dies (`PR_SET_PDEATHSIG`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use nix::sys::signal::{
    SigHandler, SigSet, SigmaskHow, Signal, pthread_sigmask, signal, sigprocmask,
};
use nix::unistd::{ForkResult, Pid, fork};

/// Forks a child that runs `child` and exits with the status it returns (101 if it panics, as
/// a Rust program does). Returns the child's pid; the caller must reap it
/// ([`wait_for`](crate::spawn::wait_for)).
///
/// In the child, SIGINT, SIGTERM and SIGCHLD go back to their default actions and no signal is
/// blocked: handlers installed by the parent (signal-hook's, say) would write to a self-pipe
/// that no thread in the child reads, and a Ctrl-C would then leave the child running.
/// Those signals are blocked across the fork, so one sent to the new child before its reset
/// waits (pending) and then takes the default action, instead of reaching the parent's handler
/// in the child and being lost — a server stopping its workers the instant it forked one would
/// otherwise wait forever for a worker that swallowed its SIGTERM.
/// See the module docs for when running Rust code after `fork` is sound.
pub fn fork_run(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    // Read before the fork: the child must not touch the registry's lock.
    let parent_only = parent_only_fds();
    quiet_panics_in_children();
    let mut parent_mask = SigSet::empty();
    pthread_sigmask(
        SigmaskHow::SIG_BLOCK,
        Some(&reset_set()),
        Some(&mut parent_mask),
    )?;
    // SAFETY: the child runs `child` and exits without returning into the caller's stack; what
    // `child` may safely do in a multi-threaded parent is documented above and at every caller.
    let forked = unsafe { fork() };
    if !matches!(forked, Ok(ForkResult::Child)) {
        pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&parent_mask), None)?;
    }
    match forked? {
        ForkResult::Child => {
            for fd in parent_only {
                // SAFETY: these descriptors belong to the parent's `ParentEnd`s; the child
                // closes its copies and never uses those handles (it exits without returning).
                unsafe { libc::close(fd) };
            }
            IN_CHILD.store(true, Ordering::Relaxed);
            reset_signals();
            let code = panic::catch_unwind(AssertUnwindSafe(child)).unwrap_or(101);
            // SAFETY: _exit ends the child without running atexit handlers or destructors of
            // the parent's copied state (flushing a copied stdout buffer would print it twice).
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// Like [`fork_run`], but the child is killed (SIGKILL) when its parent dies, busy or not.
///
/// A child that waits on a pipe from its parent learns of the parent's death as EOF or
/// `EPIPE`; a child busy computing never looks, and would finish its work as an orphan under
/// init. `PR_SET_PDEATHSIG` asks the kernel to signal the child when the parent goes. It is a
/// promise about the future, so the child then checks `getppid()`: if the parent died between
/// the fork and the `prctl`, the child is already an orphan and exits at once. The pitfall: the
/// signal comes when the *thread* that forked ends, not the process, so fork tied children
/// from a thread that outlives them (the main thread, or the one that owns the pool).
pub fn fork_run_tied(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    let parent = nix::unistd::getpid();
    fork_run(move || {
        let tied = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_ok();
        if !tied || nix::unistd::getppid() != parent {
            return 1;
        }
        child()
    })
}

/// Set in every child of [`fork_run`]: the panic hook then stays silent.
static IN_CHILD: AtomicBool = AtomicBool::new(false);

/// Installs (once, in the parent, before the first fork) a panic hook that is silent in
/// children and defers to the previous hook everywhere else.
///
/// A child reports its panics to its parent (through a pipe), not on stderr: the default hook
/// takes std's stderr lock, which another thread may have held when the parent forked. Nor may
/// the child *install* a hook: `set_hook` takes the hook's write lock, and a thread of the
/// parent that was panicking at the moment of the fork holds it for reading — forever, in the
/// child. (That deadlock was found by a test: a worker hung in `set_hook` while another
/// thread's panic was being printed.) So the hook goes in here, in the parent, once.
fn quiet_panics_in_children() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_CHILD.load(Ordering::Relaxed) {
                previous(info);
            }
        }));
    });
}

/// The descriptors of every live [`ParentEnd`].
static PARENT_ONLY: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

fn parent_only_fds() -> Vec<RawFd> {
    PARENT_ONLY
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// A pipe end that only the parent may hold: every child made by [`fork_run`] closes its copy.
///
/// A child inherits *every* descriptor. If a pool's second worker inherits the write end of the
/// first worker's task pipe, closing that end in the parent no longer gives the first worker
/// EOF — it waits forever, and so does whoever joins it. Wrapping the parent's ends in
/// `ParentEnd` records them, and [`fork_run`] closes them all in each new child. (Marking them
/// `O_CLOEXEC` is not enough: these children never call `exec`.)
#[derive(Debug)]
pub struct ParentEnd {
    file: File,
}

impl ParentEnd {
    /// Records `fd` as parent-only.
    pub fn new(fd: OwnedFd) -> ParentEnd {
        PARENT_ONLY
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(fd.as_raw_fd());
        ParentEnd {
            file: File::from(fd),
        }
    }
}

impl ParentEnd {
    /// The open file, for reading or writing through `&File`.
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for ParentEnd {
    fn drop(&mut self) {
        let fd = self.file.as_raw_fd();
        PARENT_ONLY
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&registered| registered != fd);
        // `file` closes the descriptor after this, once it is no longer registered.
    }
}

impl AsFd for ParentEnd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Read for ParentEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }
}

impl Write for ParentEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.file).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The signals whose handlers a child must not inherit.
fn reset_set() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGCHLD] {
        set.add(sig);
    }
    set
}

/// Default actions for the signals a parent commonly handles, then an empty signal mask (which
/// delivers any of them that arrived since the fork, now with the default action).
fn reset_signals() {
    for sig in reset_set().iter() {
        // SAFETY: SIG_DFL is not a handler function, so no handler safety rules apply.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}
