//! The signal-driven UDP echo server: in-process (under the process lock: it installs signal
//! handlers) and as its example.

use std::collections::BTreeMap;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread;

use harness::time::STEP;
use harness::{Deadline, ExampleProcess};
use io_models::signal_driven;
use netkit::Stop;

/// How many datagrams the burst test sends before reading any reply. Loopback UDP buffers hold
/// about 250 small datagrams by default, so none is dropped for lack of room.
const BURST: usize = 100;

/// `signal_driven::run` on a thread of this process; stopped (and checked) by [`UdpServer::stop`].
struct UdpServer {
    addr: SocketAddr,
    stop: Arc<Stop>,
    outcome: Receiver<io::Result<()>>,
}

impl UdpServer {
    fn start() -> UdpServer {
        UdpServer::start_on(UdpSocket::bind("127.0.0.1:0").unwrap())
    }

    fn start_on(socket: UdpSocket) -> UdpServer {
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(Stop::new().unwrap());
        let flag = Arc::clone(&stop);
        let (tx, outcome) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(signal_driven::run(socket, &flag));
        });
        UdpServer {
            addr,
            stop,
            outcome,
        }
    }

    /// Requests the stop (no datagram needed to wake it) and expects `run` to return `Ok` in time.
    fn stop(&self) {
        self.stop.stop();
        let deadline = Deadline::after(
            STEP,
            format!("signal_driven::run on {} to return", self.addr),
        );
        match self.outcome.recv_timeout(deadline.remaining().unwrap()) {
            Ok(result) => result.unwrap(),
            Err(_) => panic!("{}", deadline.expired()),
        }
    }
}

impl Drop for UdpServer {
    /// A failed test must not leave its server running: ask it to stop, without waiting.
    fn drop(&mut self) {
        self.stop.stop();
    }
}

/// A UDP client talking to one server.
fn client(server: SocketAddr) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server).unwrap();
    socket
}

/// The next datagram, within the step deadline (signals may interrupt the wait: retried).
fn receive(socket: &UdpSocket) -> Vec<u8> {
    let peer = socket.peer_addr().expect("the client socket is connected");
    let deadline = Deadline::after(STEP, format!("a datagram from {peer}"));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        socket
            .set_read_timeout(Some(deadline.remaining().unwrap()))
            .unwrap();
        match socket.recv(&mut buf) {
            Ok(n) => return buf[..n].to_vec(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{}", deadline.expired())
            }
            Err(e) => panic!("{}: {e}", deadline.what()),
        }
    }
}

fn round_trip(socket: &UdpSocket, datagram: &[u8]) {
    socket.send(datagram).unwrap();
    assert_eq!(receive(socket), datagram);
}

/// Sends [`BURST`] datagrams without reading, then expects every one back.
fn burst_is_echoed_in_full(server: SocketAddr) {
    let socket = client(server);
    send_burst(&socket);
    expect_burst_back(&socket);
}

fn burst() -> Vec<Vec<u8>> {
    (0..BURST)
        .map(|i| format!("datagram {i}").into_bytes())
        .collect()
}

fn send_burst(socket: &UdpSocket) {
    for datagram in burst() {
        socket.send(&datagram).unwrap();
    }
}

/// Expects the [`BURST`] datagrams back, in any order.
fn expect_burst_back(socket: &UdpSocket) {
    let sent = burst();
    let mut missing: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for datagram in &sent {
        *missing.entry(datagram.clone()).or_default() += 1;
    }
    for _ in 0..BURST {
        let echoed = receive(socket);
        match missing.get_mut(&echoed) {
            Some(count) if *count > 0 => *count -= 1,
            _ => panic!(
                "unexpected datagram {:?}",
                echoed.escape_ascii().to_string()
            ),
        }
    }
}

/// Every byte value, NUL included, several times over: 8 KiB in one datagram.
fn binary_payload() -> Vec<u8> {
    (0..8 * 1024).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn sigio_echoes_datagrams_from_several_clients() {
    let _lock = harness::process_lock();
    let server = UdpServer::start();
    let alice = client(server.addr);
    let bob = client(server.addr);
    for round in 0..5 {
        round_trip(&alice, format!("alice {round}").as_bytes());
        round_trip(&bob, format!("bob {round}").as_bytes());
    }
    server.stop();
}

#[test]
fn sigio_echoes_every_datagram_of_a_burst_sent_before_reading() {
    // Many datagrams arrive between two wake-ups, and their signals coalesce: only a server
    // that drains the socket to EAGAIN on every wake-up answers them all.
    let _lock = harness::process_lock();
    let server = UdpServer::start();
    burst_is_echoed_in_full(server.addr);
    server.stop();
}

#[test]
fn sigio_echoes_a_burst_that_arrived_before_the_server_armed_the_socket() {
    // Datagrams that arrive before O_ASYNC is set raise no signal at all: a server that only
    // reads after a signal never answers them. Deterministic: the burst is queued first.
    let _lock = harness::process_lock();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = client(socket.local_addr().unwrap());
    send_burst(&client);
    let server = UdpServer::start_on(socket);
    expect_burst_back(&client);
    server.stop();
}

#[test]
fn sigio_echoes_binary_payloads_exactly() {
    let _lock = harness::process_lock();
    let server = UdpServer::start();
    let socket = client(server.addr);
    round_trip(&socket, &binary_payload());
    round_trip(&socket, &[0]);
    round_trip(&socket, &[]);
    server.stop();
}

#[test]
fn sigio_signals_after_run_returns_do_not_kill_the_process() {
    // Both signals terminate a process by default. `run` leaves its (now idle) handlers
    // installed, so a late signal is harmless; if it did not, this test binary would die here.
    let _lock = harness::process_lock();
    let server = UdpServer::start();
    round_trip(&client(server.addr), b"before");
    server.stop();
    signal_hook::low_level::raise(signal_driven::io_signal()).unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGIO).unwrap();
    // And a second server in the same process still works.
    let server = UdpServer::start();
    round_trip(&client(server.addr), b"after");
    server.stop();
}

#[test]
fn sigio_example_echoes_a_burst_and_binary_and_exits_cleanly_on_ctrl_c() {
    let server = ExampleProcess::start("sigio_udp_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let socket = client(server.addr());
    round_trip(&socket, b"hello over UDP\n");
    round_trip(&socket, &binary_payload());
    burst_is_echoed_in_full(server.addr());
    server.interrupt_and_expect_clean_exit().unwrap();
}
