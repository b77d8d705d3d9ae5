//! A bench run as markdown tables and an SVG plot.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::{Cell, Mechanism, SIZES};

/// `64 B`, `4 KiB`, `64 KiB`, `1 MiB`.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn cell(cells: &[Cell], mechanism: Mechanism, size: usize) -> Option<&Cell> {
    cells
        .iter()
        .find(|c| c.mechanism == mechanism && c.size == size)
}

fn header(first: &str) -> String {
    let sizes: Vec<String> = SIZES.iter().map(|&s| size_name(s)).collect();
    format!(
        "| {first} | {} |\n| --- |{}\n",
        sizes.join(" | "),
        " ---: |".repeat(SIZES.len())
    )
}

/// Throughput: MB/s one way, and messages/s; the share of memcpy's bandwidth for the others.
pub fn throughput_table(cells: &[Cell]) -> String {
    let mut out = header("throughput: MB/s (messages/s) [× memcpy]");
    for mechanism in Mechanism::ALL {
        let row: Vec<String> = SIZES
            .iter()
            .map(|&size| match cell(cells, mechanism, size) {
                Some(Cell {
                    bytes_per_sec: Some(bps),
                    ..
                }) => {
                    let msgs = bps / size as f64;
                    let ceiling = cell(cells, Mechanism::Memcpy, size)
                        .and_then(|c| c.bytes_per_sec)
                        .filter(|_| mechanism != Mechanism::Memcpy)
                        .map(|m| format!(" [{:.0}%]", 100.0 * bps / m))
                        .unwrap_or_default();
                    format!("{:.0} ({}){ceiling}", bps / 1e6, count(msgs))
                }
                Some(Cell { note: Some(n), .. }) => format!("— {n}"),
                _ => "—".to_string(),
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", mechanism.name(), row.join(" | "));
    }
    out
}

/// Mean round trip in µs.
pub fn latency_table(cells: &[Cell]) -> String {
    let mut out = header("ping-pong round trip, µs");
    for mechanism in Mechanism::ALL {
        let row: Vec<String> = SIZES
            .iter()
            .map(|&size| match cell(cells, mechanism, size) {
                Some(Cell {
                    round_trip: Some(rtt),
                    ..
                }) => format!("{:.1}", rtt.as_secs_f64() * 1e6),
                Some(Cell { note: Some(n), .. }) => format!("— {n}"),
                _ => "—".to_string(),
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", mechanism.name(), row.join(" | "));
    }
    out
}

/// The mechanisms between processes ranked by messages/s at `size`.
pub fn ranking(cells: &[Cell], size: usize) -> String {
    let mut ranked: Vec<(&str, f64)> = cells
        .iter()
        .filter(|c| c.size == size && c.mechanism != Mechanism::Memcpy)
        .filter_map(|c| Some((c.mechanism.name(), c.messages_per_sec()?)))
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

/// Two log-log panels, throughput and round trip against message size, one line per mechanism.
pub fn plot(cells: &[Cell], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1100, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let (panels, legend) = root.split_vertically(470);
    let (left, right) = panels.split_horizontally(550);
    let throughput: Vec<(Mechanism, Vec<(f64, f64)>)> =
        series(cells, |c| c.bytes_per_sec.map(|b| b / 1e6));
    let latency: Vec<(Mechanism, Vec<(f64, f64)>)> =
        series(cells, |c| c.round_trip.map(|d| d.as_secs_f64() * 1e6));
    panel(&left, "Throughput, one way", "MB/s (log)", &throughput)?;
    panel(&right, "Ping-pong round trip", "µs (log)", &latency)?;
    // One legend for both panels, below them, so no line hides behind it.
    for (index, mechanism) in Mechanism::ALL.iter().enumerate() {
        let (x, y) = (60 + (index % 5) as i32 * 210, 20 + (index / 5) as i32 * 25);
        let color = COLORS[index % COLORS.len()];
        legend.draw(&PathElement::new(
            vec![(x, y), (x + 24, y)],
            color.stroke_width(3),
        ))?;
        legend.draw(&Text::new(
            mechanism.name(),
            (x + 30, y - 7),
            ("sans-serif", 14),
        ))?;
    }
    root.present()?;
    Ok(())
}

fn series(
    cells: &[Cell],
    value: impl Fn(&Cell) -> Option<f64>,
) -> Vec<(Mechanism, Vec<(f64, f64)>)> {
    Mechanism::ALL
        .iter()
        .map(|&m| {
            let points = cells
                .iter()
                .filter(|c| c.mechanism == m)
                .filter_map(|c| Some((c.size as f64, value(c)?)))
                .collect();
            (m, points)
        })
        .collect()
}

/// One color per mechanism, in `Mechanism::ALL` order.
const COLORS: [RGBColor; 10] = [
    BLACK,
    RGBColor(240, 130, 130),
    RED,
    BLUE,
    RGBColor(0, 160, 160),
    RGBColor(230, 140, 0),
    GREEN,
    MAGENTA,
    RGBColor(120, 60, 160),
    RGBColor(120, 120, 120),
];

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    series: &[(Mechanism, Vec<(f64, f64)>)],
) -> Result<(), Box<dyn std::error::Error>> {
    let values = series.iter().flat_map(|(_, p)| p.iter().map(|&(_, y)| y));
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(l, h), y| (l.min(y), h.max(y)));
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (1.0, 10.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (40.0..2.0 * (1 << 20) as f64)
                .log_scale()
                .with_key_points(SIZES.iter().map(|&s| s as f64).collect::<Vec<_>>()),
            (low / 2.0..high * 2.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("message size (log)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| size_name(*x as usize))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        })
        .draw()?;
    for (index, (_, points)) in series.iter().enumerate() {
        let color = COLORS[index % COLORS.len()];
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    Ok(())
}
