//! An anonymous pipe between a parent and its children: capacity, atomicity, EOF, EPIPE.
//!
//! `pipe(2)` gives two descriptors, a read end and a write end, and a kernel buffer between them.
//! It has no name: only the process that made it and the children it forks (which inherit the
//! descriptors) can use it. Four facts every user of a pipe meets:
//!
//! 1. **It has a capacity** ([`capacity`], `F_GETPIPE_SZ`: 64 KiB by default, up to
//!    `/proc/sys/fs/pipe-max-size` with `F_SETPIPE_SZ`). A writer that finds it full blocks; in
//!    non-blocking mode it gets `EAGAIN` instead ([`fill`]). This is the flow control the course
//!    describes, and the reason `Process::join` in the multiprocess chapter drains before it waits.
//! 2. **A write of at most `PIPE_BUF` (4096) bytes is atomic**: concurrent writers never
//!    interleave inside it. Bigger writes may be split and interleaved with other writers'
//!    ([`concurrent_writers`] counts torn records).
//! 3. **EOF comes only when every write end is closed** — including the reader's own copy. A
//!    parent that forks writers and forgets to close its write end reads forever
//!    ([`eof_needs_every_writer_closed`]).
//! 4. **Writing when no reader is left raises SIGPIPE**, whose default action kills the writer
//!    ([`sigpipe_by_default`]). Rust programs ignore SIGPIPE at start-up, so the write returns
//!    `EPIPE` (`ErrorKind::BrokenPipe`) and the program decides ([`write_to_closed_reader`]).

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd};

use multiprocess::spawn::{self, Outcome};
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, signal};

/// `PIPE_BUF`: the largest write the kernel keeps whole against other writers.
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// A new pipe, `(read end, write end)`, both close-on-exec.
pub fn pipe() -> io::Result<(File, File)> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    Ok((File::from(read), File::from(write)))
}

/// The pipe's capacity in bytes (`F_GETPIPE_SZ`; nix has no wrapper for it).
pub fn capacity(end: &impl AsFd) -> io::Result<usize> {
    // SAFETY: F_GETPIPE_SZ takes no argument and only reads the descriptor's pipe.
    let size = unsafe { libc::fcntl(end.as_fd().as_raw_fd(), libc::F_GETPIPE_SZ) };
    if size < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size as usize)
}

/// Asks for a capacity of at least `bytes` (`F_SETPIPE_SZ`); returns the capacity granted (the
/// kernel rounds up to a power of two pages, and refuses more than `pipe-max-size`).
pub fn set_capacity(end: &impl AsFd, bytes: usize) -> io::Result<usize> {
    let bytes = libc::c_int::try_from(bytes)
        .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "capacity over 2 GiB"))?;
    // SAFETY: F_SETPIPE_SZ takes an int and only resizes the descriptor's pipe buffer.
    let size = unsafe { libc::fcntl(end.as_fd().as_raw_fd(), libc::F_SETPIPE_SZ, bytes) };
    if size < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size as usize)
}

/// Writes into the pipe until it is full and returns how many bytes it took.
///
/// The write end is switched to non-blocking for this, so "full" is `EAGAIN` — exactly where a
/// blocking writer would have been put to sleep — and switched back afterwards.
pub fn fill(write: &File) -> io::Result<usize> {
    set_nonblocking(write, true)?;
    let chunk = [0x55u8; PIPE_BUF];
    let mut written = 0;
    let result = loop {
        match (&*write).write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(written),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    set_nonblocking(write, false)?;
    result
}

/// Whether `poll` says the descriptor is ready for `events` right now (timeout 0).
pub fn ready_now(fd: &impl AsFd, events: PollFlags) -> io::Result<PollFlags> {
    let mut fds = [PollFd::new(fd.as_fd(), events)];
    crate::retry_eintr(|| poll(&mut fds, PollTimeout::ZERO))?;
    Ok(fds[0].revents().unwrap_or(PollFlags::empty()))
}

/// Sets or clears `O_NONBLOCK` on a descriptor.
pub fn set_nonblocking(fd: &impl AsFd, on: bool) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    let flags = if on {
        flags | OFlag::O_NONBLOCK
    } else {
        flags - OFlag::O_NONBLOCK
    };
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// What [`concurrent_writers`] read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterReport {
    /// Bytes read until EOF.
    pub bytes: usize,
    /// Records read (`bytes / record_len`).
    pub records: usize,
    /// Records that are not one writer's byte repeated: another writer's bytes got inside.
    pub torn: usize,
}

/// Forks `writers` children that each write `records` records of `record_len` bytes (one
/// `write` each, every byte the writer's number) into one pipe, reads until EOF, and counts the
/// torn records. With `record_len <= PIPE_BUF` there are none; above it there may be.
pub fn concurrent_writers(
    writers: u8,
    records: usize,
    record_len: usize,
) -> io::Result<WriterReport> {
    let (mut read, write) = pipe()?;
    let mut children = Vec::new();
    for id in 0..writers {
        let out = write.try_clone()?;
        children.push(spawn::fork_run(move || {
            let record = vec![id; record_len];
            for _ in 0..records {
                if (&out).write_all(&record).is_err() {
                    return 1;
                }
            }
            0
        })?);
    }
    // The parent's copy must go, or the read below never sees EOF (fact 3).
    drop(write);
    let mut bytes = Vec::new();
    read.read_to_end(&mut bytes)?;
    // Reap every child before looking at any outcome: returning early would leave zombies.
    let outcomes: Vec<_> = children.into_iter().map(spawn::wait_for).collect();
    for outcome in outcomes {
        let outcome = outcome?;
        if !outcome.success() {
            return Err(io::Error::other(format!("a writer {outcome}")));
        }
    }
    Ok(WriterReport {
        bytes: bytes.len(),
        records: bytes.len() / record_len,
        torn: torn_records(&bytes, record_len),
    })
}

/// How many `record_len`-byte records of `bytes` mix bytes of more than one writer.
pub fn torn_records(bytes: &[u8], record_len: usize) -> usize {
    bytes
        .chunks(record_len)
        .filter(|record| record.iter().any(|&b| b != record[0]))
        .count()
}

/// Shows fact 3: a child writes and exits, but while the parent still holds a write end the
/// read end reports no hang-up; once the parent closes it, the reader gets EOF.
/// Returns `(hang-up seen while the parent held a write end, EOF after it closed it)`.
pub fn eof_needs_every_writer_closed() -> io::Result<(bool, bool)> {
    let (mut read, write) = pipe()?;
    let out = write.try_clone()?;
    let child = spawn::fork_run(move || i32::from((&out).write_all(b"bye").is_err()))?;
    spawn::wait_for(child)?;
    let mut got = [0u8; 3];
    read.read_exact(&mut got)?;
    // The child is gone and its data read; the parent's own write end keeps the pipe open.
    let hup_while_held = ready_now(&read, PollFlags::POLLIN)?.contains(PollFlags::POLLHUP);
    drop(write);
    let eof_after_close = read.read(&mut got)? == 0;
    Ok((hup_while_held, eof_after_close))
}

/// Writes to a pipe whose read end is closed; returns the error (always `BrokenPipe`: Rust
/// ignores SIGPIPE, so the write fails instead of killing the process).
pub fn write_to_closed_reader() -> io::Result<io::Error> {
    let (read, mut write) = pipe()?;
    drop(read);
    match write.write_all(b"anyone there?") {
        Ok(()) => Err(io::Error::other("a write with no reader succeeded")),
        Err(e) => Ok(e),
    }
}

/// The same write in a child that restored SIGPIPE's default action: the child is killed.
pub fn sigpipe_by_default() -> io::Result<Outcome> {
    let (read, write) = pipe()?;
    drop(read);
    let child = spawn::fork_run(move || {
        // SAFETY: SIG_DFL is not a handler function; nothing else runs in this child.
        let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
        match (&write).write_all(b"anyone there?") {
            Ok(()) => 0,
            Err(_) => 2, // not reached: the signal kills the child first
        }
    })?;
    spawn::wait_for(child)
}
