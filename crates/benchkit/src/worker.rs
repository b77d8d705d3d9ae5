//! Re-running the bench as a worker process: a server to measure, a second side of a pipe.
//!
//! A bench that needs another process runs its own executable again (`current_exe`) with
//! arguments that make it the worker (`--serve poll`, `--worker cpu`): one binary, one build,
//! and the worker is the same code the bench measures. `exec` of a fresh program is also the
//! safe way to get a process from a program that has threads; a bare `fork` is not.
//!
//! The worker talks over its stdin and stdout (both piped). Its stdin is the stop signal: the
//! worker runs until it reads end of file ([`on_stdin_eof`]), which the bench gives it by
//! dropping the [`Worker`] — or by dying, since the kernel closes the pipe then too.
//!
//! The pitfalls handled: a bench that fails half-way must not leave children behind (drop
//! closes stdin, waits a grace period, then kills and reaps), and a worker must not outlive a
//! bench killed by a signal ([`die_with_parent`]).

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process running this program (or another); stopped and reaped when dropped.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    stdout: BufReader<ChildStdout>,
    grace: Duration,
}

impl Worker {
    /// Runs this program again with `args`, stdin and stdout piped, stderr shared.
    pub fn start<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> io::Result<Worker> {
        Worker::start_program(&std::env::current_exe()?, args)
    }

    /// Runs `program` with `args`, stdin and stdout piped, stderr shared.
    pub fn start_program<S: AsRef<OsStr>>(
        program: &Path,
        args: impl IntoIterator<Item = S>,
    ) -> io::Result<Worker> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| {
                io::Error::new(e.kind(), format!("starting {}: {e}", program.display()))
            })?;
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Worker {
            child,
            stdout,
            grace: Duration::from_secs(3),
        })
    }

    /// How long drop waits for the worker to end by itself before it kills it (3 s unless set).
    pub fn grace(mut self, grace: Duration) -> Worker {
        self.grace = grace;
        self
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The worker's CPU time so far (user + system, all its threads), to the nanosecond —
    /// `/proc/<pid>/stat` counts in 10 ms ticks, too coarse for a few thousand round trips.
    pub fn cpu_time(&self) -> io::Result<Duration> {
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        let now = nix::time::clock_getcpuclockid(pid)
            .and_then(|clock| clock.now())
            .map_err(io::Error::from)?;
        Ok(Duration::from(now))
    }

    /// The worker's stdin; `None` once [`Worker::close_stdin`] has closed it.
    pub fn stdin(&mut self) -> Option<&mut ChildStdin> {
        self.child.stdin.as_mut()
    }

    /// The worker's stdout, line by line.
    pub fn stdout(&mut self) -> &mut BufReader<ChildStdout> {
        &mut self.stdout
    }

    /// Closes the worker's stdin: the worker sees end of file.
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// The next line the worker writes, without its newline; an error if it ends first.
    pub fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("worker {} ended before it wrote a line", self.pid()),
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    /// Reads the server banner `listening on <addr>` and returns the address.
    pub fn announced_addr(&mut self) -> io::Result<SocketAddr> {
        let line = self.read_line()?;
        line.strip_prefix("listening on ")
            .and_then(|rest| rest.trim().parse().ok())
            .ok_or_else(|| {
                io::Error::other(format!(
                    "worker {} said {line:?}, not `listening on <addr>`",
                    self.pid()
                ))
            })
    }

    /// Closes stdin, waits for the worker, and fails unless it exited with status 0.
    pub fn finish(mut self) -> io::Result<()> {
        self.close_stdin();
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "worker {} ended with {status}",
                self.pid()
            )))
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.close_stdin();
        let deadline = Instant::now() + self.grace;
        let mut pause = Duration::from_micros(100); // most workers end at once on EOF
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(pause),
                _ => return, // reaped, or nothing left to reap
            }
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the worker: ask the kernel for SIGTERM when the thread that started it ends (the bench
/// was killed, or ended without dropping its `Worker`).
pub fn die_with_parent() -> io::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM).map_err(io::Error::from)
}

/// In the worker: runs `then` on a thread of its own once stdin reaches end of file.
pub fn on_stdin_eof(then: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        then();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> io::Result<Worker> {
        Worker::start_program(Path::new("/bin/sh"), ["-c", script])
    }

    #[test]
    fn a_worker_is_read_line_by_line_and_finishes_on_eof() {
        let mut worker =
            sh("echo 'listening on 127.0.0.1:4242'; echo second; cat >/dev/null").unwrap();
        assert_eq!(
            worker.announced_addr().unwrap(),
            "127.0.0.1:4242".parse().unwrap()
        );
        assert_eq!(worker.read_line().unwrap(), "second");
        worker.finish().unwrap(); // cat ends at end of file: finish closed stdin
    }

    #[test]
    fn a_failing_worker_and_a_silent_one_are_errors_that_say_so() {
        let error = sh("exit 3").unwrap().finish().unwrap_err().to_string();
        assert!(error.contains("exit status: 3"), "{error}");
        let error = sh("true").unwrap().read_line().unwrap_err().to_string();
        assert!(error.contains("ended before it wrote a line"), "{error}");
        let error = sh("echo hello")
            .unwrap()
            .announced_addr()
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"hello\""), "{error}");
    }

    #[test]
    fn a_busy_worker_uses_cpu_time_and_an_idle_one_hardly_any() {
        let idle = sh("exec cat >/dev/null").unwrap();
        let busy = sh("while :; do :; done").unwrap().grace(Duration::ZERO);
        let start = Instant::now();
        while busy.cpu_time().unwrap() < Duration::from_millis(20) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the busy loop got no CPU"
            );
            std::thread::yield_now();
        }
        assert!(idle.cpu_time().unwrap() < busy.cpu_time().unwrap());
    }

    #[test]
    fn drop_kills_a_worker_that_ignores_eof_and_reaps_it() {
        // `sleep` never reads stdin: only the kill after the grace period stops it.
        let worker = sh("exec sleep 60")
            .unwrap()
            .grace(Duration::from_millis(50));
        let pid = worker.pid();
        let start = Instant::now();
        drop(worker);
        assert!(start.elapsed() < Duration::from_secs(5));
        // Reaped: no /proc entry left (not even a zombie).
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "worker {pid} left behind"
        );
    }
}
