//! Lesson `per_process_server`: the fork-per-connection and prefork echo servers pass the echo
//! conformance suite as examples, leave no zombie, and really serve from separate processes.

use std::collections::BTreeSet;
use std::time::Duration;

use harness::leaks::{children_of, expect_no_zombies_of};
use harness::{Conn, Deadline, ExampleProcess, echo};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const SETTLE: Duration = Duration::from_secs(10);

/// Waits until `server` has exactly `count` children; returns them.
fn wait_for_children(server: &ExampleProcess, count: usize) -> BTreeSet<u32> {
    let deadline = Deadline::after(SETTLE, format!("{count} children of the server"));
    deadline
        .poll(|| {
            let children: BTreeSet<u32> = children_of(server.pid()).ok()?.into_iter().collect();
            (children.len() == count).then_some(children)
        })
        .unwrap()
}

#[test]
fn fork_echo_conforms_and_leaves_no_zombie() {
    let _lock = harness::process_lock();
    echo::assert_conformance(|| {
        let server = ExampleProcess::start("fork_echo", &["--addr", "127.0.0.1:0"])?;
        Ok(server)
    });
    let server = ExampleProcess::start("fork_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    for round in 0..20 {
        let mut client = Conn::connect(server.addr()).unwrap();
        client
            .write_all(format!("round {round}\n").as_bytes())
            .unwrap();
        assert_eq!(client.read_line().unwrap(), format!("round {round}"));
    }
    // Every child has exited with its client; the server reaped them all.
    wait_for_children(&server, 0);
    expect_no_zombies_of(server.pid(), SETTLE).unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn fork_echo_serves_each_client_from_its_own_process_and_stops_them_on_ctrl_c() {
    let _lock = harness::process_lock();
    let server = ExampleProcess::start("fork_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut clients = echo::served_clients(server.addr(), 3).unwrap();
    let children = wait_for_children(&server, 3);
    assert!(!children.contains(&server.pid()));
    server.interrupt_and_expect_clean_exit().unwrap();
    // The server stopped its children: each client sees its connection end.
    for client in &mut clients {
        client.expect_eof().unwrap();
    }
    for child in children {
        assert!(
            kill(Pid::from_raw(child as i32), None).is_err(),
            "child {child} is gone"
        );
    }
}

#[test]
fn prefork_echo_with_enough_workers_conforms() {
    let _lock = harness::process_lock();
    // Each worker serves one client at a time, and the suite holds 100 clients at once.
    echo::assert_conformance(|| {
        ExampleProcess::start(
            "prefork_echo",
            &["--addr", "127.0.0.1:0", "--workers", "100"],
        )
    });
}

#[test]
fn prefork_echo_serves_as_many_clients_at_once_as_it_has_workers() {
    let _lock = harness::process_lock();
    let server =
        ExampleProcess::start("prefork_echo", &["--addr", "127.0.0.1:0", "--workers", "2"])
            .unwrap();
    let mut first = Conn::connect(server.addr()).unwrap();
    let mut second = Conn::connect(server.addr()).unwrap();
    for (client, text) in [(&mut first, "one\n"), (&mut second, "two\n")] {
        client.write_all(text.as_bytes()).unwrap();
        assert_eq!(client.read_line().unwrap(), text.trim_end());
    }
    // Both workers are busy: a third client is connected (the kernel queues it) but unserved.
    let mut third = Conn::connect(server.addr()).unwrap();
    third.set_step(Duration::from_millis(300));
    third.write_all(b"three\n").unwrap();
    let waited = third.read_line().unwrap_err();
    assert!(waited.is_timeout(), "{waited}");
    // When one client leaves, its worker takes the third.
    drop(first);
    third.set_step(harness::time::STEP);
    assert_eq!(third.read_line().unwrap(), "three");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn prefork_echo_replaces_a_killed_worker() {
    let _lock = harness::process_lock();
    let server =
        ExampleProcess::start("prefork_echo", &["--addr", "127.0.0.1:0", "--workers", "3"])
            .unwrap();
    let workers = wait_for_children(&server, 3);
    let victim = *workers.iter().next().unwrap();
    kill(Pid::from_raw(victim as i32), Signal::SIGKILL).unwrap();
    let deadline = Deadline::after(SETTLE, "a replacement for the killed worker");
    let now = deadline
        .poll(|| {
            let children: BTreeSet<u32> = children_of(server.pid()).ok()?.into_iter().collect();
            (children.len() == 3 && !children.contains(&victim)).then_some(children)
        })
        .unwrap();
    assert_eq!(
        now.intersection(&workers).count(),
        2,
        "{workers:?} -> {now:?}"
    );
    expect_no_zombies_of(server.pid(), SETTLE).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    client.write_all(b"still serving\n").unwrap();
    assert_eq!(client.read_line().unwrap(), "still serving");
    server.interrupt_and_expect_clean_exit().unwrap();
}

/// Starts `example` with `--uppercase` and checks the line protocol over it.
fn serves_the_line_protocol(example: &str, extra: &[&str]) {
    let _lock = harness::process_lock();
    let mut args = vec!["--addr", "127.0.0.1:0", "--uppercase"];
    args.extend_from_slice(extra);
    let server = ExampleProcess::start(example, &args).unwrap();
    harness::lines::assert_uppercases(server.addr());
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn fork_echo_serves_each_line_uppercased_through_its_handler() {
    serves_the_line_protocol("fork_echo", &[]);
}

#[test]
fn prefork_echo_serves_the_line_protocol_through_its_handler() {
    serves_the_line_protocol("prefork_echo", &["--workers", "4"]);
}
