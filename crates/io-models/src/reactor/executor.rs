//! The executor: owns the tasks, polls the woken ones, and sleeps in the reactor otherwise.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use netkit::Stop;
use netkit::graceful::Graceful;

use super::Reactor;

/// A task: a future the executor polls until it finishes.
type Task = Pin<Box<dyn Future<Output = io::Result<()>>>>;

/// A single-threaded executor: the tasks, and the ids of those ready to be polled.
#[derive(Default)]
pub struct Executor {
    tasks: RefCell<HashMap<usize, Task>>,
    run_queue: Arc<RunQueue>,
    next_id: Cell<usize>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Executor({} tasks)", self.tasks.borrow().len())
    }
}

/// Ids of woken tasks. Wakers must be `Send + Sync`, hence the mutex, though all runs on one thread.
#[derive(Debug, Default)]
struct RunQueue(Mutex<VecDeque<usize>>);

impl RunQueue {
    fn push(&self, id: usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(id);
    }

    fn pop(&self) -> Option<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

/// The waker of one task: "call me back" means "put my id back on the run queue".
struct TaskWaker {
    id: usize,
    run_queue: Arc<RunQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.run_queue.push(self.id);
    }
}

impl Executor {
    /// Adds a task; it is polled for the first time on the next turn.
    pub fn spawn(&self, task: impl Future<Output = io::Result<()>> + 'static) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.tasks.borrow_mut().insert(id, Box::pin(task));
        self.run_queue.push(id);
    }

    /// Polls woken tasks, then waits in `reactor`, until `stop` is requested (the reactor watches
    /// its descriptor too) or a task fails. Then drops every task: dropping a future cancels it,
    /// which closes its sockets.
    pub fn run(&self, reactor: &Reactor, stop: &Stop) -> io::Result<()> {
        reactor.watch_stop(stop)?;
        let result = self.run_until(reactor, stop);
        self.tasks.borrow_mut().clear();
        reactor.unwatch_stop(stop);
        result
    }

    /// [`run`](Self::run), stopping gracefully ([`netkit::graceful`]): at the stop the reactor
    /// says it [is stopping](Reactor::is_stopping) and every task is polled once more to see
    /// it — an accept loop ends (closing its listener), a connection between requests ends —
    /// and the rest run on until they end, for at most the stop's grace period; then what is
    /// left is dropped (cut), as `run` does at once.
    pub fn run_graceful(&self, reactor: &Reactor, stop: &Stop) -> io::Result<()> {
        reactor.watch_stop(stop)?;
        let result = self
            .run_until(reactor, stop)
            .and_then(|()| self.drain(reactor, stop));
        self.tasks.borrow_mut().clear();
        reactor.unwatch_stop(stop);
        result
    }

    /// The graceful part of [`run_graceful`](Self::run_graceful): wake everyone, then run what
    /// is left until it ends, the grace period passes, or the stop is forced.
    fn drain(&self, reactor: &Reactor, stop: &Stop) -> io::Result<()> {
        let mut graceful = Graceful::new("reactor", stop);
        reactor.begin_stopping(stop)?;
        for &id in self.tasks.borrow().keys() {
            self.run_queue.push(id);
        }
        loop {
            while let Some(id) = self.run_queue.pop() {
                self.poll_task(id)?;
            }
            if !graceful.goes_on(self.tasks.borrow().len()) {
                return Ok(());
            }
            reactor.wait(graceful.wait(None))?;
        }
    }

    fn run_until(&self, reactor: &Reactor, stop: &Stop) -> io::Result<()> {
        while !stop.is_stopped() {
            while let Some(id) = self.run_queue.pop() {
                self.poll_task(id)?;
            }
            reactor.wait(None)?;
        }
        Ok(())
    }

    fn poll_task(&self, id: usize) -> io::Result<()> {
        // Out of the map while it runs, so that it can spawn tasks.
        let Some(mut task) = self.tasks.borrow_mut().remove(&id) else {
            return Ok(()); // finished already; a late wake-up
        };
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            run_queue: Arc::clone(&self.run_queue),
        }));
        match task.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => {
                self.tasks.borrow_mut().insert(id, task);
                Ok(())
            }
            Poll::Ready(result) => result,
        }
    }
}
