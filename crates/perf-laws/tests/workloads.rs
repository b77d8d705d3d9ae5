//! Correctness before speed: every workload gives the same answer at every p, and the answers
//! are the known ones.

use perf_laws::workloads::{IO_WAIT, Problem, Workload};

fn answers(problem: &Problem, ps: impl IntoIterator<Item = usize>) -> Vec<u64> {
    ps.into_iter()
        .map(|p| {
            problem
                .run_threads(p)
                .unwrap_or_else(|e| panic!("p = {p}: {e:#}"))
        })
        .collect()
}

fn assert_same_at_every_p(workload: Workload, size: u64, expected: Option<u64>) {
    let problem = Problem::new(workload, size, 0.1).unwrap();
    let got = answers(&problem, 1..=5);
    let first = expected.unwrap_or(got[0]);
    assert!(
        got.iter().all(|&a| a == first),
        "{} of size {size}: answers at p = 1..5 were {got:?}, expected {first}",
        workload.name()
    );
}

#[test]
fn primes_count_is_the_known_one_at_every_p() {
    assert_same_at_every_p(Workload::Primes, 100_000, Some(9592));
}

#[test]
fn mandelbrot_static_gives_the_same_total_at_every_p() {
    let problem = Problem::new(Workload::MandelbrotStatic, 40, 0.0).unwrap();
    assert_eq!(
        problem.run_threads(1).unwrap(),
        perf_laws::workloads::mandelbrot::rows(40, 0..40)
    );
    assert_same_at_every_p(Workload::MandelbrotStatic, 40, None);
}

#[test]
fn mandelbrot_dynamic_gives_the_static_answer_at_every_p() {
    let expected = perf_laws::workloads::mandelbrot::rows(40, 0..40);
    assert_same_at_every_p(Workload::MandelbrotDynamic, 40, Some(expected));
}

#[test]
fn serial_workload_gives_the_same_checksum_whatever_the_fraction_and_p() {
    // The serial fraction moves units from one phase to the other; the sum is the same.
    let expected = perf_laws::workloads::synthetic::units(0..2000);
    for fraction in [0.0, 0.1, 0.5, 1.0] {
        let problem = Problem::new(Workload::Serial, 2000, fraction).unwrap();
        let got = answers(&problem, 1..=5);
        assert!(
            got.iter().all(|&a| a == expected),
            "f = {fraction}: {got:?}"
        );
    }
}

#[test]
fn scaled_workload_answer_depends_on_the_problem_not_the_workers() {
    let base = Problem::new(Workload::Scaled, 1000, 0.2).unwrap();
    for multiplier in 1..=4u64 {
        let problem = base.scaled_to(multiplier);
        let expected = perf_laws::workloads::synthetic::units(0..200 + 800 * multiplier);
        for p in [1, multiplier as usize, multiplier as usize + 1] {
            assert_eq!(
                problem.run_threads(p).unwrap(),
                expected,
                "m = {multiplier}, p = {p}"
            );
        }
    }
}

#[test]
fn memsum_is_the_triangle_number_at_every_p() {
    let n = 1_000_003u64;
    assert_same_at_every_p(Workload::Memsum, n, Some(n * (n - 1) / 2));
    let problem = Problem::new(Workload::Memsum, n, 0.0).unwrap();
    assert_eq!(problem.bytes_read(), Some(8 * n));
}

#[test]
fn io_tasks_are_each_done_once_at_every_p() {
    // Three tasks of IO_WAIT each: cheap, and more workers than tasks at p = 4 and 5.
    assert!(IO_WAIT.as_millis() <= 20);
    assert_same_at_every_p(Workload::Io, 3, Some(3));
}

#[test]
fn bad_problems_are_refused_with_a_reason() {
    assert!(Problem::new(Workload::Primes, 0, 0.0).is_err());
    let error = Problem::new(Workload::Serial, 10, 1.5).unwrap_err();
    assert!(error.to_string().contains("serial fraction"), "{error}");
    let problem = Problem::new(Workload::Primes, 10, 0.0).unwrap();
    assert!(problem.run_threads(0).is_err());
}
