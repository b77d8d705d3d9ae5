//! Echo servers made of threads: one thread per connection, or a fixed pool of them.
//!
//! **Thread per connection** ([`thread_per_connection`], the course's multithreaded server): the
//! main thread accepts; each connection gets a thread of its own that echoes it with plain
//! blocking IO and ends with it. The code is as simple as the one-client server of `io-models`,
//! and every client is served at once — up to [`Limits::max_threads`]: a thread costs a stack
//! and a kernel task, and a server that starts one for every client that asks is a server any
//! client can exhaust. Client `max_threads + 1` is turned away at once.
//!
//! **A pool of workers** ([`pooled`]): `workers` threads from [`ThreadPool`] take connections
//! from a queue of `queue`. A worker echoes one client to the end before it takes the next, so
//! the pool serves exactly `workers` clients at once, and the next `queue` wait, accepted, in the
//! pool's queue; each is served, in arrival order, the moment a worker is freed. Client
//! `workers + queue + 1` is turned away at once.
//!
//! **Turning away** ([`netkit::shed`]): the client over the bound reads a one-line answer
//! ([`Limits::busy`]) and an orderly close, and the server logs it (at most a line a second). The
//! alternative — stop accepting and let clients wait in the kernel's listen backlog — leaves
//! them connected and unanswered, unable to tell a busy server from a dead one, and once the
//! backlog is full their SYNs are dropped and `connect` hangs for a minute of retries.
//!
//! Both servers need three things blocking threads do not give for free:
//!
//! - **Accepting without spinning on `EMFILE`**, and waking on a stop:
//!   [`Acceptor::next_blocking`] (non-blocking, with a reserve descriptor), which waits in
//!   `poll(2)` on the listener and the [`Stop`]'s descriptor.
//! - **Stopping threads blocked in `read`**: a thread cannot be cancelled, so every open
//!   connection is kept in a [`Connections`] registry and, on stop, shut down
//!   (`shutdown(Both)`): each blocked `read` returns 0 and its thread ends by itself.
//! - **Spawn failure**: `Builder::spawn` returns an error when the system will not make another
//!   thread (`EAGAIN`); that one connection is closed, and the server keeps serving.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use netkit::Stop;
use netkit::accept::Acceptor;
use netkit::conn::is_peer_gone;
use netkit::echo::echo_blocking;
use netkit::shed::{BUSY, Shedder};

pub use crate::connections::{Connections, Entry};
use crate::pool::ThreadPool;

/// The bounds of a server made of threads, and what a client over them is told.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Thread per connection: connections served at once, a thread each. (A pool's bound is
    /// its `workers` plus its `queue`.)
    pub max_threads: usize,
    /// Written to a client turned away: [`BUSY`] for a line protocol, the protocol's own
    /// refusal otherwise (FTP's `421`, HTTP's `503`).
    pub busy: &'static [u8],
    /// At a stop, let what is in flight finish ([`Connections::drain`]: the read sides are shut
    /// down, writes go on, within the stop's grace period) instead of cutting every connection
    /// at once. Right for HTTP; not for echo (a client that never reads its echo would hold
    /// the stop for the whole grace period) nor for FTP (an upload ends with EOF).
    pub graceful: bool,
}

/// The thread-per-connection bound when none is given: far below the system's thread limit,
/// and at 8 MiB of reserved stack each, already 8 GiB of address space.
pub const DEFAULT_MAX_THREADS: usize = 1000;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_threads: DEFAULT_MAX_THREADS,
            busy: BUSY,
            graceful: false,
        }
    }
}

/// Echo server with one thread per connection (at most [`DEFAULT_MAX_THREADS`]); returns once
/// `stop` is requested and every connection's thread has ended.
pub fn thread_per_connection(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    thread_per_connection_limited(listener, stop, &Limits::default())
}

/// [`thread_per_connection`] with its bounds given.
pub fn thread_per_connection_limited(
    listener: TcpListener,
    stop: &Stop,
    limits: &Limits,
) -> io::Result<()> {
    spawn_per_connection_limited(listener, stop, "echo", limits, |mut stream, _| {
        report("echo", echo_blocking(&mut stream));
    })
}

/// The thread-per-connection server loop, for any protocol: each accepted connection gets a
/// scoped thread named `role peer` running `handle(stream, connections)` on a blocking stream.
/// Returns once `stop` is requested and every handler has returned (open connections are shut
/// down to make them). At most [`DEFAULT_MAX_THREADS`] at once; the next client reads [`BUSY`].
///
/// `handle` may register more sockets (an FTP data connection) in `connections`, so that a
/// stop ends them too.
pub fn spawn_per_connection(
    listener: TcpListener,
    stop: &Stop,
    role: &str,
    handle: impl Fn(TcpStream, &Arc<Connections>) + Sync,
) -> io::Result<()> {
    spawn_per_connection_limited(listener, stop, role, &Limits::default(), handle)
}

/// [`spawn_per_connection`] with its bounds given: at most `limits.max_threads` handlers run at
/// once; a client over that reads `limits.busy` and is closed.
pub fn spawn_per_connection_limited(
    listener: TcpListener,
    stop: &Stop,
    role: &str,
    limits: &Limits,
    handle: impl Fn(TcpStream, &Arc<Connections>) + Sync,
) -> io::Result<()> {
    let connections = Arc::new(Connections::default());
    let mut acceptor = Acceptor::new(listener)?;
    let server = ThreadServer {
        connections: &connections,
        running: Arc::new(AtomicUsize::new(0)),
        limits,
        role,
    };
    thread::scope(|scope| {
        let result = server.accept_threads(scope, &mut acceptor, stop, &handle);
        // The scope returns only after every thread has; end them (on stop or on an error).
        drop(acceptor); // closes the listener: from now on a newcomer is refused
        end_connections(&connections, &result, limits, role, stop);
        result
    })
}

/// What the accept loop of [`spawn_per_connection_limited`] and its threads share.
struct ThreadServer<'a> {
    connections: &'a Arc<Connections>,
    /// Handler threads running now; each decrements it as it ends ([`Running`]).
    running: Arc<AtomicUsize>,
    limits: &'a Limits,
    role: &'a str,
}

impl<'env> ThreadServer<'env> {
    fn accept_threads<'scope, H>(
        &'env self,
        scope: &'scope thread::Scope<'scope, 'env>,
        acceptor: &mut Acceptor,
        stop: &Stop,
        handle: &'env H,
    ) -> io::Result<()>
    where
        H: Fn(TcpStream, &Arc<Connections>) + Sync,
    {
        let (role, max) = (self.role, self.limits.max_threads);
        let mut shedder = Shedder::new(role, self.limits.busy);
        while let Some((stream, peer)) = acceptor.next_blocking(stop)? {
            // Only this thread adds to `running`, so a count under the bound stays under it.
            if self.running.load(Ordering::SeqCst) >= max {
                shedder.refuse(
                    stream,
                    peer,
                    format_args!("{max} connections served at once"),
                );
                continue;
            }
            let Some(entry) = self.connections.add(&stream) else {
                continue; // stopping, or out of descriptors (said): just close it
            };
            let running = Running::start(&self.running);
            let spawned = thread::Builder::new()
                .name(format!("{role} {peer}"))
                .spawn_scoped(scope, move || {
                    let (_entry, _running) = (entry, running); // both end with the thread
                    handle(stream, self.connections);
                });
            if let Err(e) = spawned {
                // The closure (and with it the stream) is dropped: this client sees a close.
                eprintln!("{role}: cannot start a thread for {peer}: {e}");
            }
        }
        Ok(())
    }
}

/// One unit of a count of running jobs, given back when dropped.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn start(count: &Arc<AtomicUsize>) -> Running {
        count.fetch_add(1, Ordering::SeqCst);
        Running(Arc::clone(count))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Echo server on a pool of `workers` threads with `queue` accepted connections waiting;
/// returns once `stop` is requested and every worker has finished.
pub fn pooled(listener: TcpListener, stop: &Stop, workers: usize, queue: usize) -> io::Result<()> {
    pooled_with(listener, stop, workers, queue, |mut stream| {
        report("echo", echo_blocking(&mut stream));
    })
}

/// The pool server loop, for any protocol: a worker runs `handle` on each accepted connection
/// (a blocking stream), one after another. A client over `workers + queue` reads [`BUSY`].
pub fn pooled_with(
    listener: TcpListener,
    stop: &Stop,
    workers: usize,
    queue: usize,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> io::Result<()> {
    pooled_limited(listener, stop, workers, queue, &Limits::default(), handle)
}

/// [`pooled_with`], telling a client over `workers + queue` `limits.busy` (`max_threads` is
/// not used: the pool's threads are its `workers`).
pub fn pooled_limited(
    listener: TcpListener,
    stop: &Stop,
    workers: usize,
    queue: usize,
    limits: &Limits,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> io::Result<()> {
    let connections = Arc::new(Connections::default());
    let pool = ThreadPool::new(workers, queue)?;
    let acceptor = Acceptor::new(listener)?;
    let mut shedder = Shedder::new("pool", limits.busy);
    let (workers, bound) = (pool.size(), pool.size() + queue);
    // Connections in the pool's hands, served or waiting; each job gives its unit back.
    let held = Arc::new(AtomicUsize::new(0));
    let handle = Arc::new(handle);
    let result = (|| {
        let mut acceptor = acceptor;
        while let Some((stream, peer)) = acceptor.next_blocking(stop)? {
            // Only this thread adds to `held`: a count under the bound stays under it, so the
            // `execute` below never waits for longer than a worker takes to pick up a job.
            if held.load(Ordering::SeqCst) >= bound {
                let why = format_args!("{workers} workers serving, {queue} waiting");
                shedder.refuse(stream, peer, why);
                continue;
            }
            let Some(entry) = connections.add(&stream) else {
                continue;
            };
            let (running, handle) = (Running::start(&held), Arc::clone(&handle));
            pool.execute(move || {
                let (_entry, _running) = (entry, running);
                handle(stream);
            })
            .map_err(|e| io::Error::other(format!("the pool refused a job: {e:?}")))?;
        }
        Ok(())
    })();
    // The acceptor is gone with the closure: the listener is closed. End the connections being
    // served and queued; dropping the pool then joins every worker.
    end_connections(&connections, &result, limits, "pool", stop);
    result
}

/// The end of a thread server: after a stop, a graceful drain if `limits` asks for one; else
/// (or after an error) every connection shut down at once, so that every blocked `read` returns.
fn end_connections(
    connections: &Arc<Connections>,
    result: &io::Result<()>,
    limits: &Limits,
    role: &str,
    stop: &Stop,
) {
    if result.is_ok() && limits.graceful {
        connections.drain(role, stop);
    } else {
        connections.shutdown_all();
    }
}

/// Logs a handler's error, unless the peer simply went away (its business, not the server's).
pub fn report(role: &str, result: io::Result<()>) {
    if let Err(e) = result
        && !is_peer_gone(&e)
    {
        eprintln!("{role}: {e}");
    }
}
