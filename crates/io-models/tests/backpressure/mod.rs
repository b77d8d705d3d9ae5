//! Back-pressure, checked the same way for every model that bounds a connection's output: a
//! client that sends and never reads is stopped, the loop still serves others, nothing is lost,
//! and the server does not spin while the client is stopped.

use std::io::{self, ErrorKind, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use harness::time::{STEP, scaled};
use harness::{Conn, serve};
use netkit::Stop;
use nix::sys::socket::{setsockopt, sockopt};

/// Socket buffer size asked for on both ends of the back-pressure test (the kernel doubles it).
/// Small fixed buffers keep what a client can push before it is stopped under a megabyte.
const SMALL_BUFFER: usize = 64 * 1024;

/// If a client can push this much without being stopped, nothing is holding it back.
const UNBOUNDED: usize = 16 << 20;

/// A `send` that makes no progress for this long counts as blocked by the server.
const STALL: Duration = Duration::from_millis(500);

/// Runs the echo server `run` and checks its back-pressure on a client that never reads.
pub fn assert_stops_a_client_that_never_reads<F>(run: F)
where
    F: FnOnce(TcpListener, Arc<Stop>) -> io::Result<()> + Send + 'static,
{
    let server_cpu = Arc::new(Mutex::new(None));
    let cpu_slot = Arc::clone(&server_cpu);
    let (buffers_set, buffers_are_set) = mpsc::channel();
    let server = serve(move |listener: TcpListener, stop: Arc<Stop>| {
        // Accepted sockets inherit these from the listener.
        setsockopt(&listener.as_fd(), sockopt::RcvBuf, &SMALL_BUFFER)?;
        setsockopt(&listener.as_fd(), sockopt::SndBuf, &SMALL_BUFFER)?;
        let _ = buffers_set.send(());
        let result = run(listener, stop);
        *cpu_slot.lock().unwrap() = Some(thread_cpu_time());
        result
    });
    // A connection accepted before that would keep the default (autotuned) sizes.
    buffers_are_set
        .recv_timeout(scaled(STEP))
        .expect("the server thread sets its listener's buffer sizes");

    // The hog sends and never reads. Its echo fills its own receive buffer, then the server's
    // send buffer, then the server's output buffer for it (MAX_PENDING) — and from then on the
    // server must stop reading from it, until its sends block.
    let hog = Conn::connect(server.addr()).unwrap();
    // Fixed sizes also turn off the kernel's buffer autotuning, which could otherwise absorb
    // many megabytes before the sender is stopped.
    setsockopt(&hog.stream().as_fd(), sockopt::SndBuf, &SMALL_BUFFER).unwrap();
    setsockopt(&hog.stream().as_fd(), sockopt::RcvBuf, &SMALL_BUFFER).unwrap();
    hog.stream().set_write_timeout(Some(STALL)).unwrap();
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut pushed = 0;
    let stalled = loop {
        if pushed >= UNBOUNDED {
            break false;
        }
        let offset = pushed % chunk.len();
        match hog.stream().write(&chunk[offset..]) {
            Ok(n) => pushed += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break true;
            }
            Err(e) => panic!("hog send failed after {pushed} bytes: {e}"),
        }
    };
    assert!(
        stalled,
        "the server read {pushed} bytes from a client that never reads: no back-pressure"
    );

    // The loop is not stuck on the hog: another client is served while the hog is blocked.
    let mut polite = Conn::connect(server.addr()).unwrap();
    polite.write_all(b"still here?\n").unwrap();
    assert_eq!(polite.read_line().unwrap(), "still here?");

    // Back-pressure lost nothing: once the hog reads, it gets back every byte it sent.
    let mut hog = hog;
    let echoed = hog.read_exact(pushed).unwrap();
    let expected: Vec<u8> = (0..pushed).map(|i| chunk[i % chunk.len()]).collect();
    assert!(
        echoed == expected,
        "the echo of the hog's {pushed} bytes differs"
    );
    server.stop().unwrap();

    // Stopped reading means stopped *asking*: a loop that kept asking for readability would
    // have been told "readable" again and again while the hog's send waited (a busy spin).
    let cpu = server_cpu
        .lock()
        .unwrap()
        .expect("the server thread reported its CPU time");
    eprintln!("back-pressure: the hog pushed {pushed} bytes, then blocked; server CPU {cpu:?}");
    assert!(
        cpu < STALL / 2,
        "the server thread used {cpu:?} of CPU, though it had nothing to do for {STALL:?}"
    );
}

/// CPU time used by the calling thread so far.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
