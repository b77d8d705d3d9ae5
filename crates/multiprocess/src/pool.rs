//! A prefork process pool: `Pool::new(n, job)`, `apply`, `map`, `close`, `join`.
//!
//! Python's `multiprocessing.Pool`, made of real processes. `Pool::new` forks `n` workers up
//! front (prefork); each has two pipes — tasks in, results out — that carry frames of JSON
//! ([`crate::frame`]). A worker reads a task, runs `job` on it, writes the reply, and waits for
//! the next; when its task pipe reaches EOF ([`close`](Pool::close)) it exits 0.
//! [`map`](Pool::map) hands one task to each idle worker, waits with `poll(2)` for whichever
//! answers first, and returns the results in the order of the tasks.
//!
//! What a real pool must not do is lose work:
//!
//! - a task that **panics** is caught in the worker (`catch_unwind`) and comes back as
//!   [`TaskError::Panicked`] with the message; the worker lives on;
//! - a worker that **dies** mid-task (SIGKILL, a segfault, `abort`) shows up as EOF on its
//!   result pipe. The pool reaps it (no zombie), forks a replacement, and runs the task again —
//!   up to [`Pool::retries`] more times — before reporting [`TaskError::WorkerDied`] with the
//!   signal. A task that kills every worker it touches is reported, not retried forever.
//!
//! Workers die with the pool's process: an idle worker sees EOF on its task pipe, and a busy
//! one is killed by `PR_SET_PDEATHSIG` ([`spawn::fork_run_tied`]).
//!
//! Pitfall: every worker inherits every descriptor of the parent, including the other workers'
//! task pipes. If it kept them, closing a pipe would not give its worker EOF and `join` would
//! hang; the parent's ends are [`ParentEnd`]s, which each child closes (see [`crate::spawn`]).

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::fd::AsFd;

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{Pid, pipe2};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::frame;
use crate::spawn::{self, Outcome, ParentEnd};

/// What a worker sends back for one task: the job's value, or its panic message.
type Reply<R> = Result<R, String>;

/// Why a task has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The job panicked with this message.
    Panicked(String),
    /// Every worker that ran the task died before answering; the last one ended so.
    WorkerDied {
        /// How the last worker ended (e.g. killed by SIGKILL).
        outcome: Outcome,
        /// How many times the task was started.
        attempts: u32,
    },
    /// The worker's reply did not decode as the job's result type.
    BadReply(String),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Panicked(message) => write!(f, "the task panicked: {message}"),
            TaskError::WorkerDied { outcome, attempts } => write!(
                f,
                "the worker running the task {outcome}, {attempts} time(s); giving up"
            ),
            TaskError::BadReply(e) => write!(f, "the worker's reply did not decode: {e}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// One worker process and the parent's ends of its two pipes.
#[derive(Debug)]
struct Worker {
    pid: Pid,
    /// Tasks go in here; `None` after [`Pool::close`] (the worker then sees EOF and exits).
    tasks: Option<ParentEnd>,
    results: ParentEnd,
    /// The task it is running: (index in the current `map`, attempt number).
    running: Option<(usize, u32)>,
}

/// A pool of worker processes running `job`; see the module docs.
pub struct Pool<T, R> {
    job: Box<dyn Fn(T) -> R>,
    workers: Vec<Worker>,
    retries: u32,
    replaced: usize,
}

impl<T, R> fmt::Debug for Pool<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers)
            .field("retries", &self.retries)
            .field("replaced", &self.replaced)
            .finish()
    }
}

impl<T, R> Pool<T, R>
where
    T: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    /// Forks `workers` processes that run `job` (at least one). The closure is copied into
    /// each worker by `fork`, so it may capture anything — it is never sent anywhere.
    pub fn new(workers: usize, job: impl Fn(T) -> R + 'static) -> io::Result<Pool<T, R>> {
        let mut pool = Pool {
            job: Box::new(job),
            workers: Vec::new(),
            retries: 1,
            replaced: 0,
        };
        for _ in 0..workers.max(1) {
            let worker = pool.spawn_worker()?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// How many more times a task is started after its worker died running it (default 1).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Runs one task on some worker and returns its result.
    pub fn apply(&mut self, task: T) -> io::Result<Result<R, TaskError>> {
        Ok(self.map([task])?.remove(0))
    }

    /// Runs every task on the workers, as many at once as there are workers, and returns the
    /// results in the order of the tasks.
    pub fn map(
        &mut self,
        tasks: impl IntoIterator<Item = T>,
    ) -> io::Result<Vec<Result<R, TaskError>>> {
        let encoded: Vec<Vec<u8>> = tasks
            .into_iter()
            .map(|task| serde_json::to_vec(&task).map_err(io::Error::other))
            .collect::<io::Result<_>>()?;
        let mut results: Vec<Option<Result<R, TaskError>>> = encoded.iter().map(|_| None).collect();
        let mut queue: VecDeque<(usize, u32)> = (0..encoded.len()).map(|i| (i, 1)).collect();
        let mut unfinished = encoded.len();
        while unfinished > 0 {
            self.hand_out(&mut queue, &encoded)?;
            for slot in self.wait_for_replies()? {
                let (index, attempt) = self.workers[slot].running.take().expect("busy worker");
                match frame::read_frame(&mut self.workers[slot].results) {
                    Ok(Some(bytes)) => {
                        results[index] = Some(decode_reply(&bytes));
                        unfinished -= 1;
                    }
                    // EOF (or half a frame): the worker died running the task.
                    Ok(None) | Err(_) => {
                        if let Some(failure) = self.worker_died(slot, index, attempt, &mut queue)? {
                            results[index] = Some(Err(failure));
                            unfinished -= 1;
                        }
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every task finished"))
            .collect())
    }

    /// Worker `slot` died running task `index` (its `attempt`-th start): reaps it, forks a
    /// replacement in its slot, and either queues the task again or returns why it failed.
    fn worker_died(
        &mut self,
        slot: usize,
        index: usize,
        attempt: u32,
        queue: &mut VecDeque<(usize, u32)>,
    ) -> io::Result<Option<TaskError>> {
        // BEGIN SOLUTION: mp-pool-replace
        let outcome = self.replace(slot)?;
        if attempt <= self.retries {
            // First in line: a retried task should not wait behind the whole queue.
            queue.push_front((index, attempt + 1));
            Ok(None)
        } else {
            Ok(Some(TaskError::WorkerDied {
                outcome,
                attempts: attempt,
            }))
        }
        // END SOLUTION
    }

    /// Gives queued tasks to idle workers. A worker found dead while idle is replaced and the
    /// task goes to the replacement (it never started, so it is not an attempt).
    fn hand_out(
        &mut self,
        queue: &mut VecDeque<(usize, u32)>,
        encoded: &[Vec<u8>],
    ) -> io::Result<()> {
        for slot in 0..self.workers.len() {
            if self.workers[slot].running.is_some() {
                continue;
            }
            let Some((index, attempt)) = queue.pop_front() else {
                return Ok(());
            };
            loop {
                let tasks = self.workers[slot]
                    .tasks
                    .as_mut()
                    .ok_or_else(|| io::Error::other("the pool is closed"))?;
                match frame::write_frame(tasks, &encoded[index]) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                        self.replace(slot)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            self.workers[slot].running = Some((index, attempt));
        }
        Ok(())
    }

    /// Waits until at least one busy worker has something to say (a reply, or EOF because it
    /// died); returns their slots.
    fn wait_for_replies(&self) -> io::Result<Vec<usize>> {
        let busy: Vec<usize> = (0..self.workers.len())
            .filter(|&slot| self.workers[slot].running.is_some())
            .collect();
        let mut fds: Vec<PollFd> = busy
            .iter()
            .map(|&slot| PollFd::new(self.workers[slot].results.as_fd(), PollFlags::POLLIN))
            .collect();
        loop {
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // POLLHUP without POLLIN is how a dead worker's pipe looks: report it too.
        Ok(busy
            .into_iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(slot, _)| slot)
            .collect())
    }

    /// Reaps the worker in `slot` and forks a fresh one in its place; returns how the old one
    /// ended.
    fn replace(&mut self, slot: usize) -> io::Result<Outcome> {
        let fresh = self.spawn_worker()?;
        let old = std::mem::replace(&mut self.workers[slot], fresh);
        drop(old.tasks);
        let outcome = spawn::wait_for(old.pid)?;
        self.replaced += 1;
        Ok(outcome)
    }

    /// Forks one worker with its own pair of pipes.
    fn spawn_worker(&self) -> io::Result<Worker> {
        let (task_read, task_write) = pipe2(OFlag::O_CLOEXEC)?;
        let (result_read, result_write) = pipe2(OFlag::O_CLOEXEC)?;
        // Registered before the fork, so the new child closes them too.
        let tasks = ParentEnd::new(task_write);
        let results = ParentEnd::new(result_read);
        let job = &self.job;
        // Tied: a worker busy on a long task dies with the pool's process, instead of
        // finishing it as an orphan (an idle one would see EOF on its task pipe anyway).
        let pid = spawn::fork_run_tied(move || {
            serve_tasks(job, File::from(task_read), File::from(result_write))
        })?;
        // The child's ends moved into the closure and were closed with it, in the parent.
        Ok(Worker {
            pid,
            tasks: Some(tasks),
            results,
            running: None,
        })
    }
}

impl<T, R> Pool<T, R> {
    /// The pids of the current workers.
    pub fn pids(&self) -> Vec<Pid> {
        self.workers.iter().map(|w| w.pid).collect()
    }

    /// How many workers died and were replaced so far.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// No more tasks: every worker sees EOF on its task pipe and exits after its current task.
    pub fn close(&mut self) {
        for worker in &mut self.workers {
            worker.tasks = None;
        }
    }

    /// Closes the pool and waits for every worker to exit; returns how each ended.
    pub fn join(&mut self) -> io::Result<Vec<Outcome>> {
        self.close();
        self.workers
            .drain(..)
            .map(|worker| spawn::wait_for(worker.pid))
            .collect()
    }
}

impl<T, R> Drop for Pool<T, R> {
    /// Closes and joins: no worker is left running or a zombie.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// The worker's loop, in the child: read a task, run the job, send the reply, until EOF.
/// Returns the worker's exit status.
fn serve_tasks<T, R>(job: &dyn Fn(T) -> R, mut tasks: File, mut results: File) -> i32
where
    T: DeserializeOwned,
    R: Serialize,
{
    // Panics are reported to the parent, not printed (see `spawn::fork_run`).
    loop {
        let bytes = match frame::read_frame(&mut tasks) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return 0, // the pool was closed
            Err(_) => return 1,
        };
        let reply: Reply<R> = match serde_json::from_slice::<T>(&bytes) {
            Ok(task) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(task)))
                .map_err(|payload| labkit::panic::message(payload.as_ref())),
            Err(e) => Err(format!("the task did not decode: {e}")),
        };
        if frame::send(&mut results, &reply).is_err() {
            return 1; // the parent is gone
        }
    }
}

fn decode_reply<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, TaskError> {
    match serde_json::from_slice::<Reply<R>>(bytes) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(TaskError::Panicked(message)),
        Err(e) => Err(TaskError::BadReply(e.to_string())),
    }
}
