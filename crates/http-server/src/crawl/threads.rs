//! Crawler, model 1: a thread per connection.
//!
//! Each of N threads owns one keep-alive connection and runs the plainest loop there is: take a
//! path from the frontier, write the request, `read` until the response is whole, hand the
//! result back, repeat. Blocking is fine here — only this thread waits — and the code reads top
//! to bottom in the order things happen. The cost is one stack and one kernel thread per
//! connection, and a shared frontier behind a [`Mutex`]: a thread with nothing to fetch while
//! others are still fetching (and may find more links) sleeps on a [`Condvar`] until one
//! finishes.
//!
//! The pitfall is the end of the crawl: "the queue is empty" does not mean "done" while pages
//! are in flight. A thread that quit on an empty queue would leave the crawl to the others; a
//! thread that waited without being told would wait forever. Every `finish` wakes the waiters,
//! and so does the stop. A thread in the middle of a request notices the stop when that request
//! is over (at most the request timeout).

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

use netkit::Stop;

use super::{Fetched, Frontier, Next, Options, Progress, Report, ResponseReader, Target};

/// The frontier, shared by the threads, and the condition they wait on.
struct Shared {
    frontier: Mutex<Frontier>,
    /// Notified when a fetch finishes or the stop is requested.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Frontier> {
        self.frontier.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next path, waiting while others may still find one; `None` once done or stopped.
    fn next(&self, stop: &Stop) -> Option<String> {
        let mut frontier = self.lock();
        loop {
            if stop.is_stopped() {
                return None;
            }
            match frontier.take() {
                Next::Fetch(path) => return Some(path),
                Next::Done => return None,
                Next::Wait => {
                    frontier = self
                        .changed
                        .wait(frontier)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    fn finish(&self, path: String, fetched: Fetched) {
        self.lock().finish(path, fetched);
        self.changed.notify_all(); // more links, or the last one in flight: someone may go on
    }
}

/// Crawls with `options.conns` threads.
pub fn crawl(target: &Target, options: &Options, stop: &Stop) -> io::Result<Report> {
    let frontier = Frontier::new(
        &target.authority,
        &target.start,
        options.max_pages,
        options.progress.clone(),
    );
    let shared = Arc::new(Shared {
        frontier: Mutex::new(frontier),
        changed: Condvar::new(),
    });
    let waker = Arc::clone(&shared);
    stop.on_stop(move || {
        let _frontier = waker.lock(); // no waiter is between its check and its wait
        waker.changed.notify_all();
    });
    thread::scope(|scope| {
        for _ in 0..options.conns.max(1) {
            scope.spawn(|| {
                let mut conn = None;
                while let Some(path) = shared.next(stop) {
                    let fetched = fetch(&mut conn, &shared, target, &path, options);
                    shared.finish(path, fetched);
                }
            });
        }
    });
    Ok(shared.lock().report())
}

/// Fetches `path` on the thread's connection `conn`, opening it first if there is none, and
/// closing it after an error or when the server says it will close.
fn fetch(
    conn: &mut Option<TcpStream>,
    shared: &Shared,
    target: &Target,
    path: &str,
    options: &Options,
) -> Fetched {
    let deadline = Instant::now() + options.timeout;
    let reused = conn.is_some();
    let stream = match conn {
        Some(stream) => stream,
        None => match TcpStream::connect_timeout(&target.addr, options.timeout) {
            Ok(stream) => {
                shared.lock().opened();
                conn.insert(stream)
            }
            Err(e) => return super::failed("connect", &e),
        },
    };
    let fetched = exchange(
        stream,
        &target.request(path),
        deadline,
        options.max_body,
        reused,
    );
    if !matches!(&fetched, Fetched::Page(response) if !response.head.close) {
        *conn = None;
    }
    fetched
}

/// Writes `request` and reads the response, each `read` bounded by what is left until
/// `deadline`.
fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    deadline: Instant,
    max_body: usize,
    reused: bool,
) -> Fetched {
    let left = || Some(deadline.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero());
    let Some(write_timeout) = left() else {
        return Fetched::Failed("timed out".into()); // `None` would mean "no timeout"
    };
    let sent = stream
        .set_write_timeout(Some(write_timeout))
        .and_then(|()| stream.write_all(request));
    if let Err(e) = sent {
        // A reused connection the server has closed: EPIPE or ECONNRESET on the write.
        return if reused {
            Fetched::Stale
        } else {
            super::failed("write", &e)
        };
    }
    let mut reader = ResponseReader::new(max_body);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let Some(left) = left() else {
            return Fetched::Failed("timed out".into());
        };
        let read = stream
            .set_read_timeout(Some(left))
            .and_then(|()| stream.read(&mut buf));
        match read {
            Ok(0) => return super::ended(&reader, reused),
            Ok(n) => match reader.feed(&buf[..n]) {
                Ok(Progress::Done(response)) => return Fetched::Page(response),
                Ok(_) => {}
                Err(bad) => return Fetched::Failed(bad.0),
            },
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return match super::ended(&reader, reused) {
                    Fetched::Stale => Fetched::Stale,
                    _ => super::failed("read", &e),
                };
            }
            Err(e) => return super::failed("read", &e),
        }
    }
}
