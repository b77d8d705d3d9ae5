//! Lesson `spawn`: fork + exec + wait, posix_spawn and Command agree on how a child ended.

use std::time::Duration;

use harness::ExampleProcess;
use multiprocess::spawn::{self, EXEC_FAILED, Outcome};
use multiprocess::spawn_cost::{self, Method};
use nix::sys::signal::Signal;

#[test]
fn the_three_ways_agree_on_exit_statuses_and_signals() {
    let _lock = harness::process_lock();
    let cases: [(&[&str], Outcome); 3] = [
        (&["-c", "exit 0"], Outcome::Exited(0)),
        (&["-c", "exit 3"], Outcome::Exited(3)),
        (
            &["-c", "kill -TERM $$"],
            Outcome::Signaled {
                signal: Signal::SIGTERM,
                core_dumped: false,
            },
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(
            spawn::fork_exec_wait("sh", args).unwrap(),
            expected,
            "fork+exec {args:?}"
        );
        assert_eq!(
            spawn::posix_spawn_wait("sh", args).unwrap(),
            expected,
            "posix_spawn {args:?}"
        );
        assert_eq!(
            spawn::command_wait("sh", args).unwrap(),
            expected,
            "Command {args:?}"
        );
    }
    harness::leaks::expect_no_zombies(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_program_that_cannot_be_run_exits_127_after_fork_and_is_an_error_for_the_others() {
    let _lock = harness::process_lock();
    let missing = "no-such-program-in-concurrency-labs";
    assert_eq!(
        spawn::fork_exec_wait(missing, &[]).unwrap(),
        Outcome::Exited(EXEC_FAILED)
    );
    assert!(spawn::posix_spawn_wait(missing, &[]).is_err());
    assert!(spawn::command_wait(missing, &[]).is_err());
}

#[test]
fn outcomes_read_like_python_exitcodes() {
    assert_eq!(Outcome::Exited(4).exitcode(), 4);
    let killed = Outcome::Signaled {
        signal: Signal::SIGKILL,
        core_dumped: false,
    };
    assert_eq!(killed.exitcode(), -9);
    assert_eq!(killed.to_string(), "killed by SIGKILL");
    assert!(!killed.success() && Outcome::Exited(0).success());
}

#[test]
fn fork_wait_example_reports_each_way() {
    let _lock = harness::process_lock();
    let mut run = ExampleProcess::spawn("fork_wait", &["sh", "-c", "exit 3"]).unwrap();
    for way in [
        "fork + execvp + waitpid:",
        "posix_spawn + waitpid:",
        "Command::status:",
    ] {
        let line = run.read_line().unwrap();
        assert!(
            line.starts_with(way) && line.ends_with("exited with status 3"),
            "{line}"
        );
    }
    run.expect_success().unwrap();
}

#[test]
fn spawn_cost_measures_every_method_and_the_pool_quickly() {
    let _lock = harness::process_lock();
    for method in Method::ALL {
        // Each run is checked: a child that did not exit 0 is an error, not a time.
        let median = spawn_cost::measure(method, 3).unwrap();
        assert!(median > Duration::ZERO, "{method}");
    }
    // The pool's answers and the per-task processes' answers are checked inside.
    let (pooled, per_task) = spawn_cost::pool_vs_process_per_task(20, 2).unwrap();
    assert!(pooled > Duration::ZERO && per_task > Duration::ZERO);
}
