//! What went wrong, counted by kind and explained in words.
//!
//! A load generator that prints "Too many open files" has told you nothing: *whose* files —
//! loadgen's or the server's? Which limit — the process's or the system's? How many were open?
//! Here every failure is classified into a [`Failure`] kind (counted in reports under its stable
//! [`name`](Failure::name)) and [`explain`]ed once per kind with the numbers that matter: the
//! limits, how many connections this process held, and which flag moves the wall.
//!
//! Pitfall: the same errno means different things at different steps. `EADDRNOTAVAIL` from
//! `connect` means "no local port left", not "bad address"; `ECONNREFUSED` means nothing listens,
//! while a full listen backlog shows up as a *timeout* (Linux drops the SYN and lets the client
//! retry), not as a refusal.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use crate::limits::{FD_HEADROOM, FdLimit, PortRange, system_file_max};

/// The kinds of failure loadgen counts. The serialized (snake_case) names are stable: they are
/// the keys of the `connect_errors`, `errors` and `explanations` maps in `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// `EMFILE`: this process reached its `RLIMIT_NOFILE`.
    FdLimit,
    /// `ENFILE`: the whole system reached `fs.file-max`.
    SystemFdLimit,
    /// `EADDRNOTAVAIL` (or `EADDRINUSE` on bind): no free local port for this source address.
    NoPorts,
    /// `ENOMEM` / `ENOBUFS`: the kernel has no memory for another socket or buffer.
    NoMemory,
    /// `ECONNREFUSED`: nothing listens at the address.
    Refused,
    /// The handshake did not complete within the connect timeout.
    ConnectTimeout,
    /// An echo did not come back complete within the request timeout.
    RequestTimeout,
    /// `ETIMEDOUT` from the kernel (retransmissions gave up).
    TimedOut,
    /// `ENETUNREACH` / `EHOSTUNREACH`.
    Unreachable,
    /// `ECONNRESET`: the server reset the connection.
    Reset,
    /// `EPIPE`: the server closed while loadgen was writing.
    BrokenPipe,
    /// End of stream from the server mid-request (or on a held idle connection).
    ClosedByServer,
    /// The echoed bytes differ from the bytes sent (or came unasked).
    Mismatch,
    /// Established by the kernel but never accepted by the server (seen with `--server-pid`:
    /// only explained, not counted as a failed connect).
    NotAccepted,
    /// Anything else.
    Other,
}

impl Failure {
    /// Classifies an I/O error.
    pub fn of(error: &io::Error) -> Failure {
        match error.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EMFILE) => Failure::FdLimit,
            Some(Errno::ENFILE) => Failure::SystemFdLimit,
            Some(Errno::EADDRNOTAVAIL | Errno::EADDRINUSE) => Failure::NoPorts,
            Some(Errno::ENOMEM | Errno::ENOBUFS) => Failure::NoMemory,
            Some(Errno::ECONNREFUSED) => Failure::Refused,
            Some(Errno::ETIMEDOUT) => Failure::TimedOut,
            Some(Errno::ENETUNREACH | Errno::EHOSTUNREACH) => Failure::Unreachable,
            Some(Errno::ECONNRESET | Errno::ECONNABORTED) => Failure::Reset,
            Some(Errno::EPIPE) => Failure::BrokenPipe,
            _ => Failure::Other,
        }
    }

    /// The stable name used as a key in reports.
    pub fn name(self) -> &'static str {
        match self {
            Failure::FdLimit => "fd_limit",
            Failure::SystemFdLimit => "system_fd_limit",
            Failure::NoPorts => "no_ports",
            Failure::NoMemory => "no_memory",
            Failure::Refused => "refused",
            Failure::ConnectTimeout => "connect_timeout",
            Failure::RequestTimeout => "request_timeout",
            Failure::TimedOut => "timed_out",
            Failure::Unreachable => "unreachable",
            Failure::Reset => "reset",
            Failure::BrokenPipe => "broken_pipe",
            Failure::ClosedByServer => "closed_by_server",
            Failure::Mismatch => "mismatch",
            Failure::NotAccepted => "not_accepted",
            Failure::Other => "other",
        }
    }

    /// True for a wall on loadgen's side (descriptors, ports, memory): every further connect
    /// would fail the same way, so loadgen stops opening connections and says which wall.
    pub fn is_local_limit(self) -> bool {
        matches!(
            self,
            Failure::FdLimit | Failure::SystemFdLimit | Failure::NoPorts | Failure::NoMemory
        )
    }
}

/// What [`explain`] needs to put numbers in its sentence.
#[derive(Debug, Clone)]
pub struct Context {
    /// The server's address.
    pub addr: SocketAddr,
    /// This process's descriptor limit.
    pub fd: FdLimit,
    /// The ephemeral port range.
    pub ports: PortRange,
    /// How many source addresses the run uses.
    pub sources: usize,
    /// The source address of the failing socket, if it was bound to one.
    pub source: Option<Ipv4Addr>,
    /// Connections this process held (open or opening) when it failed.
    pub open_here: u64,
}

/// One sentence saying what happened, which limit or party caused it, with the numbers, and what
/// to change. Ends with the errno name, never with the bare `strerror` text.
pub fn explain(failure: Failure, error: Option<&io::Error>, ctx: &Context) -> String {
    let text =
        explain_local_limit(failure, ctx).unwrap_or_else(|| explain_peer(failure, error, ctx.addr));
    match error.and_then(io::Error::raw_os_error) {
        Some(code) => format!("{text} ({:?})", Errno::from_raw(code)),
        None => text,
    }
}

/// A wall on loadgen's side ([`Failure::is_local_limit`]): which limit, its numbers, and the
/// flag that moves it; `None` for any other failure.
fn explain_local_limit(failure: Failure, ctx: &Context) -> Option<String> {
    let addr = ctx.addr;
    let open = ctx.open_here;
    let (soft, hard) = (ctx.fd.soft, ctx.fd.hard);
    let (low, high, ports) = (ctx.ports.low, ctx.ports.high, ctx.ports.len());
    Some(match failure {
        Failure::FdLimit => format!(
            "the per-process open-file limit: RLIMIT_NOFILE is soft {soft} / hard {hard}, and all \
             {soft} descriptors of this process were in use ({open} connections, {others} \
             others); loadgen plans on {per_process} connections per process (the hard limit − \
             {FD_HEADROOM}), so spread the connections over more processes with --procs (or \
             leave --procs out to let loadgen choose)",
            others = soft.saturating_sub(open),
            per_process = hard.saturating_sub(FD_HEADROOM),
        ),
        Failure::SystemFdLimit => format!(
            "the system-wide open-file limit: fs.file-max ({max}) descriptors are open across \
             all processes (see /proc/sys/fs/file-nr); this process held {open} connections; \
             raise it with `sysctl fs.file-max=N` or hold fewer connections",
            max = system_file_max().map_or("?".into(), |n| n.to_string()),
        ),
        Failure::NoPorts => format!(
            "no free local port: the ephemeral port range {low}–{high} ({ports} ports, \
             /proc/sys/net/ipv4/ip_local_port_range) is used up for source {source} → {addr} \
             (this process held {open} connections; ports in TIME_WAIT from earlier runs count \
             too); add source addresses with --sources (now {sources}; each 127.0.0.x brings \
             another {ports} ports) or widen the range",
            source = ctx.source.map_or("127.0.0.1".into(), |ip| ip.to_string()),
            sources = ctx.sources,
        ),
        Failure::NoMemory => format!(
            "memory: the kernel could not allocate another socket or socket buffer while this \
             process held {open} connections; check free memory and /proc/sys/net/ipv4/tcp_mem"
        ),
        _ => return None,
    })
}

/// The server's side, or the path to it: what it did.
fn explain_peer(failure: Failure, error: Option<&io::Error>, addr: SocketAddr) -> String {
    match failure {
        Failure::Refused => format!(
            "connection refused by {addr}: nothing is listening there (is the server running, \
             on that port?), or it closed its listening socket"
        ),
        Failure::ConnectTimeout => format!(
            "connecting to {addr} timed out (--connect-timeout): the server's accept queue is \
             probably full and the kernel drops SYNs, or the server is stuck; lower \
             --connect-batch or make the server accept faster"
        ),
        Failure::RequestTimeout => format!(
            "{addr} did not echo a whole request back within --request-timeout: the server is \
             stuck, overloaded, or not an echo server"
        ),
        Failure::TimedOut => {
            format!("the kernel gave up on the connection to {addr}: no answer to retransmissions")
        }
        Failure::Unreachable => format!("{addr} is unreachable: no route to it"),
        Failure::Reset => format!(
            "{addr} reset the connection: the server closed it with unread data, crashed, or \
             dropped it (e.g. out of descriptors itself)"
        ),
        Failure::BrokenPipe => {
            format!("{addr} closed the connection while loadgen was still writing")
        }
        Failure::ClosedByServer => format!(
            "{addr} closed the connection (end of stream) before echoing everything, or while \
             it was held idle"
        ),
        Failure::Mismatch => format!(
            "{addr} echoed bytes different from those sent: the server corrupts, reorders, \
             mixes up or invents data"
        ),
        Failure::NotAccepted => format!(
            "{addr} did not accept connections whose handshake the kernel completed (see the \
             server's descriptor count)"
        ),
        // Other, and the local limits (explained with their numbers by the caller).
        _ => match error {
            Some(e) => format!("unexpected error talking to {addr}: {e}"),
            None => format!("unexpected error talking to {addr}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            addr: "127.0.0.1:7700".parse().unwrap(),
            fd: FdLimit {
                soft: 1024,
                hard: 20_000,
            },
            ports: PortRange::LINUX_DEFAULT,
            sources: 2,
            source: Some(Ipv4Addr::new(127, 0, 0, 2)),
            open_here: 960,
        }
    }

    fn explain_errno(errno: Errno) -> (Failure, String) {
        let error = io::Error::from_raw_os_error(errno as i32);
        let failure = Failure::of(&error);
        (failure, explain(failure, Some(&error), &ctx()))
    }

    #[test]
    fn emfile_names_the_per_process_limit_with_numbers_and_the_flag() {
        let (failure, text) = explain_errno(Errno::EMFILE);
        assert_eq!(failure, Failure::FdLimit);
        for needle in [
            "per-process open-file limit",
            "soft 1024",
            "hard 20000",
            "960",
            "--procs",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from {text:?}");
        }
        assert!(text.ends_with("(EMFILE)"), "{text}");
        assert!(
            !text.to_lowercase().contains("too many open files"),
            "{text}"
        );
    }

    #[test]
    fn enfile_names_the_system_limit() {
        let (failure, text) = explain_errno(Errno::ENFILE);
        assert_eq!(failure, Failure::SystemFdLimit);
        assert!(
            text.contains("system-wide") && text.contains("fs.file-max"),
            "{text}"
        );
    }

    #[test]
    fn eaddrnotavail_names_the_port_range_and_the_source() {
        let (failure, text) = explain_errno(Errno::EADDRNOTAVAIL);
        assert_eq!(failure, Failure::NoPorts);
        for needle in [
            "32768–60999",
            "28232 ports",
            "ip_local_port_range",
            "127.0.0.2",
            "--sources",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from {text:?}");
        }
    }

    #[test]
    fn econnrefused_names_the_address() {
        let (failure, text) = explain_errno(Errno::ECONNREFUSED);
        assert_eq!(failure, Failure::Refused);
        assert!(
            text.starts_with("connection refused by 127.0.0.1:7700"),
            "{text}"
        );
    }

    #[test]
    fn etimedout_and_enomem_are_explained() {
        let (failure, text) = explain_errno(Errno::ETIMEDOUT);
        assert_eq!(failure, Failure::TimedOut);
        assert!(
            text.contains("retransmissions") && text.ends_with("(ETIMEDOUT)"),
            "{text}"
        );
        let (failure, text) = explain_errno(Errno::ENOMEM);
        assert_eq!(failure, Failure::NoMemory);
        assert!(
            text.starts_with("memory") && text.contains("tcp_mem"),
            "{text}"
        );
        assert_eq!(
            Failure::of(&io::Error::from_raw_os_error(Errno::ENOBUFS as i32)),
            Failure::NoMemory
        );
    }

    #[test]
    fn peer_failures_are_classified() {
        for (errno, failure) in [
            (Errno::ECONNRESET, Failure::Reset),
            (Errno::EPIPE, Failure::BrokenPipe),
            (Errno::EHOSTUNREACH, Failure::Unreachable),
            (Errno::EINVAL, Failure::Other),
        ] {
            assert_eq!(explain_errno(errno).0, failure, "{errno:?}");
        }
    }

    #[test]
    fn only_local_walls_stop_new_connections() {
        assert!(Failure::FdLimit.is_local_limit());
        assert!(Failure::NoPorts.is_local_limit());
        assert!(!Failure::Refused.is_local_limit());
        assert!(!Failure::Reset.is_local_limit());
    }

    #[test]
    fn names_match_the_serialized_form() {
        for failure in [
            Failure::FdLimit,
            Failure::ClosedByServer,
            Failure::ConnectTimeout,
        ] {
            let json = serde_json::to_string(&failure).unwrap();
            assert_eq!(json, format!("\"{}\"", failure.name()));
        }
    }
}
