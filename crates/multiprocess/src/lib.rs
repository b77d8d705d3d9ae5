//! Chapter: processes — how Linux runs many programs at once, and how a server uses them.
//!
//! Read the lessons in this order; each builds on the one before:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`spawn`] | `fork` + `execvp` + `waitpid`, `posix_spawn`, `Command`; what a child may do after `fork` |
//! | [`fork`] | the plumbing the rest is built on: `fork_run` (Rust code in a child: signals reset, panics reported, parent-only pipe ends closed), `fork_run_tied`, `ParentEnd` |
//! | [`lifecycle`] | a zombie shown as `Z` in `/proc`, an orphan re-parented to a subreaper, `PR_SET_PDEATHSIG` |
//! | [`reaping`] | SIGCHLD through a self-pipe and a `waitpid(WNOHANG)` loop: no zombie accumulates |
//! | [`frame`] | length-prefixed messages over a pipe (the "sticky packet" lesson) |
//! | [`process`] | `Process`: `multiprocessing.Process` on `fork` — start, join, is_alive, terminate, exitcode |
//! | [`pool`] | a prefork pool of worker processes: `apply`, `map`, dead workers replaced, nothing lost |
//! | [`per_process_server`] | fork-per-connection and prefork echo servers |
//! | [`prefork_stop`] | a graceful stop for prefork: the shared listener shut down, each worker finishing its client |
//! | [`server_limits`] | their bounds: `--max-children`, an idle timeout, a client over the bound told so at once |
//! | [`copy_dir`] | the course's directory copy: a pool, and progress through one shared pipe |
//! | [`udp_chat`] | the course's UDP chat room, keyed by address, with heartbeats; a two-process client |
//! | [`spawn_cost`] | what creating a process costs, measured against the parent's memory size |
//!
//! Everything here is Linux (`/proc`, `prctl`); it forks, so the tests that use it hold
//! `harness::process_lock()`.

pub mod copy_dir;
pub mod fork;
pub mod frame;
pub mod lifecycle;
pub mod per_process_server;
pub mod pool;
pub mod prefork_stop;
pub mod process;
pub mod reaping;
pub mod server_limits;
pub mod spawn;
pub mod spawn_cost;
pub mod udp_chat;
