//! `run_echo` in-process: exact counts, sane percentiles, and wrong echoes caught as errors.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use harness::{InProcessServer, serve, serve_each};
use loadgen::{EchoConfig, Failure, Stop, run_echo};

/// echo_target's event loop on a thread of this test.
fn target() -> InProcessServer {
    serve(loadgen::target::serve)
}

#[test]
fn eight_connections_times_two_hundred_requests_are_counted_exactly() {
    let server = target();
    let config = EchoConfig {
        conns: 8,
        size: 512,
        stop: Stop::Requests(1600),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    assert_eq!(report.requests, 1600, "{report}");
    assert_eq!(report.errors_total, 0, "{report}");
    assert_eq!(report.conns_established, 8, "{report}");
    assert_eq!(report.histogram.len(), 1600, "one latency per request");
    assert_eq!(report.unfinished, 0);
    let l = report.latency_us;
    assert!(l.min > 0.0, "{l:?}");
    assert!(l.min <= l.p50 && l.p50 <= l.p99 && l.p99 <= l.max, "{l:?}");
    assert!(report.requests_per_sec > 0.0 && report.elapsed_secs > 0.0);
    assert!(report.is_clean());
    server.stop().unwrap();
}

#[test]
fn a_timed_run_stops_on_time_and_counts_only_completed_requests() {
    let server = target();
    let config = EchoConfig {
        conns: 4,
        stop: Stop::Duration(Duration::from_millis(300)),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    assert!(report.requests > 0, "{report}");
    assert_eq!(report.histogram.len(), report.requests);
    assert!(report.elapsed_secs <= 0.3 + 1e-9, "{report}");
    assert!(report.elapsed_secs > 0.25, "{report}");
    assert!(
        report.unfinished <= 4,
        "at most one per connection: {report}"
    );
    assert_eq!(report.errors_total, 0, "{report}");
    server.stop().unwrap();
}

/// Requests larger than the socket buffers only work if loadgen reads while it writes.
#[test]
fn requests_larger_than_socket_buffers_are_written_and_read_at_once() {
    let server = target();
    let config = EchoConfig {
        conns: 2,
        size: 4 << 20,
        stop: Stop::Requests(6),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    assert_eq!((report.requests, report.errors_total), (6, 0), "{report}");
    server.stop().unwrap();
}

#[test]
fn idle_connections_are_held_during_the_run() {
    let server = target();
    let config = EchoConfig {
        conns: 2,
        idle: 100,
        sources: 2,
        stop: Stop::Requests(100),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    assert_eq!(report.idle_established, 100, "{report}");
    assert_eq!(report.requests, 100, "{report}");
    server.stop().unwrap();
}

/// Echoes everything, but the 100th byte of the stream comes back flipped.
fn corrupting_echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut offset = 0usize;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if (offset..offset + n).contains(&100) {
            buf[100 - offset] ^= 0x5a;
        }
        offset += n;
        stream.write_all(&buf[..n])?;
    }
}

#[test]
fn a_wrong_echo_is_an_error_not_a_success() {
    let server = serve_each(corrupting_echo);
    let config = EchoConfig {
        conns: 3,
        size: 64,
        stop: Stop::Requests(30),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    // Byte 100 is in each connection's second request: one good request each, then a mismatch.
    assert_eq!(
        report.run.errors.get(&Failure::Mismatch),
        Some(&3),
        "{report}"
    );
    assert_eq!(report.requests, 3, "{report}");
    assert_eq!(report.histogram.len(), 3);
    assert!(report.run.explanations[&Failure::Mismatch].contains("echoed bytes different"));
    assert!(!report.is_clean());
    server.stop().unwrap();
}

/// Echoes 10 bytes, then hangs up.
fn hang_up_early(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 10];
    stream.read_exact(&mut buf)?;
    stream.write_all(&buf)
}

#[test]
fn a_server_hanging_up_mid_request_is_counted_by_kind() {
    let server = serve_each(hang_up_early);
    let config = EchoConfig {
        conns: 2,
        size: 100,
        stop: Stop::Requests(10),
        ..EchoConfig::new(server.addr())
    };
    let report = run_echo(&config).unwrap();
    assert_eq!(report.requests, 0, "{report}");
    // The server closes with our bytes unread, which sends a reset (a FIN if it had read them
    // all): whichever loadgen sees first, the kind says the server ended it.
    let ended: u64 = [Failure::ClosedByServer, Failure::Reset, Failure::BrokenPipe]
        .iter()
        .filter_map(|k| report.run.errors.get(k))
        .sum();
    assert_eq!(ended, 2, "{report}");
    server.stop().unwrap();
}
