//! io_uring, the completion model: one file read, then the echo server — conformance in-process
//! and as its example, back-pressure, batching, a full submission queue, and a shutdown that
//! leaves nothing in flight.
//!
//! Where the kernel refuses io_uring these tests fail with the sentence that says why, unless
//! `LABS_SKIP_URING=1` is set: then each says it skips, and why.

mod backpressure;
mod uring_support;

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};

use harness::echo::{self, served_clients};
use harness::seccomp;
use harness::{ExampleProcess, serve};
use io_models::uring::{self, Config, Stats, read_file};
use uring_support::uring_works;

/// A file holding `len` pseudo-random bytes, and the bytes.
fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(|i| (i * 31 + i / 253) as u8).collect();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    (file, bytes)
}

#[test]
fn uring_read_once_reads_a_file_at_an_offset() {
    if !uring_works() {
        return;
    }
    let (file, bytes) = file_of(100_000);
    let read = read_file::read_at(file.as_file(), 4096, 70_000).unwrap();
    assert!(read == bytes[70_000..74_096], "the 4 KiB at offset 70,000");
}

#[test]
fn uring_read_once_stops_at_the_end_of_the_file() {
    if !uring_works() {
        return;
    }
    let (file, bytes) = file_of(10_000);
    let read = read_file::read_at(file.as_file(), 4096, 8_000).unwrap();
    assert_eq!(
        read,
        bytes[8_000..],
        "a short read: what is left of the file"
    );
    assert!(
        read_file::read_at(file.as_file(), 16, 10_000)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn uring_read_once_returns_the_completions_error() {
    if !uring_works() {
        return;
    }
    let dir = File::open(std::env::temp_dir()).unwrap();
    let error = read_file::read_at(&dir, 16, 0).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR), "{error}");
}

#[test]
fn uring_refusal_is_one_sentence_naming_the_way_to_check() {
    for errno in [libc::ENOSYS, libc::EPERM] {
        let sentence = uring::refused(std::io::Error::from_raw_os_error(errno)).to_string();
        assert!(
            sentence.starts_with("io_uring is unavailable: "),
            "{sentence}"
        );
        assert!(
            sentence.contains("`sysctl kernel.io_uring_disabled`"),
            "{sentence}"
        );
        assert_eq!(sentence.lines().count(), 1, "{sentence}");
    }
}

#[test]
fn uring_echo_conforms() {
    if !uring_works() {
        return;
    }
    echo::assert_conformance(|| Ok(serve(|l, stop| uring::run(l, &stop))));
}

#[test]
fn uring_echo_conforms_with_a_two_slot_ring() {
    if !uring_works() {
        return;
    }
    // A hundred clients through two submission slots: the queue is full again and again.
    let tiny = Config { entries: 2 };
    echo::assert_conformance(|| {
        Ok(serve(move |l, stop| {
            uring::run_configured(l, &stop, tiny).map(drop)
        }))
    });
}

/// Serves with `config` while `clients` clients are connected and served, stops with them still
/// connected, and returns what the ring did — `Ok` only if the loop ended with nothing in flight.
fn stop_with_clients_connected(config: Config, clients: usize) -> Stats {
    let stats = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&stats);
    let server = serve(move |l, stop| {
        let ran = uring::run_configured(l, &stop, config)?;
        *slot.lock().unwrap() = Some(ran);
        Ok(())
    });
    let connected = served_clients(server.addr(), clients).unwrap();
    server.stop().unwrap();
    // Every connection was cancelled and closed before the loop returned.
    for mut client in connected {
        client.expect_eof().unwrap();
    }
    let stats = stats.lock().unwrap().take();
    stats.expect("the loop returned its stats")
}

#[test]
fn uring_echo_stops_with_clients_connected_and_nothing_in_flight() {
    if !uring_works() {
        return;
    }
    let stats = stop_with_clients_connected(Config::default(), 40);
    // The shutdown queued 41 cancellations (the accept's, one per connection) in one turn,
    // and one io_uring_enter took them all.
    assert!(stats.largest_batch >= 41, "{stats:?}");
    assert_eq!(stats.queue_full, 0, "{stats:?}");
}

#[test]
fn uring_echo_full_submission_queue_is_submitted_and_retried() {
    if !uring_works() {
        return;
    }
    let stats = stop_with_clients_connected(Config { entries: 4 }, 40);
    assert!(
        stats.queue_full > 0,
        "41 cancellations through 4 slots: {stats:?}"
    );
    assert!(stats.largest_batch <= 4, "{stats:?}");
}

#[test]
fn uring_echo_backpressure_stops_a_client_that_never_reads() {
    if !uring_works() {
        return;
    }
    backpressure::assert_stops_a_client_that_never_reads(|l, stop| uring::run(l, &stop));
}

#[test]
fn uring_echo_example_conforms_and_exits_cleanly_on_ctrl_c() {
    if !uring_works() {
        return;
    }
    let args = ["--addr", "127.0.0.1:0"];
    echo::assert_conformance(|| ExampleProcess::start("uring_echo", &args));
    let server = ExampleProcess::start("uring_echo", &args).unwrap();
    let mut clients = served_clients(server.addr(), 10).unwrap();
    clients[0].write_all(b"still here\n").unwrap();
    assert_eq!(clients[0].read_line().unwrap(), "still here");
    // Ctrl-C with ten connections open, a receive in flight on each: all cancelled, status 0.
    server.interrupt_and_expect_clean_exit().unwrap();
    for mut client in clients {
        client.expect_eof().unwrap();
    }
}

#[test]
fn uring_refused_example_says_why_in_one_sentence_and_exits_1() {
    let output = seccomp::run_refused("uring_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    seccomp::assert_says_why(&output);
}
