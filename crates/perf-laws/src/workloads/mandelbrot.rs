//! CPU-bound and uneven: the Mandelbrot set, one task per image row.
//!
//! A pixel's cost is the number of iterations before `z ← z² + c` escapes, up to
//! [`MAX_ITER`]: a pixel inside the set costs the full `MAX_ITER`, one far outside costs 1 or
//! 2. The window is the upper half of the set, `y` from 0 (the real axis, where the set is
//! thickest) up to 1.5 (where almost nothing is left), so the rows near the top of the task
//! range are by far the most expensive. A block split gives worker 0 nearly all the set: the
//! others finish early and wait (`mandelbrot-static`). Rows claimed on demand fix it
//! (`mandelbrot-dynamic`).
//!
//! The answer is the total iteration count of the image: one number that a wrong row, a
//! missed row or a row done twice would change.

use std::ops::Range;

/// The iteration cap: the cost of a pixel inside the set.
pub const MAX_ITER: u32 = 1000;

/// The window: real part from -2.2 to 0.8, imaginary part from 0 to 1.5 (width = 2 × rows).
const RE: (f64, f64) = (-2.2, 0.8);
const IM: (f64, f64) = (0.0, 1.5);

/// Iterations before `z² + c` escapes `|z| > 2`, capped at [`MAX_ITER`].
pub fn escape_time(re: f64, im: f64) -> u32 {
    let (mut x, mut y) = (0.0f64, 0.0f64);
    let mut n = 0;
    while n < MAX_ITER && x * x + y * y <= 4.0 {
        let next_x = x * x - y * y + re;
        y = 2.0 * x * y + im;
        x = next_x;
        n += 1;
    }
    n
}

/// The total iteration count of `rows` of an image `height` rows tall and `2 × height` wide.
pub fn rows(height: u64, rows: Range<u64>) -> u64 {
    let width = 2 * height;
    let mut total = 0u64;
    for row in rows {
        let im = IM.0 + (IM.1 - IM.0) * (row as f64 + 0.5) / height as f64;
        for column in 0..width {
            let re = RE.0 + (RE.1 - RE.0) * (column as f64 + 0.5) / width as f64;
            total += u64::from(escape_time(re, im));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_costs_the_cap_and_far_outside_costs_one() {
        assert_eq!(escape_time(0.0, 0.0), MAX_ITER);
        assert_eq!(escape_time(-1.0, 0.0), MAX_ITER);
        assert_eq!(escape_time(2.0, 2.0), 1);
    }

    #[test]
    fn the_first_half_of_the_rows_is_the_expensive_half() {
        let height = 64;
        let (low, high) = (rows(height, 0..32), rows(height, 32..64));
        assert_eq!(low + high, rows(height, 0..64));
        // The imbalance the lesson rests on: at least 3 times the work in the first block.
        assert!(low > 3 * high, "first half {low}, second half {high}");
    }
}
