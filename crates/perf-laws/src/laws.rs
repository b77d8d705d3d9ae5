//! The performance laws as pure functions: speedup, efficiency, Amdahl, Gustafson, Karp–Flatt.
//!
//! With `T1` the time on one processor and `Tp` the time on `p`:
//!
//! | law | formula | what it assumes |
//! | --- | --- | --- |
//! | speedup | `S = T1 / Tp` | the same problem at every `p` (strong scaling) |
//! | efficiency | `E = S / p` | 1 is perfect; the rest went to idling, overhead, contention |
//! | Amdahl | `S(p) = 1 / (f + (1 - f) / p)` | a fixed problem whose serial fraction is `f` |
//! | Gustafson | `S(p) = p - α (p - 1)` | the problem grows with `p`; `α` is the serial share of the *parallel* run |
//! | Karp–Flatt | `e = (1/S - 1/p) / (1 - 1/p)` | Amdahl read backwards: the `f` a measured `S` implies |
//!
//! Why it matters: Amdahl caps a fixed problem at `1 / f` however many cores you buy (10 %
//! serial means never more than 10×), while Gustafson says the cap is not there if the problem
//! grows with the machine. Karp–Flatt turns a measured speedup into the serial fraction it
//! implies, so overheads that grow with `p` (start-up, contention) show up as an `e` that grows.
//!
//! The pitfall: the laws count *processors*, not threads. Past the number of cores, more
//! threads add no processor, so a CPU-bound program's speedup flattens at the core count while
//! the formulas keep climbing (see the chapter's plots).

/// Speedup `T1 / Tp` of a run that took `tp` against one that took `t1` on one processor.
pub fn speedup(t1: f64, tp: f64) -> f64 {
    t1 / tp
}

/// Efficiency `S / p`: the fraction of `p` processors' time that did useful work.
pub fn efficiency(speedup: f64, p: f64) -> f64 {
    speedup / p
}

/// Amdahl's law: the speedup on `p` processors of a fixed problem with serial fraction `f`.
pub fn amdahl(f: f64, p: f64) -> f64 {
    1.0 / (f + (1.0 - f) / p)
}

/// Gustafson's law: the scaled speedup on `p` processors when a fraction `alpha` of the
/// parallel run's time is serial.
pub fn gustafson(alpha: f64, p: f64) -> f64 {
    p - alpha * (p - 1.0)
}

/// The Karp–Flatt metric: the experimentally determined serial fraction implied by a measured
/// speedup `s` on `p` processors. Undefined (`None`) at `p = 1`, where every `f` gives `S = 1`.
pub fn karp_flatt(s: f64, p: f64) -> Option<f64> {
    if p <= 1.0 {
        return None;
    }
    Some((1.0 / s - 1.0 / p) / (1.0 - 1.0 / p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn speedup_and_efficiency_of_a_perfect_doubling() {
        let s = speedup(10.0, 5.0);
        assert_eq!(s, 2.0);
        assert_eq!(efficiency(s, 2.0), 1.0);
        assert_eq!(efficiency(speedup(10.0, 8.0), 2.0), 0.625);
    }

    #[test]
    fn amdahl_of_the_course_example_is_capped_at_ten() {
        // 90 % parallel, 10 % serial: at most 10x, however many processors.
        assert!((amdahl(0.1, 1.0) - 1.0).abs() < 1e-12);
        assert!((amdahl(0.1, 2.0) - 2.0 / 1.1).abs() < 1e-12);
        assert!(amdahl(0.1, 1e9) < 10.0);
        assert!(amdahl(0.1, 1e9) > 9.99);
    }

    #[test]
    fn gustafson_of_a_tenth_serial() {
        assert_eq!(gustafson(0.1, 1.0), 1.0);
        assert!((gustafson(0.1, 8.0) - 7.3).abs() < 1e-12);
    }

    #[test]
    fn karp_flatt_of_linear_speedup_is_zero_and_of_no_speedup_is_one() {
        assert_eq!(karp_flatt(4.0, 4.0), Some(0.0));
        assert!((karp_flatt(1.0, 4.0).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(karp_flatt(1.0, 1.0), None);
    }

    proptest! {
        #[test]
        fn amdahl_never_exceeds_one_over_f_nor_p(f in 0.001f64..1.0, p in 1.0f64..1e6) {
            let s = amdahl(f, p);
            prop_assert!(s <= 1.0 / f * (1.0 + 1e-12));
            prop_assert!(s <= p * (1.0 + 1e-12));
            prop_assert!(s >= 1.0 - 1e-12);
        }

        #[test]
        fn amdahl_grows_with_p(f in 0.0f64..1.0, p in 1.0f64..1e5, more in 1.0f64..1e3) {
            prop_assert!(amdahl(f, p + more) >= amdahl(f, p) * (1.0 - 1e-12));
        }

        #[test]
        fn gustafson_is_linear_in_p(alpha in 0.0f64..1.0, p in 1u32..10_000) {
            let p = f64::from(p);
            let step = gustafson(alpha, p + 1.0) - gustafson(alpha, p);
            prop_assert!((step - (1.0 - alpha)).abs() < 1e-6);
            prop_assert!((gustafson(alpha, 1.0) - 1.0).abs() < 1e-12);
        }

        #[test]
        fn karp_flatt_recovers_f_from_amdahl_generated_speedups(f in 0.0f64..1.0, p in 2u32..4096) {
            let p = f64::from(p);
            let e = karp_flatt(amdahl(f, p), p).unwrap();
            prop_assert!((e - f).abs() < 1e-9, "f = {f}, p = {p}, e = {e}");
        }
    }
}
