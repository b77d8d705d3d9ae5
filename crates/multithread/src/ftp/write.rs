//! What a session may change on disk — STOR, DELE, MKD, RMD, RNFR/RNTO — and how it changes it
//! safely.
//!
//! Four rules, each one an attack that worked against a naive server:
//!
//! - **Read-only unless allowed.** Anonymous sessions change nothing (550) unless the server
//!   was started to allow it ([`Config::anonymous_uploads`](super::Config)), as vsftpd's
//!   `anon_upload_enable`; users from a users file may write.
//! - **The permission bits decide, even for root.** A STOR or DELE touches an existing file only
//!   if the server could write it in place by its mode bits (owner, group or other, as for the
//!   server's user) — a server running as root would otherwise replace a `0444` file. A
//!   replaced file keeps its permission bits (and owner, where the server may set it): a `0600`
//!   file does not become `0644` because someone uploaded it again — but never set-user-ID or
//!   set-group-ID, which would make the upload someone else's privileged program.
//! - **Never through a symlink, never outside.** Every name is handled with `*at` calls on the
//!   descriptor of its directory, opened beneath the root (see [`path`](super::path)); the
//!   existing name is examined with `fstatat(AT_SYMLINK_NOFOLLOW)`, and a symlink is never
//!   written through. A rename (`renameat2(RENAME_NOREPLACE)`) never replaces anything.
//! - **An upload appears whole or not at all.** It is written to an `O_TMPFILE` file — a file
//!   with no name, invisible to everyone, which vanishes by itself if the upload fails — and only
//!   when the data connection ended cleanly and the client is still there to be told is it given
//!   its name: `linkat` for a new name (which fails, rather than replaces, if the name appeared
//!   meanwhile), or `linkat` to a short hidden name then `renameat` over the old file. A
//!   concurrent download of the old file reads the old file to its end. No temp name ever carries
//!   the target's name, so a 250-byte name stays within `NAME_MAX`. (A filesystem without
//!   `O_TMPFILE` — some network filesystems — gets `550` for every upload: safe, not silent.)

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, RenameFlags, openat, renameat, renameat2};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, linkat, unlinkat};

use super::path::{Denied, kind};
use super::session::{Flow, Session};

/// The prefix of the short name an upload has for a moment before it replaces a file.
const TEMP_PREFIX: &str = ".ftp-upload-";

/// True for a name [`Session::stor`] uses for a moment while replacing a file.
pub fn is_upload_temp(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(TEMP_PREFIX.as_bytes())
}

/// A name a command changes: handled only through `dir`, never looked up again by path.
struct Target {
    /// Its directory, opened beneath the root.
    dir: OwnedFd,
    /// The last component.
    name: String,
    /// The path in the served tree, for replies.
    path: String,
}

/// What is at a name about to be written.
enum Existing {
    Nothing,
    /// A regular file the server may replace; its `stat`, to keep mode and owner.
    File(FileStat),
}

impl Session<'_> {
    /// For a command that changes `arg`: the descriptor of its directory (opened beneath the
    /// root), its last name and its path in the tree — or `None`, the refusal already answered
    /// (a read-only session; a name not allowed, with `code_invalid`; outside; missing).
    fn target(&mut self, arg: &str, code_invalid: u16) -> io::Result<Option<Target>> {
        if !self.writable {
            self.reply(550, "Permission denied: this session is read-only")?;
            return Ok(None);
        }
        let target = self.path(arg).and_then(|path| {
            let (dir, name) = self.config.root.parent(&path)?;
            let name = name.to_string();
            Ok(Target { dir, name, path })
        });
        match target {
            Ok(target) => Ok(Some(target)),
            Err(Denied::Invalid) => {
                self.reply(code_invalid, &format!("{arg}: file name not allowed"))?;
                Ok(None)
            }
            Err(denied) => self.refuse(arg, denied).map(|()| None),
        }
    }

    pub(super) fn stor(&mut self, arg: &str) -> io::Result<Flow> {
        let Some(Target { dir, name, .. }) = self.target(arg, 553)? else {
            return Ok(Flow::Continue);
        };
        let existing = match existing_file(&dir, &name) {
            Ok(existing) => existing,
            Err(denied) => return self.refuse(arg, denied).map(|()| Flow::Continue),
        };
        let mut temp = match unnamed_file(&dir, &existing) {
            Ok(temp) => temp,
            Err(e) => {
                self.reply(550, &format!("{arg}: cannot create: {}", e.desc()))?;
                return Ok(Flow::Continue);
            }
        };
        let Some(mut data) = self.open_data()? else {
            return Ok(Flow::Continue);
        };
        let entry = self.connections.add(&data);
        let received = io::copy(&mut data, &mut temp).and_then(|n| temp.flush().map(|()| n));
        drop(entry);
        drop(data);
        let outcome = match received {
            // Data ended, but the client has gone: nobody can be told it worked, and a killed
            // client's data connection ends just like a finished one. The file has no name:
            // closing it removes it.
            Ok(_) if !self.client_still_there() => return Ok(Flow::Quit),
            Ok(n) => give_name(&temp, &dir, &name, &existing).map(|()| n),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(n) => self.reply(226, &format!("Transfer complete ({n} bytes received)"))?,
            Err(e) => self.reply(426, &format!("Connection closed; transfer aborted: {e}"))?,
        }
        Ok(Flow::Continue)
    }

    pub(super) fn dele(&mut self, arg: &str) -> io::Result<()> {
        let Some(Target { dir, name, path }) = self.target(arg, 550)? else {
            return Ok(());
        };
        let removed = match self.may_take_away(&dir, &name, &path) {
            Ok(stat) if kind(&stat) == SFlag::S_IFDIR => Err(Denied::NotAFile),
            Ok(_) => {
                unlinkat(&dir, name.as_str(), UnlinkatFlags::NoRemoveDir).map_err(Denied::from)
            }
            Err(denied) => Err(denied),
        };
        match removed {
            Ok(()) => self.reply(250, &format!("{path} deleted")),
            Err(denied) => self.refuse(arg, denied),
        }
    }

    /// RNFR: remembers a name that may be taken away, for the RNTO that must follow.
    pub(super) fn rnfr(&mut self, arg: &str) -> io::Result<()> {
        let Some(Target { dir, name, path }) = self.target(arg, 550)? else {
            return Ok(());
        };
        match self.may_take_away(&dir, &name, &path) {
            Ok(_) => {
                self.rename_from = Some(path);
                self.reply(350, "Ready for RNTO")
            }
            Err(denied) => self.refuse(arg, denied),
        }
    }

    /// RNTO: renames the RNFR name, both ends looked up beneath the root; never replaces.
    pub(super) fn rnto(&mut self, arg: &str) -> io::Result<()> {
        let Some(from) = self.rename_from.take() else {
            return self.reply(503, "RNTO must follow RNFR");
        };
        let Some(to) = self.target(arg, 553)? else {
            return Ok(());
        };
        let renamed = self
            .config
            .root
            .parent(&from)
            .and_then(|(from_dir, from_name)| {
                let flags = RenameFlags::RENAME_NOREPLACE;
                renameat2(&from_dir, from_name, &to.dir, to.name.as_str(), flags)
                    .map_err(Denied::from)
            });
        match renamed {
            Ok(()) => self.reply(250, &format!("{from} renamed to {}", to.path)),
            Err(Denied::Failed(Errno::EEXIST)) => {
                self.reply(550, &format!("{arg}: already exists"))
            }
            Err(denied) => self.refuse(arg, denied),
        }
    }

    /// Whether the name `dir/name` (`path` in the tree) may be deleted or renamed: not a file
    /// its mode bits make read-only, not a symlink leading out (those are outside, as for every
    /// command, and not listed). Its `lstat`.
    fn may_take_away(&self, dir: &OwnedFd, name: &str, path: &str) -> Result<FileStat, Denied> {
        let stat = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        match kind(&stat) {
            SFlag::S_IFREG if !writable_in_place(&stat) => Err(Denied::Failed(Errno::EACCES)),
            SFlag::S_IFLNK => self.config.root.open(path, OFlag::O_PATH).map(|_| stat),
            _ => Ok(stat),
        }
    }

    pub(super) fn mkd(&mut self, arg: &str) -> io::Result<()> {
        let Some(Target { dir, name, path }) = self.target(arg, 550)? else {
            return Ok(());
        };
        match mkdirat(&dir, name.as_str(), Mode::from_bits_truncate(0o777)) {
            Ok(()) => {
                let quoted = path.replace('"', "\"\"");
                self.reply(257, &format!("\"{quoted}\" created"))
            }
            Err(Errno::EEXIST) => self.reply(550, &format!("{arg}: already exists")),
            Err(e) => self.refuse(arg, e.into()),
        }
    }

    pub(super) fn rmd(&mut self, arg: &str) -> io::Result<()> {
        if self.writable && self.path(arg).as_deref() == Ok("/") {
            return self.reply(550, "the root cannot be removed");
        }
        let Some(Target { dir, name, path }) = self.target(arg, 550)? else {
            return Ok(());
        };
        match unlinkat(&dir, name.as_str(), UnlinkatFlags::RemoveDir) {
            Ok(()) => self.reply(250, &format!("{path} removed")),
            Err(e @ (Errno::ENOTEMPTY | Errno::EEXIST)) => {
                self.reply(550, &format!("{arg}: {}", e.desc()))
            }
            Err(e) => self.refuse(arg, e.into()),
        }
    }
}

/// What is at `dir/name`: nothing, or a regular file this server may replace; anything else
/// (a directory, a symlink, a FIFO, a read-only file) is refused.
fn existing_file(dir: &OwnedFd, name: &str) -> Result<Existing, Denied> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => Ok(Existing::Nothing),
        Err(e) => Err(e.into()),
        Ok(stat) if kind(&stat) != SFlag::S_IFREG => Err(Denied::NotAFile),
        Ok(stat) if !writable_in_place(&stat) => Err(Denied::Failed(Errno::EACCES)),
        Ok(stat) => Ok(Existing::File(stat)),
    }
}

/// Whether the mode bits let this process write the file — the owner's bits if it owns it,
/// the group's if it is in the group, the others' otherwise — ignoring root's power to write
/// anything.
fn writable_in_place(stat: &FileStat) -> bool {
    let in_group = |gid| {
        Gid::effective().as_raw() == gid
            || nix::unistd::getgroups().is_ok_and(|groups| groups.contains(&Gid::from_raw(gid)))
    };
    let bit = if Uid::effective().as_raw() == stat.st_uid {
        0o200
    } else if in_group(stat.st_gid) {
        0o020
    } else {
        0o002
    };
    stat.st_mode & bit != 0
}

/// An `O_TMPFILE` file in `dir`: no name until [`give_name`]. Replacing a file, it gets that
/// file's permission bits and (where allowed) owner; a new file gets `0666` less the umask.
fn unnamed_file(dir: &OwnedFd, existing: &Existing) -> Result<File, Errno> {
    let flags = OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
    let file = File::from(openat(dir, ".", flags, Mode::from_bits_truncate(0o666))?);
    if let Existing::File(stat) = existing {
        let owner = (Uid::from_raw(stat.st_uid), Gid::from_raw(stat.st_gid));
        match fchown(&file, Some(owner.0), Some(owner.1)) {
            Ok(()) | Err(Errno::EPERM) => {} // only root may give a file away
            Err(e) => return Err(e),
        }
        // After the owner (a chown may clear mode bits), and the permission bits only: never
        // set-user-ID or set-group-ID, or an upload would become someone's privileged program.
        fchmod(&file, Mode::from_bits_truncate(stat.st_mode & 0o777))?;
    }
    Ok(file)
}

/// Names the finished upload `dir/name`: a new name by `linkat` (an error if the name appeared
/// since), a replacement by `linkat` to a short hidden name then `renameat` over the old file.
fn give_name(file: &File, dir: &OwnedFd, name: &str, existing: &Existing) -> io::Result<()> {
    // An O_TMPFILE file is linked through its /proc/self/fd entry (AT_EMPTY_PATH would need
    // CAP_DAC_READ_SEARCH).
    let link = |to: &str| {
        let from = format!("/proc/self/fd/{}", file.as_raw_fd());
        linkat(AT_FDCWD, from.as_str(), dir, to, AtFlags::AT_SYMLINK_FOLLOW)
    };
    if let Existing::Nothing = existing {
        return link(name).map_err(|e| io::Error::other(format!("{name}: {}", e.desc())));
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let temp = loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = format!("{TEMP_PREFIX}{}-{n}", std::process::id());
        match link(&temp) {
            Ok(()) => break temp,
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    renameat(dir, temp.as_str(), dir, name).map_err(|e| {
        let _ = unlinkat(dir, temp.as_str(), UnlinkatFlags::NoRemoveDir);
        io::Error::from(e)
    })
}
