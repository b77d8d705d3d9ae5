//! `Stop`: one request wakes every wait on its descriptor — present and future, in any thread.

use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use harness::Deadline;
use netkit::Stop;
use netkit::stop::Wake;

#[test]
fn a_stop_wakes_every_waiting_thread_and_every_later_wait() {
    let stop = Arc::new(Stop::new().unwrap());
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (stop, listener) = (Arc::clone(&stop), Arc::clone(&listener));
            thread::spawn(move || stop.wait_readable(listener.as_fd(), None).unwrap())
        })
        .collect();
    assert!(!stop.is_stopped());
    stop.stop();
    Deadline::after(Duration::from_secs(10), "three waiters to wake")
        .poll(|| waiters.iter().all(|w| w.is_finished()).then_some(()))
        .unwrap();
    for waiter in waiters {
        assert_eq!(waiter.join().unwrap(), Wake::Stopped);
    }
    // The descriptor stays readable: a wait that starts after the stop returns at once.
    assert_eq!(
        stop.wait_readable(listener.as_fd(), None).unwrap(),
        Wake::Stopped
    );
    assert!(stop.wait(None));
}

#[test]
fn a_wait_reports_readiness_and_time_outs_while_not_stopped() {
    let stop = Stop::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let short = Some(Duration::from_millis(1));
    assert_eq!(
        stop.wait_readable(listener.as_fd(), short).unwrap(),
        Wake::TimedOut
    );
    assert!(!stop.wait(short));
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert_eq!(
        stop.wait_readable(listener.as_fd(), Some(Duration::from_secs(10)))
            .unwrap(),
        Wake::Ready
    );
}

#[test]
fn hooks_run_once_at_the_first_stop_or_at_once_when_already_stopped() {
    let stop = Stop::new().unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    stop.on_stop(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    stop.stop();
    stop.stop();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let counter = Arc::clone(&runs);
    stop.on_stop(move || {
        counter.fetch_add(10, Ordering::SeqCst);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 11);
}

#[test]
fn a_forced_stop_wakes_the_force_descriptor_which_a_plain_stop_leaves_quiet() {
    let stop = Stop::with_grace(Duration::from_millis(250)).unwrap();
    assert_eq!(stop.grace(), Duration::from_millis(250));
    let forced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&forced);
    stop.on_force(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let quiet = Some(Duration::from_millis(1));
    stop.stop();
    // Stopped, not forced: a draining loop that watches the force descriptor sleeps on.
    assert!(stop.is_stopped() && !stop.is_forced());
    assert_eq!(
        stop.wait_readable(stop.force_fd(), quiet).unwrap(),
        Wake::Stopped,
        "the stop's own flag is set"
    );
    let readable = |fd| {
        let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).unwrap() == 1
    };
    assert!(readable(stop.fd()));
    assert!(!readable(stop.force_fd()));
    assert_eq!(forced.load(Ordering::SeqCst), 0);
    stop.force();
    stop.force();
    assert!(stop.is_forced());
    assert!(readable(stop.force_fd()));
    assert_eq!(forced.load(Ordering::SeqCst), 1, "the hook runs once");
}

#[test]
fn forcing_a_stop_nobody_requested_requests_it_too() {
    let stop = Stop::new().unwrap();
    stop.force();
    assert!(stop.is_stopped() && stop.is_forced());
}
