//! Curves as SVG: a line chart of one or more series, with plotters.
//!
//! A chart is described, then drawn: [`Chart::new`] with two [`Axis`] (linear or log), then
//! [`Series`] (points, a color, a line width, a marker, a legend name), then
//! [`Chart::write_svg`] for a file or [`Chart::draw_on`] for one panel of a larger picture.
//!
//! ```no_run
//! use benchkit::{Axis, Chart, Marker, Series};
//! let chart = Chart::new("Round trip with N idle connections")
//!     .x(Axis::log("idle connections (log scale)", 8.0..12_500.0))
//!     .y(Axis::log("median round trip, µs (log scale)", 9.0..150.0).key_points(vec![10.0, 20.0, 50.0, 100.0]))
//!     .series(Series::new("poll", vec![(10.0, 12.0), (10_000.0, 90.0)]).marker(Marker::Circle));
//! chart.write_svg("c10k.svg".as_ref(), (820, 520)).unwrap();
//! ```
//!
//! The pitfall a log axis brings: plotters places labels at powers of ten, so a range inside
//! one decade shows none; give such an axis its [`Axis::key_points`].

use std::io;
use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

pub use plotters::prelude::{RGBColor, SeriesLabelPosition};

/// One color per series, in order: distinct on white, and in grey print as well as may be.
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(220, 0, 0),
    RGBColor(230, 140, 0),
    RGBColor(0, 0, 230),
    RGBColor(0, 160, 160),
    RGBColor(0, 160, 0),
    RGBColor(200, 0, 200),
    RGBColor(0, 0, 0),
    RGBColor(120, 60, 160),
    RGBColor(120, 120, 120),
    RGBColor(240, 130, 130),
    RGBColor(150, 90, 30),
    RGBColor(100, 160, 230),
];

/// The `index`-th color of [`PALETTE`], wrapping around.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// One axis: its description, range, scale, and where its labels go.
#[derive(Debug, Clone)]
pub struct Axis {
    desc: String,
    range: Range<f64>,
    log: bool,
    key_points: Vec<f64>,
    format: fn(&f64) -> String,
}

impl Axis {
    /// A linear axis over `range`.
    pub fn linear(desc: &str, range: Range<f64>) -> Axis {
        Axis {
            desc: desc.into(),
            range,
            log: false,
            key_points: Vec::new(),
            format: |v| format!("{v}"),
        }
    }

    /// A logarithmic axis over `range` (both ends above zero); labels without decimals.
    pub fn log(desc: &str, range: Range<f64>) -> Axis {
        Axis {
            log: true,
            format: |v| format!("{v:.0}"),
            ..Axis::linear(desc, range)
        }
    }

    /// Labels at exactly these values (log axes only; a linear axis picks its own).
    pub fn key_points(mut self, points: Vec<f64>) -> Axis {
        self.key_points = points;
        self
    }

    /// How a label is written.
    pub fn format(mut self, format: fn(&f64) -> String) -> Axis {
        self.format = format;
        self
    }
}

/// The shape drawn at each point of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Dot,
    Triangle,
    Cross,
}

impl Marker {
    /// Circle, triangle, cross, circle…: for series that lie on top of each other.
    pub fn cycle(index: usize) -> Marker {
        [Marker::Circle, Marker::Triangle, Marker::Cross][index % 3]
    }
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    name: Option<String>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    width: u32,
    marker: Option<Marker>,
}

impl Series {
    /// A line named `name` in the legend, black, 2 px wide, no marker.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: Some(name.into()),
            points,
            color: BLACK,
            width: 2,
            marker: None,
        }
    }

    /// A line left out of the legend.
    pub fn unnamed(points: Vec<(f64, f64)>) -> Series {
        Series {
            name: None,
            ..Series::new("", points)
        }
    }

    pub fn color(mut self, color: RGBColor) -> Series {
        self.color = color;
        self
    }

    pub fn width(mut self, width: u32) -> Series {
        self.width = width;
        self
    }

    pub fn marker(mut self, marker: Marker) -> Series {
        self.marker = Some(marker);
        self
    }
}

/// A line chart, described before it is drawn.
#[derive(Debug, Clone)]
pub struct Chart {
    caption: String,
    caption_size: u32,
    x: Axis,
    y: Axis,
    series: Vec<Series>,
    legend: Option<SeriesLabelPosition>,
}

impl Chart {
    /// A chart with this caption, axes 0..1, a legend in the upper left.
    pub fn new(caption: impl Into<String>) -> Chart {
        Chart {
            caption: caption.into(),
            caption_size: 20,
            x: Axis::linear("", 0.0..1.0),
            y: Axis::linear("", 0.0..1.0),
            series: Vec::new(),
            legend: Some(SeriesLabelPosition::UpperLeft),
        }
    }

    pub fn x(mut self, axis: Axis) -> Chart {
        self.x = axis;
        self
    }

    pub fn y(mut self, axis: Axis) -> Chart {
        self.y = axis;
        self
    }

    pub fn caption_size(mut self, size: u32) -> Chart {
        self.caption_size = size;
        self
    }

    pub fn series(mut self, series: Series) -> Chart {
        self.series.push(series);
        self
    }

    /// Where the legend goes; `None` for no legend (draw one beside the panels yourself).
    pub fn legend(mut self, position: Option<SeriesLabelPosition>) -> Chart {
        self.legend = position;
        self
    }

    /// Draws the chart as an SVG file of `size` pixels.
    pub fn write_svg(&self, path: &Path, size: (u32, u32)) -> io::Result<()> {
        let root = SVGBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        self.draw_on(&root)?;
        root.present().map_err(error)
    }

    /// Draws the chart into `area` (a whole picture, or one panel of it).
    pub fn draw_on<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> io::Result<()> {
        let linear = |axis: &Axis| -> RangedCoordf64 { axis.range.clone().into() };
        let log = |axis: &Axis| {
            let coord: LogCoord<f64> = axis.range.clone().log_scale().into();
            let points = if axis.key_points.is_empty() {
                coord.key_points(10)
            } else {
                axis.key_points.clone()
            };
            axis.range.clone().log_scale().with_key_points(points)
        };
        match (self.x.log, self.y.log) {
            (false, false) => self.draw_in(area, linear(&self.x), linear(&self.y)),
            (false, true) => self.draw_in(area, linear(&self.x), log(&self.y)),
            (true, false) => self.draw_in(area, log(&self.x), linear(&self.y)),
            (true, true) => self.draw_in(area, log(&self.x), log(&self.y)),
        }
    }

    fn draw_in<DB, X, Y>(&self, area: &DrawingArea<DB, Shift>, x: X, y: Y) -> io::Result<()>
    where
        DB: DrawingBackend,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.caption, ("sans-serif", self.caption_size))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(x, y)
            .map_err(error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x.desc)
            .y_desc(&self.y.desc)
            .x_label_formatter(&self.x.format)
            .y_label_formatter(&self.y.format)
            .draw()
            .map_err(error)?;
        for series in &self.series {
            let style = series.color.stroke_width(series.width);
            let line = chart
                .draw_series(LineSeries::new(series.points.clone(), style))
                .map_err(error)?;
            if let Some(name) = &series.name {
                line.label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            }
            let points = series.points.iter().copied();
            match series.marker {
                None => None,
                Some(Marker::Circle) => {
                    Some(chart.draw_series(points.map(|p| Circle::new(p, 4, style))))
                }
                Some(Marker::Dot) => {
                    Some(chart.draw_series(points.map(|p| Circle::new(p, 3, style.filled()))))
                }
                Some(Marker::Triangle) => {
                    Some(chart.draw_series(points.map(|p| TriangleMarker::new(p, 5, style))))
                }
                Some(Marker::Cross) => {
                    Some(chart.draw_series(points.map(|p| Cross::new(p, 4, style))))
                }
            }
            .transpose()
            .map_err(error)?;
        }
        if let Some(position) = &self.legend {
            chart
                .configure_series_labels()
                .position(position.clone())
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(error)?;
        }
        Ok(())
    }
}

/// Charts side by side in one SVG file of `size` pixels, sharing one legend below them (drawn
/// with [`draw_legend`], `per_row` entries a row): for panels whose series are the same, where a
/// legend inside each panel would hide lines.
pub fn write_panels_svg(
    path: &Path,
    size: (u32, u32),
    charts: &[Chart],
    legend: &[(&str, RGBColor)],
    per_row: usize,
) -> io::Result<()> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(error)?;
    let rows = legend.len().div_ceil(per_row.max(1)) as u32;
    let (panels, below) = root.split_vertically(size.1.saturating_sub(25 * rows + 20));
    for (chart, area) in charts
        .iter()
        .zip(panels.split_evenly((1, charts.len().max(1))))
    {
        chart.draw_on(&area)?;
    }
    draw_legend(&below, legend, per_row)?;
    root.present().map_err(error)
}

/// A legend of its own: one short line and a name per entry, in rows of `per_row`, for a
/// picture of several panels that share their series.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(&str, RGBColor)],
    per_row: usize,
) -> io::Result<()> {
    for (index, (name, color)) in entries.iter().enumerate() {
        let column = (index % per_row.max(1)) as i32;
        let row = (index / per_row.max(1)) as i32;
        let (x, y) = (60 + column * 210, 20 + row * 25);
        area.draw(&PathElement::new(
            vec![(x, y), (x + 24, y)],
            color.stroke_width(3),
        ))
        .map_err(error)?;
        area.draw(&Text::new(*name, (x + 30, y - 7), ("sans-serif", 14)))
            .map_err(error)?;
    }
    Ok(())
}

fn error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_lines(x: Axis, y: Axis) -> Chart {
        Chart::new("caption of the test chart")
            .x(x)
            .y(y)
            .series(
                Series::new("rising", vec![(10.0, 12.0), (1000.0, 90.0)])
                    .color(color(0))
                    .marker(Marker::Circle),
            )
            .series(
                Series::unnamed(vec![(10.0, 20.0), (1000.0, 20.0)])
                    .color(color(1))
                    .marker(Marker::Cross),
            )
    }

    #[test]
    fn every_scale_combination_draws_its_series_and_legend() {
        let tmp = tempfile::tempdir().unwrap();
        let axes = [
            Axis::linear("x lin", 1.0..1100.0),
            Axis::log("x log", 8.0..1100.0),
        ];
        for (i, x) in axes.iter().enumerate() {
            for (j, y) in [
                Axis::linear("y lin", 0.0..100.0),
                Axis::log("y log", 9.0..100.0).key_points(vec![10.0, 20.0, 50.0]),
            ]
            .into_iter()
            .enumerate()
            {
                let path = tmp.path().join(format!("{i}{j}.svg"));
                two_lines(x.clone(), y)
                    .write_svg(&path, (400, 300))
                    .unwrap();
                let svg = std::fs::read_to_string(&path).unwrap();
                assert!(svg.contains("caption of the test chart"), "{i}{j}");
                assert!(
                    svg.contains("\nrising\n"),
                    "{i}{j}: the legend names the series"
                );
                assert!(svg.contains("x lin") || svg.contains("x log"));
                assert!(svg.contains("<circle"), "{i}{j}: markers drawn");
            }
        }
        // The log axis with key points labels exactly them.
        let svg = std::fs::read_to_string(tmp.path().join("11.svg")).unwrap();
        assert!(
            svg.contains("\n20\n") && svg.contains("\n50\n"),
            "key points labelled"
        );
    }

    #[test]
    fn a_legend_can_be_drawn_apart_from_the_panels() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("legend.svg");
        let root = SVGBackend::new(&path, (600, 80)).into_drawing_area();
        draw_legend(
            &root,
            &[("pipe", color(0)), ("FIFO", color(1)), ("TCP", color(2))],
            2,
        )
        .unwrap();
        root.present().unwrap();
        drop(root);
        let svg = std::fs::read_to_string(&path).unwrap();
        for name in ["pipe", "FIFO", "TCP"] {
            assert!(svg.contains(&format!("\n{name}\n")), "{name}");
        }
    }

    #[test]
    fn panels_share_one_legend_below_them() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("panels.svg");
        let panel = |caption: &str| {
            two_lines(
                Axis::linear(caption, 0.0..1100.0),
                Axis::linear("y", 0.0..100.0),
            )
            .legend(None)
        };
        write_panels_svg(
            &path,
            (800, 400),
            &[panel("left panel"), panel("right panel")],
            &[("shared entry", color(9))],
            5,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["left panel", "right panel", "\nshared entry\n"] {
            assert!(svg.contains(text), "{text}");
        }
        assert_eq!(svg.matches("\nshared entry\n").count(), 1, "one legend");
        assert!(!svg.contains("\nrising\n"), "no legend inside the panels");
    }
}
