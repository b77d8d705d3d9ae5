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
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use harness::echo::{self, served_clients};
use harness::time::STEP;
use harness::{Deadline, ExampleProcess, serve};
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

/// Forbids `io_uring_setup` to the calling process and its children (EPERM), as a container's
/// seccomp profile does. Call it only in a child between fork and exec.
fn forbid_io_uring() -> std::io::Result<()> {
    // A classic BPF program over `seccomp_data`: load the syscall number (offset 0); if it is
    // io_uring_setup (425 on every architecture), fail it with EPERM; allow everything else.
    let mut program = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_io_uring_setup as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let filter = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: prctl with integer arguments only; no memory is passed.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `filter` points to `program`, both alive for the call; the kernel copies them.
    if unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &filter) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[test]
fn uring_refused_example_says_why_in_one_sentence_and_exits_1() {
    let example = harness::example_path("uring_echo").unwrap();
    let mut command = Command::new(example);
    command.args(["--addr", "127.0.0.1:0"]);
    // SAFETY: between fork and exec the child only calls prctl (async-signal-safe) on memory
    // it owns; nothing is allocated.
    unsafe { command.pre_exec(forbid_io_uring) };
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let exited = Deadline::after(STEP, "uring_echo to exit, refused io_uring")
        .poll(|| child.try_wait().unwrap());
    if exited.is_err() {
        let _ = child.kill(); // it serves: the filter did not refuse io_uring
    }
    let output = child.wait_with_output().unwrap();
    exited.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "no banner: {output:?}");
    assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
    assert!(
        stderr.starts_with("Error: io_uring is unavailable: "),
        "{stderr}"
    );
    assert!(stderr.contains("EPERM"), "the reason: {stderr}");
    assert!(
        stderr.contains("`sysctl kernel.io_uring_disabled`"),
        "how to check: {stderr}"
    );
}
