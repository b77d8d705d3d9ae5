//! Process-shared semaphores (`sem_init` with `pshared = 1`), the `sem_t`s themselves in an
//! unnamed [`Segment`]: a lock or a signal between a process and the children it forks.

use std::io;

use super::Segment;

/// `n` process-shared semaphores (`sem_init` with `pshared = 1`) in an unnamed segment: they
/// work between this process and the children it forks afterwards.
#[derive(Debug)]
pub struct Semaphores {
    segment: Segment,
    count: usize,
}

impl Semaphores {
    /// `initial.len()` semaphores with these initial values.
    pub fn new(initial: &[u32]) -> io::Result<Semaphores> {
        let segment = Segment::create(size_of::<libc::sem_t>() * initial.len().max(1))?;
        let semaphores = Semaphores {
            segment,
            count: initial.len(),
        };
        for (index, &value) in initial.iter().enumerate() {
            // SAFETY: `sem(index)` points into the mapping, aligned for sem_t (an array at a
            // page start); pshared = 1 because other processes will use it through the mapping.
            if unsafe { libc::sem_init(semaphores.sem(index), 1, value) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(semaphores)
    }

    fn sem(&self, index: usize) -> *mut libc::sem_t {
        assert!(index < self.count, "semaphore {index} of {}", self.count);
        // SAFETY: in bounds of the sem_t array in the mapping (checked above).
        unsafe { self.segment.as_ptr().cast::<libc::sem_t>().add(index) }
    }

    /// `sem_wait`: takes one unit of semaphore `index`, waiting for it; retried on `EINTR` (a
    /// signal handler ran while it waited).
    pub fn wait(&self, index: usize) -> io::Result<()> {
        loop {
            // SAFETY: an initialised semaphore in a mapping that outlives the call.
            if unsafe { libc::sem_wait(self.sem(index)) } == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// `sem_timedwait`: like [`wait`](Self::wait), but `Ok(false)` after `timeout`.
    pub fn wait_timeout(&self, index: usize, timeout: std::time::Duration) -> io::Result<bool> {
        let until = nix::time::ClockId::CLOCK_REALTIME.now()?
            + nix::sys::time::TimeSpec::from_duration(timeout);
        loop {
            // SAFETY: as in `wait`; `until` is a valid timespec.
            if unsafe { libc::sem_timedwait(self.sem(index), until.as_ref()) } == 0 {
                return Ok(true);
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ETIMEDOUT) => return Ok(false),
                _ => return Err(e),
            }
        }
    }

    /// `sem_trywait`: takes one unit if there is one; `Ok(false)` if it would have to wait.
    pub fn try_wait(&self, index: usize) -> io::Result<bool> {
        // SAFETY: as in `wait`.
        if unsafe { libc::sem_trywait(self.sem(index)) } == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EAGAIN) => Ok(false),
            e => Err(e),
        }
    }

    /// `sem_post`: gives one unit back (wakes one waiter).
    pub fn post(&self, index: usize) -> io::Result<()> {
        // SAFETY: as in `wait`.
        if unsafe { libc::sem_post(self.sem(index)) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}
