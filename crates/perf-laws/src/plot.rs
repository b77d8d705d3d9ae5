//! The plot: measured speedup against the Amdahl and Gustafson curves (SVG, via benchkit's charts).
//!
//! One picture says what the table says less quickly: the ideal line `S = p`, the two laws with
//! the fitted serial fraction, the measured points, and a vertical line at the core count —
//! right of it there are more workers than processors, and a CPU-bound curve goes flat, as
//! Amdahl's law on `min(p, cores)` processors (the orange curve) says it must.

use std::path::Path;

use anyhow::{Context, Result};
use benchkit::plot::{Axis, Chart, Marker, RGBColor, Series};

use crate::experiment::Report;
use crate::laws;

/// Writes `report` as an SVG plot to `path`.
pub fn write_svg(report: &Report, path: &Path) -> Result<()> {
    chart(report)
        .write_svg(path, (820, 540))
        .with_context(|| format!("drawing {}", path.display()))
}

/// `law(p)` at 201 points from 1 to `p_max`.
fn curve(p_max: f64, law: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    (0..=200)
        .map(|i| 1.0 + (p_max - 1.0) * f64::from(i) / 200.0)
        .map(|p| (p, law(p)))
        .collect()
}

/// More workers than cores: a vertical line at the core count up to `top`, and what a
/// fixed-size program with serial fraction `f` can really get — Amdahl on the processors that
/// exist.
fn past_the_cores(chart: Chart, cores: usize, f: f64, p_max: f64, top: f64) -> Chart {
    let at = cores as f64;
    chart
        .series(
            Series::new(format!("{cores} cores"), vec![(at, 0.0), (at, top)])
                .color(RGBColor(100, 100, 100)),
        )
        .series(
            Series::new(
                format!("Amdahl on min(p, {cores}) processors"),
                curve(p_max, |p| laws::amdahl(f, p.min(at))),
            )
            .color(RGBColor(230, 130, 0))
            .width(3),
        )
}

/// The laws' curves, the core count and the measured points, as a chart.
fn chart(report: &Report) -> Chart {
    let p_max = report.rows.iter().map(|r| r.p).max().unwrap_or(1).max(2) as f64;
    let s_max = report.rows.iter().map(|r| r.speedup).fold(p_max, f64::max);
    let f = report.serial_fraction_fit.unwrap_or(0.0);
    let mode = format!("{:?}", report.mode).to_lowercase();
    let mut chart = Chart::new(format!(
        "{} on {mode}: measured speedup vs the laws ({} cores, fitted f = {f:.3})",
        report.workload.name(),
        report.cores
    ))
    .x(Axis::linear("p (workers)", 1.0..p_max))
    .y(Axis::linear("speedup", 0.0..s_max * 1.1))
    .series(
        Series::new("ideal S = p", curve(p_max, |p| p))
            .color(RGBColor(150, 150, 150))
            .width(1),
    );
    if (report.cores as f64) < p_max {
        chart = past_the_cores(chart, report.cores, f, p_max, s_max * 1.1);
    }
    let measured: Vec<(f64, f64)> = report
        .rows
        .iter()
        .map(|r| (r.p as f64, r.speedup))
        .collect();
    chart
        .series(
            Series::new(
                format!("Amdahl, f = {f:.3}"),
                curve(p_max, |p| laws::amdahl(f, p)),
            )
            .color(RGBColor(0, 0, 255)),
        )
        .series(
            Series::new(
                format!("Gustafson, alpha = {f:.3}"),
                curve(p_max, |p| laws::gustafson(f, p)),
            )
            .color(RGBColor(0, 150, 0)),
        )
        .series(
            Series::new("measured", measured)
                .color(RGBColor(255, 0, 0))
                .marker(Marker::Dot),
        )
}
