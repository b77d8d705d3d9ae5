//! Shared memory (`shm_open` + `mmap`): a segment every process that maps it sees byte for byte.
//!
//! `shm_open` makes a named memory object (a file in `/dev/shm`), `ftruncate` gives it a size,
//! and `mmap(MAP_SHARED)` puts it in the address space; every process that maps it sees the
//! same bytes — no copy through the kernel, which is why it is the fastest IPC there is, and no
//! synchronisation either (the counter lesson, [`crate::shm`], shows what that costs).
//!
//! **Hygiene.** The name in `/dev/shm` stays until `shm_unlink`, even after every process has
//! exited. [`Segment::create`] unlinks it right after mapping — children made by `fork` inherit
//! the mapping, so they need no name — and nothing can be left behind even by SIGKILL.
//! [`Segment::create_named`] keeps the name for an unrelated peer to [`Segment::open`], and
//! unlinks it on drop.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;

use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap, shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// A shared memory mapping of `len` bytes, zero-filled when created.
#[derive(Debug)]
pub struct Segment {
    ptr: NonNull<u8>,
    len: usize,
    /// The name to unlink on drop: set only for the creator of a named segment.
    unlink: Option<String>,
    name: String,
}

impl Segment {
    /// Creates and maps a segment whose name is unlinked at once: only this process and the
    /// children it forks from now on can reach it.
    pub fn create(len: usize) -> io::Result<Segment> {
        let mut segment = Segment::create_named(len)?;
        if let Some(name) = segment.unlink.take() {
            shm_unlink(name.as_str())?;
        }
        Ok(segment)
    }

    /// Creates and maps a segment under a unique name, which stays until drop.
    pub fn create_named(len: usize) -> io::Result<Segment> {
        let name = format!("/{}", crate::unique_name("shm"));
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC;
        let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)?;
        let mapped = nix::unistd::ftruncate(&fd, len as i64)
            .map_err(io::Error::from)
            .and_then(|()| map(&fd, len));
        match mapped {
            Ok(ptr) => Ok(Segment {
                ptr,
                len,
                unlink: Some(name.clone()),
                name,
            }),
            Err(e) => {
                let _ = shm_unlink(name.as_str()); // on error too: nothing left behind
                Err(e)
            }
        }
    }

    /// Maps an existing named segment (a peer); this handle never unlinks it.
    pub fn open(name: &str, len: usize) -> io::Result<Segment> {
        let fd = shm_open(name, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())?;
        Ok(Segment {
            ptr: map(&fd, len)?,
            len,
            unlink: None,
            name: name.to_string(),
        })
    }

    /// The name it was created under (unlinked already for [`Segment::create`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The start of the mapping (page-aligned).
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn map(fd: &OwnedFd, len: usize) -> io::Result<NonNull<u8>> {
    let length = NonZeroUsize::new(len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty segment"))?;
    // SAFETY: a fresh shared mapping at an address the kernel picks; it aliases no Rust object.
    // The descriptor may be closed afterwards: the mapping keeps the object alive.
    let ptr = unsafe {
        mmap(
            None,
            length,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            fd,
            0,
        )
    }?;
    Ok(ptr.cast())
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `map` with this length and is unmapped only here;
        // no reference into it outlives the Segment (every view borrows it).
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
        if let Some(name) = self.unlink.take() {
            let _ = shm_unlink(name.as_str());
        }
    }
}

/// The names in `/dev/shm` that process `pid` created (`labs-shm-<pid>-…`): for leak checks.
pub fn leftover_names(pid: u32) -> io::Result<Vec<String>> {
    let prefix = format!("labs-shm-{pid}-");
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/dev/shm")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) {
            names.push(name);
        }
    }
    Ok(names)
}
