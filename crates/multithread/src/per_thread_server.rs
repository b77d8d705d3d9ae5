//! Echo servers made of threads: one thread per connection, or a fixed pool of them.
//!
//! **Thread per connection** ([`thread_per_connection`], the course's multithreaded server): the
//! main thread accepts; each connection gets a thread of its own that echoes it with plain
//! blocking IO and ends with it. The code is as simple as the one-client server of `io-models`,
//! and every client is served at once. The threads are *scoped* (`thread::scope`), so the server
//! cannot return while one of them is still running.
//!
//! **A pool of workers** ([`pooled`]): `workers` threads from [`ThreadPool`] take connections
//! from a queue of `queue`. A worker echoes one client to the end before it takes the next, so
//! the pool serves exactly `workers` clients at once. **Client `workers + 1`** is accepted and
//! waits in the pool's queue; once that is full the accept loop blocks in `execute`, and later
//! clients wait in the kernel's listen backlog (their `connect` succeeded; nothing answers).
//! Each is served, in arrival order, the moment a worker is freed. Nobody is refused, and no
//! waiting client is answered early: that is the bound a pool buys, and the price.
//!
//! Both servers need three things blocking threads do not give for free:
//!
//! - **Accepting without spinning on `EMFILE`**, and waking on a stop:
//!   [`Acceptor::next_blocking`] (non-blocking, with a reserve descriptor), which waits in
//!   `poll(2)` on the listener and the [`Stop`]'s descriptor.
//! - **Stopping threads blocked in `read`**: a thread cannot be cancelled, so every open
//!   connection is kept in a [`Connections`] registry and, on stop, shut down
//!   (`shutdown(Both)`): each blocked `read` returns 0 and its thread ends by itself. The pool's
//!   accept loop may itself be blocked (in `execute`, behind a full queue), so a watcher thread
//!   waits on the stop's descriptor and does that shutdown for it.
//! - **Spawn failure**: `Builder::spawn` returns an error when the system will not make another
//!   thread (`EAGAIN`); that one connection is closed, and the server keeps serving.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use netkit::Stop;
use netkit::accept::Acceptor;
use netkit::conn::is_peer_gone;
use netkit::echo::echo_blocking;

use crate::pool::ThreadPool;

/// Echo server with one thread per connection; returns once `stop` is requested and every
/// connection's thread has ended.
pub fn thread_per_connection(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    spawn_per_connection(listener, stop, "echo", |mut stream, _| {
        report("echo", echo_blocking(&mut stream));
    })
}

/// The thread-per-connection server loop, for any protocol: each accepted connection gets a
/// scoped thread named `role peer` running `handle(stream, connections)` on a blocking stream.
/// Returns once `stop` is requested and every handler has returned (open connections are shut
/// down to make them).
///
/// `handle` may register more sockets (an FTP data connection) in `connections`, so that a
/// stop ends them too.
pub fn spawn_per_connection(
    listener: TcpListener,
    stop: &Stop,
    role: &str,
    handle: impl Fn(TcpStream, &Arc<Connections>) + Sync,
) -> io::Result<()> {
    let connections = Arc::new(Connections::default());
    let mut acceptor = Acceptor::new(listener)?;
    thread::scope(|scope| {
        let result = accept_threads(scope, &mut acceptor, stop, &connections, role, &handle);
        // The scope returns only after every thread has; end them (on stop or on an error).
        connections.shutdown_all();
        result
    })
}

fn accept_threads<'scope, 'env, H>(
    scope: &'scope thread::Scope<'scope, 'env>,
    acceptor: &mut Acceptor,
    stop: &Stop,
    connections: &'env Arc<Connections>,
    role: &str,
    handle: &'env H,
) -> io::Result<()>
where
    H: Fn(TcpStream, &Arc<Connections>) + Sync,
{
    while let Some((stream, peer)) = acceptor.next_blocking(stop)? {
        let Some(entry) = connections.add(&stream) else {
            continue; // stopping: just close it
        };
        let spawned = thread::Builder::new()
            .name(format!("{role} {peer}"))
            .spawn_scoped(scope, move || {
                let _entry = entry; // leaves the registry when the thread ends
                handle(stream, connections);
            });
        if let Err(e) = spawned {
            // The closure (and with it the stream) is dropped: this client sees a close.
            eprintln!("{role}: cannot start a thread for {peer}: {e}");
        }
    }
    Ok(())
}

/// Echo server on a pool of `workers` threads with `queue` accepted connections waiting;
/// returns once `stop` is requested and every worker has finished.
pub fn pooled(listener: TcpListener, stop: &Stop, workers: usize, queue: usize) -> io::Result<()> {
    pooled_with(listener, stop, workers, queue, |mut stream| {
        report("echo", echo_blocking(&mut stream));
    })
}

/// The pool server loop, for any protocol: a worker runs `handle` on each accepted connection
/// (a blocking stream), one after another.
pub fn pooled_with(
    listener: TcpListener,
    stop: &Stop,
    workers: usize,
    queue: usize,
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> io::Result<()> {
    let connections = Arc::new(Connections::default());
    let pool = ThreadPool::new(workers, queue)?;
    let mut acceptor = Acceptor::new(listener)?;
    // Says "the accept loop is over" to the watcher when it ends by itself (an error).
    let finished = Stop::new()?;
    let handle = Arc::new(handle);
    thread::scope(|scope| {
        // While every worker is busy and the queue is full, the loop below is blocked in
        // `execute` and cannot see `stop`; this watcher ends the connections for it.
        scope.spawn(|| {
            while !stop.is_stopped() && !finished.is_stopped() {
                let _ = stop.wait_readable(finished.fd(), None);
            }
            connections.shutdown_all();
        });
        let result = accept_into_pool(&mut acceptor, stop, &pool, &connections, &handle);
        finished.stop();
        result
    })
    // Dropping the pool here runs what is queued (each connection already shut down: EOF at
    // once) and joins every worker.
}

fn accept_into_pool<H: Fn(TcpStream) + Send + Sync + 'static>(
    acceptor: &mut Acceptor,
    stop: &Stop,
    pool: &ThreadPool,
    connections: &Arc<Connections>,
    handle: &Arc<H>,
) -> io::Result<()> {
    while let Some((stream, _peer)) = acceptor.next_blocking(stop)? {
        let Some(entry) = connections.add(&stream) else {
            continue;
        };
        let handle = Arc::clone(handle);
        // Blocks while `queue` connections already wait: back-pressure on accepting.
        pool.execute(move || {
            let _entry = entry;
            handle(stream);
        })
        .map_err(|e| io::Error::other(format!("the pool refused a job: {e:?}")))?;
    }
    Ok(())
}

/// Logs a handler's error, unless the peer simply went away (its business, not the server's).
pub fn report(role: &str, result: io::Result<()>) {
    if let Err(e) = result
        && !is_peer_gone(&e)
    {
        eprintln!("{role}: {e}");
    }
}

/// The open connections, so that stopping can end the threads blocked reading them.
#[derive(Debug, Default)]
pub struct Connections {
    inner: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    open: HashMap<u64, TcpStream>,
    stopping: bool,
}

/// A connection's place in the registry; dropping it removes the connection.
#[derive(Debug)]
pub struct Entry {
    connections: Arc<Connections>,
    id: u64,
}

impl Connections {
    /// Registers a clone of `stream`; `None` once stopping (the caller should just close it).
    pub fn add(self: &Arc<Self>, stream: &TcpStream) -> Option<Entry> {
        let clone = stream.try_clone().ok()?;
        let mut registry = self.lock();
        if registry.stopping {
            return None;
        }
        let id = registry.next;
        registry.next += 1;
        registry.open.insert(id, clone);
        Some(Entry {
            connections: Arc::clone(self),
            id,
        })
    }

    /// Shuts every open connection down (their blocked reads return 0) and refuses new ones.
    pub fn shutdown_all(&self) {
        let mut registry = self.lock();
        registry.stopping = true;
        for stream in registry.open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.lock().open.len()
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.connections.lock().open.remove(&self.id);
    }
}
