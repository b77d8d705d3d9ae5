//! Every mechanism moves messages of every size between two processes, intact, or says why it
//! cannot (the chapter's bench times the same endpoints; this checks what it times).

use ipc::mechanisms::Mechanism;
use multiprocess::spawn;

/// The sizes the bench measures.
const SIZES: [usize; 4] = [64, 4 << 10, 64 << 10, 1 << 20];
/// Messages each way per size: enough for a stream to carry one message split over reads.
const MESSAGES: u8 = 3;

/// A message that differs at every byte and from one message to the next.
fn message(size: usize, n: u8) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8 ^ n).collect()
}

/// A forked child echoes `MESSAGES` messages of `size`; the parent checks each one back.
fn echo_between_processes(mechanism: Mechanism, size: usize) {
    let (mut parent, mut child_end) = mechanism.endpoints(size).unwrap();
    let child = spawn::fork_run(move || {
        let mut buf = vec![0u8; size];
        for _ in 0..MESSAGES {
            let echoed = child_end.recv(&mut buf).and_then(|()| child_end.send(&buf));
            if echoed.is_err() {
                return 1;
            }
        }
        0
    })
    .unwrap();
    let mut back = vec![0u8; size];
    for n in 0..MESSAGES {
        let sent = message(size, n);
        parent.send(&sent).unwrap();
        parent.recv(&mut back).unwrap();
        assert!(
            back == sent,
            "{} at {size} B: message {n} came back changed",
            mechanism.name()
        );
    }
    let outcome = spawn::wait_for(child).unwrap();
    assert!(
        outcome.success(),
        "{} at {size} B: the child {outcome}",
        mechanism.name()
    );
}

fn every_size(mechanism: Mechanism) {
    let _lock = harness::process_lock();
    for size in SIZES {
        match mechanism.cannot_carry(size).unwrap() {
            None => echo_between_processes(mechanism, size),
            Some(why) => assert!(
                matches!(mechanism, Mechanism::Mqueue | Mechanism::UdsDatagram) && size > 4096,
                "only message mechanisms have a size limit, and not at 4 KiB: {} at {size} B: {why}",
                mechanism.name()
            ),
        }
    }
}

#[test]
fn every_kernel_mechanism_moves_every_size_intact_or_says_why_not() {
    let kernel = Mechanism::ALL
        .into_iter()
        .filter(|m| !matches!(m, Mechanism::ShmRing | Mechanism::ShmRingSpin));
    for mechanism in kernel {
        every_size(mechanism);
    }
}

/// Apart from the others: the ring is the `ipc-ring` exercise, graded by the `ring_` tests.
#[test]
fn ring_mechanisms_move_every_size_intact() {
    every_size(Mechanism::ShmRingSpin);
    every_size(Mechanism::ShmRing);
}

#[test]
fn message_mechanisms_refuse_a_size_over_their_limit() {
    let limit = ipc::mqueue::Limits::of_system().unwrap().msgsize_max;
    let why = Mechanism::Mqueue.cannot_carry(limit + 1).unwrap();
    assert_eq!(why, Some(format!("over msgsize_max ({limit} B)")));
    let why = Mechanism::UdsDatagram.cannot_carry(16 << 20).unwrap();
    assert_eq!(why, Some("over the socket buffer (EMSGSIZE)".to_string()));
}
