//! A bench run as the docs' two markdown tables, the ranking line, and an SVG plot.

use std::io;
use std::path::Path;

use benchkit::plot::{RGBColor, color, write_panels_svg};
use benchkit::{Axis, Chart, Marker, Series, Table};

use crate::SIZES;
use crate::measure::{Cell, Subject};

/// `64 B`, `4 KiB`, `64 KiB`, `1 MiB`.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn cell(cells: &[Cell], subject: Subject, size: usize) -> Option<&Cell> {
    cells
        .iter()
        .find(|c| c.subject == subject && c.size == size)
}

/// A row per subject, a column per size; `value` writes a measured cell, a size the subject
/// cannot carry says why.
fn table(cells: &[Cell], first: &str, value: impl Fn(&Cell) -> Option<String>) -> Table {
    let header = std::iter::once(first.to_string()).chain(SIZES.iter().map(|&s| size_name(s)));
    let mut table = Table::new(header).numeric();
    for subject in Subject::all() {
        let row = SIZES.iter().map(|&size| match cell(cells, subject, size) {
            Some(c) => match (value(c), &c.note) {
                (Some(text), _) => text,
                (None, Some(note)) => format!("— {note}"),
                (None, None) => "—".to_string(),
            },
            None => "—".to_string(),
        });
        table.row(std::iter::once(subject.name().to_string()).chain(row));
    }
    table
}

/// Throughput: MB/s one way, and messages/s; the share of memcpy's bandwidth for the others.
pub fn throughput_table(cells: &[Cell]) -> Table {
    table(cells, "throughput: MB/s (messages/s) [× memcpy]", |c| {
        let bps = c.bytes_per_sec?;
        let ceiling = cell(cells, Subject::Memcpy, c.size)
            .and_then(|m| m.bytes_per_sec)
            .filter(|_| c.subject != Subject::Memcpy)
            .map(|m| format!(" [{:.0}%]", 100.0 * bps / m))
            .unwrap_or_default();
        Some(format!(
            "{:.0} ({}){ceiling}",
            bps / 1e6,
            count(c.messages_per_sec()?)
        ))
    })
}

/// Mean round trip in µs.
pub fn latency_table(cells: &[Cell]) -> Table {
    table(cells, "ping-pong round trip, µs", |c| {
        Some(format!("{:.1}", c.round_trip?.as_secs_f64() * 1e6))
    })
}

/// The mechanisms between processes ranked by messages/s at `size`.
pub fn ranking(cells: &[Cell], size: usize) -> String {
    let mut ranked: Vec<(&str, f64)> = cells
        .iter()
        .filter(|c| c.size == size && c.subject != Subject::Memcpy)
        .filter_map(|c| Some((c.subject.name(), c.messages_per_sec()?)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let parts: Vec<String> = ranked
        .iter()
        .map(|(name, msgs)| format!("{name} {}", count(*msgs)))
        .collect();
    format!("{} messages/s: {}", size_name(size), parts.join(" > "))
}

/// 1234567 → `1.2M`, 12345 → `12k`.
fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.0}k", n / 1e3)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

/// Two log-log panels, throughput and round trip against message size, one line per subject,
/// and one legend for both below them (so no line hides behind it).
pub fn plot(cells: &[Cell], path: &Path) -> io::Result<()> {
    let throughput = panel(cells, "Throughput, one way", "MB/s (log)", |c| {
        c.bytes_per_sec.map(|b| b / 1e6)
    });
    let latency = panel(cells, "Ping-pong round trip", "µs (log)", |c| {
        c.round_trip.map(|d| d.as_secs_f64() * 1e6)
    });
    let legend: Vec<(&str, RGBColor)> = Subject::all()
        .enumerate()
        .map(|(index, subject)| (subject.name(), color(index)))
        .collect();
    write_panels_svg(path, (1100, 540), &[throughput, latency], &legend, 5)
}

/// One panel: a line per subject of `value` against the message size.
fn panel(
    cells: &[Cell],
    caption: &str,
    y_desc: &str,
    value: impl Fn(&Cell) -> Option<f64>,
) -> Chart {
    let series: Vec<Vec<(f64, f64)>> = Subject::all()
        .map(|subject| {
            cells
                .iter()
                .filter(|c| c.subject == subject)
                .filter_map(|c| Some((c.size as f64, value(c)?)))
                .collect()
        })
        .collect();
    let values = series.iter().flatten().map(|&(_, y)| y);
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(l, h), y| (l.min(y), h.max(y)));
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (1.0, 10.0)
    };
    let sizes = SIZES.iter().map(|&s| s as f64).collect();
    let mut chart = Chart::new(caption)
        .caption_size(18)
        .legend(None)
        .x(
            Axis::log("message size (log)", 40.0..2.0 * (1 << 20) as f64)
                .key_points(sizes)
                .format(|x| size_name(*x as usize)),
        )
        .y(Axis::log(y_desc, low / 2.0..high * 2.0).format(|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        }));
    for (index, points) in series.into_iter().enumerate() {
        chart = chart.series(
            Series::unnamed(points)
                .color(color(index))
                .marker(Marker::Dot),
        );
    }
    chart
}
