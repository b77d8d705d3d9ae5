//! An example run where the kernel refuses io_uring, as a container's seccomp profile does: the
//! check that a program built on io_uring says why in one sentence and exits 1, instead of
//! panicking, or printing `listening on` and serving nothing.
//!
//! The refusal is real: the child installs a seccomp filter between `fork` and `exec` that fails
//! `io_uring_setup` with `EPERM`, so the example's own call is the one refused.

use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

use nix::libc;

use crate::time::STEP;
use crate::{Deadline, Error, Result, example_path};

/// Forbids `io_uring_setup` to the calling process and its children (`EPERM`). Call it only in
/// a child between fork and exec (`CommandExt::pre_exec`): it allocates nothing.
pub fn forbid_io_uring() -> std::io::Result<()> {
    // A classic BPF program over `seccomp_data`: load the syscall number (offset 0); if it is
    // io_uring_setup (425 on every architecture), fail it with EPERM; allow everything else.
    let mut program = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_io_uring_setup as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let filter = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: prctl with integer arguments only; no memory is passed.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `filter` points to `program`, both alive for the call; the kernel copies them.
    if unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &filter) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Runs example `name` with `args` where io_uring is forbidden, and returns what it printed
/// once it exited. An example still running after [`STEP`] is killed and reported: it serves
/// without io_uring, or the filter did not refuse it.
pub fn run_refused(name: &str, args: &[&str]) -> Result<Output> {
    let mut command = Command::new(example_path(name)?);
    command.args(args);
    // SAFETY: between fork and exec the child only calls prctl (async-signal-safe) on memory
    // it owns; nothing is allocated.
    unsafe { command.pre_exec(forbid_io_uring) };
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let what = format!("`{name}` to exit, refused io_uring");
    let mut child = command
        .spawn()
        .map_err(|e| Error::new(format!("starting `{name}`"), e))?;
    let exited = Deadline::after(STEP, &what).poll(|| child.try_wait().ok().flatten());
    if exited.is_err() {
        let _ = child.kill();
    }
    let output = child
        .wait_with_output()
        .map_err(|e| Error::new(what.clone(), e))?;
    exited.map_err(|e| {
        e.context(format!(
            "stdout: {}",
            String::from_utf8_lossy(&output.stdout)
        ))
        .context(format!(
            "stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    })?;
    Ok(output)
}

/// Asserts that `output` is a refusal said well: status 1, nothing on stdout (no
/// `listening on`), and one line on stderr naming the reason (`EPERM`) and how to check
/// (`sysctl kernel.io_uring_disabled`).
pub fn assert_says_why(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "no banner: {output:?}");
    assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
    assert!(
        stderr.starts_with("Error: io_uring is unavailable: "),
        "{stderr}"
    );
    assert!(stderr.contains("EPERM"), "the reason: {stderr}");
    assert!(
        stderr.contains("`sysctl kernel.io_uring_disabled`"),
        "how to check: {stderr}"
    );
}
