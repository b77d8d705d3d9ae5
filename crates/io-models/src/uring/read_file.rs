//! Step 1: one read of a file, submitted and completed — the whole ring protocol once.
//!
//! ```text
//!   application                                 kernel
//!   fill a submission entry (SQE):
//!     READ fd, buf, len, offset, user_data=7
//!   io_uring_enter(to_submit=1, min_complete=1) ─▶ start the read        ┐
//!                                                  copy into buf         │ blocked (we asked
//!                                                  post a completion     │ to wait for one)
//!        ◀──────────────────────────────────────── (CQE) user_data=7,   ┘
//!                                                  res = bytes read or -errno
//! ```
//!
//! Both queues are memory shared with the kernel (`mmap`ed at setup), so filling an entry and
//! reading a completion are plain memory accesses; only `io_uring_enter` is a system call. The
//! completion carries back the `user_data` the submission carried in — the program's only way
//! to know *which* operation finished.
//!
//! The pitfall is the buffer. `read(2)` borrows a buffer for the length of the call; a
//! submitted read borrows it until its completion, which may be after the function that
//! submitted returned, or after an error made it want to. So a buffer the kernel may still
//! write into must not be freed: if waiting for the completion fails, this function leaks the
//! buffer rather than free memory the kernel is about to write.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use io_uring::{opcode, types};

/// The `user_data` of the one read: any number the program likes.
const READ_TAG: u64 = 7;

/// Reads up to `len` bytes of `file` starting at `offset`, with one submission and one
/// completion on a ring of its own. Fewer bytes come back at the end of the file.
pub fn read_at(file: &File, len: u32, offset: u64) -> io::Result<Vec<u8>> {
    let mut ring = super::ring::open(1)?;
    let mut buf = vec![0u8; len as usize];
    let read = opcode::Read::new(types::Fd(file.as_raw_fd()), buf.as_mut_ptr(), len)
        .offset(offset)
        .build()
        .user_data(READ_TAG);
    // BEGIN SOLUTION: io-uring-read-once
    // SAFETY: `buf` is not touched and not freed until the completion is reaped below: every
    // path that returns before that leaks it instead.
    unsafe { ring.submission().push(&read) }
        .map_err(|_| io::Error::other("a fresh ring has no room for one submission"))?;
    let completion = loop {
        if let Some(cqe) = ring.completion().next() {
            break cqe;
        }
        match ring.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {} // wait again
            Err(e) => {
                std::mem::forget(buf); // the read may still land in it
                return Err(e);
            }
        }
    };
    assert_eq!(completion.user_data(), READ_TAG, "the only operation");
    let result = completion.result();
    let read = usize::try_from(result).map_err(|_| io::Error::from_raw_os_error(-result))?;
    buf.truncate(read);
    Ok(buf)
    // END SOLUTION
}
