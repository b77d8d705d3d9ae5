//! The open connections of a server made of blocking threads, so that a stop can end them.
//!
//! A thread blocked in `read` cannot be cancelled, and a server that waits for its threads
//! (scoped threads, a pool's `drop`) would wait for a client that never speaks again. So every
//! open connection is kept here, under a number, from accept to the end of its handler; on
//! stop, [`Connections::shutdown_all`] shuts each one down (`shutdown(Both)`): every blocked
//! `read` returns 0 and its thread ends by itself. A handler may add more sockets (an FTP data
//! connection) so that the stop ends them too.
//!
//! **A graceful stop** ([`Connections::drain`], for a request/response protocol such as HTTP)
//! shuts down only the *read* side (`shutdown(Read)`): a thread waiting for the next request
//! reads EOF and ends, while a thread writing a response goes on writing it to the end. The
//! drain waits for every connection to end, for at most the stop's grace period
//! ([`netkit::graceful`]) or until the stop is forced, and then cuts what is left as
//! `shutdown_all` does. Not for every protocol: an FTP upload's data connection ends with EOF,
//! so a read side shut down early would store a truncated file as if it were whole.
//!
//! The pitfall: a connection accepted *while* stopping. [`Connections::add`] refuses it once
//! `shutdown_all` (or `drain`) has run, so it cannot slip in after the sweep and hold the
//! server up.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex};

use netkit::Stop;
use netkit::graceful::Graceful;

/// The open connections, so that stopping can end the threads blocked reading them.
#[derive(Debug, Default)]
pub struct Connections {
    inner: Mutex<Registry>,
    /// Notified when a connection ends (and when a draining stop is forced).
    ended: Condvar,
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
    /// Registers a clone of `stream`; `None` once stopping (the caller should just close it),
    /// or when the clone's descriptor cannot be had (out of descriptors: said on stderr, since
    /// a stop could not end this connection).
    pub fn add(self: &Arc<Self>, stream: &TcpStream) -> Option<Entry> {
        let clone = match stream.try_clone() {
            Ok(clone) => clone,
            Err(e) => {
                eprintln!("connections: cannot register a connection so a stop can end it: {e}");
                return None;
            }
        };
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
        self.shut(&mut self.lock(), Shutdown::Both);
    }

    /// Stops gracefully (see the module docs): refuses new connections, shuts the read side of
    /// every open one, and waits until all have ended — for at most `stop`'s grace period, or
    /// until it is forced; then shuts down what is left, as [`shutdown_all`](Self::shutdown_all)
    /// does, and logs how many were cut (as `role`).
    pub fn drain(self: &Arc<Self>, role: &str, stop: &Stop) {
        let mut registry = self.lock();
        self.shut(&mut registry, Shutdown::Read);
        drop(registry);
        let waker = Arc::clone(self);
        stop.on_force(move || {
            let _registry = waker.lock(); // not between the drain's check and its wait
            waker.ended.notify_all();
        });
        let mut graceful = Graceful::new(role, stop);
        let mut registry = self.lock();
        while graceful.goes_on(registry.open.len()) {
            let left = graceful.wait(None).unwrap_or_default();
            registry = (self.ended.wait_timeout(registry, left))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        self.shut(&mut registry, Shutdown::Both);
    }

    fn shut(&self, registry: &mut Registry, how: Shutdown) {
        registry.stopping = true;
        for stream in registry.open.values() {
            let _ = stream.shutdown(how);
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
        self.connections.ended.notify_all();
    }
}
