//! Lesson `per_process_server`: the fork-per-connection and prefork echo servers pass the echo
//! conformance suite as examples, leave no zombie, and really serve from separate processes;
//! fork_echo never runs more than `--max-children` and tells the next client so at once;
//! prefork_echo's workers let silent clients go; Ctrl-C in a terminal stops prefork quietly.

use std::collections::BTreeSet;
use std::time::Duration;

use harness::leaks::{children_of, expect_no_zombies_of, ignores_signal};
use harness::{Conn, Deadline, ExampleProcess, echo};
use nix::sys::signal::{Signal, kill, killpg};
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

#[test]
fn fork_echo_never_runs_more_than_max_children_and_turns_the_next_client_away_at_once() {
    let _lock = harness::process_lock();
    let server = ExampleProcess::start(
        "fork_echo",
        &["--addr", "127.0.0.1:0", "--max-children", "2"],
    )
    .unwrap();
    let mut served = echo::served_clients(server.addr(), 2).unwrap();
    wait_for_children(&server, 2);
    for _ in 0..4 {
        echo::expect_turned_away(server.addr(), "server busy, try again later").unwrap();
        let children = children_of(server.pid()).unwrap();
        assert_eq!(
            children.len(),
            2,
            "children at the bound of 2: {children:?}"
        );
    }
    server
        .expect_stderr("fork: busy (2 children running)", harness::time::STEP)
        .unwrap();
    // The two served clients still are; once one leaves (and is reaped), a newcomer is.
    served[1].write_all(b"still two\n").unwrap();
    assert_eq!(served[1].read_line().unwrap(), "still two");
    drop(served.remove(0));
    let _later = echo::served_once_a_slot_frees(server.addr()).unwrap();
    assert_eq!(children_of(server.pid()).unwrap().len(), 2);
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn prefork_echo_workers_let_silent_clients_go_after_the_idle_timeout() {
    let _lock = harness::process_lock();
    let server = ExampleProcess::start(
        "prefork_echo",
        &[
            "--addr",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--idle-timeout",
            "0.5",
        ],
    )
    .unwrap();
    // Two clients that connect and send nothing hold both workers...
    let mut silent: Vec<Conn> = (0..2)
        .map(|_| Conn::connect(server.addr()).unwrap())
        .collect();
    // ...until the timeout frees them: a third client is served, and each silent one is closed.
    let mut third = Conn::connect(server.addr()).unwrap();
    third.write_all(b"three\n").unwrap();
    assert_eq!(third.read_line().unwrap(), "three");
    for client in &mut silent {
        client.expect_eof().unwrap();
    }
    server
        .expect_stderr(
            "was idle for 0.5s; closed its connection",
            harness::time::STEP,
        )
        .unwrap();
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn prefork_echo_stops_quietly_on_ctrl_c_in_a_terminal() {
    let _lock = harness::process_lock();
    let mut server =
        ExampleProcess::start("prefork_echo", &["--addr", "127.0.0.1:0", "--workers", "4"])
            .unwrap();
    let workers = wait_for_children(&server, 4);
    let deadline = Deadline::after(SETTLE, "the workers to ignore SIGINT");
    deadline
        .poll(|| {
            let sigint = Signal::SIGINT as i32;
            workers
                .iter()
                .all(|&w| ignores_signal(w, sigint))
                .then_some(())
        })
        .unwrap();
    // A terminal's Ctrl-C reaches the whole foreground process group, workers included.
    killpg(Pid::from_raw(server.pid() as i32), Signal::SIGINT).unwrap();
    let status = server.wait_within(harness::time::STEP).unwrap();
    assert!(status.success(), "{status}");
    let stderr = server.stderr_text();
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("server pid"))
        .collect();
    assert_eq!(said, ["prefork: stopping; ending 4 workers"], "{stderr}");
}
