//! Directory listings: `LIST` in the `ls -l` format every client parses, `NLST` as bare names.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag, readlinkat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};

use super::path::{Denied, Root, kind};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One listed name: its `lstat`, and where it points if it is a symlink.
struct Entry {
    name: OsString,
    stat: FileStat,
    target: Option<OsString>,
}

/// The listing of the virtual path `path` (a directory's entries, sorted, or one file), one
/// CRLF-terminated line per entry: `ls -l` lines when `long`, names otherwise.
///
/// Every entry is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` on the directory's
/// descriptor, so the listing shows what is really there — `d`, `-`, `l`, `p` (a FIFO), `s`,
/// `c`, `b` — and never follows a link to do it. Upload temp files (see `write`) are left out,
/// and so are symlinks that do not resolve beneath the root: their target text would tell the
/// client about the world outside.
pub fn listing(root: &Root, path: &str, long: bool) -> Result<String, Denied> {
    let fd = root.open(path, OFlag::O_PATH)?;
    let stat = fstat(&fd)?;
    let entries = if kind(&stat) == SFlag::S_IFDIR {
        dir_entries(root, path, &fd)?
    } else {
        let name = Path::new(path).file_name().unwrap_or_default();
        vec![Entry {
            name: name.to_os_string(),
            stat,
            target: None,
        }]
    };
    let mut text = String::new();
    for entry in &entries {
        let name = entry.name.to_string_lossy();
        if long {
            text.push_str(&long_line(&name, &entry.stat));
            if let Some(target) = &entry.target {
                text.push_str(&format!(" -> {}", target.to_string_lossy()));
            }
        } else {
            text.push_str(&name);
        }
        text.push_str("\r\n");
    }
    Ok(text)
}

/// The entries of the directory `fd` (`path` in the tree), sorted by name.
fn dir_entries(root: &Root, path: &str, fd: &OwnedFd) -> Result<Vec<Entry>, Denied> {
    let mut entries = Vec::new();
    let mut dir = Dir::openat(fd, ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty())?;
    for entry in dir.iter() {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." || super::write::is_upload_temp(name) {
            continue;
        }
        let Ok(stat) = fstatat(fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue; // removed since the directory was read
        };
        let target = if kind(&stat) == SFlag::S_IFLNK {
            if root
                .open(Path::new(path).join(name), OFlag::O_PATH)
                .is_err()
            {
                continue; // leads out of the root, or nowhere
            }
            Some(readlinkat(fd.as_fd(), name)?)
        } else {
            None
        };
        entries.push(Entry {
            name: name.to_os_string(),
            stat,
            target,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The `ls -l` letter for a file type.
fn type_letter(stat: &FileStat) -> char {
    match kind(stat) {
        SFlag::S_IFDIR => 'd',
        SFlag::S_IFLNK => 'l',
        SFlag::S_IFIFO => 'p',
        SFlag::S_IFSOCK => 's',
        SFlag::S_IFCHR => 'c',
        SFlag::S_IFBLK => 'b',
        _ => '-',
    }
}

/// `-rw-r--r-- 1 ftp ftp 1234 Mar 05 2026 name`
fn long_line(name: &str, stat: &FileStat) -> String {
    let mut perms = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (stat.st_mode >> shift) & 0o7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let (year, month, day) = civil_date(stat.st_mtime);
    format!(
        "{}{perms} {:>3} ftp ftp {:>12} {} {day:02} {year} {name}",
        type_letter(stat),
        stat.st_nlink,
        stat.st_size,
        MONTHS[month as usize - 1],
    )
}

/// The UTC calendar date of `secs` since the epoch (days-from-civil inverted; H. Hinnant's
/// algorithm).
fn civil_date(secs: i64) -> (i64, u32, u32) {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_767_225_600), (2026, 1, 1));
    }
}
