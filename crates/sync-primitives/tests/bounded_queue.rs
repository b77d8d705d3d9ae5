//! Lesson 4: the bounded queue — FIFO, blocking when full and when empty, `close` waking
//! everyone, spurious wake-ups ignored; a property test over random producer/consumer schedules;
//! the queue against `sync_channel` with several producers and consumers, in-process and through
//! the `producer_consumer` example.

mod support;

use harness::ExampleProcess;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use harness::Deadline;
use proptest::prelude::*;
use support::{STEP, within};
use sync_primitives::bounded_queue::{BoundedQueue, Closed};
use sync_primitives::producer_consumer::{
    Delivery, Load, through_bounded_queue, through_sync_channel,
};

#[test]
fn bounded_queue_is_first_in_first_out() {
    let queue = BoundedQueue::new(4);
    for i in 0..4 {
        queue.put(i).unwrap();
    }
    assert_eq!(queue.len(), 4);
    assert_eq!(
        (0..4).map(|_| queue.take().unwrap()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(queue.is_empty());
}

#[test]
fn bounded_queue_put_waits_while_full() {
    let queue = Arc::new(BoundedQueue::new(1));
    queue.put("first").unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (queue, done) = (Arc::clone(&queue), Arc::clone(&done));
        thread::spawn(move || {
            queue.put("second").unwrap();
            done.store(1, Ordering::SeqCst);
        })
    };
    // While the queue stays full the producer must not finish (observed for 50 ms).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(50) {
        assert_eq!(
            done.load(Ordering::SeqCst),
            0,
            "put returned while the queue was full"
        );
        thread::yield_now();
    }
    assert_eq!(queue.take(), Some("first"));
    within(STEP, "the blocked put to finish after a take", move || {
        producer.join().unwrap()
    });
    assert_eq!(queue.take(), Some("second"));
}

#[test]
fn bounded_queue_close_wakes_waiting_consumers_and_producers() {
    let empty = Arc::new(BoundedQueue::<u32>::new(1));
    let full = Arc::new(BoundedQueue::new(1));
    full.put(1).unwrap();
    let consumer = {
        let empty = Arc::clone(&empty);
        thread::spawn(move || empty.take())
    };
    let producer = {
        let full = Arc::clone(&full);
        thread::spawn(move || full.put(2))
    };
    empty.close();
    full.close();
    let taken = within(
        STEP,
        "a consumer blocked on an empty queue to see close",
        move || consumer.join().unwrap(),
    );
    assert_eq!(taken, None);
    let put = within(
        STEP,
        "a producer blocked on a full queue to see close",
        move || producer.join().unwrap(),
    );
    assert_eq!(put, Err(Closed(2)), "the item comes back");
    assert_eq!(
        full.take(),
        Some(1),
        "what was queued before close is still taken"
    );
    assert_eq!(full.take(), None, "then the closed queue is drained");
    assert_eq!(full.put(3), Err(Closed(3)));
}

#[test]
fn bounded_queue_take_ignores_spurious_wake_ups() {
    let queue = Arc::new(BoundedQueue::new(2));
    let waiting = Arc::new(AtomicUsize::new(0));
    let consumer = {
        let (queue, waiting) = (Arc::clone(&queue), Arc::clone(&waiting));
        thread::spawn(move || {
            waiting.store(1, Ordering::SeqCst);
            queue.take()
        })
    };
    Deadline::after(STEP, "the consumer to start")
        .poll(|| (waiting.load(Ordering::SeqCst) == 1).then_some(()))
        .unwrap();
    // Wake it again and again with nothing queued (for 50 ms): it must go back to sleep.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(50) {
        queue.wake_spuriously();
        thread::yield_now();
        assert!(!consumer.is_finished(), "take returned with nothing queued");
    }
    queue.put(7).unwrap();
    let taken = within(STEP, "the consumer to take the real item", move || {
        consumer.join().unwrap()
    });
    assert_eq!(taken, Some(7));
}

/// Runs `producers` threads putting `per_producer` items `(producer, seq)` and `consumers`
/// threads taking until the queue is closed and drained; producers yield every `yield_every`
/// items and consumers every `yield_every + 1`, to vary the schedule. Returns what each
/// consumer took, in order.
fn exchange(
    capacity: usize,
    producers: usize,
    consumers: usize,
    per_producer: usize,
    yield_every: usize,
) -> Vec<Vec<(usize, usize)>> {
    let queue = Arc::new(BoundedQueue::new(capacity));
    let guard = Arc::clone(&queue);
    let run = move || {
        thread::scope(|s| {
            let queue = &queue;
            let takers: Vec<_> = (0..consumers)
                .map(|_| {
                    s.spawn(move || {
                        let mut took = Vec::new();
                        while let Some(item) = queue.take() {
                            took.push(item);
                            if took.len() % (yield_every + 1) == 0 {
                                thread::yield_now();
                            }
                        }
                        took
                    })
                })
                .collect();
            let putters: Vec<_> = (0..producers)
                .map(|p| {
                    s.spawn(move || {
                        for seq in 0..per_producer {
                            queue.put((p, seq)).unwrap();
                            if seq % yield_every == 0 {
                                thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            putters.into_iter().for_each(|p| p.join().unwrap());
            queue.close();
            takers.into_iter().map(|t| t.join().unwrap()).collect()
        })
    };
    let deadline = STEP;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        within(deadline, "producers and consumers to finish", run)
    }));
    guard.close(); // on a timeout, release whoever is still blocked
    result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

#[test]
fn bounded_queue_many_producers_and_consumers_lose_and_duplicate_nothing() {
    let took = exchange(4, 3, 3, 2_000, 7);
    let all: Vec<_> = took.iter().flatten().copied().collect();
    assert_eq!(all.len(), 6_000);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        6_000,
        "an item was taken twice"
    );
    assert!(took.iter().filter(|t| !t.is_empty()).count() >= 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn bounded_queue_prop_fifo_no_loss_no_duplication(
        capacity in 1usize..8,
        producers in 1usize..4,
        consumers in 1usize..4,
        per_producer in 0usize..300,
        yield_every in 1usize..6,
    ) {
        let took = exchange(capacity, producers, consumers, per_producer, yield_every);
        // No loss, no duplication: every (producer, seq) exactly once.
        let mut all: Vec<_> = took.iter().flatten().copied().collect();
        all.sort_unstable();
        let expected: Vec<_> = (0..producers).flat_map(|p| (0..per_producer).map(move |s| (p, s))).collect();
        prop_assert_eq!(all, expected);
        // FIFO: a consumer takes one producer's items in the order they were put.
        for consumer in &took {
            for p in 0..producers {
                let seqs: Vec<usize> = consumer.iter().filter(|(q, _)| *q == p).map(|(_, s)| *s).collect();
                prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order: {:?}", seqs);
            }
        }
    }
}

#[test]
fn bounded_queue_and_sync_channel_deliver_every_item_exactly_once() {
    // More producers than consumers and a queue of 2: producers wait on a full queue, and the
    // close (or the last sender's drop) must still reach every consumer.
    for (producers, consumers) in [(3, 2), (1, 4), (4, 1)] {
        let load = Load {
            producers,
            consumers,
            items: 5_000,
            capacity: 2,
        };
        let queue = through_bounded_queue(&load);
        let channel = through_sync_channel(&load);
        for (name, delivery) in [("BoundedQueue", &queue), ("sync_channel", &channel)] {
            assert!(
                delivery.exactly_once(&load),
                "{name}, {producers} producers to {consumers} consumers: {} items received",
                delivery.received.len()
            );
        }
    }
    // The check can fail: one item lost, or one twice.
    let load = Load {
        producers: 1,
        consumers: 1,
        items: 3,
        capacity: 1,
    };
    for received in [vec![0, 1], vec![0, 1, 1, 2]] {
        let delivery = Delivery {
            received,
            took: Duration::ZERO,
        };
        assert!(!delivery.exactly_once(&load));
    }
}

#[test]
fn bounded_queue_producer_consumer_example_delivers_everything_both_ways() {
    let lines = support::output_of(ExampleProcess::spawn(
        "producer_consumer",
        &[
            "--producers",
            "3",
            "--consumers",
            "2",
            "--items",
            "30000",
            "--capacity",
            "4",
        ],
    ));
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, name) in lines.iter().zip(["BoundedQueue", "sync_channel"]) {
        let expected =
            format!("{name}: 30000 items from 3 producers to 2 consumers, each exactly once, in ");
        assert!(line.starts_with(&expected), "{line:?}");
    }
}

#[test]
fn producer_consumer_example_refuses_a_run_that_could_not_end() {
    // No consumer: the producers would wait on a full queue forever. No room: BoundedQueue
    // refuses a capacity of 0. Each is a sentence, not a hang or a panic. (Not a `bounded_queue_`
    // test: the arguments are checked before any queue exists, so the exercise does not grade it.)
    for args in [
        ["--consumers", "0"],
        ["--capacity", "0"],
        ["--producers", "0"],
    ] {
        let mut run = ExampleProcess::spawn("producer_consumer", &args).unwrap();
        let text = run
            .expect_failure_sentence(Duration::from_secs(10))
            .unwrap();
        assert!(text.contains("must each be at least 1"), "{args:?}: {text}");
    }
}
