//! The `perf-laws` binary, run as a student runs it: the JSON report's fields, the table, the
//! plot, `--help`, and clear errors for bad input. Tiny workloads keep each run quick; no test
//! asserts a speed (the machine is shared), only the report's shape and arithmetic.

mod common;

use common::{cli_stdout, run_cli};
use serde_json::Value;

fn json_report(args: &[&str]) -> Value {
    let stdout = cli_stdout(args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn number(row: &Value, field: &str) -> f64 {
    row[field]
        .as_f64()
        .unwrap_or_else(|| panic!("field `{field}` is not a number in {row}"))
}

#[test]
fn cli_report_json_has_every_field_for_every_row() {
    let report = json_report(&[
        "run",
        "--workload",
        "primes",
        "--size",
        "20000",
        "--p",
        "1,2,3",
        "--reps",
        "3",
        "--warmup",
        "0",
        "--json",
    ]);
    assert_eq!(report["workload"], "primes");
    assert_eq!(report["mode"], "threads");
    assert_eq!(report["law"], "amdahl");
    assert!(report["cores"].as_u64().unwrap() >= 1);
    let fitted = report["serial_fraction_fit"]
        .as_f64()
        .expect("a fitted serial fraction");
    assert!((0.0..=1.0).contains(&fitted));
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, p) in rows.iter().zip([1.0, 2.0, 3.0]) {
        assert_eq!(number(row, "p"), p);
        assert_eq!(row["answer"], 2262, "π(20000) = 2262 at every p: {row}");
        let (time, speedup) = (number(row, "time"), number(row, "speedup"));
        assert!(time > 0.0 && number(row, "time_min") <= time && time <= number(row, "time_max"));
        assert!((speedup - number(row, "t1") / time).abs() < 1e-9 * speedup.max(1.0));
        assert!((number(row, "efficiency") - speedup / p).abs() < 1e-12);
        let prediction = number(row, "prediction");
        assert!((prediction - perf_laws::laws::amdahl(fitted, p)).abs() < 1e-9);
        if p == 1.0 {
            assert_eq!(speedup, 1.0);
            assert!(row["karp_flatt"].is_null(), "{row}");
        } else {
            let e = number(row, "karp_flatt");
            assert!((e - (1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p)).abs() < 1e-9);
        }
    }
}

#[test]
fn scaled_workload_report_on_processes_has_table_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("scaled.svg");
    let stdout = cli_stdout(&[
        "run",
        "--workload",
        "scaled",
        "--size",
        "2000",
        "--serial-fraction",
        "0.2",
        "--p",
        "1,2",
        "--mode",
        "processes",
        "--reps",
        "1",
        "--warmup",
        "0",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(stdout.contains("workload scaled on processes"), "{stdout}");
    assert!(stdout.contains("gustafson's law"), "{stdout}");
    for column in ["speedup", "efficiency", "prediction", "karp-flatt"] {
        assert!(stdout.contains(column), "no `{column}` column:\n{stdout}");
    }
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(['1', '2']))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg"), "{}", &plot[..plot.len().min(200)]);
    for label in ["measured", "Amdahl", "Gustafson", "ideal"] {
        assert!(plot.contains(label), "the plot has no `{label}` legend");
    }
}

#[test]
fn cli_usage_help_lists_every_workload() {
    let help = cli_stdout(&["run", "--help"]);
    for workload in [
        "primes",
        "mandelbrot-static",
        "mandelbrot-dynamic",
        "serial",
        "scaled",
        "memsum",
        "io",
    ] {
        assert!(
            help.contains(workload),
            "`run --help` does not list {workload}:\n{help}"
        );
    }
    assert!(help.contains("--json") && help.contains("--plot") && help.contains("--mode"));
    let top = cli_stdout(&["--help"]);
    for workload in perf_laws::workloads::Workload::ALL {
        assert!(
            top.contains(workload.name()),
            "`--help` does not list {}:\n{top}",
            workload.name()
        );
    }
}

#[test]
fn cli_report_survives_a_reader_that_hangs_up() {
    // `perf-laws run | head -0`: the reader is gone before the report is written, so the write
    // fails with EPIPE. That must end the program quietly, not with a panic.
    use std::process::{Command, Stdio};
    let mut child = Command::new(common::CLI)
        .args([
            "run", "--size", "1000", "--p", "1,2", "--reps", "1", "--warmup", "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = common::within("perf-laws to exit with no reader", move || {
        child.wait_with_output().unwrap()
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
#[test]
fn cli_usage_refuses_bad_input_with_a_clear_error() {
    let cases: [(&[&str], &str); 4] = [
        (&["run", "--p", "0", "--size", "10"], "at least 1"),
        (&["run", "--workload", "fastest"], "invalid value 'fastest'"),
        (
            &[
                "run",
                "--workload",
                "memsum",
                "--size",
                "100",
                "--mode",
                "processes",
            ],
            "threads only",
        ),
        (
            &["run", "--workload", "serial", "--serial-fraction", "2"],
            "serial fraction",
        ),
    ];
    for (args, message) in cases {
        let output = run_cli(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "perf-laws {args:?} succeeded");
        assert!(
            stderr.contains(message),
            "perf-laws {args:?}: expected {message:?} in:\n{stderr}"
        );
    }
}

#[test]
fn cli_usage_refuses_a_plot_it_could_not_write_before_measuring() {
    let output = run_cli(&[
        "run",
        "--size",
        "1000",
        "--p",
        "1,2",
        "--reps",
        "1",
        "--plot",
        "/nonexistent-dir/x.svg",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("/nonexistent-dir") && stderr.contains("does not exist"),
        "{stderr}"
    );
    // Refused before the run: no report was printed.
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
