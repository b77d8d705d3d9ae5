//! Lesson `process`: the `multiprocessing.Process`-like API on fork.

use std::time::Duration;

use multiprocess::process::{PANICKED, Process};
use multiprocess::spawn::Outcome;
use nix::sys::signal::Signal;

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn a_child_returns_its_value_and_exit_code_zero() {
    let _lock = harness::process_lock();
    let base = 20;
    let mut child = Process::start(move || (base..base + 3).sum::<u64>()).unwrap();
    assert_ne!(child.pid().as_raw() as u32, std::process::id());
    let exit = child.join().unwrap();
    assert_eq!(exit.outcome, Outcome::Exited(0));
    assert_eq!(exit.result, Some(Ok(63)));
    assert_eq!(child.exitcode().unwrap(), Some(0));
    assert!(!child.is_alive().unwrap());
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn a_panic_in_the_child_comes_back_as_its_message_and_status_101() {
    let _lock = harness::process_lock();
    let mut child = Process::<u32>::start(|| panic!("no such ticket: T501")).unwrap();
    let exit = child.join().unwrap();
    assert_eq!(exit.outcome, Outcome::Exited(PANICKED));
    assert_eq!(exit.result, Some(Err("no such ticket: T501".to_string())));
}

#[test]
fn terminate_and_kill_end_a_running_child_and_exitcode_says_which_signal() {
    let _lock = harness::process_lock();
    for (stop, signal) in [(true, Signal::SIGTERM), (false, Signal::SIGKILL)] {
        let mut child = Process::<()>::start(|| {
            loop {
                nix::unistd::pause();
            }
        })
        .unwrap();
        assert!(child.is_alive().unwrap());
        assert_eq!(child.exitcode().unwrap(), None, "running");
        if stop {
            child.terminate().unwrap()
        } else {
            child.kill().unwrap()
        }
        let exit = child.join().unwrap();
        assert_eq!(
            exit.outcome,
            Outcome::Signaled {
                signal,
                core_dumped: false
            }
        );
        assert_eq!(exit.result, None, "killed before it could answer");
        assert_eq!(child.exitcode().unwrap(), Some(-(signal as i32)));
    }
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn a_result_bigger_than_the_pipe_does_not_deadlock_join() {
    let _lock = harness::process_lock();
    // 1 MiB of JSON: the child blocks writing until join reads, so join must read first.
    let mut child = Process::start(|| vec![7u8; 1 << 20]).unwrap();
    let exit = child.join().unwrap();
    assert_eq!(exit.outcome, Outcome::Exited(0));
    assert_eq!(exit.result.unwrap().unwrap().len(), 1 << 20);
}

#[test]
fn a_dropped_handle_leaves_no_zombie_no_running_child_and_no_descriptor() {
    let _lock = harness::process_lock();
    let fds = harness::leaks::FdSnapshot::of_self().unwrap();
    let child = Process::<()>::start(|| {
        loop {
            nix::unistd::pause();
        }
    })
    .unwrap();
    let pid = child.pid();
    drop(child);
    assert!(
        nix::sys::signal::kill(pid, None).is_err(),
        "{pid} is gone: stopped and reaped"
    );
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
    fds.expect_no_growth(0, SETTLE).unwrap();
}
