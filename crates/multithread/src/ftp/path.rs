//! Confinement: every path a client names is resolved inside the served root, or refused.
//!
//! A client sees a virtual tree whose `/` is the root. Resolving a path takes two checks, and
//! both are needed:
//!
//! 1. **Lexical**: the client's path is joined to the current directory and its components are
//!    walked: `.` and empty ones vanish, `..` removes one level — and a `..` above `/` is
//!    refused (not clamped: the client asked for something outside). An absolute path is
//!    absolute *in the virtual tree*: `/etc/passwd` is `<root>/etc/passwd`. Nothing is
//!    decoded: `%2e%2e` is a file name like any other, which the client can only find if it
//!    exists inside the root. A NUL byte is refused.
//! 2. **On disk**: the lexical result may still pass through a symlink that points outside. So
//!    the real path (or, for a name that does not exist yet, its parent) is canonicalized —
//!    every symlink followed — and must still be inside the canonical root.
//!
//! The pitfall left: between the check and the `open`, another process with write access to
//! the root could swap a directory for a symlink. Closing that race needs `openat2(2)` with
//! `RESOLVE_BENEATH`, at every step; this lesson checks, then opens, and says so.

use std::io;
use std::path::{Component, Path, PathBuf};

/// A path the client may use: its virtual name (`/docs/a.txt`) and where it is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub virtual_path: String,
    pub real: PathBuf,
}

/// Why a path is refused; the session answers 550 either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The path leaves the root (by `..` or through a symlink).
    Outside,
    /// The path (or its parent, for a new name) does not exist.
    Missing,
    /// The path is not a usable name (NUL byte, empty, or the root where a name is needed).
    Invalid,
}

/// The served root, canonicalized once.
#[derive(Debug, Clone)]
pub struct Root {
    canonical: PathBuf,
}

impl Root {
    /// The root at `dir`, which must be an existing directory.
    pub fn new(dir: &Path) -> io::Result<Root> {
        let canonical = dir.canonicalize()?;
        if !canonical.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        Ok(Root { canonical })
    }

    /// The root on disk.
    pub fn dir(&self) -> &Path {
        &self.canonical
    }

    /// Resolves `arg` against the virtual directory `cwd`; the target must exist.
    pub fn existing(&self, cwd: &str, arg: &str) -> Result<Resolved, Denied> {
        let virtual_path = normalize(cwd, arg)?;
        let real = self.on_disk(&virtual_path);
        let canonical = real.canonicalize().map_err(|_| Denied::Missing)?;
        self.check_inside(&canonical)?;
        Ok(Resolved { virtual_path, real })
    }

    /// Resolves `arg` for a name that may not exist yet (STOR, MKD): its parent must exist and
    /// be inside, and the name itself must not be a symlink leading out.
    pub fn new_name(&self, cwd: &str, arg: &str) -> Result<Resolved, Denied> {
        let virtual_path = normalize(cwd, arg)?;
        if virtual_path == "/" {
            return Err(Denied::Invalid);
        }
        let real = self.on_disk(&virtual_path);
        let parent = real.parent().ok_or(Denied::Invalid)?;
        let canonical_parent = parent.canonicalize().map_err(|_| Denied::Missing)?;
        self.check_inside(&canonical_parent)?;
        // An existing name (a file to overwrite, a dangling symlink) must also stay inside.
        if real.symlink_metadata().is_ok() {
            match real.canonicalize() {
                Ok(target) => self.check_inside(&target)?,
                Err(_) => return Err(Denied::Outside), // a symlink to nowhere: refuse
            }
        }
        Ok(Resolved { virtual_path, real })
    }

    fn on_disk(&self, virtual_path: &str) -> PathBuf {
        self.canonical.join(virtual_path.trim_start_matches('/'))
    }

    fn check_inside(&self, canonical: &Path) -> Result<(), Denied> {
        if canonical.starts_with(&self.canonical) {
            Ok(())
        } else {
            Err(Denied::Outside)
        }
    }
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
}
