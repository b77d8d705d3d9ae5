//! Lessons `lifecycle` and `reaping`: zombies, orphans, parent-death signals, SIGCHLD reaping —
//! each observed in /proc, never inferred.

use std::path::Path;
use std::time::Duration;

use harness::{Deadline, ExampleProcess};
use multiprocess::lifecycle::{self, Stat, Subreaper};
use multiprocess::reaping::{self, Reaper};
use multiprocess::spawn::{self, Outcome};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::unistd::{Pid, getpid};

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn a_zombie_shows_as_z_in_proc_until_it_is_reaped() {
    let _lock = harness::process_lock();
    let zombie = lifecycle::make_zombie(7).unwrap();
    let pid = zombie.pid();
    let stat = Stat::of(pid.as_raw() as u32).unwrap();
    assert_eq!((stat.state, stat.ppid), ('Z', std::process::id()), "{stat}");
    assert!(
        harness::leaks::zombie_children()
            .unwrap()
            .contains(&(pid.as_raw() as u32))
    );
    assert_eq!(zombie.reap().unwrap(), Outcome::Exited(7));
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "reaped, so gone from /proc"
    );
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn an_orphan_is_re_parented_to_the_subreaper() {
    let _lock = harness::process_lock();
    let fds = harness::leaks::FdSnapshot::of_self().unwrap();
    let subreaper = Subreaper::become_one().unwrap();
    let orphan = lifecycle::make_orphan(&subreaper).unwrap();
    assert_eq!(orphan.first_parent_outcome, Outcome::Exited(0));
    assert_ne!(orphan.first_parent, getpid());
    let stat = Stat::of(orphan.pid.as_raw() as u32).unwrap();
    assert_eq!(stat.ppid, std::process::id(), "re-parented to us: {stat}");
    assert_eq!(orphan.release().unwrap(), Outcome::Exited(0));
    drop(subreaper);
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
    fds.expect_no_growth(0, SETTLE).unwrap();
}

#[test]
fn a_child_with_pdeathsig_dies_when_its_parent_is_killed() {
    let _lock = harness::process_lock();
    let fds = harness::leaks::FdSnapshot::of_self().unwrap();
    let subreaper = Subreaper::become_one().unwrap();
    let death = lifecycle::parent_death_signal(&subreaper).unwrap();
    let by = |signal| Outcome::Signaled {
        signal,
        core_dumped: false,
    };
    assert_eq!(death.parent, by(Signal::SIGKILL));
    assert_eq!(
        death.child,
        by(Signal::SIGTERM),
        "the child got its parent-death signal"
    );
    drop(subreaper);
    harness::leaks::expect_no_zombies(SETTLE).unwrap();
    fds.expect_no_growth(0, SETTLE).unwrap();
}

#[test]
fn the_reaper_collects_every_child_even_when_sigchld_coalesces() {
    let _lock = harness::process_lock();
    let reaper = Reaper::install().unwrap();
    let children: Vec<Pid> = (0..20)
        .map(|i| spawn::fork_run(move || i).unwrap())
        .collect();
    let _cleanup = ReapOnDrop(children.clone());
    let mut reaped = Vec::new();
    let mut wakeups = 0;
    let deadline = Deadline::after(SETTLE, "SIGCHLD for 20 children");
    while reaped.len() < children.len() {
        let left = deadline.remaining().unwrap();
        let mut fds = [PollFd::new(reaper.fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::try_from(left).unwrap());
        wakeups += 1;
        reaped.extend(reaper.reap().unwrap());
    }
    reaped.sort_by_key(|(pid, _)| *pid);
    let mut expected: Vec<(Pid, Outcome)> = children
        .iter()
        .enumerate()
        .map(|(i, &pid)| (pid, Outcome::Exited(i as i32)))
        .collect();
    expected.sort_by_key(|(pid, _)| *pid);
    assert_eq!(
        reaped, expected,
        "every child reaped once, with its own status"
    );
    assert!(wakeups <= 20, "{wakeups} wake-ups for 20 deaths");
    assert!(harness::leaks::zombie_children().unwrap().is_empty());
}

/// Waits for these children when dropped: if the test fails before the reaper collected them
/// (in the student handout, `reap_exited` is `todo!()`), the other tests of this binary find no
/// zombie it left.
struct ReapOnDrop(Vec<Pid>);

impl Drop for ReapOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = nix::sys::wait::waitpid(pid, None); // ECHILD once reaped: nothing to do
        }
    }
}

#[test]
fn reaping_with_no_children_is_not_an_error() {
    let _lock = harness::process_lock();
    assert_eq!(reaping::reap_exited().unwrap(), []);
}

#[test]
fn zombie_orphan_example_narrates_what_proc_shows() {
    let _lock = harness::process_lock();
    let mut run = ExampleProcess::spawn("zombie_orphan", &[]).unwrap();
    let me = run.pid().to_string();
    let mut lines = Vec::new();
    while let Ok(line) = run.read_line() {
        lines.push(line);
    }
    run.expect_success().unwrap();
    let text = lines.join("\n");
    let stat_lines: Vec<&String> = lines.iter().filter(|l| l.contains("/stat: ")).collect();
    assert_eq!(stat_lines.len(), 2, "{text}");
    let fields = |line: &str| -> Vec<String> {
        let after = line.rsplit(") ").next().unwrap();
        after.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(
        fields(stat_lines[0]),
        ["Z", &me],
        "the zombie is Z, child of the example:\n{text}"
    );
    assert_eq!(
        fields(stat_lines[1])[1],
        me,
        "the orphan's new parent is the example:\n{text}"
    );
    assert!(
        text.contains("zombie: reaped (exited with status 7)"),
        "{text}"
    );
    assert!(text.contains("is gone"), "{text}");
    assert!(
        text.contains("orphan: released and reaped (exited with status 0)"),
        "{text}"
    );
    assert!(
        text.contains("pdeathsig: parent killed by SIGKILL; its child killed by SIGTERM"),
        "{text}"
    );
}
