//! Many clients against the `http_server` example: a thousand slow heads do not hold up an
//! honest client on the event-loop backends, and a thousand clients served one after another
//! leave no descriptor and no child process behind.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use harness::http::client::get;
use harness::http::{self, Fixture};
use harness::leaks::{children_of, fd_count, zombie_children_of};
use harness::time::STEP;
use harness::{Conn, Deadline, ExampleProcess};
use http_server::Model;

/// How many clients each test brings: far over `select`'s 1,024, well under the 20,000
/// descriptors a process may hold here (the test's client ends count against its own limit).
const CLIENTS: usize = 1000;

fn example(model: Model, fixture: &Fixture) -> ExampleProcess {
    let extra = ["--quiet", "--workers", "2"];
    common::start_example(model, &fixture.root(), &extra).unwrap()
}

/// A thousand clients each send the start of a head and stop (slowloris); while all of them
/// are still waiting — none answered, none closed — an honest client is served.
fn slow_heads_do_not_hold_up_an_honest_client(model: Model) {
    let _lock = harness::process_lock(); // raises this process's descriptor limit
    netkit::workers::raise_fd_limit().unwrap();
    let fixture = Fixture::create().unwrap();
    let server = example(model, &fixture);
    let mut slow = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: slo")
            .unwrap();
        slow.push(stream);
    }
    let mut honest = Conn::connect(server.addr()).unwrap();
    get(&mut honest, "/hello.txt", "")
        .unwrap()
        .expect_status(
            200,
            &format!("{model}: the honest client, behind {CLIENTS} slow heads"),
        )
        .unwrap();
    // Every slow client is still waiting: nothing to read, no EOF (their header timeout is 10 s).
    for stream in &mut slow {
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        match stream.read(&mut byte) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("{model}: a slow client was answered or closed early: {other:?}"),
        }
    }
    drop(slow);
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn slowloris_epoll_serves_an_honest_client_behind_a_thousand_slow_heads() {
    slow_heads_do_not_hold_up_an_honest_client(Model::Epoll);
}

#[test]
fn slowloris_poll_serves_an_honest_client_behind_a_thousand_slow_heads() {
    slow_heads_do_not_hold_up_an_honest_client(Model::Poll);
}

#[test]
fn slowloris_uring_serves_an_honest_client_behind_a_thousand_slow_heads() {
    if common::runs_here(Model::Uring) {
        slow_heads_do_not_hold_up_an_honest_client(Model::Uring);
    }
}

#[test]
fn slowloris_async_serves_an_honest_client_behind_a_thousand_slow_heads() {
    slow_heads_do_not_hold_up_an_honest_client(Model::Async);
}

/// Descriptors open in the server and its worker processes.
fn server_fds(pid: u32) -> Option<usize> {
    let children = children_of(pid).ok()?;
    let workers: usize = children.iter().filter_map(|&c| fd_count(c).ok()).sum();
    Some(fd_count(pid).ok()? + workers)
}

/// A thousand clients, ten at a time, each one request and a close; then the server (workers
/// included) holds the descriptors it held before them, and has no zombie children.
fn leaves_nothing_behind(model: Model) {
    let fixture = Fixture::create().unwrap();
    let server = example(model, &fixture);
    let mut warm = Conn::connect(server.addr()).unwrap(); // every worker up and serving
    get(&mut warm, "/hello.txt", "")
        .unwrap()
        .expect_status(200, "warm-up")
        .unwrap();
    drop(warm);
    let settled = |what: &str| {
        // The server closes its end once it reads our FIN: wait for that, not for a time.
        let mut last = usize::MAX;
        Deadline::after(STEP, format!("{model}: {what}"))
            .poll(|| {
                let now = server_fds(server.pid())?;
                let steady = now == last;
                last = now;
                steady.then_some(now)
            })
            .unwrap()
    };
    let before = settled("descriptors before the clients");
    let addr = server.addr();
    std::thread::scope(|scope| {
        for _ in 0..10 {
            scope.spawn(move || {
                for _ in 0..CLIENTS / 10 {
                    let mut conn = Conn::connect(addr).unwrap();
                    let reply = http::client::get(&mut conn, "/hello.txt", "Connection: close\r\n");
                    reply.unwrap().expect_status(200, "one of many").unwrap();
                }
            });
        }
    });
    let after = Deadline::after(STEP, format!("{model}: descriptors back to {before}"))
        .poll(|| (server_fds(server.pid())? <= before).then_some(()));
    after.unwrap_or_else(|e| {
        panic!(
            "{model}: {e}; open now: {:?}",
            harness::leaks::open_fds(server.pid())
        )
    });
    assert_eq!(
        zombie_children_of(server.pid()).unwrap(),
        Vec::<u32>::new(),
        "{model}"
    );
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn leaks_epoll_none_after_a_thousand_clients() {
    leaves_nothing_behind(Model::Epoll);
}

#[test]
fn leaks_uring_none_after_a_thousand_clients() {
    if common::runs_here(Model::Uring) {
        leaves_nothing_behind(Model::Uring);
    }
}

#[test]
fn leaks_threads_none_after_a_thousand_clients() {
    leaves_nothing_behind(Model::Threads);
}

#[test]
fn leaks_prefork_none_after_a_thousand_clients() {
    leaves_nothing_behind(Model::Prefork);
}
