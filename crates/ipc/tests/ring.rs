//! Lesson `ring`: push and pop at the edges (empty, full, wrapping), then a stream between
//! two processes checked byte for byte; both ways of waiting; a consumer that sleeps while
//! nothing comes; wake-ups that are never lost; a child that dies with its parent.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::ExampleProcess;
use harness::leaks::expect_no_zombies;
use ipc::ring::idle::idle_consumer_cpu;
use ipc::ring::stream::{pattern, receive_pattern, send_pattern};
use ipc::ring::{Ring, WaitStrategy};
use multiprocess::lifecycle::Subreaper;
use multiprocess::spawn;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn ring_push_and_pop_respect_empty_full_and_wrap_around() {
    let _lock = harness::process_lock();
    let ring = Ring::new(64).unwrap();
    assert_eq!(ring.capacity(), 64);
    let mut out = [0u8; 100];
    assert_eq!(ring.pop(&mut out), 0, "empty");
    let data: Vec<u8> = (0..100).collect();
    assert_eq!(ring.push(&data), 64, "only what fits");
    assert_eq!(ring.push(&data), 0, "full");
    assert_eq!(ring.pop(&mut out[..40]), 40);
    assert_eq!(&out[..40], &data[..40]);
    // 24 bytes remain at offsets 40..64; the next 30 wrap to the start of the buffer.
    assert_eq!(ring.push(&data[64..94]), 30);
    assert_eq!(ring.len(), 54);
    assert_eq!(ring.pop(&mut out), 54);
    assert_eq!(&out[..24], &data[40..64]);
    assert_eq!(&out[24..54], &data[64..94]);
    assert!(ring.is_empty());
}

#[test]
fn ring_carries_a_stream_between_processes_in_order() {
    for strategy in [WaitStrategy::SpinYield, WaitStrategy::Futex] {
        stream_between_processes(strategy);
    }
}

fn stream_between_processes(strategy: WaitStrategy) {
    let _lock = harness::process_lock();
    // A small ring and odd write sizes: the producer waits for room and wraps hundreds of
    // times, while the consumer reads in other sizes.
    let ring = Ring::with_strategy(16 << 10, strategy).unwrap();
    let total = 4 << 20;
    let child =
        spawn::fork_run(|| i32::from(send_pattern(&ring, total, 1000, PATIENCE).is_err())).unwrap();
    let wrong = receive_pattern(&ring, total, 777, PATIENCE)
        .unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
    assert_eq!(wrong, None, "{strategy:?}: the first wrong byte");
    assert!(spawn::wait_for(child).unwrap().success());
    assert!(ring.is_empty());
    expect_no_zombies(Duration::from_secs(5)).unwrap();
}

#[test]
fn ring_stream_check_finds_a_wrong_byte() {
    let _lock = harness::process_lock();
    let ring = Ring::new(128).unwrap();
    let mut bytes: Vec<u8> = (0..100).map(pattern).collect();
    bytes[42] ^= 1;
    assert_eq!(ring.push(&bytes), 100);
    let wrong = receive_pattern(&ring, 100, 7, PATIENCE).unwrap();
    assert_eq!(wrong, Some(42));
}

#[test]
fn ring_read_gives_up_when_the_producer_is_silent() {
    let _lock = harness::process_lock();
    let ring = Ring::new(64).unwrap();
    ring.push(b"abc");
    let mut buf = [0u8; 4];
    let error = ring
        .read_exact(&mut buf, Duration::from_millis(50))
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(error.to_string().contains("producer"), "{error}");
}

#[test]
fn ring_shm_ring_example() {
    let _lock = harness::process_lock();
    for step in [&[][..], &["--spin-yield"][..]] {
        let args = [&["--mib", "4", "--capacity", "8192"][..], step].concat();
        let mut demo = ExampleProcess::spawn("shm_ring", &args).unwrap();
        let first = demo.read_line().unwrap();
        let second = demo.read_line().unwrap();
        demo.expect_success().unwrap();
        assert!(
            first.starts_with("ring of 8192 bytes;"),
            "{args:?}: {first}"
        );
        assert!(
            second.starts_with("received 4194304 bytes in order, checksum ok"),
            "{args:?}: {second}"
        );
    }
}

#[test]
fn ring_futex_consumer_sleeps_while_the_producer_is_silent() {
    let _lock = harness::process_lock();
    // The consumer waits a second for a byte that never comes; its CPU time is measured.
    let share = idle_consumer_cpu(WaitStrategy::Futex, Duration::from_secs(1)).unwrap();
    assert!(
        share < 0.01,
        "an idle consumer used {:.1}% of a CPU",
        100.0 * share
    );
}

#[test]
fn ring_futex_loses_no_wake_up_between_processes() {
    let _lock = harness::process_lock();
    // Ping-pong of one byte, the child answering after a varying busy delay of up to ~100 µs:
    // longer than the parent spins, so the parent often sleeps and must be woken. A lost
    // wake-up leaves the parent asleep until its patience runs out (then it finds the byte):
    // a round that long fails the test. (A private futex, keyed by the address in one process,
    // fails it at the first sleep: the child's wake never reaches the parent.)
    let (ping, pong) = (Ring::new(64).unwrap(), Ring::new(64).unwrap());
    let rounds: u32 = 3000;
    let stalled = PATIENCE / 2;
    let child = spawn::fork_run(|| {
        let mut byte = [0u8; 1];
        for round in 0..rounds {
            if ping.read_exact(&mut byte, PATIENCE).is_err() {
                return 1;
            }
            let until = Instant::now() + Duration::from_micros(u64::from(round % 97));
            while Instant::now() < until {
                std::hint::spin_loop();
            }
            if pong.write_all(&byte, PATIENCE).is_err() {
                return 2;
            }
        }
        0
    })
    .unwrap();
    let mut byte = [0u8; 1];
    for round in 0..rounds {
        let start = Instant::now();
        ping.write_all(&[round as u8], PATIENCE).unwrap();
        pong.read_exact(&mut byte, PATIENCE)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(byte[0], round as u8, "round {round}");
        let took = start.elapsed();
        if took > stalled {
            let _ = kill(child, Signal::SIGKILL);
            let _ = spawn::wait_for(child);
            panic!("round {round} took {took:?}: the parent slept through a wake-up");
        }
    }
    assert!(spawn::wait_for(child).unwrap().success());
    assert!(
        pong.sleeps() > 0,
        "the parent never slept: the wake-up path was not exercised"
    );
}

#[test]
fn shm_example_child_dies_with_its_parent() {
    let _lock = harness::process_lock();
    // The example's child would be re-parented to us when its parent dies: we reap it.
    let _subreaper = Subreaper::become_one().unwrap();
    let mut demo =
        ExampleProcess::spawn("shm_ring", &["--mib", "100000", "--capacity", "4096"]).unwrap();
    let first = demo.read_line().unwrap();
    let child: i32 = first
        .split_whitespace()
        .skip_while(|word| *word != "child")
        .nth(1)
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {first:?}"));
    // Ctrl-C reaches the parent only (a `kill -INT`, or a terminal that signals one process).
    demo.signal(Signal::SIGINT).unwrap();
    demo.wait_within(Duration::from_secs(5)).unwrap();
    let (reaped, outcome) = mpsc::channel();
    let reaper = std::thread::spawn(move || {
        let _ = reaped.send(spawn::wait_for(Pid::from_raw(child)));
    });
    let ended = outcome.recv_timeout(Duration::from_secs(3));
    if ended.is_err() {
        let _ = kill(Pid::from_raw(child), Signal::SIGKILL); // so the reaper returns
    }
    reaper.join().unwrap();
    // Gone: killed by its parent-death signal, or ended by its own `getppid()` check if the
    // parent died before it asked for one. Left alone it would wait on the full ring for its
    // 10 s patience. (How it ended is not asserted: without a working ring — an unsolved ring
    // exercise — it ends by its own panic first, and this test is about the fork, not the ring.)
    ended
        .expect("the shm_ring child was still running 3 s after its parent died")
        .unwrap();
}
