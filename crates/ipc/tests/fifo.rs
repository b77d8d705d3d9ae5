//! Lesson `fifo`: the rendezvous at open, ENXIO, data and EOF, and a path that never outlives
//! its owner — in the library and through the fifo_reader / fifo_writer pair.

use std::io::{ErrorKind, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use harness::ExampleProcess;
use harness::leaks::FdSnapshot;
use ipc::fifo::{self, Ended, Fifo};
use nix::sys::signal::Signal;

const SETTLE: Duration = Duration::from_secs(5);
const TICK: Duration = Duration::from_millis(20);

#[test]
fn a_writer_without_a_reader_gets_enxio_with_a_clear_message() {
    let _lock = harness::process_lock();
    let fifo = Fifo::create().unwrap();
    let error = fifo::open_writer(fifo.path()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotConnected);
    assert!(error.to_string().contains("ENXIO"), "{error}");
    assert!(
        error.to_string().contains("start the reader first"),
        "{error}"
    );
}

#[test]
fn bytes_flow_once_both_ends_are_open_and_eof_follows_the_writer() {
    let _lock = harness::process_lock();
    let fds = FdSnapshot::of_self().unwrap();
    let fifo = Fifo::create().unwrap();
    let reader = fifo::open_reader(fifo.path()).unwrap();
    let mut writer = fifo::open_writer(fifo.path()).unwrap();
    writer.write_all(b"one\ntwo\n").unwrap();
    drop(writer);
    let stop = AtomicBool::new(false);
    let mut got = Vec::new();
    let ended = fifo::pump(&reader, &stop, TICK, |bytes| got.extend_from_slice(bytes)).unwrap();
    assert_eq!(ended, Ended::Eof);
    assert_eq!(got, b"one\ntwo\n");
    drop((reader, fifo));
    fds.expect_no_growth(0, SETTLE).unwrap();
}

#[test]
fn a_reader_with_no_writer_yet_waits_instead_of_seeing_eof() {
    let _lock = harness::process_lock();
    let fifo = Fifo::create().unwrap();
    let reader = fifo::open_reader(fifo.path()).unwrap();
    // A read now would return 0; pump must not take that for EOF. With `stop` already set it
    // returns Stopped after its first (empty) poll instead.
    let stop = AtomicBool::new(true);
    let ended = fifo::pump(&reader, &stop, TICK, |_| panic!("no data")).unwrap();
    assert_eq!(ended, Ended::Stopped);
    let stop = AtomicBool::new(false);
    let mut writer = fifo::open_writer(fifo.path()).unwrap();
    writer.write_all(b"late").unwrap();
    drop(writer);
    let mut got = Vec::new();
    let ended = fifo::pump(&reader, &stop, TICK, |b| got.extend_from_slice(b)).unwrap();
    assert_eq!((ended, got.as_slice()), (Ended::Eof, &b"late"[..]));
}

#[test]
fn a_dropped_fifo_leaves_no_path_and_a_taken_path_is_refused() {
    let _lock = harness::process_lock();
    let fifo = Fifo::create().unwrap();
    let path = fifo.path().to_path_buf();
    assert!(fifo::exists(&path));
    let error = Fifo::create_at(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists, "{error}");
    drop(fifo);
    assert!(!fifo::exists(&path), "{} was left behind", path.display());
}

/// Starts fifo_reader and returns it with the FIFO's path from its first line.
fn start_reader(args: &[&str]) -> (ExampleProcess, String) {
    let mut reader = ExampleProcess::spawn("fifo_reader", args).unwrap();
    let line = reader.read_line().unwrap();
    let path = line
        .strip_prefix("fifo at ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_string();
    assert!(
        fifo::exists(path.as_ref()),
        "{path} should exist while the reader runs"
    );
    (reader, path)
}

#[test]
fn the_two_examples_talk_through_a_fifo_that_is_then_removed() {
    let _lock = harness::process_lock();
    let (mut reader, path) = start_reader(&[]);
    let mut writer = ExampleProcess::spawn(
        "fifo_writer",
        &[&path, "--line", "hello", "--line", "world"],
    )
    .unwrap();
    assert_eq!(writer.read_line().unwrap(), "sent 2 lines");
    writer.expect_success().unwrap();
    assert_eq!(reader.read_line().unwrap(), "got: hello");
    assert_eq!(reader.read_line().unwrap(), "got: world");
    assert_eq!(
        reader.read_line().unwrap(),
        format!("writers gone: removing {path}")
    );
    reader.expect_success().unwrap();
    assert!(!fifo::exists(path.as_ref()), "{path} was left behind");
}

#[test]
fn the_writer_reads_stdin_and_the_reader_survives_writers_with_keep() {
    let _lock = harness::process_lock();
    let (mut reader, path) = start_reader(&["--keep"]);
    for word in ["first", "second"] {
        let mut writer = ExampleProcess::spawn("fifo_writer", &[&path]).unwrap();
        if let Err(e) = writeln!(writer.stdin(), "{word}") {
            let _ = writer.wait_within(SETTLE);
            panic!(
                "writing {word} to fifo_writer: {e}\n{}",
                writer.stderr_text()
            );
        }
        writer.close_stdin();
        writer.expect_success().unwrap();
        assert_eq!(reader.read_line().unwrap(), format!("got: {word}"));
    }
    reader.signal(Signal::SIGINT).unwrap();
    assert_eq!(
        reader.read_line().unwrap(),
        format!("interrupted: removing {path}")
    );
    reader.expect_success().unwrap();
    assert!(!fifo::exists(path.as_ref()), "Ctrl-C left {path} behind");
}

#[test]
fn ctrl_c_while_waiting_for_a_writer_removes_the_fifo() {
    let _lock = harness::process_lock();
    let (reader, path) = start_reader(&[]);
    reader.interrupt_and_expect_clean_exit().unwrap();
    assert!(!fifo::exists(path.as_ref()), "Ctrl-C left {path} behind");
}

#[test]
fn the_writer_without_a_reader_says_so() {
    let _lock = harness::process_lock();
    let fifo = Fifo::create().unwrap();
    let path = fifo.path().to_str().unwrap().to_string();
    let mut writer = ExampleProcess::spawn("fifo_writer", &[&path, "--line", "x"]).unwrap();
    let text = writer.expect_failure_sentence(SETTLE).unwrap();
    assert!(text.contains("no reader has"), "{text}");
}

#[test]
fn the_writer_refuses_a_regular_file_and_leaves_it_untouched() {
    let _lock = harness::process_lock();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("precious.txt");
    std::fs::write(&file, "keep me\n").unwrap();
    let path = file.to_str().unwrap();
    let mut writer = ExampleProcess::spawn("fifo_writer", &[path, "--line", "x"]).unwrap();
    let stderr = writer.expect_failure_sentence(SETTLE).unwrap();
    assert!(stderr.contains("is a regular file, not a FIFO"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me\n");
}

#[test]
fn the_writer_refuses_a_device() {
    let _lock = harness::process_lock();
    let mut writer = ExampleProcess::spawn("fifo_writer", &["/dev/null", "--line", "x"]).unwrap();
    let stderr = writer.expect_failure_sentence(SETTLE).unwrap();
    assert!(
        stderr.contains("/dev/null is a character device, not a FIFO"),
        "{stderr}"
    );
}

#[test]
fn the_library_checks_the_type_on_the_open_descriptor_for_both_ends() {
    let _lock = harness::process_lock();
    let file = tempfile::NamedTempFile::new().unwrap();
    for error in [
        fifo::open_writer(file.path()).unwrap_err(),
        fifo::open_reader(file.path()).unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("not a FIFO"), "{error}");
    }
}

#[test]
fn the_reader_at_a_taken_path_fails_with_a_sentence() {
    let _lock = harness::process_lock();
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap();
    let mut reader = ExampleProcess::spawn("fifo_reader", &["--path", path]).unwrap();
    let stderr = reader.expect_failure_sentence(SETTLE).unwrap();
    assert!(
        stderr.contains("mkfifo") && stderr.contains("exists"),
        "{stderr}"
    );
}

#[test]
fn a_fifo_left_by_a_killed_reader_is_removed_by_the_next_one() {
    let _lock = harness::process_lock();
    let (killed, stale) = start_reader(&[]);
    killed.signal(Signal::SIGKILL).unwrap();
    let mut killed = killed;
    killed.wait_within(SETTLE).unwrap();
    assert!(fifo::exists(stale.as_ref()), "SIGKILL runs no cleanup");
    let (next, path) = start_reader(&[]);
    // Removed before the new reader announced its own FIFO.
    assert!(!fifo::exists(stale.as_ref()), "{stale} is still there");
    next.interrupt_and_expect_clean_exit().unwrap();
    assert!(!fifo::exists(path.as_ref()));
}
