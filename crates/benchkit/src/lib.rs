//! The plumbing every benchmark of the workspace shares, written once so that a bench reads as
//! the experiment it runs.
//!
//! | module | what it gives a bench | the pitfall it handles |
//! | --- | --- | --- |
//! | [`args`] | `BenchArgs` (`--quick`, `--out DIR`) and `PinArgs` (`--cpu N`, `--no-pin`) to flatten into a bench's clap arguments | `cargo bench` passes `--bench`; `cargo test --benches` does not, and then the bench runs its quick plan (as criterion does), so a test run never takes minutes |
//! | [`pin`] | `pin_to(cpu)`: this thread (and the threads and processes it starts) on one CPU, undone on drop | where the scheduler places two processes that talk decides a round trip's cost more than the code under test; pinned, every variant pays the same |
//! | [`stats`] | `Spread::of` (median, min, max), `percentile`, `time_runs` | the mean is pulled by one slow run on a shared machine; the median is not, and the spread shows how noisy it was |
//! | [`machine`] | `Machine::start()` and its line: CPUs, kernel, load average before and after, time taken | a table without the load it ran under cannot be judged |
//! | [`table`] | `Table`: a markdown table, the form every docs page records | columns that do not line up with their header |
//! | [`plot`] | `Chart`: lines (log or linear axes, markers, a legend) as an SVG, with plotters | a log axis with no key points shows no labels |
//! | [`worker`] | `Worker`: this program re-run with other arguments (a server, a worker) with piped stdio, stopped and reaped on drop | a bench that fails half-way must not leave children behind, nor a child outlive a killed bench |
//!
//! A chapter's bench (`crates/<chapter>/benches/<topic>.rs`, `harness = false`) is then its
//! experiment and its report: what to run, what to time, which ratios the chapter claims.
//! In-process claims that criterion measures well stay criterion benches.

pub mod args;
pub mod machine;
pub mod pin;
pub mod plot;
pub mod stats;
pub mod table;
pub mod worker;

pub use args::{BenchArgs, PinArgs, QUICK_CAVEAT};
pub use machine::Machine;
pub use pin::{Pinned, pin_to, usable_cpus};
pub use plot::{Axis, Chart, Marker, Series};
pub use stats::{Spread, percentile, time_runs};
pub use table::Table;
pub use worker::Worker;
