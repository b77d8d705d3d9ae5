//! The measuring examples, small: `cpu_vs_io` prints a full table, `thread_memory` measures a
//! few idle threads and processes. (The numbers are measured for the docs, not asserted here.)

use harness::ExampleProcess;
use multithread::cpu_vs_io::{self, Kind};

#[test]
fn work_is_split_evenly_and_cpu_work_is_deterministic() {
    assert_eq!(cpu_vs_io::split(10, 4), [3, 3, 2, 2]);
    assert_eq!(cpu_vs_io::split(3, 1), [3]);
    assert_eq!(cpu_vs_io::work(Kind::Cpu, 3), cpu_vs_io::work(Kind::Cpu, 3));
    assert_eq!(cpu_vs_io::work(Kind::Io, 2), 2);
}

#[test]
fn worker_processes_that_fail_are_all_reaped() {
    let _lock = harness::process_lock(); // counts this process's zombie children
    let dir = tempfile::tempdir().unwrap();
    let failing = dir.path().join("failing-worker");
    std::fs::write(&failing, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(
        &failing,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let error = cpu_vs_io::with_processes(&failing, Kind::Io, 4, 4).unwrap_err();
    assert!(error.to_string().contains("exit status: 1"), "{error}");
    // The first failure must not leave the other three unwaited: no zombie stays.
    harness::leaks::expect_no_zombies(std::time::Duration::from_secs(2)).unwrap();
}

#[test]
fn cpu_vs_io_example_prints_a_row_per_kind_and_worker_count() {
    let mut example = ExampleProcess::spawn(
        "cpu_vs_io",
        &["--cpu-units", "20", "--io-units", "8", "--workers", "1,2"],
    )
    .unwrap();
    let header = example.read_line().unwrap();
    assert!(header.starts_with("work  workers"), "{header}");
    let rows: Vec<String> = (0..4).map(|_| example.read_line().unwrap()).collect();
    example.expect_success().unwrap();
    for (row, (kind, workers)) in rows
        .iter()
        .zip([("cpu", 1), ("cpu", 2), ("io", 1), ("io", 2)])
    {
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(words.len(), 6, "{row}");
        assert_eq!(
            (words[0], words[1]),
            (kind, workers.to_string().as_str()),
            "{row}"
        );
    }
}

#[test]
fn thread_memory_example_measures_idle_threads_and_processes() {
    let mut example = ExampleProcess::spawn("thread_memory", &["--count", "8"]).unwrap();
    let threads = example.read_line().unwrap();
    let processes = example.read_line().unwrap();
    example.expect_success().unwrap();
    assert!(threads.starts_with("8 idle threads: RSS "), "{threads}");
    assert!(processes.starts_with("8 idle processes: "), "{processes}");
    assert!(processes.contains("KiB PSS each"), "{processes}");
}
