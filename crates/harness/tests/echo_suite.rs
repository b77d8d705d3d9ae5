//! The echo conformance suite passes a correct server and fails broken ones, naming the check.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use harness::echo::{self, ABRUPT_CLOSE, BINARY, HUNDRED_CLIENTS, IDLE_CLIENT, LINE, SEQUENTIAL};
use harness::{InProcessServer, serve, serve_each};
use netkit::accept::Acceptor;

/// Short deadlines: the broken servers are expected to time out.
const STEP: Duration = Duration::from_secs(2);

/// A correct blocking echo: every byte read is written back in full; EOF ends the connection.
fn echo_correctly(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => stream.write_all(&buf[..n])?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn correct_server() -> harness::Result<InProcessServer> {
    Ok(serve_each(echo_correctly))
}

#[test]
fn a_correct_server_passes_every_check() {
    echo::assert_conformance(correct_server);
}

/// Broken: non-blocking writes whose short counts and `EAGAIN`s are ignored.
fn drop_partial_writes(mut stream: TcpStream) -> io::Result<()> {
    // A small send buffer makes short writes certain rather than likely.
    nix::sys::socket::setsockopt(&stream.as_fd(), nix::sys::socket::sockopt::SndBuf, &4096)?;
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                let _ = stream.write(&buf[..n]); // the bug: the count is ignored
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Wait for input like a real non-blocking server (the bug is elsewhere).
                let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
                poll(&mut fds, PollTimeout::NONE)?;
            }
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn ignoring_partial_writes_fails_the_binary_check() {
    let report = echo::run(STEP, || Ok(serve_each(drop_partial_writes)));
    assert!(report.failed().contains(&BINARY), "{report}");
    assert!(report.to_string().contains(&format!("FAIL  {BINARY}")));
}

#[test]
fn serving_one_client_at_a_time_fails_the_concurrency_checks() {
    let report = echo::run(STEP, || {
        Ok(serve(|listener, stop| {
            let mut acceptor = Acceptor::new(listener)?;
            while let Some((stream, _)) = acceptor.next_blocking(&stop)? {
                let _ = echo_correctly(stream); // the bug: no thread, no event loop
            }
            Ok(())
        }))
    });
    let failed = report.failed();
    assert!(failed.contains(&HUNDRED_CLIENTS), "{report}");
    assert!(failed.contains(&IDLE_CLIENT), "{report}");
    assert!(
        report
            .to_string()
            .contains("client 1 of 100 was not answered"),
        "{report}"
    );
}

/// Broken: echoes, but never closes a connection (the socket is kept forever).
fn never_close(stream: TcpStream) -> io::Result<()> {
    let keep = stream.try_clone()?;
    echo_correctly(stream)?;
    std::mem::forget(keep); // the bug: a descriptor leaked per connection
    Ok(())
}

#[test]
fn leaking_sockets_fails_the_sequential_and_half_close_checks() {
    let report = echo::run(STEP, || Ok(serve_each(never_close)));
    let failed = report.failed();
    assert!(failed.contains(&SEQUENTIAL), "{report}");
    assert!(failed.contains(&echo::HALF_CLOSE), "{report}");
}

#[test]
fn dying_on_a_reset_fails_the_abrupt_close_check() {
    let report = echo::run(STEP, || {
        Ok(serve(|listener, stop| {
            let mut acceptor = Acceptor::new(listener)?;
            while let Some((stream, _)) = acceptor.next_blocking(&stop)? {
                echo_correctly(stream)?; // the bug: one peer's ECONNRESET ends the server
            }
            Ok(())
        }))
    });
    assert!(report.failed().contains(&ABRUPT_CLOSE), "{report}");
}

#[test]
fn mangling_data_fails_the_line_check() {
    fn shout(mut stream: TcpStream) -> io::Result<()> {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            stream.write_all(&buf[..n].to_ascii_uppercase())?;
        }
    }
    let report = echo::run(STEP, || Ok(serve_each(shout)));
    assert!(report.failed().contains(&LINE), "{report}");
    assert!(report.to_string().contains("\"HELLO, ECHO\""), "{report}");
}
