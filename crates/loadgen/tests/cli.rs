//! The `loadgen` binary: help, JSON, worker processes, clear failures, Ctrl-C.

use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;

use harness::leaks::fd_count;
use harness::time::STEP;
use harness::{Deadline, ExampleProcess};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning loadgen")
}

/// Waits (under a deadline) for `child` to exit and returns what it printed.
fn output_of(child: Child, what: &str) -> Output {
    let pid = child.id();
    let deadline = Deadline::after(STEP, format!("loadgen {what} to finish"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(deadline.remaining().unwrap()) {
        Ok(output) => output.expect("waiting for loadgen"),
        Err(_) => {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            panic!("{}", deadline.expired());
        }
    }
}

fn loadgen(args: &[&str]) -> Output {
    output_of(spawn(args), &args.join(" "))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

fn echo_target() -> ExampleProcess {
    ExampleProcess::start("echo_target", &["--addr", "127.0.0.1:0", "--procs", "1"]).unwrap()
}

#[test]
fn help_describes_every_flag() {
    let top = text(&loadgen(&["--help"]).stdout);
    assert!(top.contains("echo") && top.contains("idle"), "{top}");
    assert!(
        !top.lines()
            .any(|line| line.trim_start().starts_with("worker")),
        "the worker subcommand is internal:\n{top}"
    );
    let common = [
        "--addr",
        "--procs",
        "--sources",
        "--server-pid",
        "--json",
        "--connect-batch",
        "--connect-timeout",
    ];
    let echo = text(&loadgen(&["echo", "--help"]).stdout);
    for flag in common.iter().chain(&[
        "--conns",
        "--size",
        "--duration",
        "--requests",
        "--idle",
        "--request-timeout",
    ]) {
        assert!(echo.contains(flag), "echo --help lacks {flag}:\n{echo}");
    }
    let idle = text(&loadgen(&["idle", "--help"]).stdout);
    for flag in common.iter().chain(&["--conns", "--hold"]) {
        assert!(idle.contains(flag), "idle --help lacks {flag}:\n{idle}");
    }
}

#[test]
fn a_json_echo_run_has_the_documented_fields() {
    let server = echo_target();
    let (addr, pid) = (server.addr().to_string(), server.pid().to_string());
    let out = loadgen(&[
        "echo",
        "--addr",
        &addr,
        "--conns",
        "4",
        "--size",
        "128",
        "--requests",
        "400",
        "--json",
        "--server-pid",
        &pid,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = json(&out);
    for field in [
        "mode",
        "addr",
        "procs",
        "sources",
        "size",
        "conns",
        "conns_established",
        "idle",
        "idle_established",
        "not_attempted",
        "connect_secs",
        "requests",
        "elapsed_secs",
        "requests_per_sec",
        "latency_us",
        "unfinished",
        "errors_total",
        "connect_errors",
        "errors",
        "explanations",
        "stopped_by",
        "interrupted",
        "loadgen_cpu_secs",
        "server",
    ] {
        assert!(report.get(field).is_some(), "no {field:?} in {report:#}");
    }
    for field in ["min", "p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(
            report["latency_us"][field].as_f64().unwrap() > 0.0,
            "{report:#}"
        );
    }
    assert_eq!(report["mode"], "echo");
    assert_eq!(report["requests"], 400);
    assert_eq!(report["errors_total"], 0);
    let server_report = &report["server"];
    assert_eq!(server_report["pid"], server.pid());
    for stats in ["before", "loaded"] {
        for field in ["rss_kib", "fds", "processes", "cpu_secs"] {
            assert!(server_report[stats].get(field).is_some(), "{report:#}");
        }
    }
    // Sampled while the 4 connections were open.
    let fds = |s: &str| server_report[s]["fds"].as_u64().unwrap();
    assert!(fds("loaded") >= fds("before") + 4, "{report:#}");
    assert_eq!(server_report["open"], 4);
    assert_eq!(server_report["unaccepted"], 0);
}

/// A server at its own descriptor limit stops accepting; the kernel still completes the
/// handshakes (the connections wait in the backlog), so only the server's descriptor count
/// shows that loadgen's "established" is not the server's.
#[test]
fn connections_the_server_never_accepted_are_reported() {
    let server = ExampleProcess::start(
        "echo_target",
        &["--addr", "127.0.0.1:0", "--procs", "1", "--max-fds", "64"],
    )
    .unwrap();
    let (addr, pid) = (server.addr().to_string(), server.pid().to_string());
    let out = loadgen(&[
        "idle",
        "--addr",
        &addr,
        "--conns",
        "100",
        "--hold",
        "1",
        "--server-pid",
        &pid,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(
        report["established"], 100,
        "the kernel completes every handshake"
    );
    // Kept waiting, not turned away: echo_target does not shed (accept and close) what it
    // cannot hold, so loadgen sees no connection closed while held.
    assert_eq!(report["dropped"], 0, "{report:#}");
    let unaccepted = report["server"]["unaccepted"].as_u64().unwrap();
    assert!((30..=60).contains(&unaccepted), "{report:#}");
    let text = report["explanations"]["not_accepted"].as_str().unwrap();
    assert!(text.starts_with("the server's own limit"), "{text}");
    // Paused, not spinning, while the backlog waited during the 1 s hold.
    let cpu = |s: &str| report["server"][s]["cpu_secs"].as_f64().unwrap();
    assert!(cpu("loaded") - cpu("before") < 0.5, "{report:#}");
    assert!(
        server.stderr_text().contains("EMFILE"),
        "{}",
        server.stderr_text()
    );
}

#[test]
fn two_worker_processes_split_the_run_and_merge_exactly() {
    let server = echo_target();
    let addr = server.addr().to_string();
    let out = loadgen(&[
        "echo",
        "--addr",
        &addr,
        "--conns",
        "6",
        "--requests",
        "1001",
        "--procs",
        "2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["procs"], 2);
    assert_eq!(report["conns_established"], 6);
    assert_eq!(report["requests"], 1001, "{report:#}");
    let l = &report["latency_us"];
    assert!(l["p50"].as_f64() <= l["p99"].as_f64() && l["p99"].as_f64() <= l["max"].as_f64());

    let out = loadgen(&[
        "idle",
        "--addr",
        &addr,
        "--conns",
        "500",
        "--procs",
        "2",
        "--sources",
        "2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(
        (report["procs"].as_u64(), report["established"].as_u64()),
        (Some(2), Some(500))
    );
}

#[test]
fn a_closed_port_says_connection_refused_and_names_the_address() {
    let closed = harness::ClosedPort::new().unwrap();
    let addr = closed.addr().to_string();
    let out = loadgen(&["echo", "--addr", &addr, "--conns", "2", "--requests", "10"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("connection refused by {addr}")),
        "stderr:\n{stderr}"
    );
    assert!(
        text(&out.stdout).contains("2 refused"),
        "{}",
        text(&out.stdout)
    );
}

/// The soft limit is lowered only inside the spawned loadgen (hidden `--max-fds`), so this
/// test process's limits are untouched and no lock is needed.
#[test]
fn the_descriptor_limit_is_named_with_its_numbers() {
    let server = echo_target();
    let addr = server.addr().to_string();
    for procs in ["1", "2"] {
        let out = loadgen(&[
            "idle",
            "--addr",
            &addr,
            "--conns",
            "300",
            "--procs",
            procs,
            "--max-fds",
            "100",
            "--json",
        ]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        let report = json(&out);
        let established = report["established"].as_u64().unwrap();
        assert!((50..300).contains(&established), "{report:#}");
        assert!(
            report["connect_errors"]["fd_limit"].as_u64() >= Some(1),
            "{report:#}"
        );
        let stopped_by = report["stopped_by"].as_str().unwrap();
        for needle in [
            "per-process open-file limit",
            "soft 100",
            "--procs",
            "(EMFILE)",
        ] {
            assert!(
                stopped_by.contains(needle),
                "{needle:?} not in {stopped_by:?}"
            );
        }
        assert!(stderr.contains("warning: 150 connections per process") || procs == "1");
        assert!(
            stderr.contains("stopped by the per-process open-file limit"),
            "{stderr}"
        );
        let all = (stdout + &stderr).to_lowercase();
        assert!(!all.contains("too many open files"), "{all}");
    }
}

#[test]
fn ctrl_c_ends_a_multi_process_run_with_a_report_and_no_workers_left() {
    let server = echo_target();
    let (addr, server_pid) = (server.addr().to_string(), server.pid());
    let baseline = fd_count(server_pid).unwrap();
    let child = spawn(&[
        "echo",
        "--addr",
        &addr,
        "--conns",
        "4",
        "--duration",
        "60",
        "--procs",
        "2",
        "--json",
    ]);
    let pid = child.id();
    // Running once the server holds the 4 connections.
    Deadline::after(STEP, "the server to hold loadgen's 4 connections")
        .poll(|| (fd_count(server_pid).ok()? >= baseline + 4).then_some(()))
        .unwrap();
    let workers = harness::leaks::children_of(pid).unwrap();
    assert_eq!(workers.len(), 2, "{workers:?}");
    kill(Pid::from_raw(pid as i32), Signal::SIGINT).unwrap();
    let out = output_of(child, "echo interrupted by SIGINT");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["conns_established"], 4);
    assert!(
        report["elapsed_secs"].as_f64().unwrap() < 30.0,
        "{report:#}"
    );
    for worker in workers {
        assert!(
            !std::path::Path::new(&format!("/proc/{worker}")).exists(),
            "worker {worker} outlived loadgen"
        );
    }
}
