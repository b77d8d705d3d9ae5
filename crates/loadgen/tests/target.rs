//! echo_target passes the workspace echo conformance suite and stops cleanly on Ctrl-C.

use std::time::Duration;

use harness::{Deadline, ExampleProcess, echo};

fn start(procs: &'static str) -> impl Fn() -> harness::Result<ExampleProcess> {
    move || ExampleProcess::start("echo_target", &["--addr", "127.0.0.1:0", "--procs", procs])
}

/// With `--procs 1` the process the harness started is the one that accepts, reads and closes,
/// so the suite's descriptor-leak check (which counts the pid the harness knows) is meaningful.
#[test]
fn one_worker_passes_the_echo_conformance_suite() {
    echo::assert_conformance(start("1"));
}

/// With `--procs 2` the harness's pid is the supervisor, which holds no sockets (its worker
/// processes do): the leak check passes vacuously there, which is why the test above exists.
/// This one proves the SO_REUSEPORT-spread workers serve correctly — the 100 concurrent clients
/// land on both workers.
#[test]
fn two_worker_processes_pass_the_echo_conformance_suite() {
    echo::assert_conformance(start("2"));
}

#[test]
fn ctrl_c_stops_the_workers_and_exits_zero() {
    let server = start("3")().unwrap();
    // The supervisor prints `listening on` only once every worker listens, so all three exist.
    let workers = harness::leaks::children_of(server.pid()).unwrap();
    assert_eq!(workers.len(), 3, "workers of echo_target: {workers:?}");
    server.interrupt_and_expect_clean_exit().unwrap();
    // The parent reaped them before it exited: none is left running or as a zombie.
    Deadline::after(Duration::from_secs(5), "echo_target's workers to be gone")
        .poll(|| {
            workers
                .iter()
                .all(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
                .then_some(())
        })
        .unwrap();
}

#[test]
fn single_process_mode_exits_zero_on_ctrl_c() {
    start("1")()
        .unwrap()
        .interrupt_and_expect_clean_exit()
        .unwrap();
}
