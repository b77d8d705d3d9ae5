//! Examples run as child processes, driven as black boxes.
//!
//! Examples live in `<target>/<profile>/examples/`, next to the `deps/` directory holding the test
//! binary, so a test can run the real program a student runs; [`crate::build`] makes sure the
//! binary is built from the sources on disk before the first start. A server example prints `listening on <addr>` as its
//! first stdout line; [`ExampleProcess::start`] waits for that line (under a deadline) and parses
//! the address, so tests pass `--addr 127.0.0.1:0` and never guess a port or sleep.
//!
//! The child is put in its own process group. Dropping the handle kills the whole group (a
//! fork-per-connection server's children too) and reaps the child, so a failing test leaves no
//! stray processes or zombies. Every error carries the child's stderr.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::build::example_path;
use crate::server::ServerUnderTest;
use crate::time::{Deadline, STEP};
use crate::{Error, Result};

/// A running example binary.
#[derive(Debug)]
pub struct ExampleProcess {
    name: String,
    pid: u32,
    addr: Option<SocketAddr>,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    /// Everything read from stderr so far, and a signal for each new piece.
    stderr: Arc<(Mutex<Vec<u8>>, Condvar)>,
    stderr_done: Receiver<()>,
    exit: Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl ExampleProcess {
    /// Runs a server example and waits (step deadline) for its `listening on <addr>` line.
    ///
    /// Pass `--addr 127.0.0.1:0` in `args` so the server picks a free port.
    pub fn start(name: &str, args: &[&str]) -> Result<ExampleProcess> {
        let mut process = ExampleProcess::spawn(name, args)?;
        let line = process.read_line()?;
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.trim().parse::<SocketAddr>().ok())
            .ok_or_else(|| {
                process.fail(
                    format!("reading `listening on <addr>` from example `{name}`"),
                    format!("first stdout line was {line:?}"),
                )
            })?;
        process.addr = Some(addr);
        Ok(process)
    }

    /// Runs an example without waiting for anything; stdin, stdout and stderr are piped.
    pub fn spawn(name: &str, args: &[&str]) -> Result<ExampleProcess> {
        let path = example_path(name)?;
        let mut child = Command::new(&path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| Error::new(format!("spawning {}", path.display()), e))?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let captured = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let (done_tx, done_rx) = mpsc::channel();
        let sink = Arc::clone(&captured);
        thread::spawn(move || {
            let mut stderr = stderr;
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                let (text, grew) = &*sink;
                text.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]);
                grew.notify_all();
            }
            let _ = done_tx.send(());
        });
        let (exit_tx, exit_rx) = mpsc::channel();
        thread::spawn(move || wait_and_report(child, exit_tx));

        Ok(ExampleProcess {
            name: name.to_string(),
            pid,
            addr: None,
            stdin,
            stdout: line_rx,
            stderr: captured,
            stderr_done: done_rx,
            exit: exit_rx,
            status: None,
        })
    }

    /// The address from the `listening on` line. Panics for an example started with `spawn`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
            .unwrap_or_else(|| panic!("example `{}` was not started as a server", self.name))
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The child's stdin (until [`close_stdin`](Self::close_stdin)).
    pub fn stdin(&mut self) -> &mut ChildStdin {
        self.stdin.as_mut().expect("stdin was already closed")
    }

    /// Closes the child's stdin, so it reads end of file.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next stdout line, within the step deadline.
    pub fn read_line(&mut self) -> Result<String> {
        self.read_line_within(STEP)
    }

    /// The next stdout line, within `limit` (scaled).
    pub fn read_line_within(&mut self, limit: Duration) -> Result<String> {
        let deadline =
            Deadline::after(limit, format!("a stdout line from example `{}`", self.name));
        match self.stdout.recv_timeout(deadline.remaining()?) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(self.with_stderr(deadline.expired())),
            Err(RecvTimeoutError::Disconnected) => {
                Err(self.fail(deadline.what(), "stdout closed (the example exited?)"))
            }
        }
    }

    /// The next stdout line, or `None` once the child has closed its stdout (it exited): for
    /// reading an example's whole output.
    pub fn next_line(&mut self) -> Result<Option<String>> {
        let deadline = Deadline::after(STEP, format!("a stdout line from example `{}`", self.name));
        match self.stdout.recv_timeout(deadline.remaining()?) {
            Ok(line) => Ok(Some(line)),
            Err(RecvTimeoutError::Timeout) => Err(self.with_stderr(deadline.expired())),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Everything the child wrote to stderr so far (all of it, once a wait saw it exit).
    pub fn stderr_text(&self) -> String {
        let bytes = self.stderr.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Waits up to `limit` (scaled) until stderr contains `needle` (a log line the test
    /// expects); returns the stderr text so far.
    pub fn expect_stderr(&self, needle: &str, limit: Duration) -> Result<String> {
        let deadline = Deadline::after(
            limit,
            format!("{needle:?} on the stderr of example `{}`", self.name),
        );
        let (text, grew) = &*self.stderr;
        let mut bytes = text.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let so_far = String::from_utf8_lossy(&bytes).into_owned();
            if so_far.contains(needle) {
                return Ok(so_far);
            }
            let Ok(left) = deadline.remaining() else {
                drop(bytes);
                return Err(self.with_stderr(deadline.expired()));
            };
            bytes = grew
                .wait_timeout(bytes, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits up to `limit` (scaled) for the child to fail with exit status 1, and checks that
    /// what it wrote to stderr is a sentence: not empty, and no Rust `Debug` dump of an error
    /// (`Custom { kind: … }`, `Os { code: … }`), which is what `fn main() -> io::Result<()>`
    /// prints. Returns the stderr text for the test's own checks.
    pub fn expect_failure_sentence(&mut self, limit: Duration) -> Result<String> {
        let status = self.wait_within(limit)?;
        let text = self.stderr_text();
        let what = format!("a one-sentence failure from example `{}`", self.name);
        if status.code() != Some(1) {
            return Err(self.fail(what, format!("it ended with {status}, not status 1")));
        }
        let dump = ["Custom {", "Os {", "kind: ", "Error {", "Simple"];
        if text.trim().is_empty() || dump.iter().any(|d| text.contains(d)) {
            return Err(self.fail(what, "stderr is empty or a Rust Debug dump"));
        }
        Ok(text)
    }

    /// Sends `signal` to the child (not its group).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        if self.status.is_some() {
            return Err(self.fail(
                format!("sending {signal} to `{}`", self.name),
                "already exited",
            ));
        }
        kill(Pid::from_raw(self.pid as i32), signal)
            .map_err(|e| self.fail(format!("sending {signal} to `{}`", self.name), e))
    }

    /// Waits up to `limit` (scaled) for the child to exit by itself.
    pub fn wait_within(&mut self, limit: Duration) -> Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let deadline = Deadline::after(limit, format!("example `{}` to exit", self.name));
        match self.exit.recv_timeout(deadline.remaining()?) {
            Ok(status) => {
                self.status = Some(status);
                // Let the reader take in the rest of stderr, so `stderr_text` is complete (a
                // grandchild still holding the pipe open only costs this short wait).
                let _ = self.stderr_done.recv_timeout(Duration::from_secs(2));
                Ok(status)
            }
            Err(_) => Err(self.with_stderr(deadline.expired())),
        }
    }

    /// Waits for the child to exit by itself and checks it exited with status 0.
    pub fn expect_success(&mut self) -> Result<()> {
        let status = self.wait_within(STEP)?;
        self.check_clean(status)
    }

    /// Sends SIGINT (Ctrl-C) and checks the child exits with status 0 within the step deadline.
    pub fn interrupt_and_expect_clean_exit(mut self) -> Result<()> {
        self.signal(Signal::SIGINT)?;
        let status = self.wait_within(STEP)?;
        self.check_clean(status)
    }

    fn check_clean(&self, status: ExitStatus) -> Result<()> {
        if status.success() {
            return Ok(());
        }
        let how = match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal}"),
            _ => format!("ended with {status}"),
        };
        Err(self.fail(format!("clean exit of example `{}`", self.name), how))
    }

    /// An error with the child's stderr attached.
    pub fn fail(&self, what: impl Into<String>, cause: impl std::fmt::Display) -> Error {
        self.with_stderr(Error::new(what, cause))
    }

    /// Attaches the child's stderr (all of it once the child has exited) to `error`.
    pub fn with_stderr(&self, error: Error) -> Error {
        let text = self.stderr_text();
        if text.trim().is_empty() {
            error.context(format!("(example `{}` wrote nothing to stderr)", self.name))
        } else {
            error.context(format!(
                "stderr of example `{}`:\n{}",
                self.name,
                text.trim_end()
            ))
        }
    }
}

fn wait_and_report(mut child: Child, exit: mpsc::Sender<ExitStatus>) {
    if let Ok(status) = child.wait() {
        let _ = exit.send(status);
    }
}

impl Drop for ExampleProcess {
    fn drop(&mut self) {
        self.stdin = None;
        if self.status.is_none() {
            // Kill the whole group: a forking server's children must not outlive the test.
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
            // The waiter thread reaps it; wait so no zombie is left behind.
            if let Ok(status) = self.exit.recv_timeout(Duration::from_secs(10)) {
                self.status = Some(status);
            }
        } else {
            // Children of a group leader that exited may still be alive.
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        }
    }
}

impl ServerUnderTest for ExampleProcess {
    fn addr(&self) -> SocketAddr {
        ExampleProcess::addr(self)
    }
    fn pid(&self) -> u32 {
        self.pid
    }
    fn in_process(&self) -> bool {
        false
    }
    fn diagnostics(&self) -> String {
        format!("stderr of example `{}`:\n{}", self.name, self.stderr_text())
    }
    fn shut_down(self) -> Result<()> {
        Ok(()) // dropping kills and reaps the process group
    }
}
