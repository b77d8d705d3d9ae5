//! Copies a directory tree with a pool of worker processes and a progress bar fed by the
//! workers through one pipe.
//!
//! Run:    cargo run -p multiprocess --example copy_dir -- SRC DST --workers 4
//! Output: (a progress bar on the terminal: bytes, rate, ETA), then
//!         copied 304 files (77.1 MiB), 25 directories, 2 symlinks with 4 workers (4 did work)
//! Errors: each file that cannot be copied is named on stderr; the rest are copied and the exit
//!         status is 1. DST inside SRC, or an existing non-empty DST without --force, is refused.
//! With --force, nothing outside DST is written: a symlink inside DST is never followed, and one
//! where SRC has a directory is replaced (`note: sub: a symlink in the destination, replaced by
//! a directory (its target untouched)`). Names need not be UTF-8; sparse files stay sparse.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use multiprocess::copy_dir::{self, Options};

/// Copies SRC to DST: files by a process pool, symlinks as symlinks, permissions kept.
#[derive(Parser)]
struct Args {
    /// The directory to copy.
    src: PathBuf,
    /// Where to copy it (created if missing).
    dst: PathBuf,
    /// Worker processes.
    #[arg(long, default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    workers: usize,
    /// Copy into an existing, non-empty DST, overwriting files.
    #[arg(long)]
    force: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let bar = ProgressBar::new(copy_dir::total_bytes(&args.src));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
            .expect("a valid template"),
    );
    let shown = bar.clone();
    let options = Options {
        workers: args.workers,
        force: args.force,
    };
    let summary = match copy_dir::copy_dir(&args.src, &args.dst, options, move |done| {
        shown.set_position(done)
    }) {
        Ok(summary) => summary,
        Err(refused) => {
            bar.abandon();
            eprintln!("copy_dir: {refused}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    println!(
        "copied {} ({:.1} MiB), {}, {} with {} ({} did work)",
        count(summary.files, "file"),
        summary.bytes as f64 / (1 << 20) as f64,
        count(summary.dirs, "directory"),
        count(summary.symlinks, "symlink"),
        count(args.workers, "worker"),
        summary.workers_used.len()
    );
    for note in &summary.notes {
        eprintln!("note: {note}");
    }
    for error in &summary.errors {
        eprintln!("error: {error}");
    }
    if summary.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `1 file`, `2 files`; `1 directory`, `2 directories`.
fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}
