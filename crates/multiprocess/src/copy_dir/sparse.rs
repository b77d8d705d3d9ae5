//! Copying a file's bytes and keeping its holes.
//!
//! A sparse file (a disk image, a database file, a core dump) has ranges that were never
//! written: they read as zeros but take no disk blocks. A plain read/write loop reads those
//! zeros and writes them, so the copy of an 8 GiB image with 100 MiB of data takes 8 GiB.
//! `lseek(SEEK_DATA)` finds where the next data starts and `lseek(SEEK_HOLE)` where it ends: only
//! the data ranges are read and written, at the same offsets, and `ftruncate` gives the copy
//! its full length, so a trailing hole stays a hole too. (A file system that does not track holes
//! reports the whole file as one data range: the loop is then a plain copy.)

use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;

use nix::errno::Errno;
use nix::unistd::{Whence, lseek};

/// Copies `input` into `output` (new and empty), hole for hole. `progress` is called with each
/// step's byte count — a chunk of data written, or a hole skipped — so the counts add up to the
/// file's length, which is returned.
pub fn copy_keeping_holes(
    input: &File,
    output: &File,
    mut progress: impl FnMut(u64) -> io::Result<()>,
) -> io::Result<u64> {
    let len = input.metadata()?.len();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = 0u64;
    while pos < len {
        let data = match lseek(input, pos as i64, Whence::SeekData) {
            Ok(offset) => (offset as u64).min(len),
            Err(Errno::ENXIO) => len, // no data after `pos`: the rest is a hole
            Err(e) => return Err(e.into()),
        };
        if data > pos {
            progress(data - pos)?;
        }
        if data == len {
            break;
        }
        let hole = (lseek(input, data as i64, Whence::SeekHole)? as u64).min(len);
        pos = copy_range(input, output, data, hole, &mut buf, &mut progress)?;
    }
    output.set_len(len)?; // the length, and any trailing hole
    Ok(len)
}

/// Copies bytes `start..end` at the same offsets; returns where it stopped (`end`, or earlier
/// if the file shrank meanwhile).
fn copy_range(
    input: &File,
    output: &File,
    start: u64,
    end: u64,
    buf: &mut [u8],
    progress: &mut impl FnMut(u64) -> io::Result<()>,
) -> io::Result<u64> {
    let mut at = start;
    while at < end {
        let want = buf.len().min((end - at) as usize);
        let n = match input.read_at(&mut buf[..want], at) {
            Ok(0) => return Ok(end),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        output.write_all_at(&buf[..n], at)?;
        at += n as u64;
        progress(n as u64)?;
    }
    Ok(at)
}
