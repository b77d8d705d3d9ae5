//! Memory-bound: sum a large array of 64-bit numbers.
//!
//! Each element costs one add — far less than the time to bring it in from memory — so the
//! sum runs at the speed of the memory bus, not of the core. A second core adds a second
//! stream of loads and helps only while one core alone cannot saturate the bus; once the
//! cores together read as fast as DRAM delivers, more threads add nothing. The chapter's
//! docs page shows the measured bandwidth (bytes / second) at each `p` against that ceiling.
//!
//! The array (`128 Mi` elements = 1 GiB by default) is far larger than any cache, and it is
//! built once before timing starts, so the runs measure reading, not page faults. This
//! workload runs on threads only: worker processes would each have to build or map their own
//! copy of the array (sharing memory between processes is the ipc chapter's lesson).

/// The array of `len` numbers `0, 1, 2, …`, whose sum is `len (len - 1) / 2`.
pub fn array(len: u64) -> Vec<u64> {
    (0..len).collect()
}

/// The wrapping sum of `values`: one add per 8 bytes read, which the compiler vectorises.
pub fn sum(values: &[u64]) -> u64 {
    values.iter().fold(0, |sum, &v| sum.wrapping_add(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_of_the_array_is_the_triangle_number() {
        let values = array(1000);
        assert_eq!(sum(&values), 999 * 1000 / 2);
        assert_eq!(sum(&[]), 0);
    }
}
