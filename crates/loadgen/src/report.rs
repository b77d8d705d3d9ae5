//! What a run measured: per-process [`Tally`]s, merged into an [`EchoReport`] or [`IdleReport`];
//! what both runs report (the address, the spread over processes, the connecting, the failures
//! and their explanations, the server) is one [`RunReport`] inside each.
//!
//! Each process keeps its own tally — counts, failures by kind, and an HDR histogram of request
//! latencies — and the parent adds them up. Pitfall: percentiles do not add. The p99 of a run is
//! not the mean (or max) of each worker's p99, so workers send their *histograms* (the count in
//! every bucket, see [`histogram_counts`]), and the percentiles are read from the merged one.
//!
//! The reports print as a two-column table (`Display`, in `report/table.rs`) or as JSON (`serde`); the
//! JSON field names are stable and documented in the crate README.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::stats::ServerStats;

mod table;

/// Latencies are recorded in nanoseconds from 1 ns to 60 s with 3 significant digits (each
/// value within 0.1% of what was measured); longer ones are recorded as 60 s.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// What one process did. Workers send theirs to the parent as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tally {
    /// Request/response connections asked for.
    pub active_requested: u64,
    /// Idle connections asked for.
    pub idle_requested: u64,
    /// Active connections whose handshake completed.
    pub active_established: u64,
    /// Idle connections whose handshake completed.
    pub idle_established: u64,
    /// Established active connections later closed by an error.
    pub active_lost: u64,
    /// Established idle connections later closed (dropped by the server, reset…).
    pub idle_lost: u64,
    /// Connections still open (or still connecting) at the end.
    pub open_at_end: u64,
    /// Connections never attempted (a local limit stopped the connecting, or a cancel).
    pub not_attempted: u64,
    /// Failed connects by kind.
    pub connect_errors: BTreeMap<Failure, u64>,
    /// Failures of established connections by kind.
    pub errors: BTreeMap<Failure, u64>,
    /// The first explanation of each kind of failure.
    pub explanations: BTreeMap<Failure, String>,
    /// The local limit that stopped further connects, explained.
    pub stopped_by: Option<String>,
    /// How long the connect phase took.
    pub connect_secs: f64,
    /// Requests completed and verified.
    pub requests: u64,
    /// How long the traffic ran.
    pub traffic_secs: f64,
    /// Requests in flight when a timed (or interrupted) run stopped; not counted.
    pub unfinished: u64,
    /// CPU time this process used (user + system).
    pub cpu_secs: f64,
    /// True if Ctrl-C (or the parent) stopped the run early.
    pub interrupted: bool,
    /// Latencies of the completed requests, in nanoseconds.
    #[serde(with = "histogram_counts")]
    pub latency: Histogram<u64>,
}

impl Tally {
    /// An empty tally for `active` + `idle` connections.
    pub fn new(active: u64, idle: u64) -> Tally {
        Tally {
            active_requested: active,
            idle_requested: idle,
            active_established: 0,
            idle_established: 0,
            active_lost: 0,
            idle_lost: 0,
            open_at_end: 0,
            not_attempted: 0,
            connect_errors: BTreeMap::new(),
            errors: BTreeMap::new(),
            explanations: BTreeMap::new(),
            stopped_by: None,
            connect_secs: 0.0,
            requests: 0,
            traffic_secs: 0.0,
            unfinished: 0,
            cpu_secs: 0.0,
            interrupted: false,
            latency: new_histogram(),
        }
    }

    /// Adds another process's tally. Times are the longest (processes run side by side); the
    /// histograms are added bucket by bucket.
    pub fn merge(&mut self, other: &Tally) {
        self.active_requested += other.active_requested;
        self.idle_requested += other.idle_requested;
        self.active_established += other.active_established;
        self.idle_established += other.idle_established;
        self.active_lost += other.active_lost;
        self.idle_lost += other.idle_lost;
        self.open_at_end += other.open_at_end;
        self.not_attempted += other.not_attempted;
        for (kind, n) in &other.connect_errors {
            *self.connect_errors.entry(*kind).or_default() += n;
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(*kind).or_default() += n;
        }
        for (kind, text) in &other.explanations {
            self.explanations
                .entry(*kind)
                .or_insert_with(|| text.clone());
        }
        if self.stopped_by.is_none() {
            self.stopped_by.clone_from(&other.stopped_by);
        }
        self.connect_secs = self.connect_secs.max(other.connect_secs);
        self.requests += other.requests;
        self.traffic_secs = self.traffic_secs.max(other.traffic_secs);
        self.unfinished += other.unfinished;
        self.cpu_secs += other.cpu_secs;
        self.interrupted |= other.interrupted;
        self.latency
            .add(&other.latency)
            .expect("histograms share their bounds");
    }
}

/// Serializes a histogram as its recorded buckets: `[[value, count], …]`, where `value` is the
/// highest value equivalent to the bucket. Recording each `value` `count` times into a histogram
/// with the same bounds fills exactly the same buckets, so the merge is exact.
pub mod histogram_counts {
    use hdrhistogram::Histogram;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// `[[value, count], …]` of every non-empty bucket.
    pub fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        let buckets: Vec<(u64, u64)> = h
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        buckets.serialize(s)
    }

    /// The histogram back from its buckets.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let buckets = Vec::<(u64, u64)>::deserialize(d)?;
        let mut h = super::new_histogram();
        for (value, count) in buckets {
            h.record_n(value, count).map_err(serde::de::Error::custom)?;
        }
        Ok(h)
    }
}

/// Latency percentiles, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Fastest request.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest request.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of a histogram of nanoseconds (all zero when it is empty).
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Latency {
            min: us(h.min()),
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// The server's resources before the run and while every connection was open.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ServerReport {
    /// The server's pid (its descendants are counted too).
    pub pid: u32,
    /// Before loadgen connected.
    pub before: ServerStats,
    /// With every connection open: after connecting (idle) or at the end of the traffic (echo).
    pub loaded: ServerStats,
    /// Connections loadgen held established when `loaded` was sampled.
    pub open: u64,
    /// Of those, how many the server had not accepted: `open` minus the rise in its
    /// descriptors. Non-zero means they wait in the listen backlog — the server stopped
    /// accepting. (Assumes one descriptor per connection, true of every server here.)
    pub unaccepted: u64,
}

impl ServerReport {
    /// Why a server's descriptor count rose by less than the connections loadgen holds.
    pub fn explain_unaccepted(&self, addr: SocketAddr) -> String {
        format!(
            "the server's own limit: {addr} (pid {pid}) holds only {accepted} of the {open} \
             connections loadgen holds — its descriptors rose from {before} to {after}; the other \
             {missing} completed the TCP handshake in the kernel but either wait unaccepted in the \
             listen backlog or were accepted and closed at once (a server that sheds connections \
             at its limit; they then show among the drops as closed_by_server), so the server ran \
             out of room (at its RLIMIT_NOFILE? see its stderr); give it more processes or a \
             higher limit",
            pid = self.pid,
            accepted = self.open - self.unaccepted,
            open = self.open,
            before = self.before.fds,
            after = self.loaded.fds,
            missing = self.unaccepted,
        )
    }

    /// The explanation of unaccepted connections, if there are any.
    fn note(&self, addr: SocketAddr, explanations: &mut BTreeMap<Failure, String>) {
        if self.unaccepted > 0 {
            explanations.insert(Failure::NotAccepted, self.explain_unaccepted(addr));
        }
    }
}

/// What every run reports, echo or idle: where it ran, with what, how the connecting went,
/// what failed and why, and the server's resources. Its fields sit at the top level of each
/// report's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `"echo"` or `"idle"`.
    pub mode: &'static str,
    /// The server.
    pub addr: SocketAddr,
    /// Loadgen processes.
    pub procs: usize,
    /// Source addresses used.
    pub sources: usize,
    /// Connections never attempted because a local limit stopped the connecting.
    pub not_attempted: u64,
    /// How long connecting took.
    pub connect_secs: f64,
    /// Failed connects by kind.
    pub connect_errors: BTreeMap<Failure, u64>,
    /// Failures of established connections by kind (an echo run's reset or mismatch, an idle
    /// run's drops).
    pub errors: BTreeMap<Failure, u64>,
    /// One sentence per kind of failure.
    pub explanations: BTreeMap<Failure, String>,
    /// The local limit that stopped the connecting, if one did.
    pub stopped_by: Option<String>,
    /// True if Ctrl-C stopped the run early.
    pub interrupted: bool,
    /// CPU time of every loadgen process together.
    pub loadgen_cpu_secs: f64,
    /// The server's resources, with `--server-pid`.
    pub server: Option<ServerReport>,
}

/// How a run was spread: the server, loadgen processes, source addresses.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub addr: SocketAddr,
    pub procs: usize,
    pub sources: usize,
}

impl RunReport {
    /// The common part of a report, taken out of the merged tally `t`.
    fn new(
        mode: &'static str,
        spread: Spread,
        t: &mut Tally,
        server: Option<ServerReport>,
    ) -> RunReport {
        let mut explanations = std::mem::take(&mut t.explanations);
        if let Some(s) = &server {
            s.note(spread.addr, &mut explanations);
        }
        RunReport {
            mode,
            addr: spread.addr,
            procs: spread.procs,
            sources: spread.sources,
            not_attempted: t.not_attempted,
            connect_secs: t.connect_secs,
            connect_errors: std::mem::take(&mut t.connect_errors),
            errors: std::mem::take(&mut t.errors),
            explanations,
            stopped_by: t.stopped_by.take(),
            interrupted: t.interrupted,
            loadgen_cpu_secs: t.cpu_secs,
            server,
        }
    }

    /// Failed connects.
    pub fn connect_failures(&self) -> u64 {
        self.connect_errors.values().sum()
    }

    /// True when nothing of the run's common part went wrong: no failure, no connection left
    /// unattempted, none the server left unaccepted.
    fn is_clean(&self) -> bool {
        self.connect_failures() == 0
            && self.errors.is_empty()
            && self.not_attempted == 0
            && self.server.is_none_or(|s| s.unaccepted == 0)
    }
}

/// The result of an echo run.
#[derive(Debug, Clone, Serialize)]
pub struct EchoReport {
    #[serde(flatten)]
    pub run: RunReport,
    /// Bytes per request.
    pub size: usize,
    /// Active connections asked for.
    pub conns: u64,
    /// Active connections established.
    pub conns_established: u64,
    /// Idle connections asked for.
    pub idle: u64,
    /// Idle connections established.
    pub idle_established: u64,
    /// Requests completed and verified.
    pub requests: u64,
    /// How long the traffic ran.
    pub elapsed_secs: f64,
    /// `requests / elapsed_secs`.
    pub requests_per_sec: f64,
    /// Latency percentiles, microseconds.
    pub latency_us: Latency,
    /// Requests in flight when a timed run stopped (not counted, not errors).
    pub unfinished: u64,
    /// All failures: failed connects plus failed connections.
    pub errors_total: u64,
    /// The merged latency histogram (nanoseconds), for finer questions than the percentiles.
    #[serde(skip)]
    pub histogram: Histogram<u64>,
}

impl EchoReport {
    /// The report of a run from its merged tally.
    pub fn new(
        spread: Spread,
        size: usize,
        mut t: Tally,
        server: Option<ServerReport>,
    ) -> EchoReport {
        let rate = if t.traffic_secs > 0.0 {
            t.requests as f64 / t.traffic_secs
        } else {
            0.0
        };
        let run = RunReport::new("echo", spread, &mut t, server);
        EchoReport {
            errors_total: run.connect_failures() + run.errors.values().sum::<u64>(),
            run,
            size,
            conns: t.active_requested,
            conns_established: t.active_established,
            idle: t.idle_requested,
            idle_established: t.idle_established,
            requests: t.requests,
            elapsed_secs: t.traffic_secs,
            requests_per_sec: rate,
            latency_us: Latency::of(&t.latency),
            unfinished: t.unfinished,
            histogram: t.latency,
        }
    }

    /// True when every connection was established and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.run.is_clean()
            && self.conns_established == self.conns
            && self.idle_established == self.idle
    }
}

/// The result of an idle (C10K) run.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    #[serde(flatten)]
    pub run: RunReport,
    /// Connections asked for.
    pub conns: u64,
    /// Connections established.
    pub established: u64,
    /// Connects that failed (see `connect_errors`).
    pub failed: u64,
    /// `established / connect_secs`.
    pub connects_per_sec: f64,
    /// How long the connections were held after connecting.
    pub hold_secs: f64,
    /// Established connections the server closed or reset while held.
    pub dropped: u64,
    /// Connections open at the end (before loadgen closed them).
    pub open_at_end: u64,
}

impl IdleReport {
    /// The report of a run from its merged tally.
    pub fn new(
        spread: Spread,
        hold_secs: f64,
        mut t: Tally,
        server: Option<ServerReport>,
    ) -> IdleReport {
        let established = t.idle_established;
        let rate = if t.connect_secs > 0.0 {
            established as f64 / t.connect_secs
        } else {
            0.0
        };
        let run = RunReport::new("idle", spread, &mut t, server);
        IdleReport {
            failed: run.connect_failures(),
            run,
            conns: t.idle_requested,
            established,
            connects_per_sec: rate,
            hold_secs,
            dropped: t.idle_lost,
            open_at_end: t.open_at_end,
        }
    }

    /// True when every connection was established and none was dropped.
    pub fn is_clean(&self) -> bool {
        self.established == self.conns && self.dropped == 0 && self.run.is_clean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_histograms_give_the_percentiles_of_all_samples() {
        let mut fast = Tally::new(1, 0);
        let mut slow = Tally::new(1, 0);
        for _ in 0..99 {
            fast.latency.record(10_000).unwrap();
        }
        slow.latency.record(5_000_000).unwrap();
        // Through JSON, as workers send them.
        let slow: Tally = serde_json::from_str(&serde_json::to_string(&slow).unwrap()).unwrap();
        fast.merge(&slow);
        assert_eq!(fast.latency.len(), 100);
        let latency = Latency::of(&fast.latency);
        assert!((latency.p50 - 10.0).abs() < 0.1, "{latency:?}");
        assert!((latency.max - 5000.0).abs() < 5.0, "{latency:?}");
        assert!(latency.p99 <= latency.max);
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_longest_time() {
        let mut a = Tally::new(2, 1);
        a.requests = 10;
        a.traffic_secs = 1.0;
        a.errors.insert(Failure::Reset, 1);
        let mut b = Tally::new(3, 0);
        b.requests = 5;
        b.traffic_secs = 2.0;
        b.errors.insert(Failure::Reset, 2);
        b.connect_errors.insert(Failure::Refused, 1);
        a.merge(&b);
        assert_eq!(
            (a.active_requested, a.idle_requested, a.requests),
            (5, 1, 15)
        );
        assert_eq!(a.traffic_secs, 2.0);
        assert_eq!(a.errors[&Failure::Reset], 3);
        let spread = Spread {
            addr: "127.0.0.1:1".parse().unwrap(),
            procs: 2,
            sources: 1,
        };
        let report = EchoReport::new(spread, 8, a, None);
        assert_eq!(report.errors_total, 4);
        assert_eq!(report.requests_per_sec, 7.5);
        assert!(!report.is_clean());
    }
}
