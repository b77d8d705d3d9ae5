//! The human-readable form of the reports: a two-column table, failures with their
//! explanations under them.

use std::collections::BTreeMap;
use std::fmt;

use super::{EchoReport, IdleReport, RunReport, ServerReport};
use crate::failure::Failure;
use crate::stats::ServerStats;

fn row(f: &mut fmt::Formatter<'_>, label: &str, value: impl fmt::Display) -> fmt::Result {
    writeln!(f, "  {label:<22} {value}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn failures(
    f: &mut fmt::Formatter<'_>,
    label: &str,
    counts: &BTreeMap<Failure, u64>,
    explanations: &BTreeMap<Failure, String>,
) -> fmt::Result {
    if counts.is_empty() {
        return row(f, label, "none");
    }
    for (i, (kind, n)) in counts.iter().enumerate() {
        let label = if i == 0 { label } else { "" };
        row(f, label, format!("{n} {}", kind.name()))?;
        if let Some(text) = explanations.get(kind) {
            writeln!(f, "  {:<22}   {text}", "")?;
        }
    }
    Ok(())
}

fn server_rows(f: &mut fmt::Formatter<'_>, server: &Option<ServerReport>) -> fmt::Result {
    let Some(s) = server else { return Ok(()) };
    let stats = |x: &ServerStats| {
        format!(
            "{} fds, {} KiB RSS ({})",
            x.fds,
            x.rss_kib,
            plural(x.processes as usize, "process", "processes")
        )
    };
    row(f, &format!("server {} before", s.pid), stats(&s.before))?;
    row(f, &format!("server {} loaded", s.pid), stats(&s.loaded))?;
    if s.unaccepted > 0 {
        row(
            f,
            "server NOT accepted",
            format!("{} of {} established connections", s.unaccepted, s.open),
        )?;
    }
    row(
        f,
        "server cpu",
        format!("{:.2} s", s.loaded.cpu_secs - s.before.cpu_secs),
    )
}

impl RunReport {
    /// The title and the first row, which every report starts with.
    fn write_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "loadgen {} → {}", self.mode, self.addr)?;
        row(
            f,
            "processes / sources",
            format!("{} / {}", self.procs, self.sources),
        )
    }

    /// The failures (established connections' under `errors_label`), what stopped the run,
    /// loadgen's CPU and the server's resources: every report ends with them.
    fn write_tail(&self, f: &mut fmt::Formatter<'_>, errors_label: &str) -> fmt::Result {
        failures(
            f,
            "connect errors",
            &self.connect_errors,
            &self.explanations,
        )?;
        failures(f, errors_label, &self.errors, &self.explanations)?;
        if self.not_attempted > 0 {
            row(f, "not attempted", self.not_attempted)?;
        }
        if let Some(limit) = &self.stopped_by {
            row(f, "stopped by", limit)?;
        }
        if self.interrupted {
            row(
                f,
                "interrupted",
                "yes (Ctrl-C): the numbers cover the run so far",
            )?;
        }
        row(f, "loadgen cpu", format!("{:.2} s", self.loadgen_cpu_secs))?;
        server_rows(f, &self.server)
    }
}

impl fmt::Display for EchoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.run.write_head(f)?;
        row(
            f,
            "active connections",
            format!("{} of {} established", self.conns_established, self.conns),
        )?;
        row(
            f,
            "idle connections",
            format!("{} of {} established", self.idle_established, self.idle),
        )?;
        row(f, "connect time", format!("{:.3} s", self.run.connect_secs))?;
        row(f, "request size", format!("{} B", self.size))?;
        row(
            f,
            "requests",
            format!("{} in {:.3} s", self.requests, self.elapsed_secs),
        )?;
        row(f, "requests/s", format!("{:.0}", self.requests_per_sec))?;
        let l = &self.latency_us;
        row(
            f,
            "latency µs",
            format!(
                "p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
                l.p50, l.p90, l.p99, l.p999, l.max
            ),
        )?;
        row(f, "", format!("min {:.1}  mean {:.1}", l.min, l.mean))?;
        if self.unfinished > 0 {
            row(f, "unfinished at stop", self.unfinished)?;
        }
        self.run.write_tail(f, "errors")
    }
}

impl fmt::Display for IdleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.run.write_head(f)?;
        row(
            f,
            "established",
            format!("{} of {}", self.established, self.conns),
        )?;
        row(f, "connect time", format!("{:.3} s", self.run.connect_secs))?;
        row(f, "connects/s", format!("{:.0}", self.connects_per_sec))?;
        row(f, "held for", format!("{:.1} s", self.hold_secs))?;
        row(f, "dropped while held", self.dropped)?;
        self.run.write_tail(f, "drops")
    }
}
