//! Shared memory (`shm_open` + `mmap`), and a counter in it: broken, then fixed by a semaphore.
//!
//! `shm_open` makes a named memory object (a file in `/dev/shm`), `ftruncate` gives it a size,
//! and `mmap(MAP_SHARED)` puts it in the address space; every process that maps it sees the
//! same bytes — no copy through the kernel, which is why it is the fastest IPC there is. And
//! why it is the most dangerous: **shared memory has no synchronisation of its own.**
//!
//! The lesson in three steps:
//! 1. [`SharedCounter::unlocked_increment`] reads the value and writes it plus one. Two
//!    processes doing that at once lose updates: both read 41, both write 42.
//!    [`forced_lost_update`] makes that interleaving happen on purpose, so the loss is
//!    certain, not a matter of luck; [`run_increments`] shows it happening by itself.
//! 2. [`SharedCounter::locked_increment`] does the same under a **process-shared semaphore**
//!    (`sem_init` with `pshared = 1`, the `sem_t` itself in the shared mapping): a binary
//!    semaphore used as a mutex. No update is lost.
//! 3. The value is an `AtomicU64` accessed with separate relaxed loads and stores, not
//!    `fetch_add`: that keeps step 1 a *race condition* (a wrong answer) without making it a
//!    *data race* (undefined behaviour). `sem_wait`/`sem_post` order the accesses in step 2.
//!
//! **Hygiene.** The name in `/dev/shm` stays until `shm_unlink`, even after every process has
//! exited. [`Segment::create`] unlinks it right after mapping — children made by `fork` inherit
//! the mapping, so they need no name — and nothing can be left behind even by SIGKILL.
//! [`Segment::create_named`] keeps the name for an unrelated peer to [`Segment::open`], and
//! unlinks it on drop.

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use multiprocess::spawn;
use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap, shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// A shared memory mapping of `len` bytes, zero-filled when created.
#[derive(Debug)]
pub struct Segment {
    ptr: NonNull<u8>,
    len: usize,
    /// The name to unlink on drop: set only for the creator of a named segment.
    unlink: Option<String>,
    name: String,
}

impl Segment {
    /// Creates and maps a segment whose name is unlinked at once: only this process and the
    /// children it forks from now on can reach it.
    pub fn create(len: usize) -> io::Result<Segment> {
        let mut segment = Segment::create_named(len)?;
        if let Some(name) = segment.unlink.take() {
            shm_unlink(name.as_str())?;
        }
        Ok(segment)
    }

    /// Creates and maps a segment under a unique name, which stays until drop.
    pub fn create_named(len: usize) -> io::Result<Segment> {
        let name = format!("/{}", crate::unique_name("shm"));
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC;
        let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)?;
        let mapped = nix::unistd::ftruncate(&fd, len as i64)
            .map_err(io::Error::from)
            .and_then(|()| map(&fd, len));
        match mapped {
            Ok(ptr) => Ok(Segment {
                ptr,
                len,
                unlink: Some(name.clone()),
                name,
            }),
            Err(e) => {
                let _ = shm_unlink(name.as_str()); // on error too: nothing left behind
                Err(e)
            }
        }
    }

    /// Maps an existing named segment (a peer); this handle never unlinks it.
    pub fn open(name: &str, len: usize) -> io::Result<Segment> {
        let fd = shm_open(name, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())?;
        Ok(Segment {
            ptr: map(&fd, len)?,
            len,
            unlink: None,
            name: name.to_string(),
        })
    }

    /// The name it was created under (unlinked already for [`Segment::create`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The start of the mapping (page-aligned).
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn map(fd: &OwnedFd, len: usize) -> io::Result<NonNull<u8>> {
    let length = NonZeroUsize::new(len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty segment"))?;
    // SAFETY: a fresh shared mapping at an address the kernel picks; it aliases no Rust object.
    // The descriptor may be closed afterwards: the mapping keeps the object alive.
    let ptr = unsafe {
        mmap(
            None,
            length,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            fd,
            0,
        )
    }?;
    Ok(ptr.cast())
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `map` with this length and is unmapped only here;
        // no reference into it outlives the Segment (every view borrows it).
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
        if let Some(name) = self.unlink.take() {
            let _ = shm_unlink(name.as_str());
        }
    }
}

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

/// The counter's semaphores: the lock, and two that script [`forced_lost_update`].
const LOCK: usize = 0;
const FIRST_HAS_READ: usize = 1;
const SECOND_HAS_WRITTEN: usize = 2;

/// A `u64` counter in shared memory, with a process-shared semaphore to lock it.
#[derive(Debug)]
pub struct SharedCounter {
    value: Segment,
    semaphores: Semaphores,
}

impl SharedCounter {
    /// A counter at 0, its lock free.
    pub fn new() -> io::Result<SharedCounter> {
        Ok(SharedCounter {
            value: Segment::create(size_of::<AtomicU64>())?,
            semaphores: Semaphores::new(&[1, 0, 0])?,
        })
    }

    fn value(&self) -> &AtomicU64 {
        // SAFETY: the segment is page-aligned, zero-filled (a valid 0), mapped for as long as
        // `self` lives, and only ever accessed atomically.
        unsafe { &*self.value.as_ptr().cast::<AtomicU64>() }
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.value().load(Ordering::SeqCst)
    }

    /// Step 1, broken: read, then write the value plus one. Between the two, another process
    /// may do the same, and one of the two updates is lost.
    pub fn unlocked_increment(&self) {
        let value = self.value().load(Ordering::Relaxed);
        self.value().store(value + 1, Ordering::Relaxed);
    }

    /// Step 2, fixed: the same read and write between `sem_wait` and `sem_post` on the shared
    /// semaphore, so no other process is between them at the same time.
    pub fn locked_increment(&self) -> io::Result<()> {
        // BEGIN SOLUTION: ipc-shm-counter
        self.semaphores.wait(LOCK)?;
        let value = self.value().load(Ordering::Relaxed);
        self.value().store(value + 1, Ordering::Relaxed);
        self.semaphores.post(LOCK)
        // END SOLUTION
    }

    /// Takes the lock if it is free; `false` if another process holds it.
    pub fn try_lock(&self) -> io::Result<bool> {
        self.semaphores.try_wait(LOCK)
    }

    /// Takes the lock, waiting for it.
    pub fn lock(&self) -> io::Result<()> {
        self.semaphores.wait(LOCK)
    }

    /// Releases the lock.
    pub fn unlock(&self) -> io::Result<()> {
        self.semaphores.post(LOCK)
    }
}

/// Forks `processes` children that each increment `counter` `each` times, locked or not, and
/// waits for them; returns the final value (`processes * each` if nothing was lost).
pub fn run_increments(
    counter: &SharedCounter,
    processes: usize,
    each: u64,
    locked: bool,
) -> io::Result<u64> {
    let mut children = Vec::new();
    for _ in 0..processes {
        children.push(spawn::fork_run(|| {
            for _ in 0..each {
                if locked {
                    if counter.locked_increment().is_err() {
                        return 1;
                    }
                } else {
                    counter.unlocked_increment();
                }
            }
            0
        })?);
    }
    // Reap every child before looking at any outcome: returning early would leave zombies.
    let outcomes: Vec<_> = children.into_iter().map(spawn::wait_for).collect();
    for outcome in outcomes {
        let outcome = outcome?;
        if !outcome.success() {
            return Err(io::Error::other(format!("an incrementer {outcome}")));
        }
    }
    Ok(counter.get())
}

/// Two unlocked increments, one by this process and one by a child, interleaved on purpose:
/// this process reads, the child reads the same value and writes it plus one, then this process
/// writes *its* value plus one over it. Returns the final value: 1, not 2.
pub fn forced_lost_update(counter: &SharedCounter) -> io::Result<u64> {
    let steps = &counter.semaphores;
    let start = counter.get();
    let child = spawn::fork_run(|| {
        if steps.wait(FIRST_HAS_READ).is_err() {
            return 1;
        }
        counter.unlocked_increment();
        i32::from(steps.post(SECOND_HAS_WRITTEN).is_err())
    })?;
    let value = counter.value().load(Ordering::Relaxed); // read…
    steps.post(FIRST_HAS_READ)?;
    steps.wait(SECOND_HAS_WRITTEN)?; // …the other process increments here…
    counter.value().store(value + 1, Ordering::Relaxed); // …and this write erases its update.
    let outcome = spawn::wait_for(child)?;
    if !outcome.success() {
        return Err(io::Error::other(format!(
            "the second incrementer {outcome}"
        )));
    }
    Ok(counter.get() - start)
}

/// The names in `/dev/shm` that process `pid` created (`labs-shm-<pid>-…`): for leak checks.
pub fn leftover_names(pid: u32) -> io::Result<Vec<String>> {
    let prefix = format!("labs-shm-{pid}-");
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/dev/shm")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) {
            names.push(name);
        }
    }
    Ok(names)
}
