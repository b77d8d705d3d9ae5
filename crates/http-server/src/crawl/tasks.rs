//! Crawler, model 3: async/await tasks on io-models' reactor.
//!
//! One thread again, one task per connection, and the code of [`super::threads`] again — take
//! a path, connect if needed, write, read until the response is whole — with `.await` wherever
//! that thread would have blocked. Each `async fn` compiles to the state machine that
//! [`super::callbacks`] wrote by hand: the request, the half-read response and the deadline are
//! plain local variables again, and an error is a `?` or a `return`, in one place.
//!
//! Two things a blocking thread got from the kernel must be built here. Waiting for the
//! frontier: a task that finds no path while others are fetching parks its [`Waker`] in a list
//! that every `finish` empties. And time: [`with_deadline`] races a future against a reactor
//! timer; when the timer wins, the future is dropped — which cancels it mid-read, and closes its
//! socket (the stream's `Drop` takes it out of epoll first).
//!
//! The pitfall is the end. The executor runs until a stop is requested, not until its tasks
//! are done, so the last task to finish requests a stop of its own.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Instant;

use io_models::reactor::{AsyncStream, Executor, Reactor};
use loadgen::socket::start_connect;
use netkit::Stop;

use super::{Fetched, Frontier, Next, Options, Progress, Report, ResponseReader, Target};

/// The frontier, shared by the tasks (one thread: a `RefCell` is enough), and the tasks waiting
/// for it to change.
struct Shared {
    frontier: RefCell<Frontier>,
    waiting: RefCell<Vec<Waker>>,
}

impl Shared {
    /// The next path, waiting while other tasks may still find one; `None` once done.
    async fn next(&self) -> Option<String> {
        poll_fn(|cx| match self.frontier.borrow_mut().take() {
            Next::Fetch(path) => Poll::Ready(Some(path)),
            Next::Done => Poll::Ready(None),
            Next::Wait => {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    fn finish(&self, path: String, fetched: Fetched) {
        self.frontier.borrow_mut().finish(path, fetched);
        for waker in self.waiting.take() {
            waker.wake();
        }
    }
}

/// Crawls with `options.conns` tasks on one thread.
pub fn crawl(target: &Target, options: &Options, stop: &Stop) -> io::Result<Report> {
    let reactor = Rc::new(Reactor::new()?);
    let executor = Executor::default();
    let shared = Rc::new(Shared {
        frontier: RefCell::new(Frontier::new(
            &target.authority,
            &target.start,
            options.max_pages,
            options.progress.clone(),
        )),
        waiting: RefCell::new(Vec::new()),
    });
    let done = Arc::new(Stop::new()?);
    let requester = Arc::clone(&done);
    stop.on_stop(move || requester.stop()); // Ctrl-C ends the crawl as well
    let running = Rc::new(Cell::new(options.conns.max(1)));
    for _ in 0..running.get() {
        let (shared, reactor, running, done) = (
            Rc::clone(&shared),
            Rc::clone(&reactor),
            Rc::clone(&running),
            Arc::clone(&done),
        );
        let (target, options) = (target.clone(), options.clone());
        executor.spawn(async move {
            let mut conn = None;
            while let Some(path) = shared.next().await {
                let deadline = Instant::now() + options.timeout;
                let opened = conn.is_none();
                let fetch = fetch(&mut conn, &reactor, &target, &path, options.max_body);
                let fetched = match with_deadline(&reactor, deadline, fetch).await {
                    Some(fetched) => fetched,
                    None => Fetched::Failed("timed out".into()),
                };
                if opened && conn.is_some() {
                    shared.frontier.borrow_mut().opened();
                }
                if !matches!(&fetched, Fetched::Page(response) if !response.head.close) {
                    conn = None; // closes the socket
                }
                shared.finish(path, fetched);
            }
            running.set(running.get() - 1);
            if running.get() == 0 {
                done.stop();
            }
            Ok(())
        });
    }
    executor.run(&reactor, &done)?;
    let report = shared.frontier.borrow().report();
    Ok(report)
}

/// Fetches `path` on the task's connection `conn`, connecting first if there is none.
async fn fetch(
    conn: &mut Option<AsyncStream>,
    reactor: &Rc<Reactor>,
    target: &Target,
    path: &str,
    max_body: usize,
) -> Fetched {
    let reused = conn.is_some();
    let stream = match conn {
        Some(stream) => stream,
        None => {
            let connected = match start_connect(target.addr, None) {
                Ok(connecting) => AsyncStream::connected(connecting.stream, reactor).await,
                Err(e) => Err(e),
            };
            match connected {
                Ok(stream) => conn.insert(stream),
                Err(e) => return super::failed("connect", &e),
            }
        }
    };
    if let Err(e) = stream.write_all(&target.request(path)).await {
        return if reused {
            Fetched::Stale
        } else {
            super::failed("write", &e)
        };
    }
    let mut reader = ResponseReader::new(max_body);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => return super::ended(&reader, reused),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return match super::ended(&reader, reused) {
                    Fetched::Stale => Fetched::Stale,
                    _ => super::failed("read", &e),
                };
            }
            Err(e) => return super::failed("read", &e),
        };
        match reader.feed(&buf[..n]) {
            Ok(Progress::Done(response)) => return Fetched::Page(response),
            Ok(_) => {}
            Err(bad) => return Fetched::Failed(bad.0),
        }
    }
}

/// Runs `future` until it is done or `deadline` passes (`None`; the future is dropped).
pub async fn with_deadline<F: Future>(
    reactor: &Reactor,
    deadline: Instant,
    future: F,
) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = None;
    let output = poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if Instant::now() >= deadline {
            return Poll::Ready(None);
        }
        if timer.is_none() {
            timer = Some(reactor.wake_at(deadline, cx.waker()));
        }
        Poll::Pending
    })
    .await;
    if let Some(id) = timer {
        reactor.cancel(id); // done first: forget the timer
    }
    output
}
