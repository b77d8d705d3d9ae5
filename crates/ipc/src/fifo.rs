//! A named pipe (FIFO): a pipe with a path, so unrelated processes can find it.
//!
//! `mkfifo(path)` makes a special file; whoever opens it for reading and whoever opens it for
//! writing are joined by a pipe buffer — the file itself never holds data. What differs from
//! [`crate::pipe`] is the rendezvous at `open`:
//!
//! - a blocking `open` for reading waits until someone opens for writing, and vice versa;
//! - with `O_NONBLOCK`, opening for reading succeeds at once, but opening for **writing fails
//!   with `ENXIO`** while no reader has it open ([`open_writer`] turns that into a clear error);
//! - once both ends are open it is a pipe: `PIPE_BUF` atomicity, EOF when the last writer closes,
//!   `EPIPE` when the last reader closes.
//!
//! **A path is not a promise.** Whatever is at the path may be a regular file, `/dev/null` or a
//! terminal; a writer that opens it and writes would overwrite the file's first bytes. Both
//! [`open_writer`] and [`open_reader`] open without blocking and without creating or truncating,
//! then check the type on the open descriptor (`fstat`, so no rename can slip in between) and
//! refuse anything but a FIFO.
//!
//! **The pitfall: the path outlives the processes.** A FIFO is a file; if nobody unlinks it, it
//! stays after the program ends (and the next `mkfifo` at that path fails with `EEXIST`).
//! [`Fifo`] makes one at a path unique to the run and removes it on drop; the examples turn
//! Ctrl-C into a normal return so the drop runs then too. A reader that waits for a writer
//! uses a non-blocking open and `poll` with a timeout, so it can notice Ctrl-C while it waits
//! (a blocking `open` would be restarted after the signal handler and wait on). SIGKILL runs no
//! drop: the next reader removes what a killed one left ([`crate::stale`]).

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

use crate::pipe::set_nonblocking;

/// A FIFO on disk, removed when this value is dropped.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
}

impl Fifo {
    /// Makes a FIFO with a unique name in the temporary directory (mode 0600).
    pub fn create() -> io::Result<Fifo> {
        Fifo::create_at(std::env::temp_dir().join(crate::unique_name("fifo")))
    }

    /// Makes a FIFO at `path` (mode 0600); fails with `AlreadyExists` if anything is there.
    pub fn create_at(path: impl Into<PathBuf>) -> io::Result<Fifo> {
        let path = path.into();
        nix::unistd::mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR).map_err(|e| {
            io::Error::new(
                io::Error::from(e).kind(),
                format!("mkfifo {}: {e}", path.display()),
            )
        })?;
        Ok(Fifo { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Opens `path` for writing without waiting, and only if it **is** a FIFO: the writer's end.
///
/// The order is the lesson. `open(O_WRONLY | O_NONBLOCK)` never blocks: on a FIFO with no
/// reader it fails with `ENXIO` (reported as "start the reader first"); on anything else it
/// opens without changing a byte (no `O_CREAT`, no `O_TRUNC`). Then `fstat` on the open
/// descriptor — not `stat` on the path, which a rename could change between the check and the
/// open — and anything but a FIFO (a regular file, `/dev/null`, a terminal) is refused before a
/// byte is written. Only then is the descriptor made blocking, so writes wait for room like any
/// pipe's. Two tempting alternatives are wrong: a blocking `O_WRONLY` open waits forever for a
/// reader, and `O_RDWR` (which Linux allows on a FIFO) always succeeds, so the writer never
/// learns there is no reader, and, holding a read end itself, never gets `EPIPE` either.
pub fn open_writer(path: &Path) -> io::Result<File> {
    let file = open_fifo(path, OpenOptions::new().write(true))?;
    set_nonblocking(&file, false)?;
    Ok(file)
}

/// Opens `path` for reading without waiting (a non-blocking open succeeds with no writer), and
/// only if it is a FIFO (checked on the open descriptor, as [`open_writer`] does).
/// The file stays non-blocking: read it with [`pump`], which waits with `poll`.
pub fn open_reader(path: &Path) -> io::Result<File> {
    open_fifo(path, OpenOptions::new().read(true))
}

/// Opens `path` non-blocking with `options` (no controlling terminal is acquired), then refuses
/// it unless `fstat` says it is a FIFO.
fn open_fifo(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(Errno::ENXIO as i32) && is_fifo_path(path) {
                io::Error::new(
                    ErrorKind::NotConnected,
                    format!(
                        "no reader has {} open (ENXIO): start the reader first",
                        path.display()
                    ),
                )
            } else {
                io::Error::new(e.kind(), format!("opening {}: {e}", path.display()))
            }
        })?;
    let kind = file.metadata()?.file_type(); // fstat(2) on the descriptor
    if !kind.is_fifo() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a FIFO: refusing to use it (make one with mkfifo, or let \
                 fifo_reader make it)",
                path.display(),
                describe(kind)
            ),
        ));
    }
    Ok(file)
}

/// Whether `path` names a FIFO now (only to choose an error message: never a check before use).
fn is_fifo_path(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// "a regular file", "a character device", … for an error message.
fn describe(kind: std::fs::FileType) -> &'static str {
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a FIFO"
    }
}

/// How [`pump`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every writer that had connected closed its end.
    Eof,
    /// `stop` was set.
    Stopped,
}

/// Reads everything writers send into `reader` (from [`open_reader`]) and hands each chunk to
/// `on_data`, until the writers are gone or `stop` is set (checked every `tick`).
///
/// Linux reports a FIFO's read end ready only once a writer has written or come and gone, so
/// `poll` is the wait for the first writer too. `read` is called only after `poll` said so:
/// before any writer has connected, a read returns 0 — an EOF that is not one.
pub fn pump(
    reader: &File,
    stop: &AtomicBool,
    tick: Duration,
    mut on_data: impl FnMut(&[u8]),
) -> io::Result<Ended> {
    let tick = PollTimeout::try_from(tick).unwrap_or(PollTimeout::MAX);
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, tick) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        match (&*reader).read(&mut buf) {
            Ok(0) => return Ok(Ended::Eof),
            Ok(n) => on_data(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Ended::Stopped)
}

/// Whether `path` is still there (the tests check that a dropped [`Fifo`] leaves nothing).
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}
