//! The C10K run as the docs record it: two markdown tables, the ratios the chapter claims, a
//! CSV and the log–log curve.

use std::fmt::Write as _;

use benchkit::Table;
use benchkit::plot::{Axis, Chart, Marker, Series, color};

use super::{Cell, Plan, Point};

/// How a table writes a point.
type CellText = fn(&Point) -> String;

/// Both tables and the ratios against the chapter's targets.
pub fn markdown(models: &[&str], plan: &Plan, results: &[Vec<Cell>]) -> String {
    let mut out = String::new();
    let tables: [(&str, CellText); 2] = [
        ("Round trip of one active client, median µs (p99)", |p| {
            format!("{:.1} ({:.1})", p.median_us, p.p99_us)
        }),
        (
            "Server CPU time per round trip (total over the timed round trips / their number), µs",
            |p| format!("{:.1}", p.server_cpu_us),
        ),
    ];
    for (title, cell) in tables {
        let mut table = Table::new(std::iter::once("idle").chain(models.iter().copied()));
        for (row, &n) in plan.idle.iter().enumerate() {
            let cells = results.iter().map(|cells| match cells.get(row) {
                Some(Cell::Measured(p)) => cell(p),
                Some(Cell::Skipped(why)) => format!("— ({})", short(why)),
                None => "—".into(),
            });
            table.row(std::iter::once(n.to_string()).chain(cells));
        }
        let _ = write!(out, "\n{title}:\n\n{table}");
    }
    let _ = writeln!(
        out,
        "\nRatios (medians; CPU = server CPU per round trip):\n"
    );
    out + &ratios(models, plan, results)
}

/// epoll and io_uring flat (each one's top idle count against its lowest), poll against epoll
/// at the top.
fn ratios(models: &[&str], plan: &Plan, results: &[Vec<Cell>]) -> String {
    let point = |name: &str, n: u64| {
        let index = models.iter().position(|m| *m == name)?;
        measured(&results[index], n)
    };
    // The largest idle count where both were measured (a small `ulimit -n` skips the top).
    let largest_common = |a: &str, b: &str| {
        let both = |&&n: &&u64| point(a, n).is_some() && point(b, n).is_some();
        plan.idle.iter().rev().find(both).copied()
    };
    let mut out = String::new();
    for flat in ["epoll_level", "epoll_edge", "uring"] {
        let low = plan
            .idle
            .iter()
            .copied()
            .find(|&n| point(flat, n).is_some());
        if let (Some(low), Some(high)) = (low, largest_common(flat, flat))
            && let (Some(a), Some(b)) = (point(flat, high), point(flat, low))
        {
            let ratio = a.median_us / b.median_us;
            let _ = writeln!(
                out,
                "- {flat} at {high} idle vs {low} idle: {ratio:.2}× (target ≤ 1.5×: {}); CPU {:.2}×",
                verdict(ratio <= 1.5),
                a.server_cpu_us / b.server_cpu_us
            );
        }
    }
    for epoll in ["epoll_level", "epoll_edge"] {
        if let Some(high) = largest_common("poll", epoll)
            && let (Some(p), Some(e)) = (point("poll", high), point(epoll, high))
        {
            let ratio = p.median_us / e.median_us;
            let _ = writeln!(
                out,
                "- poll vs {epoll} at {high} idle: {ratio:.1}× (target ≥ 10×: {}); CPU {:.1}×",
                verdict(ratio >= 10.0),
                p.server_cpu_us / e.server_cpu_us
            );
        }
    }
    out
}

fn measured(cells: &[Cell], idle: u64) -> Option<Point> {
    cells.iter().find_map(|cell| match cell {
        Cell::Measured(p) if p.idle == idle => Some(*p),
        _ => None,
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn short(why: &str) -> &str {
    if why.contains("FD_SETSIZE") {
        "FD_SETSIZE"
    } else {
        "fd limit"
    }
}

/// `model,idle,median_us,p99_us,server_cpu_us_per_round_trip`, one line per measured point.
pub fn csv(models: &[&str], results: &[Vec<Cell>]) -> String {
    let mut csv = String::from("model,idle,median_us,p99_us,server_cpu_us_per_round_trip\n");
    for (model, cells) in models.iter().zip(results) {
        for cell in cells {
            if let Cell::Measured(p) = cell {
                let _ = writeln!(
                    csv,
                    "{model},{},{:.2},{:.2},{:.2}",
                    p.idle, p.median_us, p.p99_us, p.server_cpu_us
                );
            }
        }
    }
    csv
}

/// Log–log: idle connections → median round trip, one line per model.
pub fn chart(models: &[&str], results: &[Vec<Cell>]) -> Chart {
    let series: Vec<Vec<(f64, f64)>> = results
        .iter()
        .map(|cells| {
            cells
                .iter()
                .filter_map(|c| match c {
                    Cell::Measured(p) => Some((p.idle as f64, p.median_us)),
                    Cell::Skipped(_) => None,
                })
                .collect()
        })
        .collect();
    let all = series.iter().flatten();
    let (x_max, y_max) = all.fold((10.0f64, 100.0f64), |(x, y), &(px, py)| {
        (x.max(px), y.max(py))
    });
    let y_key_points: Vec<f64> = [
        10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4,
    ]
    .into_iter()
    .filter(|&y| y <= y_max * 1.5)
    .collect();
    let mut chart =
        Chart::new("One client's 64-byte echo round trip (median) with N idle connections")
            .x(Axis::log("idle connections (log scale)", 8.0..x_max * 1.25))
            .y(
                Axis::log("median round trip, µs (log scale)", 9.0..y_max * 1.5)
                    .key_points(y_key_points),
            );
    // Four of the lines lie on top of each other (that is the point): vary the markers.
    for (index, (name, points)) in models.iter().zip(series).enumerate() {
        chart = chart.series(
            Series::new(*name, points)
                .color(color(index))
                .marker(Marker::cycle(index)),
        );
    }
    chart
}
