//! Chapter: the performance laws — speedup, efficiency, Amdahl, Gustafson, Karp–Flatt —
//! measured on real workloads with threads and with processes, fitted and plotted.
//!
//! Read the modules in this order:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`laws`] | the formulas, as pure functions, with their properties tested |
//! | [`measure`] | timing done right: warm-up, repetitions, median and spread, CPU vs wall time |
//! | [`schedule`] | splitting tasks among workers: block, cyclic, dynamic (manager/worker) |
//! | [`workloads`] | CPU-bound, uneven, known-serial, scaled, memory-bound and IO-bound work |
//! | [`processes`] | the same work on worker processes, for the threads-versus-processes comparison |
//! | [`fit`] | the serial fraction that best explains a set of measured speedups |
//! | [`experiment`] | one workload at several `p`: speedup, efficiency, prediction, Karp–Flatt |
//! | [`plot`] | measured speedup against the Amdahl and Gustafson curves, as SVG |
//!
//! The `perf-laws` binary puts them together:
//! `cargo run -p perf-laws --release -- run --workload primes --p 1,2,4,8 --plot primes.svg`.

pub mod experiment;
pub mod fit;
pub mod laws;
pub mod measure;
pub mod plot;
pub mod processes;
pub mod schedule;
pub mod workloads;
