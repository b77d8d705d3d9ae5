//! Work of a known size: the `serial` (Amdahl) and `scaled` (Gustafson) workloads.
//!
//! Both are made of identical **units** of pure CPU work (a chain of integer hashes, no memory
//! traffic), so the time of a phase is proportional to its number of units and the serial
//! fraction is known by construction:
//!
//! - `serial`: `size` units in all; the first `f × size` run on one thread (the serial phase),
//!   the rest are split among `p` workers. Amdahl's law predicts `1 / (f + (1 - f) / p)`.
//! - `scaled`: the serial phase stays `f × size` units, the parallel phase is `(1 - f) × size`
//!   units *per worker*, so the problem grows with `p` and each worker's share stays the same.
//!   Its speedup is measured against one worker doing the same grown problem, and Gustafson's
//!   law predicts `p - f (p - 1)`.
//!
//! The pitfall: "serial fraction" means a fraction of *time*, so it holds only while every
//! unit costs the same on every core; on an oversubscribed machine the parallel phase slows
//! and the effective fraction shifts.

use std::ops::Range;

/// Hash rounds in one unit of work (about a microsecond).
pub const UNIT_ROUNDS: u32 = 256;

/// One step of the splitmix64 generator: a cheap, well-mixed hash.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One unit of work: [`UNIT_ROUNDS`] dependent hashes of `index`.
pub fn unit(index: u64) -> u64 {
    (0..UNIT_ROUNDS).fold(index, |x, _| splitmix(x))
}

/// The wrapping sum of the units `indices`.
pub fn units(indices: Range<u64>) -> u64 {
    indices.fold(0, |sum, index| sum.wrapping_add(unit(index)))
}

/// The `serial` workload's phases: the first `f × size` units serial, the rest parallel.
pub fn serial_phases(size: u64, serial_fraction: f64) -> (Range<u64>, Range<u64>) {
    let serial = ((size as f64) * serial_fraction).round() as u64;
    (0..serial, serial..size)
}

/// The `scaled` workload's phases for a problem `multiplier` times the base one: the serial
/// phase is `f × size` units whatever the multiplier, and the parallel phase is
/// `multiplier × (size - serial)` units, numbered right after it.
pub fn scaled_phases(size: u64, serial_fraction: f64, multiplier: u64) -> (Range<u64>, Range<u64>) {
    // BEGIN SOLUTION: perf-scaled-workload
    let serial = ((size as f64) * serial_fraction).round() as u64;
    let parallel = (size - serial) * multiplier;
    (0..serial, serial..serial + parallel)
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_phases_split_at_the_fraction() {
        assert_eq!(serial_phases(1000, 0.1), (0..100, 100..1000));
        assert_eq!(serial_phases(1000, 0.0), (0..0, 0..1000));
        assert_eq!(serial_phases(1000, 1.0), (0..1000, 1000..1000));
    }

    #[test]
    fn scaled_workload_keeps_the_serial_phase_and_grows_the_parallel_one() {
        assert_eq!(scaled_phases(1000, 0.1, 1), serial_phases(1000, 0.1));
        assert_eq!(scaled_phases(1000, 0.1, 4), (0..100, 100..3700));
        assert_eq!(scaled_phases(1000, 0.25, 3), (0..250, 250..2500));
    }

    #[test]
    fn units_are_deterministic_and_distinct() {
        assert_eq!(unit(7), unit(7));
        assert_ne!(unit(7), unit(8));
        assert_eq!(units(0..10), units(0..4).wrapping_add(units(4..10)));
    }
}
