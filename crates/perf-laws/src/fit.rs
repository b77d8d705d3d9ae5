//! Fitting the serial fraction to measured speedups.
//!
//! Karp–Flatt gives one estimate of `f` per measured point, and noise makes each one wobble.
//! A fit uses all of them at once. Amdahl's law is linear once rewritten in `x = 1/p`:
//!
//! ```text
//!   1/S = f + (1 - f) x    ⇔    1/S - x = f (1 - x)
//! ```
//!
//! so `f` is the slope of a line through the origin, and least squares gives it in closed form:
//! `f = Σ (1 - x)(1/S - x) / Σ (1 - x)²`. Points at `p = 1` carry no information (`x = 1`, both
//! sides are 0) and drop out by themselves. Gustafson's law is linear in `p` directly:
//! `p - S = α (p - 1)`, so `α = Σ (p - 1)(p - S) / Σ (p - 1)²`.
//!
//! The pitfall: fit only points where `p` processors really existed. Past the core count a
//! CPU-bound program cannot speed up, and those points drag the fitted `f` up to explain a
//! flattening that the law does not model (the chapter's runner fits `p ≤ cores`).

/// One measured point: `p` workers gave speedup `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub p: f64,
    pub s: f64,
}

/// The serial fraction `f` that makes Amdahl's law fit `points` best (least squares on `1/S`),
/// clamped to `[0, 1]`. `None` when no point has `p > 1`.
pub fn fit_serial_fraction(points: &[Point]) -> Option<f64> {
    // BEGIN SOLUTION: perf-fit-serial
    let line = points.iter().filter(|point| point.p > 1.0).map(|point| {
        let x = 1.0 / point.p;
        (1.0 - x, 1.0 / point.s - x)
    });
    slope_through_origin(line)
    // END SOLUTION
}

/// The serial share `α` that makes Gustafson's law fit `points` of a scaled workload best,
/// clamped to `[0, 1]`. `None` when no point has `p > 1`.
pub fn fit_gustafson_alpha(points: &[Point]) -> Option<f64> {
    let line = points
        .iter()
        .filter(|point| point.p > 1.0)
        .map(|point| (point.p - 1.0, point.p - point.s));
    slope_through_origin(line)
}

/// The least-squares slope `Σ u v / Σ u²` of a line through the origin fitted to `(u, v)`
/// pairs, clamped to `[0, 1]`; `None` when every `u` is 0 (or there is no pair).
pub fn slope_through_origin(pairs: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (uv, uu) = pairs.fold((0.0, 0.0), |(uv, uu), (u, v)| (uv + u * v, uu + u * u));
    (uu > 0.0).then(|| (uv / uu).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::{amdahl, gustafson};

    fn amdahl_points(f: f64, ps: &[f64]) -> Vec<Point> {
        ps.iter().map(|&p| Point { p, s: amdahl(f, p) }).collect()
    }

    #[test]
    fn fit_serial_fraction_recovers_f_from_exact_amdahl_data() {
        for f in [0.0, 0.05, 0.1, 0.25, 0.5, 0.9, 1.0] {
            let fitted = fit_serial_fraction(&amdahl_points(f, &[1.0, 2.0, 4.0, 8.0])).unwrap();
            assert!((fitted - f).abs() < 1e-12, "f = {f}, fitted {fitted}");
        }
    }

    #[test]
    fn fit_serial_fraction_stays_close_under_noise() {
        // ±3 % multiplicative noise, alternating in sign, on f = 0.2 at p = 2..16.
        let ps = [2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0];
        let points: Vec<Point> = ps
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let noise = if i % 2 == 0 { 1.03 } else { 0.97 };
                Point {
                    p,
                    s: amdahl(0.2, p) * noise,
                }
            })
            .collect();
        let fitted = fit_serial_fraction(&points).unwrap();
        assert!((fitted - 0.2).abs() < 0.02, "fitted {fitted}");
    }

    #[test]
    fn fit_serial_fraction_clamps_and_needs_a_point_past_one() {
        // Superlinear speedup would need a negative f: clamped to 0.
        let superlinear = [Point { p: 2.0, s: 2.5 }];
        assert_eq!(fit_serial_fraction(&superlinear), Some(0.0));
        // Slower than serial would need f > 1: clamped to 1.
        let slowdown = [Point { p: 2.0, s: 0.5 }];
        assert_eq!(fit_serial_fraction(&slowdown), Some(1.0));
        assert_eq!(fit_serial_fraction(&[Point { p: 1.0, s: 1.0 }]), None);
        assert_eq!(fit_serial_fraction(&[]), None);
    }

    #[test]
    fn gustafson_alpha_is_recovered_from_scaled_speedups() {
        let points: Vec<Point> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&p| Point {
                p,
                s: gustafson(0.15, p),
            })
            .collect();
        let alpha = fit_gustafson_alpha(&points).unwrap();
        assert!((alpha - 0.15).abs() < 1e-12, "alpha {alpha}");
        assert_eq!(fit_gustafson_alpha(&points[..1]), None);
    }
}
