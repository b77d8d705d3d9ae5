//! The chat room (`select_chat`) and its client (`chat_client`), with real clients on real
//! sockets: in-process through `chat::run` (its console a pipe), and as example processes.
//!
//! The protocol is spelled out byte for byte here: these lines are what a student sees in `nc`.

use std::io::{PipeWriter, Write};
use std::os::fd::AsFd;

use harness::{Conn, ExampleProcess, InProcessServer, serve};
use io_models::chat::{self, Console, Limits, MAX_LINE};

const ASK_NAME: &str = "* what is your name? (one word, at most 32 bytes)";
const CLOSING: &str = "* the server is closing. goodbye!";

/// The room on a thread of this test; what is written to the returned pipe is what the
/// operator types. The room's transcript is not shown (the test output stays clean).
fn start_room(exit_on_eof: bool) -> (InProcessServer, PipeWriter) {
    start_room_with(exit_on_eof, Limits::default())
}

/// [`start_room`] with `limits`.
fn start_room_with(exit_on_eof: bool, limits: Limits) -> (InProcessServer, PipeWriter) {
    let (typed, operator) = std::io::pipe().expect("a pipe for the server's console");
    let server = serve(move |listener, stop| {
        let console = Console {
            input: typed.as_fd(),
            show: |_| {},
            exit_on_eof,
        };
        chat::run(listener, console, limits, &stop)
    });
    (server, operator)
}

/// Connects and reads the welcome (which counts the people in the room) and the name prompt.
fn arrive(server: std::net::SocketAddr, people_here: usize) -> Conn {
    let mut conn = Conn::connect(server).unwrap();
    let people = if people_here == 1 { "person" } else { "people" };
    expect(
        &mut conn,
        &format!("* welcome to the select(2) chat room: {people_here} {people} here"),
    );
    expect(&mut conn, ASK_NAME);
    conn
}

/// Arrives and takes `name`; `people_here` is how many are in the room before.
fn join(server: std::net::SocketAddr, name: &str, people_here: usize) -> Conn {
    let mut conn = arrive(server, people_here);
    say(&mut conn, name);
    expect(&mut conn, &hello(name));
    conn
}

fn hello(name: &str) -> String {
    format!("* hello {name}! type a line to talk; /who lists who is here, /quit leaves")
}

fn say(conn: &mut Conn, line: &str) {
    conn.write_all(format!("{line}\n").as_bytes()).unwrap();
}

fn expect(conn: &mut Conn, line: &str) {
    assert_eq!(conn.read_line().unwrap(), line);
}

/// Alice, bob and carol, in the room in that order, every join notice read.
fn three_in_the_room(server: std::net::SocketAddr) -> (Conn, Conn, Conn) {
    let mut alice = join(server, "alice", 0);
    let mut bob = join(server, "bob", 1);
    expect(&mut alice, "* bob joined");
    let carol = join(server, "carol", 2);
    expect(&mut alice, "* carol joined");
    expect(&mut bob, "* carol joined");
    (alice, bob, carol)
}

#[test]
fn chat_room_refuses_taken_empty_long_and_odd_names_then_accepts_a_good_one() {
    let (server, _operator) = start_room(false);
    let mut alice = join(server.addr(), "alice", 0);
    let mut bob = arrive(server.addr(), 1);
    let refused = [
        ("alice", "! that name is taken: \"alice\""),
        ("ALICE", "! that name is taken: \"ALICE\""),
        ("   ", "! a name cannot be empty: \"\""),
        (
            &"b".repeat(33),
            &format!(
                "! that name is too long (at most 32 bytes): \"{}\"",
                "b".repeat(33)
            ),
        ),
        (
            "bob smith",
            "! a name is one word: no spaces, no control characters, no leading '/': \"bob smith\"",
        ),
        (
            "server",
            "! that name is reserved for the server: \"server\"",
        ),
    ];
    for (name, answer) in refused {
        say(&mut bob, name);
        expect(&mut bob, answer);
        expect(&mut bob, ASK_NAME);
    }
    say(&mut bob, &"b".repeat(32));
    expect(&mut bob, &hello(&"b".repeat(32)));
    // The refused attempts were never announced: bob's join is the first thing alice hears.
    expect(&mut alice, &format!("* {} joined", "b".repeat(32)));
    server.stop().unwrap();
}

#[test]
fn chat_room_broadcasts_to_the_others_announces_joins_and_leaves_and_answers_who_and_quit() {
    let (server, _operator) = start_room(false);
    let (mut alice, mut bob, mut carol) = three_in_the_room(server.addr());

    say(&mut alice, "hi all");
    expect(&mut bob, "[alice] hi all");
    expect(&mut carol, "[alice] hi all");
    say(&mut bob, "hi alice");
    // Alice's next line is bob's: her own line was not sent back to her.
    expect(&mut alice, "[bob] hi alice");
    expect(&mut carol, "[bob] hi alice");

    say(&mut carol, "/who");
    expect(&mut carol, "* in the room (3): alice, bob, carol");
    say(&mut carol, "/quit");
    expect(&mut carol, "* bye, carol!");
    carol.expect_eof().unwrap();
    expect(&mut alice, "* carol left");
    expect(&mut bob, "* carol left");

    // Hanging up (FIN) is leaving too: a half-closed client still reads the goodbye, then
    // the server's own close.
    bob.shutdown_write().unwrap();
    expect(&mut bob, "* bye, bob!");
    bob.expect_eof().unwrap();
    expect(&mut alice, "* bob left");
    say(&mut alice, "/who");
    expect(&mut alice, "* in the room (1): alice");
    server.stop().unwrap();
}

#[test]
fn chat_room_says_what_the_operator_types_and_goes_on_after_stdin_ends() {
    let (server, mut operator) = start_room(false);
    let mut alice = join(server.addr(), "alice", 0);
    let mut bob = join(server.addr(), "bob", 1);
    expect(&mut alice, "* bob joined");

    operator.write_all(b"maintenance at noon\n").unwrap();
    expect(&mut alice, "[server] maintenance at noon");
    expect(&mut bob, "[server] maintenance at noon");

    drop(operator); // end of the server's stdin: it stops reading it, and nothing else
    say(&mut alice, "still here?");
    expect(&mut bob, "[alice] still here?");
    let _carol = join(server.addr(), "carol", 2);
    expect(&mut alice, "* carol joined");
    server.stop().unwrap();
}

#[test]
fn chat_room_with_exit_on_eof_closes_when_stdin_ends() {
    let (server, operator) = start_room(true);
    let mut alice = join(server.addr(), "alice", 0);
    drop(operator);
    expect(&mut alice, CLOSING);
    alice.expect_eof().unwrap();
    server.stop().unwrap();
}

#[test]
fn chat_room_refuses_an_over_long_line_and_keeps_the_client() {
    let (server, _operator) = start_room(false);
    let mut alice = join(server.addr(), "alice", 0);
    let mut bob = join(server.addr(), "bob", 1);
    expect(&mut alice, "* bob joined");

    let longest = "x".repeat(MAX_LINE);
    say(&mut alice, &longest);
    expect(&mut bob, &format!("[alice] {longest}"));

    alice.write_all(&vec![b'y'; 3 * MAX_LINE]).unwrap(); // no newline: never buffered whole
    alice.write_all(b"yyy\nshort again\n").unwrap();
    expect(&mut alice, "! line too long (over 4096 bytes): discarded");
    expect(&mut bob, "[alice] short again");
    say(&mut bob, "ok");
    expect(&mut alice, "[bob] ok");
    server.stop().unwrap();
}

#[test]
fn chat_room_disconnects_a_client_that_never_reads_while_the_others_keep_talking() {
    let (server, _operator) = start_room(false);
    let mut alice = join(server.addr(), "alice", 0);
    let mut bob = join(server.addr(), "bob", 1);
    expect(&mut alice, "* bob joined");
    let mut slow = Conn::connect(server.addr()).unwrap();
    say(&mut slow, "slow"); // it joins, and from now on reads nothing
    expect(&mut alice, "* slow joined");
    expect(&mut bob, "* slow joined");

    // Alice talks and bob listens, while slow's socket buffers fill (a few MiB on loopback,
    // where the kernel grows them) and then its queue in the server goes over 64 KiB. The
    // 40 MB cap is far beyond any kernel's buffers: reaching it means slow is never dropped.
    let notice = "* slow was disconnected: not reading (64 KiB waiting)";
    let line = "z".repeat(4000);
    let heard_line = format!("[alice] {line}\n");
    let mut dropped_after = None;
    for sent in 1..=10_000 {
        say(&mut alice, &line);
        let first = bob.read_exact(1).unwrap();
        if first == b"*" {
            assert_eq!(format!("*{}", bob.read_line().unwrap()), notice);
            dropped_after = Some(sent);
            break;
        }
        let rest = bob.read_exact(heard_line.len() - 1).unwrap();
        assert_eq!([first, rest].concat(), heard_line.as_bytes());
    }
    let sent = dropped_after.expect("slow was never disconnected");
    assert!(sent > 64 * 1024 / 4000, "dropped after only {sent} lines");
    // The line that overflowed slow's queue still reached bob, before the notice did.
    assert_eq!(
        bob.read_exact(heard_line.len()).unwrap(),
        heard_line.as_bytes()
    );
    expect(&mut alice, notice);

    say(&mut bob, "still talking");
    expect(&mut alice, "[bob] still talking");
    say(&mut alice, "/who");
    expect(&mut alice, "* in the room (2): alice, bob");
    // The server closed slow's connection: it can read what the kernel held, then EOF.
    let held = slow.read_to_eof().unwrap().len();
    eprintln!("slow was dropped after {sent} lines of 4000 bytes; the kernel held {held} bytes");
    server.stop().unwrap();
}

#[test]
fn chat_room_tells_every_client_when_it_stops() {
    let (server, _operator) = start_room(false);
    let (mut alice, mut bob, mut carol) = three_in_the_room(server.addr());
    let mut nameless = arrive(server.addr(), 3);
    server.stop().unwrap();
    for conn in [&mut alice, &mut bob, &mut carol, &mut nameless] {
        expect(conn, CLOSING);
        conn.expect_eof().unwrap();
    }
}

#[test]
fn chat_room_example_runs_a_session_and_exits_cleanly_on_ctrl_c() {
    let mut server = ExampleProcess::start("select_chat", &["--addr", "127.0.0.1:0"]).unwrap();
    assert_eq!(
        server.read_line().unwrap(),
        "type a line here to speak as [server]; Ctrl-C closes the room"
    );
    let (mut alice, mut bob, mut carol) = three_in_the_room(server.addr());
    say(&mut bob, "hello from bob");
    expect(&mut alice, "[bob] hello from bob");
    expect(&mut carol, "[bob] hello from bob");

    server
        .stdin()
        .write_all(b"hello from the console\n")
        .unwrap();
    for conn in [&mut alice, &mut bob, &mut carol] {
        expect(conn, "[server] hello from the console");
    }
    // The operator's terminal shows the room.
    let mut transcript = Vec::new();
    while !transcript
        .iter()
        .any(|l| l == "[server] hello from the console")
    {
        transcript.push(server.read_line().unwrap());
    }
    assert!(
        transcript.contains(&"* carol joined".to_string()),
        "{transcript:?}"
    );
    assert!(
        transcript.contains(&"[bob] hello from bob".to_string()),
        "{transcript:?}"
    );

    server.interrupt_and_expect_clean_exit().unwrap();
    for conn in [&mut alice, &mut bob, &mut carol] {
        expect(conn, CLOSING);
        conn.expect_eof().unwrap();
    }
}

#[test]
fn chat_room_example_with_exit_on_eof_ends_when_stdin_closes() {
    let mut server =
        ExampleProcess::start("select_chat", &["--addr", "127.0.0.1:0", "--exit-on-eof"]).unwrap();
    let mut alice = join(server.addr(), "alice", 0);
    server.close_stdin();
    expect(&mut alice, CLOSING);
    alice.expect_eof().unwrap();
    server.expect_success().unwrap();
}

#[test]
fn chat_client_example_sends_what_is_typed_and_prints_what_the_room_says() {
    let (server, _operator) = start_room(false);
    let mut alice = join(server.addr(), "alice", 0);
    let addr = server.addr().to_string();
    let mut client = ExampleProcess::spawn("chat_client", &["--addr", &addr]).unwrap();
    assert_eq!(
        client.read_line().unwrap(),
        "* welcome to the select(2) chat room: 1 person here"
    );
    assert_eq!(client.read_line().unwrap(), ASK_NAME);
    client.stdin().write_all(b"carol\n").unwrap();
    assert_eq!(client.read_line().unwrap(), hello("carol"));
    expect(&mut alice, "* carol joined");

    client.stdin().write_all(b"typed in chat_client\n").unwrap();
    expect(&mut alice, "[carol] typed in chat_client");
    say(&mut alice, "printed by chat_client");
    assert_eq!(
        client.read_line().unwrap(),
        "[alice] printed by chat_client"
    );

    // Ctrl-D: the client half-closes, the room says carol left, the server hangs up.
    client.close_stdin();
    expect(&mut alice, "* carol left");
    client.expect_success().unwrap();
    assert!(
        client
            .stderr_text()
            .contains("the server closed the connection"),
        "{}",
        client.stderr_text()
    );
    server.stop().unwrap();
}

#[test]
fn chat_client_example_prints_the_goodbye_and_exits_cleanly_when_the_server_closes() {
    let (server, _operator) = start_room(false);
    let addr = server.addr().to_string();
    let mut client = ExampleProcess::spawn("chat_client", &["--addr", &addr]).unwrap();
    assert_eq!(
        client.read_line().unwrap(),
        "* welcome to the select(2) chat room: 0 people here"
    );
    assert_eq!(client.read_line().unwrap(), ASK_NAME);
    client.stdin().write_all(b"dave\n").unwrap();
    assert_eq!(client.read_line().unwrap(), hello("dave"));
    server.stop().unwrap();
    assert_eq!(client.read_line().unwrap(), CLOSING);
    client.expect_success().unwrap();
}

#[test]
fn chat_room_refuses_lines_with_cr_or_esc_instead_of_relaying_a_forgery() {
    let (server, _operator) = start_room(false);
    let (mut alice, mut bob, _carol) = three_in_the_room(server.addr());
    let refused = "! a line is text without control characters (CR, ESC, ...): discarded";
    for forged in [
        "hi\r[server] the room is closing",
        "\x1b[2J\x1b[31mred alert",
    ] {
        say(&mut alice, forged);
        expect(&mut alice, refused);
    }
    say(&mut alice, "plain");
    // Bob's next line is the plain one: neither forgery reached him.
    expect(&mut bob, "[alice] plain");
    server.stop().unwrap();
}

#[test]
fn chat_room_closes_a_connection_that_chooses_no_name_in_time() {
    let limits = Limits {
        name_timeout: std::time::Duration::from_millis(300),
    };
    let (server, _operator) = start_room_with(false, limits);
    let mut alice = join(server.addr(), "alice", 0);
    let mut idle = arrive(server.addr(), 1);
    expect(&mut idle, "! no name within 300ms: goodbye");
    idle.expect_eof().unwrap();
    // Alice, named before the idle one came, has been here longer than the timeout: still in.
    say(&mut alice, "/who");
    expect(&mut alice, "* in the room (1): alice");
    server.stop().unwrap();
}

#[test]
fn chat_room_example_listens_on_a_host_name() {
    // `--addr localhost:0`: a host name is resolved (IPv4 first), as every example's --addr is.
    let server = ExampleProcess::start("select_chat", &["--addr", "localhost:0"]).unwrap();
    assert!(server.addr().ip().is_loopback(), "{}", server.addr());
    let alice = join(server.addr(), "alice", 0);
    drop(alice);
    server.interrupt_and_expect_clean_exit().unwrap();
}
