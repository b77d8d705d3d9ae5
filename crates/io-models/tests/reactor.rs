//! The hand-made reactor: its wakers, and the async echo server on it (in-process and example).

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use harness::time::{STEP, scaled};
use harness::{Conn, Deadline, ExampleProcess, echo, serve};
use io_models::reactor::{self, AsyncStream, Reactor};

/// A waker that counts how often it was woken.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A connected pair of loopback TCP sockets: (ours, the peer's).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    (ours, peer)
}

/// A new reactor, our end of a loopback pair attached to it, the peer's end, and a waker that
/// counts its wake-ups.
struct Watched {
    reactor: Rc<Reactor>,
    stream: AsyncStream,
    peer: TcpStream,
    counter: Arc<CountingWaker>,
    waker: Waker,
}

fn watched_pair() -> Watched {
    let reactor = Rc::new(Reactor::new().unwrap());
    let (ours, peer) = tcp_pair();
    let stream = AsyncStream::new(ours, &reactor).unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    Watched {
        reactor,
        stream,
        peer,
        counter,
        waker,
    }
}

/// Runs the reactor until it wakes something (it may return empty-handed spuriously).
fn wait_for_a_wake_up(reactor: &Reactor, what: &str) -> usize {
    let deadline = Deadline::after(STEP, what);
    loop {
        let woken = reactor.wait(Some(deadline.remaining().unwrap())).unwrap();
        if woken > 0 {
            return woken;
        }
    }
}

#[test]
fn reactor_wakes_a_reader_when_its_socket_becomes_readable_and_not_before() {
    let mut w = watched_pair();
    let mut cx = Context::from_waker(&w.waker);
    let mut buf = [0u8; 16];
    {
        let mut read = pin!(w.stream.read(&mut buf));

        // Nothing to read: the future registers its waker and returns Pending.
        assert!(read.as_mut().poll(&mut cx).is_pending());
        assert_eq!(w.reactor.wait(Some(Duration::ZERO)).unwrap(), 0);
        assert_eq!(w.counter.count(), 0, "woken before the socket was readable");

        w.peer.write_all(b"ping").unwrap();
        assert_eq!(wait_for_a_wake_up(&w.reactor, "the reader's wake-up"), 1);
        assert_eq!(w.counter.count(), 1);
        match read.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(4)) => {}
            other => panic!("expected 4 bytes after the wake-up, got {other:?}"),
        }
    }
    assert_eq!(&buf[..4], b"ping");
}

#[test]
fn reactor_wakes_a_writer_once_its_peer_makes_room() {
    let mut w = watched_pair();
    let mut cx = Context::from_waker(&w.waker);

    // More than the socket buffers hold while the peer reads nothing: write_all must wait.
    let data = vec![7u8; 32 << 20];
    let mut write = pin!(w.stream.write_all(&data));
    assert!(write.as_mut().poll(&mut cx).is_pending());

    // The peer reads; room frees up; the reactor wakes the writer.
    w.peer.set_read_timeout(Some(scaled(STEP))).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut received = 0;
    while w.counter.count() == 0 {
        match w.peer.read(&mut chunk) {
            Ok(0) => panic!("peer saw end of stream after {received} bytes"),
            Ok(n) => received += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("the writer was not woken; the peer read {received} bytes: {e}"),
        }
        w.reactor.wait(Some(Duration::ZERO)).unwrap();
    }
    // Woken, it carries on writing (and waits again: the peer has stopped reading).
    assert!(write.as_mut().poll(&mut cx).is_pending());
}

#[test]
fn reactor_echo_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| reactor::run(l, &stop))));
}

#[test]
fn reactor_example_conforms_and_exits_cleanly_on_ctrl_c() {
    echo::assert_conformance(|| ExampleProcess::start("async_echo", &["--addr", "127.0.0.1:0"]));
    let server = ExampleProcess::start("async_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"bye\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "bye");
    server.interrupt_and_expect_clean_exit().unwrap();
}
