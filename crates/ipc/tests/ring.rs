//! Lesson `ring`: push and pop at the edges (empty, full, wrapping), then a stream between
//! two processes checked byte for byte.

use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::expect_no_zombies;
use ipc::ring::Ring;
use multiprocess::spawn;

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
    let _lock = harness::process_lock();
    // A small ring and odd write sizes: the producer waits for room and wraps hundreds of
    // times, while the consumer reads in other sizes.
    let ring = Ring::new(16 << 10).unwrap();
    let total: usize = 4 << 20;
    let byte = |i: usize| (i * 31 + i / 251) as u8;
    let child = spawn::fork_run(|| {
        let mut offset = 0;
        let mut chunk = vec![0u8; 1000];
        while offset < total {
            let n = chunk.len().min(total - offset);
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                *b = byte(offset + k);
            }
            if ring.write_all(&chunk[..n], PATIENCE).is_err() {
                return 1;
            }
            offset += n;
        }
        0
    })
    .unwrap();
    let mut buf = vec![0u8; 777];
    let mut offset = 0;
    while offset < total {
        let n = buf.len().min(total - offset);
        ring.read_exact(&mut buf[..n], PATIENCE).unwrap();
        if let Some(k) = (0..n).find(|&k| buf[k] != byte(offset + k)) {
            panic!(
                "byte {} is {}, expected {}",
                offset + k,
                buf[k],
                byte(offset + k)
            );
        }
        offset += n;
    }
    assert!(spawn::wait_for(child).unwrap().success());
    assert!(ring.is_empty());
    expect_no_zombies(Duration::from_secs(5)).unwrap();
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
    let mut demo =
        ExampleProcess::spawn("shm_ring", &["--mib", "4", "--capacity", "8192"]).unwrap();
    let first = demo.read_line().unwrap();
    let second = demo.read_line().unwrap();
    demo.expect_success().unwrap();
    assert!(first.starts_with("ring of 8192 bytes;"), "{first}");
    assert!(
        second.starts_with("received 4194304 bytes in order, checksum ok"),
        "{second}"
    );
}
