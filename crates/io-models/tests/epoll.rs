//! epoll, level- and edge-triggered: conformance, the edge-triggered bug, fairness, and the
//! `epoll_echo` example in one process and as `SO_REUSEPORT` workers.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use harness::leaks::{expect_no_zombies, sockets_on_port};
use harness::time::{STEP, scaled};
use harness::{Conn, Deadline, ExampleProcess, echo, serve};
use io_models::epoll_edge::{self, Config, Drain, ONE_READ};
use io_models::epoll_level;
use netkit::echo::EchoConn;

/// More than one read's worth, sent in one `write`.
const BURST: usize = 4 * ONE_READ;
/// The deadline that shows a stall: generous for a 64 KiB echo on loopback, short for a test.
const STALL: Duration = Duration::from_secs(1);

#[test]
fn epoll_lt_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| epoll_level::run(l, &stop))));
}

#[test]
fn epoll_et_conforms() {
    echo::assert_conformance(|| Ok(serve(|l, stop| epoll_edge::run(l, &stop))));
}

/// A pseudo-random burst, so a misplaced chunk cannot echo back "right".
fn burst() -> Vec<u8> {
    (0..BURST).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn epoll_et_drains_a_burst_bigger_than_one_read() {
    let server = serve(|l, stop| epoll_edge::run(l, &stop));
    let mut client = Conn::connect(server.addr()).unwrap();
    let data = burst();
    client.write_all(&data).unwrap();
    // The client sends nothing more: every byte must come back without a new edge.
    assert_eq!(client.read_exact(BURST).unwrap(), data);
}

#[test]
fn epoll_et_comes_back_for_what_the_budget_left() {
    // One read per turn, like the bug below — but the still-ready list brings the server back
    // to this client on the next turns, without an edge.
    let server = serve(|l, stop| {
        let config = Config {
            read_budget: ONE_READ,
            ..Config::default()
        };
        epoll_edge::run_configured(l, &stop, config, EchoConn::new)
    });
    let mut client = Conn::connect(server.addr()).unwrap();
    let data = burst();
    client.write_all(&data).unwrap();
    assert_eq!(client.read_exact(BURST).unwrap(), data);
}

#[test]
fn epoll_edge_bug_once_per_event_stalls_a_client() {
    let server = serve(|l, stop| {
        let config = Config {
            drain: Drain::OncePerEvent,
            ..Config::default()
        };
        epoll_edge::run_configured(l, &stop, config, EchoConn::new)
    });
    let mut client = Conn::connect(server.addr()).unwrap();
    client.set_step(STALL);
    let data = burst();
    client.write_all(&data).unwrap();
    // The edge for the burst got one read: its 16 KiB come back…
    assert_eq!(client.read_exact(ONE_READ).unwrap(), &data[..ONE_READ]);
    // …and the rest waits in the kernel for an edge that never comes.
    let stalled = client.read_exact(BURST - ONE_READ).unwrap_err();
    assert!(stalled.is_timeout(), "expected a stall, got: {stalled}");
    // Sending again is a new edge, and buys one more read.
    client.write_all(b"!").unwrap();
    assert_eq!(client.read_exact(1).unwrap().len(), 1);
}

#[test]
fn epoll_et_is_fair_to_a_client_beside_a_flood() {
    let server = serve(|l, stop| epoll_edge::run(l, &stop));
    // The flood: one thread writes as fast as it can, another reads the echoes.
    let flood = Conn::connect(server.addr()).unwrap();
    let mut flood_writer = flood.try_clone().unwrap();
    let flooding = Arc::new(AtomicBool::new(true));
    let echoed = Arc::new(AtomicU64::new(0));
    let (keep_going, written) = (Arc::clone(&flooding), Arc::new(AtomicU64::new(0)));
    let written_total = Arc::clone(&written);
    let writer = thread::spawn(move || {
        let chunk = vec![b'f'; 64 * 1024];
        while keep_going.load(Ordering::SeqCst) {
            flood_writer.write_all(&chunk).unwrap();
            written_total.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
        flood_writer.shutdown_write().unwrap(); // the server echoes the rest, then closes
    });
    let mut flood_reader = flood.stream().try_clone().unwrap();
    flood_reader.set_read_timeout(Some(scaled(STEP))).unwrap();
    let echoed_total = Arc::clone(&echoed);
    let reader = thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match flood_reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => echoed_total.fetch_add(n as u64, Ordering::SeqCst),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => panic!("reading the flood's echo: {e}"),
            };
        }
    });
    let flowing = |at_least: u64| {
        Deadline::after(STEP, format!("the flood to have {at_least} bytes echoed"))
            .poll(|| (echoed.load(Ordering::SeqCst) >= at_least).then_some(()))
            .unwrap();
    };
    flowing(1 << 20);

    // A quiet client beside it: every round trip must be prompt.
    let before = echoed.load(Ordering::SeqCst);
    let mut quiet = Conn::connect(server.addr()).unwrap();
    quiet.set_step(Duration::from_secs(2));
    for i in 0..20 {
        let line = format!("quiet round trip {i}");
        quiet.write_all(format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(quiet.read_line().unwrap(), line);
    }
    // And the flood kept flowing meanwhile: both were served at once.
    flowing(before + (1 << 20));

    flooding.store(false, Ordering::SeqCst);
    writer.join().unwrap();
    reader.join().unwrap();
    assert_eq!(
        echoed.load(Ordering::SeqCst),
        written.load(Ordering::SeqCst)
    );
}

/// Every example configuration, through the conformance suite and Ctrl-C.
fn example_conforms_and_exits_cleanly(args: &[&str]) {
    let all: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--addr", "127.0.0.1:0"])
        .collect();
    echo::assert_conformance(|| ExampleProcess::start("epoll_echo", &all));
    let server = ExampleProcess::start("epoll_echo", &all).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"still here\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "still here");
    server.interrupt_and_expect_clean_exit().unwrap();
    expect_no_zombies(STEP).unwrap();
}

#[test]
fn epoll_lt_example_conforms_and_exits_cleanly() {
    example_conforms_and_exits_cleanly(&[]);
}

#[test]
fn epoll_et_example_conforms_and_exits_cleanly() {
    example_conforms_and_exits_cleanly(&["--edge"]);
}

#[test]
fn epoll_workers_example_conforms_and_exits_cleanly() {
    example_conforms_and_exits_cleanly(&["--workers", "2"]);
}

#[test]
fn epoll_workers_share_the_port_and_are_reaped_on_ctrl_c() {
    let server =
        ExampleProcess::start("epoll_echo", &["--workers", "2", "--addr", "127.0.0.1:0"]).unwrap();
    let port = server.addr().port();
    let workers = harness::leaks::children_of(server.pid()).unwrap();
    assert_eq!(workers.len(), 2, "worker processes of {}", server.pid());
    let mut clients = Vec::new();
    for i in 0..20 {
        let mut client = Conn::connect(server.addr()).unwrap();
        client
            .write_all(format!("client {i}\n").as_bytes())
            .unwrap();
        assert_eq!(client.read_line().unwrap(), format!("client {i}"));
        clients.push(client);
    }
    // Every client got its echo, so each connection is accepted by now: a worker holds its
    // listener plus the connections the kernel gave it.
    let held: Vec<usize> = workers
        .iter()
        .map(|&pid| sockets_on_port(pid, port).unwrap())
        .collect();
    assert_eq!(
        held.iter().sum::<usize>(),
        2 + 20,
        "sockets per worker: {held:?}"
    );
    assert!(
        held.iter().all(|&n| n >= 2),
        "both workers should have served connections (listener + clients each): {held:?}"
    );
    // The supervisor itself holds no socket on the port: the workers do all the serving.
    assert_eq!(sockets_on_port(server.pid(), port).unwrap(), 0);
    // The clients leave: each worker closes its connections and keeps only its listener.
    drop(clients);
    Deadline::after(STEP, "each worker to hold only its listener")
        .poll(|| {
            let held: Vec<usize> = workers
                .iter()
                .filter_map(|&pid| sockets_on_port(pid, port).ok())
                .collect();
            (held == [1, 1]).then_some(())
        })
        .unwrap();

    server.interrupt_and_expect_clean_exit().unwrap();
    // The supervisor reaped its workers before exiting: they are gone, not zombies or orphans.
    for pid in workers {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "worker {pid} outlived the supervisor"
        );
    }
    expect_no_zombies(STEP).unwrap();
}
