//! The arguments every `harness = false` bench takes, to `#[command(flatten)]` into its own.
//!
//! `cargo bench -p X --bench Y -- ARGS` runs the bench binary as `Y --bench ARGS`. `cargo test
//! --benches` runs the same binary *without* `--bench`: then [`BenchArgs::quick`] is true and
//! the bench runs its quick plan, a smoke test that everything works, as criterion's benches do.

use std::path::PathBuf;

use crate::Machine;

/// What a quick run says under its tables: its numbers are too few to be compared.
pub const QUICK_CAVEAT: &str = "QUICK PLAN: a smoke test with a few samples per cell; its numbers \
    measure nothing (run `cargo bench` without --quick to measure)";

/// `--quick`, `--out DIR`, and the `--bench` flag cargo passes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct BenchArgs {
    /// A few samples per cell: checks that everything runs, measures nothing.
    #[arg(long)]
    pub quick: bool,
    /// Where to write the CSV and SVG files [default: <target dir>/<bench name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Passed by `cargo bench`; without it (`cargo test --benches`) the run is quick.
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl BenchArgs {
    /// Whether to run the quick plan: asked for, or not run by `cargo bench`.
    pub fn quick(&self) -> bool {
        self.quick || !self.bench
    }

    /// `full` for a measuring run, `quick` for the quick plan: a default that `--quick` changes,
    /// `args.tasks.unwrap_or(args.bench.pick(1_000_000, 20_000))`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick() { quick } else { full }
    }

    /// The line under a bench's tables: the machine/load line, and for a quick run the warning
    /// that its numbers measure nothing (they look like results, and would be copied as such).
    pub fn footer(&self, machine: &Machine) -> String {
        if self.quick() {
            format!("{}; {QUICK_CAVEAT}", machine.line())
        } else {
            machine.line()
        }
    }

    /// `--out`, or `<target dir>/<name>` (a bench binary lives in `<target dir>/<profile>/deps/`),
    /// created if missing.
    pub fn out_dir(&self, name: &str) -> std::io::Result<PathBuf> {
        let dir = self.out.clone().unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join(name)))
                .unwrap_or_else(|| PathBuf::from("target").join(name))
        });
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// `--cpu N` and `--no-pin`: where a bench whose processes talk to each other runs them.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct PinArgs {
    /// Run the bench and its workers on this one CPU (see `benchkit::pin`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cpu: usize,
    /// Let the scheduler place the bench and its workers (noisier).
    #[arg(long)]
    pub no_pin: bool,
}

impl PinArgs {
    /// Pins the calling thread as asked (nothing with `--no-pin`); keep the guard for the run.
    pub fn apply(&self) -> std::io::Result<Option<crate::Pinned>> {
        if self.no_pin {
            return Ok(None);
        }
        crate::pin_to(self.cpu).map(Some)
    }

    /// The same choice as arguments for a worker (`--cpu N` or `--no-pin`).
    pub fn to_args(&self) -> Vec<String> {
        if self.no_pin {
            vec!["--no-pin".into()]
        } else {
            vec!["--cpu".into(), self.cpu.to_string()]
        }
    }

    /// `pinned to CPU 0` or `not pinned`, for the report.
    pub fn describe(&self) -> String {
        if self.no_pin {
            "not pinned".into()
        } else {
            format!("pinned to CPU {}", self.cpu)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Demo {
        #[command(flatten)]
        bench: BenchArgs,
        #[command(flatten)]
        pin: PinArgs,
    }

    #[test]
    fn cargo_bench_runs_the_full_plan_and_cargo_test_the_quick_one() {
        let bench = Demo::parse_from(["demo", "--bench"]);
        assert!(!bench.bench.quick());
        let asked = Demo::parse_from(["demo", "--bench", "--quick"]);
        assert!(asked.bench.quick());
        let test = Demo::parse_from(["demo"]);
        assert!(test.bench.quick());
        assert_eq!(
            (bench.bench.pick(1000, 10), test.bench.pick(1000, 10)),
            (1000, 10)
        );
    }

    #[test]
    fn only_a_quick_run_says_its_numbers_measure_nothing() {
        let machine = Machine::start();
        let full = Demo::parse_from(["demo", "--bench"]).bench.footer(&machine);
        assert!(
            full.contains("load average") && !full.contains(QUICK_CAVEAT),
            "{full}"
        );
        for quick in [&["demo", "--bench", "--quick"][..], &["demo"]] {
            let line = Demo::parse_from(quick).bench.footer(&machine);
            assert!(line.ends_with(QUICK_CAVEAT), "{quick:?}: {line}");
        }
    }

    #[test]
    fn a_worker_gets_the_same_placement() {
        let pinned = Demo::parse_from(["demo", "--cpu", "1"]).pin;
        assert_eq!(pinned.to_args(), ["--cpu", "1"]);
        assert_eq!(pinned.describe(), "pinned to CPU 1");
        let free = Demo::parse_from(["demo", "--no-pin"]).pin;
        assert_eq!(free.to_args(), ["--no-pin"]);
        assert!(free.apply().unwrap().is_none());
    }

    #[test]
    fn out_dir_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let args = BenchArgs {
            out: Some(tmp.path().join("a/b")),
            ..BenchArgs::default()
        };
        assert_eq!(args.out_dir("x").unwrap(), tmp.path().join("a/b"));
        assert!(tmp.path().join("a/b").is_dir());
    }
}
