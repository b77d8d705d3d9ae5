//! Sockets whose operations are futures: try the syscall; on `EAGAIN`, register and wait.

use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use netkit::Connection;
use netkit::accept::{Accepted, Acceptor};

use super::{Interest, Reactor};

/// A listening socket whose `accept` is a future.
#[derive(Debug)]
pub struct AsyncListener {
    acceptor: Acceptor,
    reactor: Rc<Reactor>,
}

impl AsyncListener {
    /// Makes `listener` non-blocking and attaches it to `reactor`.
    pub fn new(listener: TcpListener, reactor: &Rc<Reactor>) -> io::Result<AsyncListener> {
        let acceptor = Acceptor::new(listener)?; // EMFILE-safe, non-blocking accept
        reactor.attach(acceptor.listener().as_fd())?;
        Ok(AsyncListener {
            acceptor,
            reactor: Rc::clone(reactor),
        })
    }

    /// The next connection.
    pub async fn accept(&mut self) -> io::Result<AsyncStream> {
        let stream = self.accept_stream().await?;
        AsyncStream::new(stream, &self.reactor)
    }

    /// The next connection as a plain non-blocking socket, not yet attached to the reactor.
    pub async fn accept_stream(&mut self) -> io::Result<TcpStream> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`accept_stream`](Self::accept_stream), or `None` once the reactor [is
    /// stopping](Reactor::is_stopping): the accept loop of a server that stops gracefully.
    pub async fn accept_until_stopping(&mut self) -> io::Result<Option<TcpStream>> {
        poll_fn(|cx| {
            if self.reactor.is_stopping() {
                Poll::Ready(Ok(None))
            } else {
                self.poll_accept(cx).map(|r| r.map(Some))
            }
        })
        .await
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        loop {
            match self.acceptor.accept()? {
                Accepted::Connection(stream, _peer) => return Poll::Ready(Ok(stream)),
                Accepted::Shed => continue, // out of descriptors; that one was closed
                Accepted::Empty => {
                    let fd = self.acceptor.listener().as_fd();
                    self.reactor.register(fd, Interest::Read, cx.waker())?;
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for AsyncListener {
    fn drop(&mut self) {
        self.reactor.detach(self.acceptor.listener().as_fd());
    }
}

/// A connected socket whose `read` and `write_all` are futures.
#[derive(Debug)]
pub struct AsyncStream {
    stream: TcpStream,
    reactor: Rc<Reactor>,
}

impl AsyncStream {
    /// Makes `stream` non-blocking and attaches it to `reactor`.
    pub fn new(stream: TcpStream, reactor: &Rc<Reactor>) -> io::Result<AsyncStream> {
        stream.set_nonblocking(true)?;
        reactor.attach(stream.as_fd())?;
        Ok(AsyncStream {
            stream,
            reactor: Rc::clone(reactor),
        })
    }

    /// Waits until `stream`, whose non-blocking `connect` has been started (`EINPROGRESS`), is
    /// connected — the socket turns writable — and attaches it; the error `connect` would have
    /// returned otherwise (from `SO_ERROR`). A client's connect, without blocking the thread.
    pub async fn connected(stream: TcpStream, reactor: &Rc<Reactor>) -> io::Result<AsyncStream> {
        let stream = AsyncStream::new(stream, reactor)?;
        let connected = |s: &TcpStream| match s.take_error()? {
            Some(error) => Err(error),
            // Not connected yet (ENOTCONN) means still in progress: wait for writable.
            None => match s.peer_addr() {
                Ok(_) => Ok(0),
                Err(e) if e.kind() == ErrorKind::NotConnected => Err(ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            },
        };
        poll_fn(|cx| stream.poll_io(cx, Interest::Write, connected)).await?;
        Ok(stream)
    }

    /// Reads what is there (at least one byte), or 0 at end of stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_io(cx, Interest::Read, |mut s| s.read(buf))).await
    }

    /// Writes all of `data`, waiting for room whenever the send buffer is full.
    pub async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match poll_fn(|cx| self.poll_io(cx, Interest::Write, |mut s| s.write(data))).await? {
                0 => return Err(ErrorKind::WriteZero.into()),
                n => data = &data[n..],
            }
        }
        Ok(())
    }

    /// Tries `syscall`; on `EAGAIN` registers this task with the reactor and returns `Pending`.
    fn poll_io(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut syscall: impl FnMut(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            match syscall(&self.stream) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.reactor
                        .register(self.stream.as_fd(), interest, cx.waker())?;
                    return Poll::Pending;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        self.reactor.detach(self.stream.as_fd());
    }
}

/// A [`Connection`] attached to the reactor; detached before the connection (and its socket)
/// is dropped — also when its task is cancelled.
struct Attached<C: Connection> {
    conn: C,
    reactor: Rc<Reactor>,
}

impl<C: Connection> Drop for Attached<C> {
    fn drop(&mut self) {
        self.reactor.detach(self.conn.stream().as_fd());
    }
}

/// Drives a [`Connection`] state machine as a task: wait for what it wants, tell it, repeat
/// until it is finished — or, once the reactor [is stopping](Reactor::is_stopping), until it is
/// [idle](Connection::is_idle). This is how the reactor serves any protocol, not only `async fn` echo.
pub async fn drive<C: Connection>(conn: C, reactor: Rc<Reactor>) -> io::Result<()> {
    reactor.attach(conn.stream().as_fd())?;
    let mut attached = Attached { conn, reactor };
    while !attached.conn.is_finished() {
        let conn = &attached.conn;
        if attached.reactor.is_stopping() && conn.is_idle() {
            break; // the server is stopping, and nothing is in flight: close now
        }
        let interest = match (conn.wants_read(), conn.wants_write()) {
            (true, true) => Interest::Both,
            (false, true) => Interest::Write,
            // Not even reading: still watch for a hang-up or an error.
            (_, false) => Interest::Read,
        };
        let deadline = conn.deadline();
        ready(&attached.reactor, conn.stream().as_fd(), interest, deadline).await?;
        let conn = &mut attached.conn;
        if deadline.is_some_and(|due| Instant::now() >= due) {
            conn.on_timeout()?;
            continue;
        }
        // The wake-up does not say which: try what the connection wants (EAGAIN is harmless).
        if conn.wants_write() {
            conn.on_writable()?;
        }
        if conn.wants_read() || interest == Interest::Read {
            conn.on_readable(netkit::conn::READ_BUDGET)?; // one busy client cannot hold the thread
        }
    }
    Ok(())
}

/// Waits until `fd` (attached to `reactor`) is ready for `interest`, or `deadline` has passed:
/// registers both on the first poll, and is done on the next — a task is polled again only when
/// its waker is called. The caller looks at the clock to learn which it was.
async fn ready(
    reactor: &Reactor,
    fd: BorrowedFd<'_>,
    interest: Interest,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let mut registered = false;
    let mut timer = None;
    poll_fn(|cx| {
        if registered {
            if let Some(id) = timer.take() {
                reactor.cancel(id); // woken by readiness, or the timer is gone already
            }
            return Poll::Ready(Ok(()));
        }
        registered = true;
        timer = deadline.map(|at| reactor.wake_at(at, cx.waker()));
        match reactor.register(fd, interest, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    })
    .await
}
