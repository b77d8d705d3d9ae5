//! The UDP chat room: the server example with raw UDP peers (so a test can lie about its name),
//! and the two-process client example against it.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use harness::{Deadline, ExampleProcess};
use nix::unistd::Pid;

/// A chat member speaking the protocol by hand.
struct Peer {
    socket: UdpSocket,
    server: SocketAddr,
}

impl Peer {
    fn new(server: SocketAddr) -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        Peer { socket, server }
    }

    fn joined(server: SocketAddr, name: &str) -> Peer {
        let peer = Peer::new(server);
        peer.send(&format!("L {name}"));
        assert_eq!(peer.recv(), format!("OK {name}"));
        peer
    }

    fn send(&self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    fn send_bytes(&self, bytes: &[u8]) {
        self.socket.send_to(bytes, self.server).unwrap();
    }

    /// The next datagram from the server, within the step deadline.
    fn recv(&self) -> String {
        self.recv_while(|| {})
    }

    /// The next datagram, calling `meanwhile` every 100 ms while waiting (to send heartbeats).
    fn recv_while(&self, mut meanwhile: impl FnMut()) -> String {
        let deadline = Deadline::after(harness::time::STEP, "a datagram from the chat server");
        self.socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 2048];
        loop {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) if from == self.server => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    assert!(
                        text.ends_with('\n'),
                        "every reply ends with a newline: {text:?}"
                    );
                    return text.trim_end_matches('\n').to_string();
                }
                Ok(_) => {}
                Err(_) => {
                    deadline.remaining().unwrap();
                    meanwhile();
                }
            }
        }
    }

    /// Nothing arrives for `quiet` (a claim that nothing was relayed, checked over a window).
    fn expect_nothing_for(&self, quiet: Duration) {
        self.socket.set_read_timeout(Some(quiet)).unwrap();
        let mut buf = [0u8; 2048];
        if let Ok((n, _)) = self.socket.recv_from(&mut buf) {
            panic!(
                "expected silence, got {:?}",
                String::from_utf8_lossy(&buf[..n])
            );
        }
    }
}

fn start_server(timeout_ms: &str) -> ExampleProcess {
    ExampleProcess::start(
        "udp_chat_server",
        &["--addr", "127.0.0.1:0", "--timeout-ms", timeout_ms],
    )
    .unwrap()
}

#[test]
fn three_members_chat_and_nobody_can_speak_or_quit_as_someone_else() {
    let _lock = harness::process_lock();
    let server = start_server("60000");
    let alice = Peer::joined(server.addr(), "alice");
    let bob = Peer::joined(server.addr(), "bob");
    assert_eq!(alice.recv(), "* bob joined the room");
    let carol = Peer::joined(server.addr(), "carol");
    assert_eq!(alice.recv(), "* carol joined the room");
    assert_eq!(bob.recv(), "* carol joined the room");

    alice.send("C alice hello everyone");
    assert_eq!(bob.recv(), "alice: hello everyone");
    assert_eq!(carol.recv(), "alice: hello everyone");

    // Bob pretends to be alice: refused, and nothing reaches the others.
    bob.send("C alice I owe bob money");
    assert_eq!(bob.recv(), "ERR you are bob, not alice");
    bob.send("Q alice");
    assert_eq!(bob.recv(), "ERR you are bob, not alice");
    carol.expect_nothing_for(Duration::from_millis(200));

    // A stranger cannot speak at all, and a taken name is refused.
    let mallory = Peer::new(server.addr());
    mallory.send("C alice hi");
    assert_eq!(mallory.recv(), "ERR join first: L <name>");
    mallory.send("L Alice");
    assert_eq!(mallory.recv(), "ERR the name Alice is taken");

    bob.send("Q bob");
    assert_eq!(bob.recv(), "BYE left");
    assert_eq!(alice.recv(), "* bob left the room");
    assert_eq!(carol.recv(), "* bob left the room");
    alice.expect_nothing_for(Duration::from_millis(100));
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn a_member_that_vanishes_without_quitting_times_out() {
    let _lock = harness::process_lock();
    // Erin's heartbeats (every 100 ms) must stay well inside the timeout on a loaded machine.
    let timeout = harness::time::scaled(Duration::from_millis(2000))
        .as_millis()
        .to_string();
    let server = start_server(&timeout);
    let dave = Peer::joined(server.addr(), "dave");
    let erin = Peer::joined(server.addr(), "erin");
    drop(dave); // gone without a Q: no more datagrams from that address
    // Erin keeps sending heartbeats while she waits, so only dave goes silent.
    let notice = erin.recv_while(|| erin.send("H"));
    assert_eq!(notice, "* dave left the room (timed out)");
    erin.send("C erin still here");
    erin.expect_nothing_for(Duration::from_millis(100)); // nobody left to tell, no error
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn bad_datagrams_get_error_replies_and_the_server_stays_up() {
    let _lock = harness::process_lock();
    let server = start_server("60000");
    let peer = Peer::new(server.addr());
    peer.send_bytes(&vec![b'x'; 5000]);
    assert_eq!(peer.recv(), "ERR datagram over 1024 bytes");
    peer.send_bytes(b"L \xff\xfe");
    assert_eq!(peer.recv(), "ERR not UTF-8 text");
    peer.send("HELLO there");
    assert!(peer.recv().starts_with("ERR unknown command"));
    peer.send("L two words");
    assert!(peer.recv().starts_with("ERR a name is one word"));
    peer.send("L frank");
    assert_eq!(peer.recv(), "OK frank");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn the_operator_announces_on_stdin_and_ctrl_c_says_bye_to_everyone() {
    let _lock = harness::process_lock();
    let mut server = start_server("60000");
    let alice = Peer::joined(server.addr(), "alice");
    let bob = Peer::joined(server.addr(), "bob");
    assert_eq!(alice.recv(), "* bob joined the room");
    writeln!(server.stdin(), "maintenance at noon").unwrap();
    server.stdin().flush().unwrap();
    assert_eq!(alice.recv(), "admin: maintenance at noon");
    assert_eq!(bob.recv(), "admin: maintenance at noon");
    server.interrupt_and_expect_clean_exit().unwrap();
    assert_eq!(alice.recv(), "BYE server shutting down");
    assert_eq!(bob.recv(), "BYE server shutting down");
}

/// Lines from a client example until one satisfies `wanted`; returns it.
fn read_until(client: &mut ExampleProcess, wanted: &str) -> String {
    loop {
        let line = client.read_line().unwrap();
        if line == wanted {
            return line;
        }
    }
}

/// A `udp_chat_client` example that has joined the room at `addr` as `name`.
fn client_joined(addr: &str, name: &str) -> ExampleProcess {
    let mut client =
        ExampleProcess::spawn("udp_chat_client", &["--server", addr, "--name", name]).unwrap();
    assert_eq!(
        client.read_line().unwrap(),
        format!("joined as {name}; type a message, or quit")
    );
    client
}

#[test]
fn two_client_examples_chat_and_each_ends_both_of_its_processes() {
    let _lock = harness::process_lock();
    let server = start_server("60000");
    let addr = server.addr().to_string();
    let mut alice = client_joined(&addr, "alice");
    let mut bob = client_joined(&addr, "bob");
    read_until(&mut alice, "* bob joined the room");

    // Each client is two processes: the typing parent and the printing child.
    let deadline = Deadline::after(harness::time::STEP, "bob's receiving child");
    let bob_child = deadline
        .poll(|| {
            harness::leaks::children_of(bob.pid())
                .ok()?
                .first()
                .copied()
        })
        .unwrap();

    writeln!(bob.stdin(), "hello alice").unwrap();
    writeln!(bob.stdin(), "second line, sent at once").unwrap();
    bob.stdin().flush().unwrap();
    read_until(&mut alice, "bob: hello alice");
    read_until(&mut alice, "bob: second line, sent at once");

    // A taken name is refused by a third client, which exits with an error.
    let mut impostor =
        ExampleProcess::spawn("udp_chat_client", &["--server", &addr, "--name", "bob"]).unwrap();
    let status = impostor.wait_within(harness::time::STEP).unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(
        impostor
            .stderr_text()
            .contains("refused: the name bob is taken"),
        "{}",
        impostor.stderr_text()
    );

    writeln!(bob.stdin(), "quit").unwrap();
    bob.stdin().flush().unwrap();
    read_until(&mut bob, "BYE left");
    bob.expect_success().unwrap();
    assert!(
        nix::sys::signal::kill(Pid::from_raw(bob_child as i32), None).is_err(),
        "bob's receiving process {bob_child} ended with him"
    );
    read_until(&mut alice, "* bob left the room");

    // The server stopping ends alice's client too: BYE reaches her child, SIGCHLD her parent.
    server.interrupt_and_expect_clean_exit().unwrap();
    read_until(&mut alice, "BYE server shutting down");
    alice.expect_success().unwrap();
}

#[test]
fn ctrl_c_in_a_terminal_leaves_the_room_quietly_with_status_0() {
    let _lock = harness::process_lock();
    let server = start_server("60000");
    let addr = server.addr().to_string();
    let mut alice = client_joined(&addr, "alice");
    let deadline = Deadline::after(
        harness::time::STEP,
        "alice's receiving child, ignoring SIGINT",
    );
    deadline
        .poll(|| {
            let child = *harness::leaks::children_of(alice.pid()).ok()?.first()?;
            harness::leaks::ignores_signal(child, nix::libc::SIGINT).then_some(())
        })
        .unwrap();
    // A terminal's Ctrl-C reaches the whole foreground process group: parent and child.
    nix::sys::signal::killpg(
        Pid::from_raw(alice.pid() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    read_until(&mut alice, "BYE left");
    alice.expect_success().unwrap();
    assert_eq!(alice.stderr_text(), "", "Ctrl-C is a normal way to leave");
    server.interrupt_and_expect_clean_exit().unwrap();
}
