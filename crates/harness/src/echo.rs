//! The echo conformance suite: what "an echo server works" means in this workspace.
//!
//! Every echo server in every chapter — blocking, select, epoll, fork-per-connection, async —
//! must pass [`assert_conformance`]. Each check starts a fresh server, so one failure cannot
//! cause the next, and each check is there to catch a specific, common bug:
//!
//! | check | the bug it catches |
//! | --- | --- |
//! | one line echoed | nothing works at all |
//! | 1 MiB of random binary (with NUL bytes) written in one call while reading concurrently | ignored partial writes (`write` returning less than asked, or `EAGAIN`), text-only handling, a server that reads everything before writing |
//! | 100 clients connected at once, each sending only after all are connected | a server that serves one client at a time |
//! | an idle client does not block another | a blocking `read` on one client holding up the loop |
//! | half-close: the rest is echoed, then the server closes | treating EOF as an error or waiting for a newline; never closing |
//! | abrupt close (RST) — the server stays up and serves the next client | `ECONNRESET`/`EPIPE`/SIGPIPE killing the server |
//! | 1,000 sequential connections leave no descriptors behind | a socket not closed on disconnect |
//!
//! The suite is itself tested against deliberately broken servers (see this crate's tests): a
//! check that cannot fail proves nothing.

use std::thread;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::leaks::{FdSnapshot, sockets_on_port};
use crate::server::ServerUnderTest;
use crate::suite;
use crate::time::{Deadline, STEP};
use crate::{Conn, Error, Result};

/// The checks, in the order they run.
pub const CHECKS: [&str; 7] = [
    LINE,
    BINARY,
    HUNDRED_CLIENTS,
    IDLE_CLIENT,
    HALF_CLOSE,
    ABRUPT_CLOSE,
    SEQUENTIAL,
];
/// Check name: one line echoed.
pub const LINE: &str = "one line is echoed";
/// Check name: 1 MiB binary.
pub const BINARY: &str = "1 MiB of binary data written in one call is echoed exactly";
/// Check name: 100 concurrent clients.
pub const HUNDRED_CLIENTS: &str =
    "100 clients connected at once, sending only after all connected, are all served";
/// Check name: idle client.
pub const IDLE_CLIENT: &str = "an idle client does not block another client";
/// Check name: half-close.
pub const HALF_CLOSE: &str = "after a half-close the rest is echoed and the server closes";
/// Check name: RST.
pub const ABRUPT_CLOSE: &str = "after an abrupt close (RST) the server serves the next client";
/// Check name: 1,000 sequential connections.
pub const SEQUENTIAL: &str = "1,000 sequential connections leave no descriptors behind";

const BINARY_LEN: usize = 1 << 20;
const CLIENTS: usize = 100;
const SEQUENTIAL_CONNECTIONS: usize = 1000;
/// Extra descriptors tolerated in the test process, where parallel tests open their own.
const IN_PROCESS_SLACK: usize = 64;

pub use crate::suite::{CheckResult, Report};

/// Runs the suite against servers made by `start` and panics with the report if any check fails.
pub fn assert_conformance<S: ServerUnderTest>(start: impl Fn() -> Result<S>) {
    let report = run(STEP, start);
    assert!(report.passed(), "{report}");
}

/// One check: given a running server and the step deadline, `Ok` or why not.
type Check<S> = fn(&S, Duration) -> Result<()>;

/// Connects `count` clients to the echo server at `addr` and checks each is being served (its
/// own numbered line comes back), leaving every connection open: the clients a test holds while
/// it looks at the server (its children, its Ctrl-C) or at what happens to open connections.
pub fn served_clients(addr: std::net::SocketAddr, count: usize) -> Result<Vec<Conn>> {
    let mut clients = (0..count)
        .map(|_| Conn::connect(addr))
        .collect::<Result<Vec<Conn>>>()?;
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("client {i}\n").as_bytes())?;
        let line = client.read_line()?;
        if line != format!("client {i}") {
            return Err(Error::new(
                format!("client {i} of {count} on {addr}"),
                format!("echoed {line:?}"),
            ));
        }
    }
    Ok(clients)
}

/// How soon a client over a server's bound must read the busy line: at once, not when a slot
/// frees (which, in the tests that use it, never happens by itself).
pub const PROMPTLY: Duration = Duration::from_secs(2);

/// Connects a client to the server at `addr`, which is at its bound, and checks it is told so
/// within [`PROMPTLY`] — the line `busy` — and then closed.
pub fn expect_turned_away(addr: std::net::SocketAddr, busy: &str) -> Result<()> {
    let mut client = Conn::connect(addr)?;
    client.set_step(PROMPTLY);
    let answer = client.read_line()?;
    if answer != busy {
        return Err(Error::new(
            format!("the busy line from {addr}"),
            format!("got {answer:?}"),
        ));
    }
    client.expect_eof()
}

/// Connects to the echo server at `addr` until a client is served, and returns it: a slot frees
/// only once the server has seen a client leave, and until then a newcomer is told to try again
/// — so it does, within the step deadline.
pub fn served_once_a_slot_frees(addr: std::net::SocketAddr) -> Result<Conn> {
    let deadline = Deadline::after(STEP, format!("a client of {addr} served after others left"));
    deadline.poll(|| {
        let mut client = Conn::connect(addr).ok()?;
        client.write_all(b"later\n").ok()?;
        (client.read_line().ok()? == "later").then_some(client)
    })
}

/// Runs every check, each against a fresh server from `start`, with `step` as the deadline of
/// each blocking step.
pub fn run<S: ServerUnderTest>(step: Duration, start: impl Fn() -> Result<S>) -> Report {
    let checks: [(&'static str, Check<S>); 7] = [
        (LINE, line_echoed),
        (BINARY, binary_echoed),
        (HUNDRED_CLIENTS, hundred_clients),
        (IDLE_CLIENT, idle_client),
        (HALF_CLOSE, half_close),
        (ABRUPT_CLOSE, abrupt_close),
        (SEQUENTIAL, sequential),
    ];
    suite::run_checks("echo", &checks, |server, check| check(server, step), start)
}

fn connect<S: ServerUnderTest>(server: &S, step: Duration) -> Result<Conn> {
    let mut conn = Conn::connect_within(server.addr(), step)?;
    conn.set_step(step);
    Ok(conn)
}

fn round_trip(conn: &mut Conn, line: &str) -> Result<()> {
    conn.write_all(format!("{line}\n").as_bytes())?;
    let echoed = conn.read_line()?;
    if echoed == line {
        Ok(())
    } else {
        Err(Error::new(
            format!("echo of {line:?}"),
            format!("got {echoed:?}"),
        ))
    }
}

fn line_echoed<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    round_trip(&mut connect(server, step)?, "hello, echo")
}

fn binary_echoed<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    let mut data = vec![0u8; BINARY_LEN];
    StdRng::seed_from_u64(0x5eed).fill(&mut data[..]);
    for i in (0..BINARY_LEN).step_by(4099) {
        data[i] = 0; // NUL bytes throughout, not only where chance puts them
    }
    let mut reader = connect(server, step)?;
    let mut writer = reader.try_clone()?;
    let sent = data.clone();
    // Write from another thread: a server that echoes as it reads cannot make progress
    // unless the client reads at the same time (both sides' buffers would fill).
    let writing = thread::spawn(move || writer.write_all(&sent));
    let echoed = reader.read_exact(BINARY_LEN);
    let written = writing
        .join()
        .map_err(|_| Error::new("writer thread", "panicked"))?;
    let echoed = echoed?;
    written?;
    match echoed.iter().zip(&data).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(offset) => Err(Error::new(
            "comparing the echoed 1 MiB",
            format!("first difference at byte {offset}"),
        )),
    }
}

fn hundred_clients<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    let mut clients = (0..CLIENTS)
        .map(|_| connect(server, step))
        .collect::<Result<Vec<_>>>()?;
    // Every client is connected (the kernel completed each handshake) before anyone sends.
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("client {i} of {CLIENTS}\n").as_bytes())?;
    }
    // Keep every connection open until all are answered: a server that serves clients one at
    // a time never gets to client 1 while client 0 stays connected.
    for (i, client) in clients.iter_mut().enumerate() {
        let line = client
            .read_line()
            .map_err(|e| e.context(format!("client {i} of {CLIENTS} was not answered")))?;
        if line != format!("client {i} of {CLIENTS}") {
            return Err(Error::new(
                format!("echo to client {i}"),
                format!("got {line:?}"),
            ));
        }
    }
    Ok(())
}

fn idle_client<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    let mut idle = connect(server, step)?;
    let mut active = connect(server, step)?;
    round_trip(&mut active, "while another client is idle")
        .map_err(|e| e.context("a connected client that sends nothing blocked this one"))?;
    round_trip(&mut idle, "the idle client speaks at last")
}

fn half_close<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    let mut conn = connect(server, step)?;
    let data = b"line one\nand a tail with no newline";
    conn.write_all(data)?;
    conn.shutdown_write()?;
    let echoed = conn.read_to_eof()?;
    if echoed == data {
        Ok(())
    } else {
        Err(Error::new(
            "echo before close after a half-close",
            format!(
                "got b\"{}\" instead of b\"{}\"",
                echoed.escape_ascii(),
                data.escape_ascii()
            ),
        ))
    }
}

fn abrupt_close<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    // Reset before sending anything: the server's accept or first read sees ECONNRESET.
    connect(server, step)?.reset()?;
    // Reset while the server is echoing a lot back to us: its write sees EPIPE/ECONNRESET.
    let mut flood = connect(server, step)?;
    flood.write_all(&vec![b'x'; 256 * 1024])?;
    flood.reset()?;
    let mut next = connect(server, step)?;
    round_trip(&mut next, "still there?")
        .map_err(|e| e.context("the server did not serve a client after two resets"))
}

fn sequential<S: ServerUnderTest>(server: &S, step: Duration) -> Result<()> {
    let port = server.addr().port();
    let pid = server.pid();
    let listeners =
        sockets_on_port(pid, port).map_err(|e| Error::new(format!("reading /proc/{pid}/fd"), e))?;
    // One connection first, so anything a server sets up lazily is in the baseline.
    round_trip(&mut connect(server, step)?, "warm-up")?;
    settle_sockets(pid, port, listeners, step)?;
    let baseline = FdSnapshot::of(pid)?;
    for i in 0..SEQUENTIAL_CONNECTIONS {
        round_trip(&mut connect(server, step)?, &format!("connection {i}"))?;
    }
    settle_sockets(pid, port, listeners, step)?;
    let slack = if server.in_process() {
        IN_PROCESS_SLACK
    } else {
        0
    };
    baseline.expect_no_growth(slack, step)
}

/// Waits until the server holds only its listening sockets on `port` (every accepted
/// connection closed).
fn settle_sockets(pid: u32, port: u16, listeners: usize, step: Duration) -> Result<()> {
    let deadline = Deadline::after(
        step,
        format!("the server to close every accepted socket on port {port}"),
    );
    let mut open = 0;
    deadline
        .poll(|| {
            open = sockets_on_port(pid, port).ok()?;
            (open <= listeners).then_some(())
        })
        .map_err(|e| {
            e.context(format!(
                "{open} sockets on port {port}, {listeners} listening"
            ))
        })
}
