//! The workspace's own thread pool: fixed workers over one bounded channel.
//!
//! Starting a thread costs tens of microseconds and a stack; a pool pays that once and then
//! hands each job to a thread that already exists. This one is small enough to read whole:
//!
//! - **Fixed workers over a channel.** `new(workers, queue)` starts the threads; every worker
//!   loops on `recv` from the one [`mpsc::sync_channel`], whose `Receiver` they share behind a
//!   `Mutex` (std's `Receiver` has one owner; the lock makes the workers take turns waiting).
//! - **A bounded queue with back-pressure.** At most `queue` jobs wait; [`ThreadPool::execute`]
//!   then *blocks* the submitter until a worker takes one, so a producer faster than the pool is
//!   slowed down instead of filling memory. [`ThreadPool::try_execute`] says `Full` instead.
//! - **Panics contained.** A job that panics does not take the pool down: the worker catches the
//!   unwind, counts it, starts a fresh thread in its place (the old stack unwound through the
//!   job's code; a new thread starts clean) and ends. [`ThreadPool::submit`]'s caller gets
//!   `Err(JobError::Panicked(message))` from [`JobHandle::join`].
//! - **Graceful shutdown on drop.** Dropping the pool closes the channel; the workers finish
//!   every job already queued (`recv` keeps returning them until the channel is empty *and*
//!   closed), then see the end and return; `drop` joins them all.
//!
//! Side by side with the [`threadpool`] crate (which the benchmark runs against this one): the
//! same design — a shared `Mutex<Receiver>`, a sentinel that replaces a panicked worker — but its
//! queue is unbounded (no back-pressure), its drop does not wait (`join` must be called), and a
//! job's result or panic does not reach the submitter.
//!
//! The pitfall: a job that blocks forever holds its worker forever. A pool of N serves at most N
//! blocking jobs at once — the next one waits in the queue; see `per_thread_server`.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed-size pool of worker threads fed through a bounded queue.
#[derive(Debug)]
pub struct ThreadPool {
    /// The submitting end; `None` once shutdown has begun (dropping it closes the channel).
    sender: Option<SyncSender<Job>>,
    shared: Arc<Shared>,
    size: usize,
}

/// What the workers share.
#[derive(Debug)]
struct Shared {
    /// The one receiving end; a worker holds the lock only while it waits for the next job.
    receiver: Mutex<Receiver<Job>>,
    /// Every worker thread that may still be running; a replacement is pushed here *before*
    /// the worker it replaces ends, so shutdown never misses one.
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// Jobs that panicked.
    panicked: AtomicUsize,
}

/// Why a job could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full (`try_execute` only).
    Full,
    /// The pool is shutting down.
    Closed,
}

/// Why a submitted job produced no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked with this message.
    Panicked(String),
    /// The job was dropped without running (the pool was torn down around it).
    Lost,
}

/// The result of a job given to [`ThreadPool::submit`].
#[derive(Debug)]
pub struct JobHandle<T> {
    result: Receiver<Result<T, JobError>>,
}

impl<T> JobHandle<T> {
    /// Waits for the job to finish; its value, or why there is none.
    pub fn join(self) -> Result<T, JobError> {
        self.result.recv().unwrap_or(Err(JobError::Lost))
    }
}

impl ThreadPool {
    /// Starts `workers` threads (at least one) and a queue of `queue` waiting jobs (0: a job is
    /// handed over only when a worker is free to take it).
    pub fn new(workers: usize, queue: usize) -> io::Result<ThreadPool> {
        let (sender, receiver) = mpsc::sync_channel(queue);
        let shared = Arc::new(Shared {
            receiver: Mutex::new(receiver),
            workers: Mutex::new(Vec::new()),
            panicked: AtomicUsize::new(0),
        });
        let size = workers.max(1);
        for id in 0..size {
            start_worker(&shared, id)?;
        }
        Ok(ThreadPool {
            sender: Some(sender),
            shared,
            size,
        })
    }

    /// Queues `job`, blocking while the queue is full.
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), SubmitError> {
        let sender = self.sender.as_ref().ok_or(SubmitError::Closed)?;
        sender.send(Box::new(job)).map_err(|_| SubmitError::Closed)
    }

    /// Queues `job` if there is room now.
    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), SubmitError> {
        let sender = self.sender.as_ref().ok_or(SubmitError::Closed)?;
        sender.try_send(Box::new(job)).map_err(|e| match e {
            TrySendError::Full(_) => SubmitError::Full,
            TrySendError::Disconnected(_) => SubmitError::Closed,
        })
    }

    /// Queues `work` (blocking while the queue is full) and returns a handle to its result.
    pub fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<JobHandle<T>, SubmitError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.execute(move || match catch_unwind(AssertUnwindSafe(work)) {
            Ok(value) => {
                let _ = tx.send(Ok(value));
            }
            Err(payload) => {
                let message = labkit::panic::message(&*payload);
                let _ = tx.send(Err(JobError::Panicked(message.clone())));
                // Let the worker see the panic too, so it is counted and the worker replaced.
                resume_unwind(Box::new(message));
            }
        })?;
        Ok(JobHandle { result: rx })
    }

    /// How many workers the pool keeps.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many jobs have panicked so far.
    pub fn panicked(&self) -> usize {
        self.shared.panicked.load(Ordering::SeqCst)
    }
}

impl Drop for ThreadPool {
    /// Finishes every queued job, then joins every worker.
    fn drop(&mut self) {
        // BEGIN SOLUTION: mt-pool-shutdown
        // Closing the channel is the signal: a worker's `recv` fails only once the queue is
        // empty *and* no sender is left, so every queued job still runs.
        drop(self.sender.take());
        loop {
            // Take one handle at a time: a worker that panics pushes its replacement while we
            // wait, so the list is only final once it is empty after a join.
            let next = lock(&self.shared.workers).pop();
            let Some(worker) = next else { break };
            // A worker never panics out of its loop (jobs run under catch_unwind).
            let _ = worker.join();
        }
        // END SOLUTION
    }
}

/// Starts worker `id` and records its handle.
fn start_worker(shared: &Arc<Shared>, id: usize) -> io::Result<()> {
    let for_worker = Arc::clone(shared);
    let handle = thread::Builder::new()
        .name(format!("pool-worker-{id}"))
        .spawn(move || work(for_worker, id))?;
    lock(&shared.workers).push(handle);
    Ok(())
}

/// A worker's life: take a job, run it, repeat until the channel is closed and empty.
fn work(shared: Arc<Shared>, id: usize) {
    loop {
        // The guard is a temporary of this statement: the lock is released before the job runs.
        let next = lock(&shared.receiver).recv();
        let Ok(job) = next else {
            return; // closed and drained: the pool is shutting down
        };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            shared.panicked.fetch_add(1, Ordering::SeqCst);
            // Replace this thread, then end it. If no thread can be made, this one carries on.
            if start_worker(&shared, id).is_ok() {
                return;
            }
        }
    }
}

/// Locks `mutex`; a poisoned lock is still usable (the data is a handle list or a receiver,
/// which a panic elsewhere cannot leave half-changed).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
