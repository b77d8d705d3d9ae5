//! CPU pinning: run the calling thread on one CPU until the guard is dropped.
//!
//! Why a bench pins: a loopback round trip or a pipe message is two wake-ups, and where the two
//! sides run decides their cost more than the mechanism under test does. On a (virtual)
//! machine a wake-up on another, idle CPU costs tens of µs (an inter-processor interrupt to a
//! halted vCPU), one on the same CPU a context switch, and the scheduler moves between the two
//! placements from one run to the next: unpinned, the same model measured ~15 µs and ~60 µs in
//! back-to-back runs. Pinned, every variant pays the same fixed cost and the differences are the
//! variants'. The side effect to keep in mind: two processes pinned to one CPU never run at the
//! same time, so work one does after answering is part of the other's round trip.
//!
//! Affinity is per thread (`sched_setaffinity(0, …)`), inherited by the threads and processes
//! the thread starts afterwards: pin at the start of `main`, or in a child right after `fork`.

use std::io;

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The calling thread pinned to one CPU; the affinity it had comes back on drop.
#[derive(Debug)]
pub struct Pinned {
    before: CpuSet,
}

/// Pins the calling thread to `cpu`; an error names the CPU (it may not exist or not be allowed).
pub fn pin_to(cpu: usize) -> io::Result<Pinned> {
    let me = Pid::from_raw(0);
    let before = sched_getaffinity(me).map_err(io::Error::from)?;
    let mut only = CpuSet::new();
    only.set(cpu)
        .and_then(|()| sched_setaffinity(me, &only))
        .map_err(|e| {
            io::Error::other(format!(
                "cannot pin to CPU {cpu} ({e}); try another --cpu, or --no-pin"
            ))
        })?;
    Ok(Pinned { before })
}

/// How many CPUs the calling thread may run on now (1 once pinned).
pub fn usable_cpus() -> usize {
    sched_getaffinity(Pid::from_raw(0)).map_or(1, |set| {
        (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .count()
    })
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = sched_setaffinity(Pid::from_raw(0), &self.before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_narrows_this_thread_to_one_cpu_and_drop_restores_it() {
        // On a thread of its own: affinity is per thread, so other tests are not touched.
        std::thread::spawn(|| {
            let before = usable_cpus();
            let pinned = pin_to(0).unwrap();
            assert_eq!(usable_cpus(), 1);
            // A thread started now inherits the pin.
            assert_eq!(std::thread::spawn(usable_cpus).join().unwrap(), 1);
            drop(pinned);
            assert_eq!(usable_cpus(), before);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_cpu_that_does_not_exist_is_a_clear_error() {
        let error = pin_to(CpuSet::count() + 1).unwrap_err().to_string();
        assert!(error.starts_with("cannot pin to CPU"), "{error}");
    }
}
