//! What [`copy_dir`](super::copy_dir) refuses before it touches anything: a missing source, a
//! destination inside the source (the copy would copy itself, forever), an existing non-empty
//! destination without `force`.

use std::fs;
use std::path::{Path, PathBuf};

use super::Refused;

/// Refuses what cannot be done: a missing source, a destination inside the source, an
/// existing non-empty destination without `force`.
pub(super) fn check_request(src: &Path, dst: &Path, force: bool) -> Result<(), Refused> {
    let src_real = fs::canonicalize(src)
        .map_err(|e| Refused(format!("cannot read the source {}: {e}", src.display())))?;
    if !src_real.is_dir() {
        return Err(Refused(format!(
            "the source {} is not a directory",
            src.display()
        )));
    }
    let dst_real = where_it_would_be(dst)?;
    if dst_real.starts_with(&src_real) {
        return Err(Refused(format!(
            "the destination {} is inside the source {}: the copy would copy itself",
            dst.display(),
            src.display()
        )));
    }
    if dst_real.exists() {
        if !dst_real.is_dir() {
            return Err(Refused(format!(
                "the destination {} exists and is not a directory",
                dst.display()
            )));
        }
        let empty = fs::read_dir(&dst_real)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty && !force {
            return Err(Refused(format!(
                "the destination {} exists and is not empty; pass --force to copy into it",
                dst.display()
            )));
        }
    }
    Ok(())
}

/// The real path `dst` names, or would name once created: its nearest existing ancestor,
/// canonicalized (symlinks and `..` resolved), joined with the parts still to be created.
fn where_it_would_be(dst: &Path) -> Result<PathBuf, Refused> {
    let absolute = std::path::absolute(dst)
        .map_err(|e| Refused(format!("cannot resolve {}: {e}", dst.display())))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    loop {
        match fs::canonicalize(existing) {
            Ok(real) => {
                return Ok(missing
                    .iter()
                    .rev()
                    .fold(real, |path, part| path.join(part)));
            }
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    missing.push(name.to_owned());
                    existing = parent;
                }
                _ => return Err(Refused(format!("cannot create {}", dst.display()))),
            },
        }
    }
}
