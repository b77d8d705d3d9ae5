//! Confinement: every path a client names is opened *beneath* the served root, or refused.
//!
//! A client sees a virtual tree whose `/` is the root. A path is handled in two steps:
//!
//! 1. **Lexical** ([`normalize`]): the client's path is joined to the current directory and its
//!    components are walked: `.` and empty ones vanish, `..` removes one level — and a `..`
//!    above `/` is refused (not clamped: the client asked for something outside). An absolute
//!    path is absolute *in the virtual tree*: `/etc/passwd` is `<root>/etc/passwd`. Nothing is
//!    decoded: `%2e%2e` is a file name like any other. A NUL byte is refused.
//! 2. **On disk** ([`Root::open`]): the result is opened with `openat2(2)` from a descriptor of
//!    the root, with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`. The kernel then refuses, at
//!    every step of *this* lookup, a component that leaves the root — a symlink to `/etc`, a
//!    `../..` inside a symlink, a `/proc/self/root` magic link — with `EXDEV`. Symlinks that
//!    stay inside work. Everything after that is done on descriptors: `fstat` on the opened
//!    file, `mkdirat`/`unlinkat`/`linkat`/`renameat` on a descriptor of the parent directory,
//!    which was itself opened beneath the root.
//!
//! **The pitfall: a path check is not enough.** The obvious way — canonicalize the path, check
//! that it starts with the root, then `open` it — looks the path up twice. Anyone who can rename
//! things inside the root (a local user, another upload) can swap a directory for a symlink to
//! `/` between the check and the open, and the open follows it. The tests flip a symlink that
//! way while a client downloads, lists and uploads: with check-then-open a secret outside was
//! read within a few dozen tries; with `openat2` there is no second lookup to race.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::{fs::File, io};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, OpenHow, ResolveFlag, fcntl, openat2};
use nix::sys::stat::{FileStat, SFlag, fstat};

/// The longest name one directory entry may have (Linux `NAME_MAX`), in bytes.
pub const NAME_MAX: usize = 255;

/// How often an `openat2` that the kernel could not check (a rename raced a `..` lookup:
/// `EAGAIN`) is tried again before giving up.
const RETRIES: usize = 8;

/// Why a path is refused; the session answers 550 (553 for [`Denied::Invalid`] on STOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The path leaves the root (by `..`, or a symlink or magic link leading out).
    Outside,
    /// The path (or its parent, for a new name) does not exist.
    Missing,
    /// The path is not a usable name (NUL byte, over `NAME_MAX`, or the root where a name is
    /// needed).
    Invalid,
    /// A directory, FIFO, socket or device where a plain file is needed.
    NotAFile,
    /// Something else where a directory is needed.
    NotADirectory,
    /// Any other failure of the system call (`EACCES`, …).
    Failed(Errno),
}

impl From<Errno> for Denied {
    fn from(errno: Errno) -> Denied {
        match errno {
            // EXDEV: RESOLVE_BENEATH saw a component leave the root; ELOOP: a magic link (or
            // a symlink loop).
            Errno::EXDEV | Errno::ELOOP => Denied::Outside,
            Errno::ENOENT | Errno::ENOTDIR => Denied::Missing,
            Errno::ENAMETOOLONG => Denied::Invalid,
            other => Denied::Failed(other),
        }
    }
}

/// The served root: a descriptor of it, opened once, from which every lookup starts.
#[derive(Debug, Clone)]
pub struct Root {
    fd: Arc<OwnedFd>,
    shown: PathBuf,
}

impl Root {
    /// The root at `dir`, which must be an existing directory.
    pub fn new(dir: &Path) -> io::Result<Root> {
        let shown = dir.canonicalize()?;
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::open(&shown, flags, nix::sys::stat::Mode::empty()).map_err(|e| {
            let why = if e == Errno::ENOTDIR {
                "not a directory".to_string()
            } else {
                e.desc().to_string()
            };
            io::Error::other(format!("{}: {why}", dir.display()))
        })?;
        let root = Root {
            fd: Arc::new(fd),
            shown,
        };
        // Refuse to start, rather than answer 550 to everything, on a kernel without openat2.
        if let Err(Denied::Failed(Errno::ENOSYS)) = root.open("/", OFlag::O_PATH) {
            return Err(io::Error::other(
                "this kernel has no openat2(2), which confinement needs (Linux 5.6 or later)",
            ));
        }
        Ok(root)
    }

    /// The root on disk, for messages.
    pub fn dir(&self) -> &Path {
        &self.shown
    }

    /// Opens the virtual path `path` (from [`normalize`]) beneath the root with `flags`
    /// (`O_CLOEXEC` is added); every component, symlinks included, must resolve inside.
    pub fn open(&self, path: impl AsRef<Path>, flags: OFlag) -> Result<OwnedFd, Denied> {
        let relative = path.as_ref().strip_prefix("/").unwrap_or(path.as_ref());
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let mut result = openat2(self.fd.as_fd(), relative, how);
        for _ in 0..RETRIES {
            match result {
                Err(Errno::EAGAIN | Errno::EINTR) => {
                    result = openat2(self.fd.as_fd(), relative, how);
                }
                _ => break,
            }
        }
        result.map_err(Denied::from)
    }

    /// Opens the regular file at `path` for reading.
    ///
    /// The open is non-blocking: opening a FIFO for reading would otherwise wait for a writer
    /// (forever, and before any check could run). Then `fstat` decides — only a regular file
    /// is served — and the descriptor is made blocking again for the transfer.
    pub fn open_file(&self, path: &str) -> Result<File, Denied> {
        let fd = self.open(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY)?;
        if kind(&fstat(&fd)?) != SFlag::S_IFREG {
            return Err(Denied::NotAFile);
        }
        fcntl(&fd, FcntlArg::F_SETFL(OFlag::empty()))?;
        Ok(File::from(fd))
    }

    /// Opens the directory at `path` as a lookup handle (`O_PATH`).
    pub fn open_dir(&self, path: &str) -> Result<OwnedFd, Denied> {
        let fd = self.open(path, OFlag::O_PATH)?;
        if kind(&fstat(&fd)?) != SFlag::S_IFDIR {
            return Err(Denied::NotADirectory);
        }
        Ok(fd)
    }

    /// For a name to create, replace or remove: the directory holding `path`, opened beneath
    /// the root, and the last component, which the caller handles with `*at` calls on that
    /// descriptor — never by a path looked up again.
    pub fn parent<'p>(&self, path: &'p str) -> Result<(OwnedFd, &'p str), Denied> {
        let (dir, name) = path.rsplit_once('/').ok_or(Denied::Invalid)?;
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(Denied::Invalid);
        }
        let dir = self.open_dir(if dir.is_empty() { "/" } else { dir })?;
        Ok((dir, name))
    }
}

/// The file type bits of `stat`.
pub fn kind(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

/// Joins `arg` to the virtual directory `cwd` and removes `.`, `..` and empty components;
/// a `..` above `/` is refused.
pub fn normalize(cwd: &str, arg: &str) -> Result<String, Denied> {
    if arg.contains('\0') {
        return Err(Denied::Invalid);
    }
    let joined = if arg.starts_with('/') {
        arg.to_string()
    } else {
        format!("{cwd}/{arg}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(&joined).components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or(Denied::Outside)?;
            }
            Component::Normal(name) => parts.push(name.to_str().ok_or(Denied::Invalid)?),
            Component::Prefix(_) => return Err(Denied::Invalid),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_stays_in_the_virtual_tree() {
        assert_eq!(normalize("/", "a/./b//c").unwrap(), "/a/b/c");
        assert_eq!(normalize("/a/b", "..").unwrap(), "/a");
        assert_eq!(normalize("/a/b", "../../c").unwrap(), "/c");
        assert_eq!(normalize("/a", "/etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalize("/a", "%2e%2e").unwrap(), "/a/%2e%2e");
        assert_eq!(normalize("/", "..\\..\\x").unwrap(), "/..\\..\\x");
        assert_eq!(normalize("/", "..").unwrap_err(), Denied::Outside);
        assert_eq!(normalize("/a", "../../etc").unwrap_err(), Denied::Outside);
        assert_eq!(normalize("/", "/../etc").unwrap_err(), Denied::Outside);
        assert_eq!(normalize("/", "a\0b").unwrap_err(), Denied::Invalid);
    }

    #[test]
    fn open_refuses_symlinks_and_magic_links_leading_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::fs::write(root.join("a"), "a").unwrap();
        std::os::unix::fs::symlink("../secret", root.join("up")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("abs")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root", root.join("magic")).unwrap();
        std::os::unix::fs::symlink("a", root.join("in")).unwrap();
        let root = Root::new(&root).unwrap();
        assert!(root.open_file("/a").is_ok());
        assert!(root.open_file("/in").is_ok(), "a symlink inside works");
        for path in ["/up", "/abs", "/magic/etc/passwd"] {
            assert_eq!(root.open_file(path).unwrap_err(), Denied::Outside, "{path}");
        }
        assert_eq!(root.open_file("/").unwrap_err(), Denied::NotAFile);
        assert_eq!(root.open_dir("/a").unwrap_err(), Denied::NotADirectory);
        assert_eq!(root.parent("/").unwrap_err(), Denied::Invalid);
        assert_eq!(root.parent("/nowhere/x").unwrap_err(), Denied::Missing);
        assert_eq!(
            root.parent(&format!("/{}", "n".repeat(256))).unwrap_err(),
            Denied::Invalid
        );
    }
}
