//! Chapter: threads — many flows of control in one process, and servers made of them.
//!
//! Read the lessons in this order; each builds on the one before:
//!
//! | module | the idea |
//! | --- | --- |
//! | [`basics`] | `thread::spawn` and `join`, `thread::scope` (borrowing without `Arc`), `Builder`, `thread_local!`, `park`/`unpark` |
//! | [`pool`] | the workspace's thread pool: fixed workers, a bounded queue with back-pressure, panics contained, graceful shutdown |
//! | [`pool_speed`] | what the pool is for, measured: many tiny tasks through it, through `threadpool`, and with a thread each |
//! | [`per_thread_server`] | thread-per-connection and pool-backed echo servers; what client N+1 of a pool of N gets |
//! | [`connections`] | the open connections of a blocking server, shut down on stop so no thread waits for ever |
//! | [`producer_consumer`] | producers and consumers over a bounded channel; every item consumed exactly once |
//! | [`ticket_office`] | the course's ticket office: 500 tickets sold strictly in order by 10 windows |
//! | [`cpu_vs_io`] | "threads for IO-bound, processes for CPU-bound" — measured, in a language without a GIL |
//! | [`memory`] | what an idle thread and an idle process cost in resident memory |
//! | [`ftp`] | an FTP server (RFC 959 subset) with a thread per control connection, confined to its root |
//!
//! Threads need no `fork`, so nothing here touches process-wide state except [`cpu_vs_io`] and
//! [`memory`], which start processes by `exec` (never a bare `fork` from a threaded program).

pub mod basics;
pub mod connections;
pub mod cpu_vs_io;
pub mod ftp;
pub mod memory;
pub mod per_thread_server;
pub mod pool;
pub mod pool_speed;
pub mod producer_consumer;
pub mod ticket_office;
