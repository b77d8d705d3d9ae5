//! Median of N: the summary a noisy, shared machine allows.
//!
//! One slow run (a neighbour's build, a page-cache miss) pulls a mean anywhere; the median of
//! several runs moves only if most runs move. The spread (min and max) is kept beside it, so a
//! reader sees how noisy the runs were. Tails come from [`percentile`] over every sample.

use std::time::{Duration, Instant};

/// Median, minimum and maximum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (which must not be empty). An even count takes the mean of the
    /// two middle values as the median.
    pub fn of(values: &[f64]) -> Spread {
        assert!(!values.is_empty(), "the spread of no values");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }

    /// The spread of durations, in seconds.
    pub fn of_durations(times: &[Duration]) -> Spread {
        let seconds: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
        Spread::of(&seconds)
    }

    /// The median as a duration (for a spread made of seconds).
    pub fn median_duration(&self) -> Duration {
        Duration::from_secs_f64(self.median.max(0.0))
    }
}

/// The `q` quantile (0.0 ..= 1.0) of `times` (not empty), nearest rank: `percentile(t, 0.99)`.
pub fn percentile(times: &[Duration], q: f64) -> Duration {
    assert!(!times.is_empty(), "the percentile of no times");
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    sorted[rank]
}

/// Runs `run` `n` times (at least once) and returns each run's wall-clock time; stops at the
/// first error.
pub fn time_runs<E>(n: usize, mut run: impl FnMut() -> Result<(), E>) -> Result<Vec<Duration>, E> {
    let mut times = Vec::with_capacity(n.max(1));
    for _ in 0..n.max(1) {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed());
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_and_the_extremes() {
        let odd = Spread::of(&[3.0, 1.0, 100.0, 2.0, 4.0]);
        assert_eq!((odd.median, odd.min, odd.max), (3.0, 1.0, 100.0));
        let even = Spread::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        let ms = |n| Duration::from_millis(n);
        let times = Spread::of_durations(&[ms(30), ms(10), ms(20)]);
        assert_eq!(times.median_duration(), ms(20));
    }

    #[test]
    fn percentile_is_the_nearest_rank() {
        let times: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        assert_eq!(percentile(&times, 0.5), Duration::from_micros(51));
        assert_eq!(percentile(&times, 0.99), Duration::from_micros(99));
        assert_eq!(percentile(&times, 1.0), Duration::from_micros(100));
        assert_eq!(percentile(&times, 0.0), Duration::from_micros(1));
    }

    #[test]
    fn time_runs_runs_n_times_and_stops_at_an_error() {
        let mut calls = 0;
        let times = time_runs(3, || {
            calls += 1;
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!((times.len(), calls), (3, 3));
        let mut calls = 0;
        let failed = time_runs(5, || {
            calls += 1;
            if calls == 2 { Err("second") } else { Ok(()) }
        });
        assert_eq!((failed, calls), (Err("second"), 2));
    }
}
