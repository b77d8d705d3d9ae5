//! Chapter: IO models — how one server waits for many clients.
//!
//! Every lesson is an echo server with the same signature,
//! `run(listener: TcpListener, stop: &Stop) -> io::Result<()>`, so the examples, the echo
//! conformance suite and the benchmark drive them all the same way. Read them in this order:
//!
//! | module | model | the idea |
//! | --- | --- | --- |
//! | [`blocking`] | blocking IO | one client at a time — and why that is not enough |
//! | [`nonblocking`] | non-blocking IO | `O_NONBLOCK` and a busy loop: works, burns a core |
//! | [`select`] | IO multiplexing | `select(2)`: one thread waits on many sockets (up to 1024) |
//! | [`poll`] | IO multiplexing | `poll(2)`: no 1024 ceiling, still O(n) per call |
//! | [`epoll_level`] | IO multiplexing | epoll, level-triggered: the kernel keeps the interest set |
//! | [`epoll_edge`] | IO multiplexing | epoll, edge-triggered: drain to `EAGAIN`, or stall |
//! | [`signal_driven`] | signal-driven IO | `SIGIO` tells us a UDP socket is readable |
//! | [`selectors`] | portable event loop | the `polling` crate, state machines, back-pressure |
//! | [`reactor`] | asynchronous programming | futures, wakers, a reactor and an executor, by hand |
//! | [`uring`] | asynchronous IO | io_uring: "your read is done" — completions, owned buffers |
//! | [`chat`] | select in practice | the chat room behind `select_chat` |
//! | [`chat_client`] | select in practice | a client that waits on stdin and a socket at once |
//!
//! The pieces every model shares — Ctrl-C, accept with `EMFILE` handling, the buffered echo
//! connection — live in the `netkit` crate, so each lesson shows only its own idea.
//!
//! ## Two entry points, one loop
//!
//! Each readiness event-loop model (`nonblocking` to `reactor`) has two entry points.
//! `run(listener, stop)` is the echo server the examples, the conformance suite and the
//! benchmark drive. `run_with(listener, stop, new_conn)` is the same loop for any protocol:
//! each accepted connection becomes `new_conn(stream)` (a [`NewConn`] factory, such as
//! `EchoConn::new`, the tests' line-uppercasing `uppercase_conn`, or the HTTP chapter's
//! connection), and the loop drives it through [`Connection`] — readable, writable, what it
//! wants, finished — until `stop` is requested. `run` is `run_with` with `EchoConn::new`. Each
//! turn a connection reads at most [`READ_BUDGET`] bytes, so one busy client cannot hold up the
//! others; how the rest is picked up is each model's own lesson. (The blocking model's
//! `run_with` takes a handler instead: it serves one client to its end.)
//!
//! [`NewConn`]: netkit::conn::NewConn
//! [`Connection`]: netkit::Connection
//! [`READ_BUDGET`]: netkit::conn::READ_BUDGET

pub mod blocking;
pub mod chat;
pub mod chat_client;
pub mod epoll_edge;
pub mod epoll_level;
pub mod nonblocking;
pub mod poll;
pub mod reactor;
pub mod select;
pub mod selectors;
#[cfg(target_os = "linux")]
pub mod signal_driven;
#[cfg(target_os = "linux")]
pub mod uring;
