//! Directory listings: `LIST` in the `ls -l` format every client parses, `NLST` as bare names.

use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Writes the listing of `path` (a directory's entries, sorted, or one file) to `out`, one
/// CRLF-terminated line per entry: `ls -l` lines when `long`, names otherwise. Upload temp
/// files (see `transfer`) are left out, and so are symlinks leading outside `root` (listing
/// them would tell the client the size and date of a file outside).
pub fn write_listing(root: &Path, path: &Path, long: bool, out: &mut impl Write) -> io::Result<()> {
    let meta = fs::metadata(path)?;
    let mut entries: Vec<(String, Metadata)> = Vec::new();
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if super::transfer::is_upload_temp(&name) {
                continue;
            }
            // Follow symlinks for the type and size, as `ls -lL` does; a dangling one is skipped.
            let inside = entry
                .path()
                .canonicalize()
                .is_ok_and(|target| target.starts_with(root));
            if let (true, Ok(meta)) = (inside, fs::metadata(entry.path())) {
                entries.push((name, meta));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        entries.push((name, meta));
    }
    let mut text = String::new();
    for (name, meta) in &entries {
        if long {
            text.push_str(&long_line(name, meta));
        } else {
            text.push_str(name);
        }
        text.push_str("\r\n");
    }
    out.write_all(text.as_bytes())
}

/// `-rw-r--r-- 1 ftp ftp 1234 Mar 05 2026 name`
fn long_line(name: &str, meta: &Metadata) -> String {
    let kind = if meta.is_dir() { 'd' } else { '-' };
    let mode = meta.permissions().mode();
    let mut perms = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let (year, month, day) = civil_date(meta.modified().unwrap_or(UNIX_EPOCH));
    format!(
        "{kind}{perms} {:>3} ftp ftp {:>12} {} {day:02} {year} {name}",
        meta.nlink(),
        meta.len(),
        MONTHS[month as usize - 1],
    )
}

/// The UTC calendar date of `time` (days-from-civil inverted; H. Hinnant's algorithm).
fn civil_date(time: SystemTime) -> (i64, u32, u32) {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
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
    use std::time::Duration;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(UNIX_EPOCH), (1970, 1, 1));
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(civil_date(leap_day), (2000, 2, 29));
        let later = UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        assert_eq!(civil_date(later), (2026, 1, 1));
    }
}
