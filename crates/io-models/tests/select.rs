//! The select(2) echo server: the conformance suite, in-process and as `select_echo`, and the
//! FD_SETSIZE ceiling — a descriptor it cannot watch is refused, and the server stays up.
//!
//! The ceiling test fills this process's descriptor table up to 1023, and any other test
//! running meanwhile would get descriptors over the ceiling too: it takes [`DESCRIPTOR_TABLE`]
//! for writing (alone), the other tests take it for reading (together). The ceiling is tested in-process rather than in the example because only
//! in-process can the test open and close the padding at the moments it chooses (before a
//! client connects, then after), with no test-only flag in the program a student reads.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use harness::echo;
use harness::{Conn, ExampleProcess, serve};
use io_models::select::{self, REFUSAL};
use nix::sys::select::FD_SETSIZE;

/// Shared by the tests that only open descriptors; held alone by the one that fills the table.
static DESCRIPTOR_TABLE: RwLock<()> = RwLock::new(());

fn sharing_the_descriptor_table() -> RwLockReadGuard<'static, ()> {
    DESCRIPTOR_TABLE.read().unwrap_or_else(|p| p.into_inner())
}

fn owning_the_descriptor_table() -> RwLockWriteGuard<'static, ()> {
    DESCRIPTOR_TABLE.write().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn select_model_conforms() {
    let _table = sharing_the_descriptor_table();
    echo::assert_conformance(|| Ok(serve(|l, stop| select::run(l, &stop))));
}

#[test]
fn select_model_example_conforms_and_exits_cleanly() {
    let _table = sharing_the_descriptor_table();
    echo::assert_conformance(|| ExampleProcess::start("select_echo", &["--addr", "127.0.0.1:0"]));
    let server = ExampleProcess::start("select_echo", &["--addr", "127.0.0.1:0"]).unwrap();
    let mut client = Conn::connect(server.addr()).unwrap();
    round_trip(&mut client, "bye");
    server.interrupt_and_expect_clean_exit().unwrap();
}

#[test]
fn select_model_refuses_a_descriptor_over_fd_setsize_and_keeps_serving() {
    let _table = owning_the_descriptor_table();
    let _rlimit = harness::process_lock(); // it changes RLIMIT_NOFILE
    let Some(_restore) = RaisedFdLimit::at_least(FD_SETSIZE as u64 + 100) else {
        eprintln!(
            "skipped: the hard RLIMIT_NOFILE is below {}",
            FD_SETSIZE + 100
        );
        return;
    };
    let server = serve(|l, stop| select::run(l, &stop));
    let mut early = Conn::connect(server.addr()).unwrap();
    round_trip(&mut early, "before the table fills"); // accepted with a descriptor below 1024

    let padding = fill_descriptors_below(FD_SETSIZE);
    let mut refused = Conn::connect(server.addr()).unwrap();
    assert!(refused.stream().as_raw_fd() >= FD_SETSIZE as i32);
    assert_eq!(refused.read_line().unwrap(), REFUSAL.trim_end());
    refused.expect_eof().unwrap();
    round_trip(&mut early, "the server is still up");

    drop(padding);
    let mut later = Conn::connect(server.addr()).unwrap();
    round_trip(&mut later, "room again");
    round_trip(&mut early, "and still serving the first");
    server.stop().unwrap();
}

fn round_trip(conn: &mut Conn, line: &str) {
    conn.write_all(format!("{line}\n").as_bytes()).unwrap();
    assert_eq!(conn.read_line().unwrap(), line);
}

/// Opens `/dev/null` until every descriptor below `limit` is taken, so the next one this
/// process gets (a client socket here, an accepted socket in the server) is `limit` or above.
fn fill_descriptors_below(limit: usize) -> Vec<File> {
    let mut padding = Vec::new();
    loop {
        let file = File::open("/dev/null").expect("opening /dev/null as padding");
        // open returns the lowest free descriptor: limit - 1 means all below it are taken.
        let done = file.as_raw_fd() as usize >= limit - 1;
        padding.push(file);
        if done {
            return padding;
        }
    }
}

/// RLIMIT_NOFILE's soft limit raised (to the hard limit) while alive; restored on drop.
struct RaisedFdLimit {
    original: libc::rlimit,
}

impl RaisedFdLimit {
    /// Raises the soft limit to the hard limit if it is below `needed`; `None` when even the
    /// hard limit is below `needed`.
    fn at_least(needed: u64) -> Option<RaisedFdLimit> {
        let mut original = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into the valid, exclusively borrowed `original`.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut original) };
        assert_eq!(got, 0, "getrlimit: {}", std::io::Error::last_os_error());
        if original.rlim_cur >= needed {
            return Some(RaisedFdLimit { original }); // nothing to raise; restoring is a no-op
        }
        if original.rlim_max < needed {
            return None;
        }
        let raised = libc::rlimit {
            rlim_cur: original.rlim_max,
            rlim_max: original.rlim_max,
        };
        // SAFETY: setrlimit only reads the valid `raised`.
        let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
        assert_eq!(set, 0, "setrlimit: {}", std::io::Error::last_os_error());
        Some(RaisedFdLimit { original })
    }
}

impl Drop for RaisedFdLimit {
    fn drop(&mut self) {
        // SAFETY: setrlimit only reads the valid `self.original`.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.original) };
    }
}
