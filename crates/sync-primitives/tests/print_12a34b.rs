//! The 12A34B printer: each of the three solutions prints exactly the expected string, many
//! times over (each run is a new pair of threads, scheduled differently), and so does the example.

mod support;

use harness::ExampleProcess;

use support::{STEP, within};
use sync_primitives::print_12a34b::{EXPECTED, with_condvar, with_park, with_semaphores};

fn assert_exact_many_times(name: &'static str, solve: fn() -> String) {
    within(
        STEP,
        &format!("200 runs of the {name} printer"),
        move || {
            for run in 0..200 {
                assert_eq!(solve(), EXPECTED, "{name}, run {run}");
            }
        },
    );
}

#[test]
fn print_12a34b_condvar_is_exact() {
    assert_exact_many_times("condvar", with_condvar);
}

#[test]
fn print_12a34b_semaphores_are_exact() {
    assert_exact_many_times("semaphores", with_semaphores);
}

#[test]
fn print_12a34b_park_is_exact() {
    assert_exact_many_times("park", with_park);
}

#[test]
fn print_12a34b_example_prints_all_three() {
    let lines = support::output_of(ExampleProcess::spawn("print_12a34b", &[]));
    assert_eq!(
        lines,
        [
            format!("condvar:    {EXPECTED}"),
            format!("semaphores: {EXPECTED}"),
            format!("park:       {EXPECTED}"),
        ]
    );
    let only = support::output_of(ExampleProcess::spawn("print_12a34b", &["--only", "park"]));
    assert_eq!(only, [format!("park:       {EXPECTED}")]);
}
