//! What an idle thread and an idle process cost in memory (the course's "resources of threads
//! vs processes" exercise), read from `/proc` (Linux).
//!
//! A thread's stack is *reserved* (8 MiB of address space by default) but only the pages it
//! touches are resident, so an idle thread costs a few KiB of RSS — plus kernel memory for its
//! task structure that RSS does not show. A process has its own page tables, its own heap and
//! its own copy of every page it writes; its code and shared libraries are shared with the
//! other processes running the same program. So a process's **RSS** (every resident page it
//! maps, shared ones included) overstates what one more process costs; its **PSS** (each shared
//! page divided among the processes sharing it) is the fair share.
//!
//! The pitfall: `VmRSS` of a process with 1,000 threads counts their stacks once, in that
//! process; summing `VmRSS` over 1,000 processes counts the shared libraries 1,000 times.

use std::io;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;

use benchkit::Worker;

/// A `kB` field (`VmRSS:`, `Rss:`, `Pss:`) of a `/proc` file, in KiB.
pub fn proc_kib(path: &str, field: &str) -> io::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no {field} in {path}")))
}

/// The resident memory of this process, in KiB.
pub fn self_rss_kib() -> io::Result<u64> {
    proc_kib("/proc/self/status", "VmRSS:")
}

/// RSS of this process before and while `count` idle threads exist, in KiB.
pub fn idle_threads(count: usize) -> io::Result<(u64, u64)> {
    let before = self_rss_kib()?;
    let started = Arc::new(Barrier::new(count + 1));
    let release = Arc::new(Barrier::new(count + 1));
    let mut handles = Vec::with_capacity(count);
    for _ in 0..count {
        let (started, release) = (Arc::clone(&started), Arc::clone(&release));
        handles.push(thread::Builder::new().spawn(move || {
            started.wait();
            release.wait(); // idle: blocked until measured
        })?);
    }
    started.wait();
    let during = self_rss_kib();
    release.wait();
    for handle in handles {
        let _ = handle.join();
    }
    Ok((before, during?))
}

/// Average RSS and PSS (KiB) of `count` idle processes, each `program --idle`, which prints
/// `ready` and waits for its stdin to close. Every child is reaped, on error too (a
/// `benchkit::Worker` closes its stdin and waits for it on drop).
pub fn idle_processes(program: &Path, count: usize) -> io::Result<(u64, u64)> {
    let mut children = Vec::with_capacity(count);
    for _ in 0..count {
        children.push(start_idle(program)?);
    }
    let measured = children.iter().try_fold((0, 0), |(rss, pss), child| {
        let rollup = format!("/proc/{}/smaps_rollup", child.pid());
        Ok::<_, io::Error>((
            rss + proc_kib(&rollup, "Rss:")?,
            pss + proc_kib(&rollup, "Pss:")?,
        ))
    });
    children.iter_mut().for_each(Worker::close_stdin); // EOF to all first: they end together
    drop(children);
    let (rss, pss) = measured?;
    let n = count.max(1) as u64;
    Ok((rss / n, pss / n))
}

fn start_idle(program: &Path) -> io::Result<Worker> {
    let mut child = Worker::start_program(program, ["--idle"])?;
    let line = child.read_line()?;
    if line != "ready" {
        return Err(io::Error::other(format!("an idle child said {line:?}")));
    }
    Ok(child)
}

/// What an idle child does: say `ready`, then wait for stdin to close.
pub fn be_idle() -> io::Result<()> {
    println!("ready");
    io::copy(&mut io::stdin().lock(), &mut io::sink())?;
    Ok(())
}
