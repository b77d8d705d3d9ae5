//! Lesson `pipe`: capacity, PIPE_BUF atomicity, EOF, EPIPE — between real processes.

use std::io::Read;
use std::time::Duration;

use harness::leaks::{FdSnapshot, expect_no_zombies};
use ipc::pipe::{self, PIPE_BUF};
use multiprocess::spawn::Outcome;
use nix::poll::PollFlags;
use nix::sys::signal::Signal;

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn a_pipe_holds_its_capacity_and_then_a_writer_would_block() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let (mut read, write) = pipe::pipe().unwrap();
    let capacity = pipe::capacity(&read).unwrap();
    assert_eq!(capacity, 65536, "the Linux default");
    assert_eq!(pipe::fill(&write).unwrap(), capacity);
    assert!(
        !pipe::ready_now(&write, PollFlags::POLLOUT)
            .unwrap()
            .contains(PollFlags::POLLOUT),
        "a full pipe is not writable: a blocking writer sleeps here"
    );
    let mut page = vec![0u8; PIPE_BUF];
    read.read_exact(&mut page).unwrap();
    assert!(
        pipe::ready_now(&write, PollFlags::POLLOUT)
            .unwrap()
            .contains(PollFlags::POLLOUT),
        "room for PIPE_BUF bytes makes it writable again"
    );
    drop((read, write));
    fds.expect_no_growth(0, SETTLE).unwrap();
}

#[test]
fn the_capacity_can_be_raised() {
    let _lock = harness::process_lock();
    let (read, write) = pipe::pipe().unwrap();
    let granted = pipe::set_capacity(&read, 200_000).unwrap();
    assert_eq!(granted, 262144, "rounded up to a power of two pages");
    assert_eq!(pipe::capacity(&write).unwrap(), granted);
    assert_eq!(pipe::fill(&write).unwrap(), granted);
}

#[test]
fn records_of_pipe_buf_bytes_from_concurrent_writers_never_tear() {
    let _lock = harness::process_lock();
    let report = pipe::concurrent_writers(4, 100, PIPE_BUF).unwrap();
    assert_eq!(report.bytes, 4 * 100 * PIPE_BUF, "every byte arrived");
    assert_eq!(report.records, 400);
    assert_eq!(report.torn, 0);
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn the_torn_record_count_sees_a_mixed_record() {
    let _lock = harness::process_lock();
    // What `concurrent_writers` counts, on a stream where writer 2 got inside writer 1's record.
    let mut stream = vec![1u8; 8];
    stream[5] = 2;
    stream.extend_from_slice(&[2; 4]);
    assert_eq!(pipe::torn_records(&stream, 4), 1);
    assert_eq!(pipe::torn_records(&[7; 12], 4), 0);
}

#[test]
fn eof_comes_only_when_the_last_write_end_closes() {
    let _lock = harness::process_lock();
    let (hup_while_held, eof_after_close) = pipe::eof_needs_every_writer_closed().unwrap();
    assert!(
        !hup_while_held,
        "the parent's own write end keeps the pipe open"
    );
    assert!(eof_after_close);
    expect_no_zombies(SETTLE).unwrap();
}

#[test]
fn writing_with_no_reader_is_an_error_not_a_death() {
    let _lock = harness::process_lock();
    let error = pipe::write_to_closed_reader().unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
    let outcome = pipe::sigpipe_by_default().unwrap();
    assert_eq!(
        outcome,
        Outcome::Signaled {
            signal: Signal::SIGPIPE,
            core_dumped: false
        },
        "with SIGPIPE at its default action the same write kills the writer"
    );
}

#[test]
fn pipe_demo_example() {
    let _lock = harness::process_lock();
    let mut demo = harness::ExampleProcess::spawn("pipe_demo", &["--records", "20"]).unwrap();
    let mut lines = Vec::new();
    for _ in 0..8 {
        lines.push(demo.read_line().unwrap());
    }
    demo.expect_success().unwrap();
    assert!(lines[0].starts_with("capacity: 65536 bytes"), "{lines:?}");
    assert!(lines[1].contains("EAGAIN after 65536 bytes"), "{lines:?}");
    assert!(
        lines[3].contains("of 4096 B: 80 records, 0 torn"),
        "{lines:?}"
    );
    assert!(
        lines[5].contains("no hang-up") && lines[5].contains("EOF once"),
        "{lines:?}"
    );
    assert!(lines[6].contains("Broken pipe"), "{lines:?}");
    assert!(lines[7].ends_with("killed by SIGPIPE"), "{lines:?}");
}
