//! The destination side of [`copy_dir`](super): every name is resolved beneath a descriptor of
//! DST, and no symlink inside DST is ever followed.
//!
//! Why: `--force` copies into a directory that already holds things, and anything that holds
//! things may hold a symlink. Joining paths (`DST/sub/config.txt`) and calling `open` follows
//! `DST/sub -> /elsewhere`, and the copy overwrites `/elsewhere/config.txt`. Checking first
//! (`symlink_metadata`, then `open`) leaves a window in which the link can be swapped in. So
//! DST is opened once, and every later step works from that descriptor:
//!
//! - a directory is reached with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`: a `..` that
//!   would climb out, or a symlink anywhere on the way, is an error (`EXDEV`, `ELOOP`) in the
//!   kernel's own walk — there is no moment between a check and the use;
//! - a name is created relative to its directory's descriptor: `mkdirat`, `symlinkat`, and a
//!   file with `O_CREAT | O_EXCL | O_NOFOLLOW` (exclusive creation never follows a link);
//! - a finished file replaces the old name with `renameat`, which replaces a symlink itself,
//!   never its target.
//!
//! Where SRC has a directory and DST has a symlink, the **symlink is replaced** by a real
//! directory (`unlinkat` removes the link, not what it points to), as a file in the way is
//! replaced by the new file; where DST has a directory and SRC a file or a symlink, that entry
//! is an error and the directory is left alone. DST itself may be a symlink: the caller named it.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat, openat2, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, symlinkat, unlinkat};

/// What [`Destination::make_dir`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeDir {
    /// It made the directory.
    Created,
    /// A directory was already there.
    Existed,
    /// A symlink was there; it was removed (its target untouched) and a directory made.
    ReplacedSymlink,
}

/// DST, open: every method takes a path relative to it.
#[derive(Debug)]
pub struct Destination {
    root: OwnedFd,
}

impl Destination {
    /// Creates `dst` (and missing parents) if needed, and opens it.
    pub fn open(dst: &Path) -> io::Result<Destination> {
        fs::create_dir_all(dst)?;
        let root = File::open(dst)?;
        if !root.metadata()?.is_dir() {
            return Err(io::Error::new(ErrorKind::NotADirectory, "not a directory"));
        }
        Ok(Destination { root: root.into() })
    }

    /// A second handle on the same directory (for the worker processes).
    pub fn try_clone(&self) -> io::Result<Destination> {
        Ok(Destination {
            root: self.root.try_clone()?,
        })
    }

    /// Opens the directory `relative` (empty: DST itself). A symlink on the way or at the end,
    /// or a `..` out of DST, fails: nothing outside DST is ever reached.
    pub fn dir(&self, relative: &Path) -> io::Result<OwnedFd> {
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
        openat2(&self.root, relative, how).map_err(|e| match e {
            Errno::ELOOP => io::Error::other(
                "a symlink inside the destination is on the way; refusing to follow it",
            ),
            other => other.into(),
        })
    }

    /// Makes the directory `relative` (mode 0700 until [`set_mode`](Self::set_mode)), or finds
    /// it there; a symlink in its place is replaced by the directory.
    pub fn make_dir(&self, relative: &Path) -> io::Result<MadeDir> {
        let (parent, name) = self.parent_of(relative)?;
        let mode = Mode::S_IRWXU;
        match mkdirat(&parent, name, mode) {
            Ok(()) => return Ok(MadeDir::Created),
            Err(Errno::EEXIST) => {}
            Err(e) => return Err(e.into()),
        }
        match kind(&lstat_at(&parent, name)?) {
            SFlag::S_IFDIR => Ok(MadeDir::Existed),
            SFlag::S_IFLNK => {
                unlinkat(&parent, name, UnlinkatFlags::NoRemoveDir)?;
                mkdirat(&parent, name, mode)?;
                Ok(MadeDir::ReplacedSymlink)
            }
            _ => Err(io::Error::other(
                "something that is not a directory is in the way in the destination",
            )),
        }
    }

    /// Makes `relative` a symlink to `target`, replacing a file or symlink there (never a
    /// directory).
    pub fn symlink(&self, target: &Path, relative: &Path) -> io::Result<()> {
        let (parent, name) = self.parent_of(relative)?;
        match symlinkat(target, &parent, name) {
            Err(Errno::EEXIST) => {
                self.remove_non_dir(&parent, name)?;
                Ok(symlinkat(target, &parent, name)?)
            }
            other => Ok(other?),
        }
    }

    /// Starts the file `relative`: creates its temporary name (`.name.copy-tmp`, mode 0600,
    /// exclusively, so a symlink there is never followed) and returns it open for writing.
    /// A temporary file left by an interrupted copy is removed first.
    pub fn create_partial(&self, relative: &Path) -> io::Result<Partial> {
        let (parent, name) = self.parent_of(relative)?;
        let temporary = partial_name(name);
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let mode = Mode::S_IRUSR | Mode::S_IWUSR;
        let fd = match openat(&parent, temporary.as_os_str(), flags, mode) {
            Err(Errno::EEXIST) => {
                self.remove_non_dir(&parent, &temporary)?;
                openat(&parent, temporary.as_os_str(), flags, mode)?
            }
            other => other?,
        };
        Ok(Partial {
            parent,
            temporary,
            name: name.to_os_string(),
            finished: false,
            file: File::from(fd),
        })
    }

    /// Sets the permission bits of the directory `relative`.
    pub fn set_mode(&self, relative: &Path, mode: u32) -> io::Result<()> {
        let dir = self.dir(relative)?;
        Ok(fchmod(&dir, Mode::from_bits_truncate(mode))?)
    }

    /// The open parent directory of `relative` and its last component.
    fn parent_of<'a>(&self, relative: &'a Path) -> io::Result<(OwnedFd, &'a OsStr)> {
        let name = relative
            .file_name()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no file name"))?;
        let parent = self.dir(relative.parent().unwrap_or(Path::new("")))?;
        Ok((parent, name))
    }

    /// Removes `name` in `parent` unless it is a directory.
    fn remove_non_dir(&self, parent: &OwnedFd, name: &OsStr) -> io::Result<()> {
        if kind(&lstat_at(parent, name)?) == SFlag::S_IFDIR {
            return Err(io::Error::other(
                "a directory is in the way in the destination; left alone",
            ));
        }
        Ok(unlinkat(parent, name, UnlinkatFlags::NoRemoveDir)?)
    }
}

/// A file being written under its temporary name; [`finish`](Partial::finish) gives it its
/// real name. Dropped unfinished, it removes the temporary name: a failed or interrupted copy
/// never leaves a file that looks whole.
#[derive(Debug)]
pub struct Partial {
    parent: OwnedFd,
    temporary: OsString,
    name: OsString,
    finished: bool,
    /// The new file, open for writing.
    pub file: File,
}

impl Partial {
    /// Sets the mode and renames the file over its real name (a symlink there is replaced, not
    /// followed; a directory there is an error).
    pub fn finish(mut self, mode: u32) -> io::Result<()> {
        fchmod(self.file.as_fd(), Mode::from_bits_truncate(mode))?;
        renameat(
            &self.parent,
            self.temporary.as_os_str(),
            &self.parent,
            self.name.as_os_str(),
        )?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.finished {
            let _ = unlinkat(
                &self.parent,
                self.temporary.as_os_str(),
                UnlinkatFlags::NoRemoveDir,
            );
        }
    }
}

/// `name` → `.name.copy-tmp`, byte for byte (a name need not be UTF-8).
fn partial_name(name: &OsStr) -> OsString {
    let mut bytes = Vec::with_capacity(name.len() + 10);
    bytes.push(b'.');
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(b".copy-tmp");
    OsString::from_vec(bytes)
}

fn lstat_at(parent: &OwnedFd, name: &OsStr) -> io::Result<FileStat> {
    Ok(fstatat(
        parent,
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )?)
}

fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}
