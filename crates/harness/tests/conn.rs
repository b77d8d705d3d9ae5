//! Client helpers: deadlines name what was awaited; leak counters see sockets.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use harness::leaks::{FdSnapshot, sockets_on_port};
use harness::{Conn, serve};

#[test]
fn a_silent_server_fails_read_line_with_what_was_awaited_and_what_came() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut conn = Conn::connect(addr).unwrap();
    let (mut server_side, _) = listener.accept().unwrap();
    server_side.write_all(b"par").unwrap(); // a partial line, then silence
    conn.set_step(Duration::from_millis(200));
    let error = conn.read_line().unwrap_err();
    assert!(error.is_timeout());
    let message = error.to_string();
    assert!(
        message.contains(&format!("reading a line from {addr}")),
        "{message}"
    );
    assert!(message.contains("got 3 bytes: b\"par\""), "{message}");
}

#[test]
fn expect_eof_rejects_extra_data_and_read_exact_rejects_early_close() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut conn = Conn::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server_side, _) = listener.accept().unwrap();
    server_side.write_all(b"surprise").unwrap();
    let message = conn.expect_eof().unwrap_err().to_string();
    assert!(
        message.contains("sent more data instead of closing"),
        "{message}"
    );
    drop(server_side);
    let message = conn.read_exact(10).unwrap_err().to_string();
    assert!(message.contains("connection closed early"), "{message}");
}

#[test]
fn reset_sends_a_rst_that_the_peer_sees_as_connection_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let conn = Conn::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server_side, _) = listener.accept().unwrap();
    conn.reset().unwrap();
    server_side
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let error = server_side.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn sockets_on_port_counts_the_listener_and_accepted_connections() {
    let server = serve(|listener, stop| {
        let mut held = Vec::new();
        let mut acceptor = netkit::accept::Acceptor::new(listener)?;
        while let Some((stream, _)) = acceptor.next_blocking(&stop)? {
            held.push(stream); // holds every connection until stopped
        }
        Ok(())
    });
    let pid = std::process::id();
    let port = server.addr().port();
    assert_eq!(sockets_on_port(pid, port).unwrap(), 1, "just the listener");
    let _clients: Vec<Conn> = (0..3)
        .map(|_| Conn::connect(server.addr()).unwrap())
        .collect();
    harness::Deadline::after(Duration::from_secs(10), "3 accepted sockets")
        .poll(|| (sockets_on_port(pid, port).ok()? == 4).then_some(()))
        .unwrap();
    let snapshot = FdSnapshot::of_self().unwrap();
    assert!(snapshot.count() >= 4);
    server.stop().unwrap();
}

#[test]
fn a_server_that_errors_is_reported_by_stop() {
    let server = serve(|_listener, _stop| Err(std::io::Error::other("no can do")));
    let message = server.stop().unwrap_err().to_string();
    assert!(message.contains("no can do"), "{message}");
}
