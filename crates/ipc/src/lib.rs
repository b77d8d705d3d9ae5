//! Chapter: inter-process communication — every way two Linux processes can talk, shown with
//! its semantics and failure modes, then measured side by side.
//!
//! Read the lessons in this order; each builds on the one before:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`pipe`] | an anonymous pipe: its capacity, `PIPE_BUF` atomicity, EOF, EPIPE |
//! | [`fifo`] | a named pipe: `mkfifo`, an `open` that waits for the other end, `ENXIO` |
//! | [`mqueue`] | POSIX message queues: priorities, limits, non-blocking, a message too big |
//! | [`shm`] | shared memory: a lost update, the same counter under a process-shared semaphore |
//! | [`ring`] | a lock-free single-producer/single-consumer ring in shared memory, its orderings; waiting by spinning, then on a process-shared futex |
//! | [`signals`] | `kill`, handlers, `signalfd`; standard signals coalesce, real-time ones queue |
//! | [`unix_socket`] | stream and datagram Unix sockets, the abstract namespace, peer credentials, passing a descriptor |
//! | [`queue`] | a typed queue between processes, Python's `multiprocessing.Queue` |
//! | [`mechanisms`] | all of them behind one `send`/`recv` pair, ready to fork: what a stream and a message mechanism each need to move one message |
//!
//! Everything here is Linux (`F_GETPIPE_SZ`, `signalfd`, `SO_PEERCRED`, the abstract namespace).
//! Child processes come from [`multiprocess::spawn::fork_run`]; the tests that fork or touch
//! signals hold `harness::process_lock()`.
//!
//! **Hygiene.** A named object — a FIFO path, a queue, a shared memory segment — outlives the
//! process that made it unless someone unlinks it. Every one here gets a name unique to the run
//! ([`unique_name`]) and a guard that unlinks it on drop; examples that wait turn Ctrl-C into a
//! normal return, so the guards run then too. SIGKILL runs no guard: the next run removes what a
//! killed one left ([`stale`]).

pub mod fifo;
pub mod mechanisms;
pub mod mqueue;
pub mod pipe;
pub mod queue;
pub mod ring;
pub mod shm;
pub mod signals;
pub mod stale;
pub mod unix_socket;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no other object of this run, of another run, or of another process has:
/// `labs-<kind>-<pid>-<counter>-<nanoseconds>` (no slash; callers add `/` where POSIX wants one).
pub fn unique_name(kind: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("labs-{kind}-{}-{n}-{nanos}", std::process::id())
}

/// Retries `f` while it fails with `EINTR`.
pub fn retry_eintr<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(nix::errno::Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// For a child made by [`multiprocess::spawn::fork_run`]: asks the kernel for SIGTERM when its
/// parent dies (`PR_SET_PDEATHSIG`), so it does not outlive a parent killed by a signal, then
/// checks that `parent` is still its parent — the parent may have died before the call, and
/// then no signal will ever come. Fails if it is gone already.
pub fn die_with_parent(parent: nix::unistd::Pid) -> std::io::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
    if nix::unistd::getppid() != parent {
        return Err(std::io::Error::other("the parent is gone already"));
    }
    Ok(())
}

/// A flag that SIGINT (Ctrl-C) and SIGTERM set, for examples that wait on a named object: they
/// check it between timed waits and return normally, so the object's guard unlinks it.
pub fn stop_on_ctrl_c() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}
