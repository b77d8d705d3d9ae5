//! The plot: measured speedup against the Amdahl and Gustafson curves (SVG, via plotters).
//!
//! One picture says what the table says less quickly: the ideal line `S = p`, the two laws with
//! the fitted serial fraction, the measured points, and a vertical line at the core count —
//! right of it there are more workers than processors, and a CPU-bound curve goes flat, as
//! Amdahl's law on `min(p, cores)` processors (the orange curve) says it must.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::experiment::Report;
use crate::laws;

/// Writes `report` as an SVG plot to `path`.
pub fn write_svg(report: &Report, path: &Path) -> Result<()> {
    draw(report, path).map_err(|e| anyhow!("drawing {}: {e}", path.display()))
}

fn draw(report: &Report, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let p_max = report.rows.iter().map(|r| r.p).max().unwrap_or(1).max(2) as f64;
    let s_max = report.rows.iter().map(|r| r.speedup).fold(p_max, f64::max);
    let f = report.serial_fraction_fit.unwrap_or(0.0);

    let root = SVGBackend::new(path, (820, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mode = format!("{:?}", report.mode).to_lowercase();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{} on {mode}: measured speedup vs the laws ({} cores, fitted f = {f:.3})",
                report.workload.name(),
                report.cores
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(50)
        .build_cartesian_2d(1.0..p_max, 0.0..s_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("p (workers)")
        .y_desc("speedup")
        .draw()?;

    let curve = |law: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..=200)
            .map(|i| 1.0 + (p_max - 1.0) * f64::from(i) / 200.0)
            .map(|p| (p, law(p)))
            .collect()
    };
    let gray = RGBColor(150, 150, 150);
    chart
        .draw_series(LineSeries::new(curve(&|p| p), gray.stroke_width(1)))?
        .label("ideal S = p")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], gray));
    let cores = report.cores as f64;
    if cores < p_max {
        let top = s_max * 1.1;
        let line = BLACK.mix(0.6).stroke_width(2);
        chart
            .draw_series(LineSeries::new(vec![(cores, 0.0), (cores, top)], line))?
            .label(format!("{} cores", report.cores))
            .legend(move |(x, y)| PathElement::new(vec![(x + 10, y - 6), (x + 10, y + 6)], line));
        // What a fixed-size program can really get: Amdahl on the processors that exist.
        let orange = RGBColor(230, 130, 0).stroke_width(3);
        chart
            .draw_series(LineSeries::new(
                curve(&|p| laws::amdahl(f, p.min(cores))),
                orange,
            ))?
            .label(format!("Amdahl on min(p, {}) processors", report.cores))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange));
    }
    chart
        .draw_series(LineSeries::new(
            curve(&|p| laws::amdahl(f, p)),
            BLUE.stroke_width(2),
        ))?
        .label(format!("Amdahl, f = {f:.3}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let green = RGBColor(0, 150, 0);
    chart
        .draw_series(LineSeries::new(
            curve(&|p| laws::gustafson(f, p)),
            green.stroke_width(2),
        ))?
        .label(format!("Gustafson, alpha = {f:.3}"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(2)));
    let measured: Vec<(f64, f64)> = report
        .rows
        .iter()
        .map(|r| (r.p as f64, r.speedup))
        .collect();
    chart
        .draw_series(LineSeries::new(measured.clone(), RED.stroke_width(2)))?
        .label("measured")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart.draw_series(
        measured
            .into_iter()
            .map(|p| Circle::new(p, 4, RED.filled())),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
