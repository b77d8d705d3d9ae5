//! CPU-bound and embarrassingly parallel: count the primes in a range by trial division.
//!
//! Every number is tested on its own, so workers never talk to each other: the textbook case
//! for linear speedup. The cost of a test grows with the number (up to `√n` divisions), so
//! the contiguous blocks of a block split would leave the last worker with the most work; the
//! workload deals chunks round-robin instead (see `schedule::Schedule::Cyclic`).

use std::ops::Range;

/// Whether `n` is prime, by trial division with odd divisors up to `√n`.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut divisor = 3;
    while divisor * divisor <= n {
        if n.is_multiple_of(divisor) {
            return false;
        }
        divisor += 2;
    }
    true
}

/// How many primes `numbers` holds.
pub fn count(numbers: Range<u64>) -> u64 {
    numbers.filter(|&n| is_prime(n)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_primes_and_known_counts() {
        let first: Vec<u64> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(first, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert_eq!(count(0..10_000), 1229);
        assert_eq!(count(0..100_000), 9592);
        assert!(!is_prime(7919 * 7927));
    }
}
