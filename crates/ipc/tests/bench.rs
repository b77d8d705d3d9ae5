//! The ranking bench runs end to end (a few messages per cell: this checks that every
//! mechanism works at every size, and measures nothing).

use harness::ExampleProcess;
use ipc::bench::{self, Mechanism, Plan};

#[test]
fn every_mechanism_moves_messages_of_every_size_or_says_why_not() {
    let _lock = harness::process_lock();
    for mechanism in Mechanism::ALL {
        if matches!(mechanism, Mechanism::ShmRing | Mechanism::ShmRingSpin) {
            continue; // the ring is an exercise: ring_ipc_bench_quick covers it
        }
        for size in bench::SIZES {
            let cell = bench::measure(mechanism, size, Plan::QUICK).unwrap();
            match (&cell.bytes_per_sec, &cell.note) {
                (Some(bps), None) => {
                    assert!(*bps > 0.0 && cell.round_trip.is_some(), "{cell:?}")
                }
                (None, Some(_)) => {
                    assert!(
                        matches!(mechanism, Mechanism::Mqueue | Mechanism::UdsDatagram)
                            && size > 4096,
                        "only message mechanisms have a size limit: {cell:?}"
                    )
                }
                _ => panic!("{cell:?}"),
            }
        }
    }
}

#[test]
fn ring_ipc_bench_quick() {
    let _lock = harness::process_lock();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("ipc.svg");
    let mut run =
        ExampleProcess::spawn("ipc_bench", &["--quick", "--plot", svg.to_str().unwrap()]).unwrap();
    let mut lines = Vec::new();
    loop {
        let line = run.read_line().unwrap();
        let done = line.starts_with("plot written to");
        lines.push(line);
        if done {
            break;
        }
    }
    run.expect_success().unwrap();
    let text = lines.join("\n");
    for mechanism in Mechanism::ALL {
        assert_eq!(
            text.matches(&format!("| {} |", mechanism.name())).count(),
            2,
            "a throughput row and a latency row for {}:\n{text}",
            mechanism.name()
        );
    }
    assert!(text.contains("over msgsize_max"), "{text}");
    assert!(text.contains("64 B messages/s: "), "{text}");
    assert!(
        text.contains("idle consumer, producer silent for 100 ms: shm ring, spin+yield "),
        "{text}"
    );
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.starts_with("<svg") && plot.contains("shm ring"),
        "{}",
        &plot[..200.min(plot.len())]
    );
}
