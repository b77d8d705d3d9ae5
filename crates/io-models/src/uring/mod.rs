//! Model 5 — asynchronous (completion) IO with io_uring (Linux 5.19 or newer).
//!
//! Every model before this one is *readiness* IO: the kernel says "you may read now" and the
//! program then makes the copy itself, with `read`. io_uring is *completion* IO: the program
//! says "read into this buffer" and the kernel says, later, "your read is done" — it did both
//! the waiting and the copy. That is the fifth model of the course, the one POSIX AIO (threads
//! in disguise) and Linux's old kernel AIO (`O_DIRECT` files only) never delivered for sockets.
//!
//! ```text
//!   readiness (epoll, a reactor)              completion (io_uring, a proactor)
//!   epoll_wait ─▶ "fd 7 is readable"          SQE: RECV fd 7 into buf, user_data 42 ─┐
//!   read(7, buf) ─▶ the copy, in our call       … the kernel waits, then copies …     │
//!   (the buffer is ours again on return)      CQE: user_data 42, res = bytes ◀───────┘
//!                                             (the buffer was the kernel's in between)
//! ```
//!
//! Two rings are shared with the kernel: the program writes submission entries (SQEs) and
//! reads completion entries (CQEs) as plain memory; one `io_uring_enter` both hands over every
//! queued submission and waits for completions. Read in this order:
//!
//! | file | step |
//! | --- | --- |
//! | [`read_file`] | one read of a file, submitted and completed: the whole protocol once |
//! | `op` | the `user_data` that says which operation of which connection completed |
//! | `ring` | pushing submissions (a full queue is submitted, not a panic), counting what is in flight |
//! | `conn` | the buffer-ownership rule: the buffer lives in the connection, freed at zero in flight |
//! | `listen` | the listening side: the multishot accept, the stop poll, the accept's cancellation |
//! | `serve` | the loop, the same for every protocol: enter, reap, dispatch by `user_data`, until nothing is in flight |
//! | `drain` | the graceful stop: the idle closed, the busy served on, a second stop and the grace period as operations in flight |
//! | `echo` | the echo protocol: receive, send (short sends re-submitted), batching, stop and cancellation |
//!
//! **The pitfall is ownership**, and Rust makes it visible: a submitted operation borrows its
//! buffer until its completion, far past the call that submitted it. A buffer on the stack, or
//! freed when a connection closes while a receive is still in flight, is memory the kernel
//! writes into after it was given back. So buffers live in the connection (boxed, so they do
//! not move), a connection is freed only when nothing naming it is in flight, and at shutdown
//! the loop cancels everything and waits for every cancelled operation to complete. Every
//! `unsafe` push says why its buffer outlives the operation.
//!
//! **Why no `run_with`.** The other event loops drive any protocol through
//! [`netkit::Connection`], whose shape is readiness: `on_readable` *makes the read itself*, into
//! a buffer of the connection's choosing, when the loop says the socket is ready. A completion
//! loop has no such moment — the read has already happened, into a buffer the loop had to hand
//! the kernel beforehand and keep alive until the completion. Driving a `Connection` would mean
//! submitting `POLL_ADD`s and calling `on_readable` on their completions: epoll spelled with a
//! ring, not the completion model. A protocol for a completion loop needs another shape —
//! "here are the bytes that arrived; give me an owned buffer to send". This lesson serves echo;
//! the HTTP server's `uring` backend is the other [`Protocol`] on the same loop ([`serve`]),
//! [`Ring`] and [`Op`], with its own connection type.

mod conn;
mod drain;
mod echo;
mod listen;
mod op;
pub mod read_file;
mod ring;
mod serve;

pub use conn::BUFFER;
pub use echo::{Config, run, run_configured};
pub use listen::cancel_socket;
pub use op::Op;
pub use ring::{Completion, Ring, Stats, refused};
pub use serve::{Protocol, abandon, serve};

use std::io;

/// Checks that this kernel lets this process use io_uring: `Ok`, or the sentence that says why
/// not and how to check (see [`refused`]).
pub fn available() -> io::Result<()> {
    ring::open(2).map(drop)
}

/// For tests of anything built on io_uring: true when it works here. When it does not, panics
/// with the sentence that says why — or, with `LABS_SKIP_URING=1` set, says on stderr that the
/// test is skipped, and why, and returns false.
pub fn works_or_skip() -> bool {
    let Err(refusal) = available() else {
        return true;
    };
    if std::env::var_os("LABS_SKIP_URING").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED (LABS_SKIP_URING=1): {refusal}");
        return false;
    }
    panic!("{refusal} (set LABS_SKIP_URING=1 to skip the io_uring tests)");
}
