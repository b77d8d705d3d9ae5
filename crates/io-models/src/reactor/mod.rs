//! Model 5 — "asynchronous": futures, wakers, a reactor and an executor, by hand.
//!
//! ```text
//!   task (async fn echo)          executor (run queue)            reactor (epoll)
//!   stream.read(buf).await
//!     read() → EAGAIN
//!     register(fd, Read, waker) ────────────────────────────────▶ fd → waker, arm fd
//!     Poll::Pending ──────────▶  task parked; queue empty
//!                                 reactor.wait() ───────────────▶ epoll_wait ┐ blocked
//!                                                                 fd ready   ┘
//!                                 queue.push(task) ◀── waker.wake()
//!   poll again: read() → n  ◀──── pop task, poll it
//! ```
//!
//! The Python course's asynchronous model and its hand-made event loop, taken apart. An `async fn` compiles
//! to a state machine (a [`Future`]) that runs until it would block, and then returns
//! `Poll::Pending` after handing its [`Waker`](std::task::Waker) — "call me back" — to whoever
//! will know when to try again. Three small pieces, one file each, read in this order:
//!
//! | piece | file | maps to |
//! | --- | --- | --- |
//! | [`Reactor`] | `readiness.rs` | epoll (via `polling`, oneshot) + a map descriptor → waker, and timers (an instant → waker, earliest first, so a task can wait for readiness *or* a deadline); on readiness or a due timer it wakes, and runs no code of its own |
//! | [`AsyncListener`], [`AsyncStream`] | `net.rs` | try the non-blocking syscall; on `EAGAIN` register with the reactor and return `Pending` |
//! | [`Executor`] | `executor.rs` | the tasks (`Pin<Box<dyn Future>>`, one per connection) and a run queue of task ids that wakers push onto; polls until the queue is empty, then sleeps in the reactor |
//!
//! The server below is the blocking echo loop again, with `.await` — one task per connection,
//! all on one thread. Back-pressure comes for free: a task reads again only after `write_all`.
//!
//! The pitfall is the name. This is still *readiness* IO: epoll says "you may read now" and the
//! task does the copy itself — a **reactor**. True asynchronous IO (POSIX AIO, Linux `io_uring`,
//! Windows IOCP) hands the kernel the buffer; the kernel does the copy and posts "done, n bytes"
//! to a completion queue — a **proactor**. There the buffer belongs to the kernel until the
//! completion arrives, so a future dropped early must not free it: that ownership rule is what
//! makes completion-based IO harder to wrap in Rust futures. Two smaller traps here: register
//! only *after* `EAGAIN` (arming re-checks readiness, so no wake-up is lost in between), and
//! remove a descriptor from epoll before closing it (the wrappers' `Drop` does).

mod executor;
mod net;
mod readiness;

use std::io;
use std::net::TcpListener;
use std::rc::Rc;

use netkit::Stop;
use netkit::conn::{self, NewConn};

pub use executor::Executor;
pub use net::{AsyncListener, AsyncStream, drive};
pub use readiness::{Interest, Reactor, TimerId};

/// Serves echo to every client with one async task each, on one thread, until `stop` is
/// requested.
pub fn run(listener: TcpListener, stop: &Stop) -> io::Result<()> {
    let reactor = Rc::new(Reactor::new()?);
    let executor = Rc::new(Executor::default());
    let listener = AsyncListener::new(listener, &reactor)?;
    executor.spawn(serve(listener, Rc::clone(&executor)));
    executor.run(&reactor, stop)
}

/// [`run`] for any protocol: a task of its own [drives](drive) each `new_conn(stream)` (see [the
/// entry points](crate#two-entry-points-one-loop)); at the stop the accept loop ends and the busy
/// connections are finished, within the stop's grace period ([`Executor::run_graceful`]).
pub fn run_with<N: NewConn<Conn: 'static> + 'static>(
    listener: TcpListener,
    stop: &Stop,
    mut new_conn: N,
) -> io::Result<()> {
    let reactor = Rc::new(Reactor::new()?);
    let executor = Rc::new(Executor::default());
    let mut listener = AsyncListener::new(listener, &reactor)?;
    let spawner = Rc::clone(&executor);
    let tasks_reactor = Rc::clone(&reactor);
    executor.spawn(async move {
        // Ends when the server stops: dropping the listener closes it, refusing newcomers.
        while let Some(stream) = listener.accept_until_stopping().await? {
            let Some(conn) = conn::open("reactor", &mut new_conn, stream) else {
                continue;
            };
            let reactor = Rc::clone(&tasks_reactor);
            spawner.spawn(async move {
                if let Err(e) = drive(conn, reactor).await {
                    conn::log_broken("reactor", &e);
                }
                Ok(()) // one client's error is not the server's
            });
        }
        Ok(())
    });
    executor.run_graceful(&reactor, stop)
}

/// Accepts connections forever, spawning an echo task for each.
pub async fn serve(mut listener: AsyncListener, executor: Rc<Executor>) -> io::Result<()> {
    loop {
        let stream = listener.accept().await?;
        executor.spawn(async move {
            if let Err(e) = echo(stream).await {
                conn::log_broken("reactor", &e);
            }
            Ok(()) // one client's error is not the server's
        });
    }
}

/// The blocking echo loop, with `.await` where it would block.
async fn echo(mut stream: AsyncStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // the peer's FIN; dropping the stream closes ours
        }
        stream.write_all(&buf[..n]).await?;
    }
}
