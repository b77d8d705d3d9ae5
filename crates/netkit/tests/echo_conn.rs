//! `EchoConn`: partial progress, back-pressure and half-close on a real socket pair.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use netkit::Connection;
use netkit::echo::{EchoConn, MAX_PENDING, ReadStop};

fn pair() -> (TcpStream, EchoConn) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server_side, _) = listener.accept().unwrap();
    (client, EchoConn::new(server_side).unwrap())
}

/// Calls `on_readable` until it reports something other than `Drained`, within a deadline
/// (data sent on loopback may not be readable the instant `write` returns).
fn read_until(conn: &mut EchoConn, budget: usize, want: ReadStop) {
    harness::Deadline::after(
        Duration::from_secs(10),
        format!("EchoConn to report {want:?}"),
    )
    .poll(|| (conn.on_readable(budget).unwrap() == want).then_some(()))
    .unwrap();
}

#[test]
fn half_close_echoes_the_rest_then_closes() {
    let (mut client, mut conn) = pair();
    client.write_all(b"tail without newline").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    read_until(&mut conn, usize::MAX, ReadStop::Eof);
    assert!(conn.is_finished());
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap(); // ends: the server closed its side
    assert_eq!(echoed, b"tail without newline");
}

#[test]
fn a_peer_that_never_reads_is_stopped_at_the_bound() {
    let (client, mut conn) = pair();
    // Small kernel buffers on both sides of the server's output, so they fill quickly.
    use nix::sys::socket::{setsockopt, sockopt};
    let small = 16 * 1024;
    setsockopt(&client, sockopt::RcvBuf, &small).unwrap();
    setsockopt(conn.stream(), sockopt::SndBuf, &small).unwrap();
    let mut writer = client.try_clone().unwrap();
    // Send far more than the bound plus both socket buffers can hold, from a thread: its
    // writes block once the server stops reading, which is the point.
    let flood = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        while writer.write_all(&chunk).is_ok() {}
    });
    // `Full` first appears while the client's receive buffer still takes some of our output;
    // once that buffer is full too, the unsent bytes stay at the bound.
    harness::Deadline::after(
        Duration::from_secs(10),
        "the output buffer to stay at its bound",
    )
    .poll(|| {
        let stop = conn.on_readable(usize::MAX).unwrap();
        (stop == ReadStop::Full && conn.unsent() >= MAX_PENDING).then_some(())
    })
    .unwrap();
    assert!(
        !conn.wants_read(),
        "a full connection must not be read from"
    );
    assert!(conn.wants_write());
    let held = conn.unsent();
    assert_eq!(conn.on_readable(usize::MAX).unwrap(), ReadStop::Full);
    assert_eq!(conn.unsent(), held, "nothing more was read while full");
    drop(conn); // closing with unread data sends a RST: the flood ends with EPIPE/ECONNRESET
    let _ = client.shutdown(Shutdown::Both);
    flood.join().unwrap();
}

#[test]
fn the_read_budget_bounds_one_call_and_the_rest_follows() {
    let (mut client, mut conn) = pair();
    let sent = vec![b'y'; 100 * 1024];
    client.write_all(&sent).unwrap();
    read_until(&mut conn, 4096, ReadStop::Budget);
    assert!(conn.unsent() <= 4096, "one call read more than its budget");
    client.shutdown(Shutdown::Write).unwrap();
    read_until(&mut conn, usize::MAX, ReadStop::Eof);
    while !conn.is_finished() {
        conn.on_writable().unwrap();
    }
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed.len(), sent.len());
}
