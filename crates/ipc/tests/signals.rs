//! Lesson `signals`: standard signals coalesce, real-time signals queue with their values —
//! counted in a child that blocked them, so no timing is involved.

use harness::ExampleProcess;
use ipc::signals::{self, Received, Via};

#[test]
fn handlers_see_one_standard_signal_and_every_realtime_one() {
    let _lock = harness::process_lock();
    let got = signals::send_while_blocked(25, Via::Handler).unwrap();
    assert_eq!((got.standard, got.realtime), (1, 25), "{got:?}");
}

#[test]
fn signalfd_reads_the_realtime_values_in_the_order_sent() {
    let _lock = harness::process_lock();
    let got = signals::send_while_blocked(25, Via::Signalfd).unwrap();
    assert_eq!(
        got,
        Received {
            standard: 1,
            realtime: 25,
            values: (0..25).collect()
        }
    );
}

#[test]
fn one_signal_of_each_is_one_of_each() {
    let _lock = harness::process_lock();
    let got = signals::send_while_blocked(1, Via::Signalfd).unwrap();
    assert_eq!((got.standard, got.realtime, got.values), (1, 1, vec![0]));
}

#[test]
fn signal_queue_example() {
    let _lock = harness::process_lock();
    let mut demo = ExampleProcess::spawn("signal_queue", &["--count", "5"]).unwrap();
    let _sent = demo.read_line().unwrap();
    assert_eq!(
        demo.read_line().unwrap(),
        "handlers: SIGUSR1 delivered 1 time, SIGRTMIN 5 times"
    );
    assert_eq!(
        demo.read_line().unwrap(),
        "signalfd: SIGUSR1 read 1 time, SIGRTMIN 5 times, values [0, 1, 2, 3, 4]"
    );
    demo.expect_success().unwrap();
}
