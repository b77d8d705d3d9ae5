//! Spreading a run over worker processes, and merging what they report.
//!
//! One process may hold only `RLIMIT_NOFILE` descriptors (20,000 here, hard), so 100,000
//! connections need at least six processes. The parent re-executes its own binary
//! (`std::env::current_exe()`) with the hidden `worker` subcommand, once per worker, and talks
//! to each over its stdin and stdout, one JSON or text line at a time:
//!
//! ```text
//!   parent → worker   {"settings":…,"mode":…}   the job: this worker's share of the connections
//!   worker → parent   {"Connected":…}           every connect done (or failed)
//!   parent → worker   go                        (echo) all workers connected: start the traffic
//!   worker → parent   {"Finished":…}            (echo) traffic done: the tally, histogram included
//!   parent → worker   stop  (or end of stdin)   release: report (idle), close everything, exit
//! ```
//!
//! The two-step start matters: the server is sampled (`--server-pid`) while *every* worker's
//! connections are open, and the traffic of an echo run starts in every worker at once, after
//! all idle connections are in place.
//!
//! Ctrl-C: the terminal sends SIGINT to the whole process group. Workers treat it (and `stop`,
//! and end of stdin, so a parent that dies takes its workers with it) as "finish now and report
//! what you have"; the parent stops waiting for more, sends `stop`, collects the reports, kills
//! any worker that has not exited within [`GRACE`], and reaps every child — no zombies, no
//! orphans.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Settings, Stop};
use crate::limits;
use crate::report::{ServerReport, Tally};
use crate::run::{observe_loaded, sample};

/// How long the parent waits for workers to report after asking them to stop.
pub const GRACE: Duration = Duration::from_secs(10);

/// What a worker is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// This worker's connections.
    pub settings: Settings,
    /// Echo traffic until a stop, or only hold.
    pub mode: Mode,
    /// Lower the soft descriptor limit to this (the hidden `--max-fds`, for tests).
    pub max_fds: Option<u64>,
}

/// The kind of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Request/response until the stop condition (this worker's share of it).
    Echo(Stop),
    /// Hold the connections until told to stop.
    Idle,
}

#[derive(Debug, Serialize, Deserialize)]
enum FromWorker {
    /// Every connect is done; `open` connections are established and open.
    Connected {
        open: u64,
    },
    Finished(Box<Tally>),
}

/// `total` split into `parts` near-equal shares; share `i`.
fn share(total: u64, parts: usize, i: usize) -> u64 {
    let parts = parts as u64;
    total / parts + u64::from((i as u64) < total % parts)
}

/// Splits one run into `procs` jobs: connections, idle connections and (for a request count)
/// requests divided as evenly as possible, connection numbers consecutive so source addresses
/// stay balanced.
pub fn split(settings: &Settings, mode: Mode, procs: usize, max_fds: Option<u64>) -> Vec<Job> {
    let mut first_index = settings.first_index;
    let with_active = (settings.active as usize).clamp(1, procs);
    (0..procs)
        .map(|i| {
            let mut part = settings.clone();
            part.active = share(settings.active, procs, i);
            part.idle = share(settings.idle, procs, i);
            part.first_index = first_index;
            first_index += part.active + part.idle;
            let mode = match mode {
                Mode::Echo(Stop::Requests(n)) if i < with_active => {
                    Mode::Echo(Stop::Requests(share(n, with_active, i)))
                }
                Mode::Echo(Stop::Requests(_)) => Mode::Echo(Stop::Requests(0)),
                other => other,
            };
            Job {
                settings: part,
                mode,
                max_fds,
            }
        })
        .collect()
}

/// Runs `jobs` in worker processes started from `exe` and merges their tallies. For an idle run
/// the connections are held `hold` after all are established.
pub fn run_fleet(
    exe: &Path,
    jobs: &[Job],
    hold: Duration,
    cancel: &netkit::Stop,
    server_pid: Option<u32>,
) -> Result<(Tally, Option<ServerReport>)> {
    let before = sample(server_pid)?;
    let mut fleet = Fleet::spawn(exe, jobs)?;
    fleet.wait_for(|w| w.connected, cancel);
    let server = match jobs.first().map(|job| job.mode) {
        Some(Mode::Echo(_)) => {
            if !fleet.stopping {
                fleet.broadcast("go");
            }
            fleet.wait_for(|w| w.finished.is_some(), cancel);
            let open = fleet
                .workers
                .iter()
                .flat_map(|w| &w.finished)
                .map(|t| t.open_at_end);
            observe_loaded(server_pid, before, open.sum())
        }
        _ => {
            let open = fleet.workers.iter().map(|w| w.open).sum();
            let server = observe_loaded(server_pid, before, open);
            let until = Instant::now() + hold;
            fleet.wait_for_time(until, cancel);
            server
        }
    };
    let tallies = fleet.finish(cancel)?;
    let mut merged = Tally::new(0, 0);
    for tally in &tallies {
        merged.merge(tally);
    }
    merged.interrupted |= cancel.is_stopped();
    Ok((merged, server))
}

#[derive(Debug)]
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    connected: bool,
    /// Established connections it held after connecting.
    open: u64,
    finished: Option<Tally>,
    /// Its stdout reached end of file: it exited (or closed stdout, which it never does).
    gone: bool,
    status: Option<ExitStatus>,
}

/// The worker processes of one run.
#[derive(Debug)]
struct Fleet {
    workers: Vec<Worker>,
    messages: Receiver<(usize, Option<FromWorker>)>,
    /// Set once `stop` was sent: from then on, waits end after [`GRACE`].
    stopping: bool,
    stop_sent: Option<Instant>,
}

impl Fleet {
    fn spawn(exe: &Path, jobs: &[Job]) -> Result<Fleet> {
        let (tx, messages) = mpsc::channel();
        let mut fleet = Fleet {
            workers: Vec::new(),
            messages,
            stopping: false,
            stop_sent: None,
        };
        for (i, job) in jobs.iter().enumerate() {
            let mut child = Command::new(exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .with_context(|| format!("starting loadgen worker {i} ({})", exe.display()))?;
            let mut stdin = child.stdin.take().expect("stdin is piped");
            let stdout = child.stdout.take().expect("stdout is piped");
            // Pushed before anything can fail, so Drop reaps it whatever happens next.
            fleet.workers.push(Worker {
                child,
                stdin: None,
                connected: false,
                open: 0,
                finished: None,
                gone: false,
                status: None,
            });
            let mut line = serde_json::to_string(job)?;
            line.push('\n');
            stdin
                .write_all(line.as_bytes())
                .with_context(|| format!("sending the job to loadgen worker {i}"))?;
            fleet.workers[i].stdin = Some(stdin);
            let tx = tx.clone();
            thread::spawn(move || read_reports(i, stdout, tx));
        }
        Ok(fleet)
    }

    fn broadcast(&mut self, line: &str) {
        for worker in &mut self.workers {
            if let Some(stdin) = worker.stdin.as_mut() {
                // A worker that already exited gets EPIPE (SIGPIPE is ignored in Rust
                // programs); its report, or its absence, is dealt with in `finish`.
                let _ = writeln!(stdin, "{line}");
            }
        }
    }

    /// Asks every worker to report and exit: `stop`, then end of stdin.
    fn stop(&mut self) {
        if !self.stopping {
            self.broadcast("stop");
            for worker in &mut self.workers {
                worker.stdin = None;
            }
            self.stopping = true;
            self.stop_sent = Some(Instant::now());
        }
    }

    /// Handles worker messages until every worker that has not exited satisfies `done`. On
    /// `cancel`, stops the workers and waits at most [`GRACE`] more.
    fn wait_for(&mut self, done: fn(&Worker) -> bool, cancel: &netkit::Stop) {
        while !self.workers.iter().all(|w| done(w) || w.gone) {
            if !self.pump(cancel) {
                break;
            }
        }
    }

    /// Handles worker messages until `until` (or a cancel, or every worker is gone).
    fn wait_for_time(&mut self, until: Instant, cancel: &netkit::Stop) {
        while Instant::now() < until && !self.stopping && !self.workers.iter().all(|w| w.gone) {
            if !self.pump(cancel) {
                break;
            }
        }
    }

    /// Waits up to 50 ms for one message. False when waiting any longer is pointless (the grace
    /// period after `stop` is over, or every reader has ended). The messages come through a
    /// channel, which no descriptor wakes: the stop is looked at between waits.
    fn pump(&mut self, cancel: &netkit::Stop) -> bool {
        if cancel.is_stopped() {
            self.stop();
        }
        if self.stop_sent.is_some_and(|at| at.elapsed() > GRACE) {
            return false;
        }
        match self.messages.recv_timeout(Duration::from_millis(50)) {
            Ok((i, Some(FromWorker::Connected { open }))) => {
                self.workers[i].connected = true;
                self.workers[i].open = open;
            }
            Ok((i, Some(FromWorker::Finished(tally)))) => {
                self.workers[i].connected = true;
                self.workers[i].finished = Some(*tally);
            }
            Ok((i, None)) => self.workers[i].gone = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return false,
        }
        true
    }

    /// Stops every worker, collects their reports, reaps them, and fails if one ended without
    /// reporting.
    fn finish(mut self, cancel: &netkit::Stop) -> Result<Vec<Tally>> {
        self.stop();
        self.wait_for(|w| w.finished.is_some() && w.gone, cancel);
        self.reap();
        let mut tallies = Vec::new();
        for (i, worker) in self.workers.iter_mut().enumerate() {
            match worker.finished.take() {
                Some(tally) => tallies.push(tally),
                None => bail!(
                    "loadgen worker {i} (pid {}) ended without a report ({}); its messages, if \
                     any, are above on stderr",
                    worker.child.id(),
                    worker
                        .status
                        .map_or("killed after the grace period".into(), |s| s.to_string()),
                ),
            }
        }
        Ok(tallies)
    }

    /// Waits for every worker to exit, killing those still running.
    fn reap(&mut self) {
        for worker in &mut self.workers {
            if worker.status.is_some() {
                continue;
            }
            worker.stdin = None;
            if let Ok(None) = worker.child.try_wait() {
                let _ = worker.child.kill();
            }
            worker.status = worker.child.wait().ok();
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // Whatever went wrong, leave no running workers and no zombies.
        self.reap();
    }
}

fn read_reports(i: usize, stdout: impl io::Read, tx: mpsc::Sender<(usize, Option<FromWorker>)>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<FromWorker>(&line) {
            Ok(message) => {
                if tx.send((i, Some(message))).is_err() {
                    return;
                }
            }
            Err(e) => eprintln!("loadgen: worker {i} sent an unreadable line ({e}): {line}"),
        }
    }
    let _ = tx.send((i, None));
}

/// The hidden `worker` subcommand: read a [`Job`] from stdin, run it, report on stdout.
pub fn worker_main() -> Result<()> {
    let mut line = String::new();
    io::stdin()
        .read_line(&mut line)
        .context("reading the job from stdin")?;
    let job: Job = serde_json::from_str(&line).context("parsing the job")?;
    limits::raise_fd_limit().context("raising RLIMIT_NOFILE")?;
    if let Some(max) = job.max_fds {
        limits::set_fd_soft_limit(max).context("lowering RLIMIT_NOFILE (--max-fds)")?;
    }
    // SIGINT, SIGTERM, `stop` and end of stdin all mean: finish now and report.
    let stop = netkit::Stop::on_ctrl_c()?;
    // `go` is no stop: the stdin thread sets its flag and wakes the engine's poller.
    let go = Arc::new(AtomicBool::new(false));
    let mut engine = Engine::new(job.settings, Arc::clone(&stop))?;
    {
        let (waker, go, stop) = (engine.waker(), Arc::clone(&go), Arc::clone(&stop));
        thread::spawn(move || {
            for line in io::stdin().lines() {
                match line.as_deref().map(str::trim) {
                    Ok("go") => go.store(true, Ordering::SeqCst),
                    Ok("stop") => break,
                    Ok(_) => {} // unknown lines are ignored
                    Err(_) => break,
                }
                let _ = waker.notify();
            }
            stop.stop(); // `stop`, or end of stdin
        });
    }
    let stopped = || stop.is_stopped();
    engine.connect_all()?;
    send(&FromWorker::Connected {
        open: engine.open_established(),
    })?;
    match job.mode {
        Mode::Echo(until) => {
            engine.hold(None, &|| go.load(Ordering::SeqCst) || stopped())?;
            if !stopped() {
                engine.run_traffic(until)?;
            }
            send(&FromWorker::Finished(Box::new(engine.snapshot())))?;
            // Keep the connections open while the parent samples the server.
            engine.hold(None, &stopped)?;
        }
        Mode::Idle => {
            engine.hold(None, &stopped)?;
            send(&FromWorker::Finished(Box::new(engine.snapshot())))?;
        }
    }
    Ok(())
}

fn send(message: &FromWorker) -> Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, message)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(active: u64, idle: u64) -> Settings {
        Settings {
            addr: "127.0.0.1:1".parse().unwrap(),
            active,
            idle,
            size: 8,
            sources: 1,
            first_index: 0,
            connect_batch: 1,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn shares_add_up_exactly() {
        let jobs = split(&settings(10, 7), Mode::Echo(Stop::Requests(1001)), 3, None);
        let active: Vec<u64> = jobs.iter().map(|j| j.settings.active).collect();
        let idle: Vec<u64> = jobs.iter().map(|j| j.settings.idle).collect();
        let first: Vec<u64> = jobs.iter().map(|j| j.settings.first_index).collect();
        assert_eq!(active, [4, 3, 3]);
        assert_eq!(idle, [3, 2, 2]);
        assert_eq!(first, [0, 7, 12]);
        let requests: u64 = jobs
            .iter()
            .map(|j| match j.mode {
                Mode::Echo(Stop::Requests(n)) => n,
                _ => panic!("not a request count"),
            })
            .sum();
        assert_eq!(requests, 1001);
    }

    #[test]
    fn workers_without_active_connections_get_no_requests() {
        let jobs = split(&settings(1, 4), Mode::Echo(Stop::Requests(50)), 2, None);
        assert!(matches!(jobs[0].mode, Mode::Echo(Stop::Requests(50))));
        assert!(matches!(jobs[1].mode, Mode::Echo(Stop::Requests(0))));
    }
}
