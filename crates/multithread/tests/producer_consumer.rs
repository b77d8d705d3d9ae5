//! Producers and consumers: every item consumed exactly once, each producer's items in order,
//! and the run ends (the consumers see the end once every producer is done).

use harness::ExampleProcess;
use multithread::producer_consumer::{self, Item};

#[test]
fn every_item_is_consumed_exactly_once_in_each_producers_order() {
    for capacity in [0, 1, 16] {
        let report = producer_consumer::run(3, 4, 2000, capacity);
        let mut items: Vec<Item> = report.consumed.iter().map(|(_, item)| *item).collect();
        items.sort_unstable();
        let expected: Vec<Item> = (0..3)
            .flat_map(|producer| (0..2000).map(move |seq| Item { producer, seq }))
            .collect();
        assert_eq!(items, expected, "capacity {capacity}");
        for consumer in 0..4 {
            for producer in 0..3 {
                let seen: Vec<u64> = report
                    .consumed
                    .iter()
                    .filter(|(c, item)| *c == consumer && item.producer == producer)
                    .map(|(_, item)| item.seq)
                    .collect();
                assert!(seen.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
            }
        }
    }
}

#[test]
fn channel_producer_consumer_example_checks_its_run() {
    let mut example = ExampleProcess::spawn(
        "channel_producer_consumer",
        &[
            "--producers",
            "2",
            "--consumers",
            "3",
            "--items",
            "3000",
            "--capacity",
            "2",
        ],
    )
    .unwrap();
    let first = example.read_line().unwrap();
    let second = example.read_line().unwrap();
    example.expect_success().unwrap();
    assert!(
        first.starts_with("6000 items from 2 producers consumed by 3 consumers"),
        "{first}"
    );
    assert!(second.starts_with("every item exactly once"), "{second}");
}
