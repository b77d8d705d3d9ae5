//! Lesson `mqueue`: priorities, limits, non-blocking calls, an oversized message, and names
//! that are gone afterwards — in the library and through the mq_recv / mq_send pair.

use std::io::ErrorKind;
use std::time::Duration;

use harness::ExampleProcess;
use ipc::mqueue::{self, Limits, MessageQueue};
use multiprocess::spawn;
use nix::sys::signal::Signal;

const SETTLE: Duration = Duration::from_secs(5);

#[test]
fn the_highest_priority_comes_first_and_fifo_within_a_priority() {
    let _lock = harness::process_lock();
    let queue = MessageQueue::create(10, 64).unwrap();
    for (text, priority) in [("low-1", 1), ("high", 9), ("low-2", 1), ("mid", 5)] {
        queue.send(text.as_bytes(), priority).unwrap();
    }
    assert_eq!(queue.attr().unwrap().curmsgs, 4);
    let order: Vec<(String, u32)> = (0..4)
        .map(|_| {
            let (bytes, priority) = queue.receive().unwrap();
            (String::from_utf8(bytes).unwrap(), priority)
        })
        .collect();
    assert_eq!(
        order,
        [("high", 9), ("mid", 5), ("low-1", 1), ("low-2", 1)].map(|(t, p)| (t.to_string(), p))
    );
}

#[test]
fn attributes_and_system_limits() {
    let _lock = harness::process_lock();
    let limits = Limits::of_system().unwrap();
    assert!(
        limits.msgsize_max >= 128 && limits.msg_max >= 1,
        "{limits:?}"
    );
    let queue = MessageQueue::create(3, 100).unwrap();
    let attr = queue.attr().unwrap();
    assert_eq!((attr.maxmsg, attr.msgsize, attr.curmsgs), (3, 100, 0));
    assert!(!attr.nonblocking);
    queue.set_nonblocking(true).unwrap();
    assert!(queue.attr().unwrap().nonblocking);
}

#[test]
fn non_blocking_calls_fail_with_would_block_when_empty_or_full() {
    let _lock = harness::process_lock();
    let queue = MessageQueue::create(2, 16).unwrap();
    queue.set_nonblocking(true).unwrap();
    assert_eq!(queue.receive().unwrap_err().kind(), ErrorKind::WouldBlock);
    queue.send(b"1", 0).unwrap();
    queue.send(b"2", 0).unwrap();
    assert_eq!(
        queue.send(b"3", 0).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    assert_eq!(queue.receive().unwrap().0, b"1");
}

#[test]
fn a_message_over_msgsize_is_refused_with_a_clear_error() {
    let _lock = harness::process_lock();
    let queue = MessageQueue::create(2, 16).unwrap();
    let error = queue.send(&[0u8; 17], 0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let text = error.to_string();
    assert!(
        text.contains("17-byte") && text.contains("16-byte msgsize") && text.contains("EMSGSIZE"),
        "{text}"
    );
    queue.send(&[0u8; 16], 0).unwrap();
}

#[test]
fn a_queue_over_the_system_limit_is_refused_with_the_limit_named() {
    let _lock = harness::process_lock();
    // Root may exceed msgsize_max, but never the kernel's hard ceiling (16 MiB).
    let error = MessageQueue::create(1, 1 << 30).unwrap_err();
    assert!(error.to_string().contains("msgsize"), "{error}");
}

#[test]
fn receive_timeout_returns_none_when_nothing_comes() {
    let _lock = harness::process_lock();
    let queue = MessageQueue::create(2, 16).unwrap();
    assert_eq!(
        queue.receive_timeout(Duration::from_millis(20)).unwrap(),
        None
    );
    queue.send(b"now", 2).unwrap();
    let got = queue.receive_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got, Some((b"now".to_vec(), 2)));
}

#[test]
fn a_peer_process_opens_it_by_name_and_the_creator_unlinks_it() {
    let _lock = harness::process_lock();
    let queue = MessageQueue::create(4, 64).unwrap();
    let name = queue.name().to_string();
    let child = spawn::fork_run(|| {
        let sent = MessageQueue::open(&name).and_then(|peer| peer.send(b"from the child", 3));
        i32::from(sent.is_err())
    })
    .unwrap();
    assert!(spawn::wait_for(child).unwrap().success());
    assert_eq!(queue.receive().unwrap(), (b"from the child".to_vec(), 3));
    assert!(mqueue::exists(&name).unwrap());
    drop(queue);
    assert!(!mqueue::exists(&name).unwrap(), "{name} was left behind");
    let error = MessageQueue::open(&name).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
}

/// Starts mq_recv and returns it with the queue's name from its first line.
fn start_receiver(args: &[&str]) -> (ExampleProcess, String) {
    let mut receiver = ExampleProcess::spawn("mq_recv", args).unwrap();
    let line = receiver.read_line().unwrap();
    let name = line
        .strip_prefix("queue ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_string();
    assert!(
        mqueue::exists(&name).unwrap(),
        "{name} exists while mq_recv runs"
    );
    (receiver, name)
}

#[test]
fn the_two_examples_send_and_receive_then_the_queue_is_gone() {
    let _lock = harness::process_lock();
    let (mut receiver, name) = start_receiver(&[]);
    let mut sender =
        ExampleProcess::spawn("mq_send", &[&name, "hello", "world", "--priority", "3"]).unwrap();
    assert!(
        sender
            .read_line()
            .unwrap()
            .starts_with("sent 2 messages at priority 3")
    );
    sender.expect_success().unwrap();
    assert_eq!(receiver.read_line().unwrap(), "priority 3: hello");
    assert_eq!(receiver.read_line().unwrap(), "priority 3: world");
    let mut quit = ExampleProcess::spawn("mq_send", &[&name, "quit"]).unwrap();
    let said = quit.read_line().unwrap();
    assert!(said.starts_with("sent 1 message at priority 0"), "{said}");
    quit.expect_success().unwrap();
    assert_eq!(receiver.read_line().unwrap(), "priority 0: quit");
    assert_eq!(
        receiver.read_line().unwrap(),
        format!("quit: removing {name}")
    );
    receiver.expect_success().unwrap();
    assert!(!mqueue::exists(&name).unwrap(), "{name} was left behind");
}

#[test]
fn oversized_and_unknown_queues_get_clear_errors_from_mq_send() {
    let _lock = harness::process_lock();
    let (receiver, name) = start_receiver(&["--msgsize", "128"]);
    let mut sender = ExampleProcess::spawn("mq_send", &[&name, "--bytes", "129"]).unwrap();
    let text = sender.expect_failure_sentence(SETTLE).unwrap();
    assert!(text.contains("EMSGSIZE"), "{text}");
    receiver.interrupt_and_expect_clean_exit().unwrap();
    assert!(!mqueue::exists(&name).unwrap(), "Ctrl-C left {name} behind");
    let mut stray = ExampleProcess::spawn("mq_send", &[&name, "hi"]).unwrap();
    let text = stray.expect_failure_sentence(SETTLE).unwrap();
    assert!(text.contains("ENOENT"), "{text}");
}

#[test]
fn ctrl_c_ends_the_receiver_and_removes_the_queue() {
    let _lock = harness::process_lock();
    let (receiver, name) = start_receiver(&[]);
    receiver.signal(Signal::SIGTERM).unwrap();
    let mut receiver = receiver;
    assert_eq!(
        receiver.read_line().unwrap(),
        format!("interrupted: removing {name}")
    );
    receiver.expect_success().unwrap();
    assert!(
        !mqueue::exists(&name).unwrap(),
        "SIGTERM left {name} behind"
    );
}

#[test]
fn the_receiver_fails_with_a_sentence_when_the_queue_cannot_be_made() {
    let _lock = harness::process_lock();
    // Over the kernel's hard ceiling (16 MiB), even for root.
    let mut receiver = ExampleProcess::spawn("mq_recv", &["--msgsize", "1073741824"]).unwrap();
    let stderr = receiver.expect_failure_sentence(SETTLE).unwrap();
    assert!(stderr.contains("msgsize"), "{stderr}");
}
