//! loadgen: the workspace's load generator, as a library (for tests) and a CLI (for benchmarks).
//!
//! Two runs: **echo** — N connections each writing S bytes, reading the echo back, verifying it,
//! and repeating, reported as requests/s and latency percentiles — and **idle** — M connections
//! opened and held, the C10K picture, reported as how many were established, how fast, and what
//! stopped the rest. Both are event-driven (one epoll loop per process), so loadgen is not the
//! bottleneck of what it measures; both scale to 100,000 loopback connections by spreading over
//! processes and source addresses, and both say *which limit* stopped a run.
//!
//! Read the modules in this order:
//!
//! | module | what it teaches |
//! | --- | --- |
//! | [`limits`] | the walls: descriptors per process, local ports per source address, the system; how many processes and sources a run needs |
//! | [`failure`] | errno → kind of failure → a sentence with the numbers (never a bare "Too many open files") |
//! | [`socket`] | non-blocking connect (`EINPROGRESS`, `SO_ERROR`) from 127.0.0.x with `IP_BIND_ADDRESS_NO_PORT` |
//! | [`engine`] | the event loop and the per-connection state machine: connecting → exchanging → … |
//! | [`report`] | tallies, HDR histograms merged across processes, the table and the JSON |
//! | [`stats`] | a server's memory, descriptors and CPU from `/proc` |
//! | [`run`] | the library API: [`run_echo`], [`run_idle`], [`hold_idle`] |
//! | [`workers`] | the multi-process run: re-exec as `loadgen worker`, JSON lines, Ctrl-C, reaping |
//! | [`cli`] | the command line |
//! | [`target`] | `echo_target`, a multi-process `SO_REUSEPORT` epoll echo server to aim at, built from netkit's pieces |
//!
//! ```no_run
//! use loadgen::{EchoConfig, Stop};
//! let addr = "127.0.0.1:7700".parse().unwrap();
//! let config = EchoConfig { conns: 8, size: 512, stop: Stop::Requests(1600), ..EchoConfig::new(addr) };
//! let report = loadgen::run_echo(&config).unwrap();
//! println!("{report}");
//! ```
//!
//! Linux only: `/proc`, `IP_BIND_ADDRESS_NO_PORT`, `RLIMIT_NOFILE` semantics.

#![cfg(target_os = "linux")]

pub mod cli;
pub mod engine;
pub mod failure;
pub mod limits;
pub mod report;
pub mod run;
pub mod socket;
pub mod stats;
pub mod target;
pub mod workers;

pub use engine::Stop;
pub use failure::Failure;
pub use limits::{FdLimit, fd_limit, raise_fd_limit};
pub use report::{EchoReport, IdleReport, Latency, RunReport, ServerReport, Spread};
pub use run::{EchoConfig, IdleConfig, IdleHold, hold_idle, hold_idle_with, run_echo, run_idle};
pub use stats::{ServerStats, server_stats};
