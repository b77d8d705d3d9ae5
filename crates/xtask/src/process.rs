//! Running child processes (mostly `cargo test`) with a deadline, without leaks.
//!
//! Each child runs in its own process group, so that on timeout, on Ctrl-C, and after it exits,
//! the whole group can be killed: cargo, rustc, test binaries and any server a test forgot to
//! stop. Output is collected by reader threads, so a chatty child never blocks on a full pipe.
//!
//! Because children are in their own group, the terminal's Ctrl-C reaches only xtask;
//! [`install_interrupt_handler`] turns it into a flag that [`run`] polls to kill the running
//! group before xtask exits (a second Ctrl-C exits at once).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Set by SIGINT/SIGTERM once [`install_interrupt_handler`] ran.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How long a child gets between SIGTERM and SIGKILL when it is stopped.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the output pipes to close once the child group is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// How often the deadline and the interrupt flag are checked.
const POLL: Duration = Duration::from_millis(25);

/// Makes SIGINT and SIGTERM stop the running child group instead of orphaning it; a second
/// signal exits immediately with status 130.
pub fn install_interrupt_handler() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        // Order matters: the shutdown check runs before the flag is set, so it fires only on
        // the second signal.
        signal_hook::flag::register_conditional_shutdown(signal, 130, &INTERRUPTED)
            .context("installing signal handler")?;
        signal_hook::flag::register(signal, &INTERRUPTED).context("installing signal handler")?;
    }
    Ok(())
}

/// Whether the user asked xtask to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// What a finished (or stopped) child printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit status; `None` when it was killed for running past its deadline.
    pub status: Option<ExitStatus>,
    /// Captured standard output (lossy UTF-8).
    pub stdout: String,
    /// Captured standard error (lossy UTF-8).
    pub stderr: String,
    /// Whether the deadline passed and the child group was killed.
    pub timed_out: bool,
}

impl Output {
    /// Whether the child exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// Environment variables an outer `cargo run`/`cargo test` sets for xtask that must not leak
/// into the cargo we start: they describe *xtask's* package and build, not the graded one, or
/// would redirect the build (`CARGO_TARGET_DIR` is set explicitly instead).
fn is_inherited_cargo_var(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
        "CARGO_MANIFEST_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "__CARGO",
    ];
    const NAMES: &[&str] = &[
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "CARGO_MAKEFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "OUT_DIR",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A `cargo` command run in workspace `dir`, building into `target_dir`, with the outer cargo's
/// package variables removed and colours off (its output is parsed).
///
/// Uses the cargo that started xtask (`$CARGO`) when there is one, so the toolchain matches.
pub fn cargo_command(dir: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_inherited_cargo_var) {
            command.env_remove(&name);
        }
    }
    command
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never");
    // Grading runs a whole chapter's tests at once, often beside other builds: stretch the
    // tests' deadlines (a passing test never waits for one) unless the caller chose a factor.
    if std::env::var_os(TIMEOUT_SCALE).is_none() {
        command.env(TIMEOUT_SCALE, GRADING_TIMEOUT_SCALE);
    }
    command
}

/// The harness's deadline factor, and the one grading uses when none is set.
const TIMEOUT_SCALE: &str = "LABS_TIMEOUT_SCALE";
const GRADING_TIMEOUT_SCALE: &str = "3";

/// Output collected by a reader thread, readable even if the pipe never closes.
struct Collector {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Collector {
    fn spawn(mut pipe: impl Read + Send + 'static) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let sink = Arc::clone(&buffer);
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&chunk[..n]),
                }
            }
            let _ = tx.send(());
        });
        Self { buffer, done }
    }

    /// Waits up to `grace` for end of output, then returns what arrived.
    fn finish(self, grace: Duration) -> String {
        let _ = self.done.recv_timeout(grace);
        let bytes = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Sends `signal` to process group `pgid`, ignoring a group that is already gone.
fn signal_group(pgid: Pid, signal: Signal) {
    let _ = killpg(pgid, signal);
}

/// Runs `command` in a new process group with stdin closed and output captured, for at most
/// `timeout`. On timeout the group gets SIGTERM, then SIGKILL. After the child exits, anything
/// left in its group is killed too. Fails only if the command cannot start or xtask was
/// interrupted.
pub fn run(mut command: Command, timeout: Duration) -> Result<Output> {
    if interrupted() {
        bail!("interrupted");
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{program}`"))?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).context("child pid out of range")?);
    let stdout = Collector::spawn(child.stdout.take().context("child stdout")?);
    let stderr = Collector::spawn(child.stderr.take().context("child stderr")?);

    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for child")? {
            break Some(status);
        }
        let stop = interrupted();
        if stop || Instant::now() >= deadline {
            signal_group(pgid, Signal::SIGTERM);
            let grace_end = Instant::now() + KILL_GRACE;
            while Instant::now() < grace_end && child.try_wait()?.is_none() {
                thread::sleep(POLL);
            }
            signal_group(pgid, Signal::SIGKILL);
            let _ = child.wait();
            if stop {
                bail!("interrupted");
            }
            timed_out = true;
            break None;
        }
        thread::sleep(POLL);
    };
    // Leftovers (e.g. a server a test forgot to stop) would keep the pipes open.
    signal_group(pgid, Signal::SIGKILL);
    Ok(Output {
        status,
        stdout: stdout.finish(DRAIN_GRACE),
        stderr: stderr.finish(DRAIN_GRACE),
        timed_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn captures_output_and_status() {
        let out = run(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status.and_then(|s| s.code()), Some(3));
        assert!(!out.success() && !out.timed_out);
    }

    #[test]
    fn kills_the_whole_group_on_timeout() {
        let started = Instant::now();
        // The grandchild `sleep` holds the pipes open; only a group kill ends it.
        let out = run(
            sh("echo started; sleep 30 & sleep 30; echo never"),
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(out.timed_out);
        assert!(out.status.is_none());
        assert_eq!(out.stdout, "started\n");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn leftover_background_processes_do_not_hang_the_caller() {
        let started = Instant::now();
        let out = run(sh("sleep 30 & echo done"), Duration::from_secs(20)).unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, "done\n");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let err = run(
            Command::new("/nonexistent/xtask-test"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot run"), "{err}");
    }

    #[test]
    fn outer_cargo_variables_are_not_inherited() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_TARGET_DIR",
            "OUT_DIR",
        ] {
            assert!(is_inherited_cargo_var(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO",
            "RUSTUP_TOOLCHAIN",
            "CARGO_NET_OFFLINE",
            "PATH",
        ] {
            assert!(!is_inherited_cargo_var(name), "{name}");
        }
    }
}
