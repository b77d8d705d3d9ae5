//! Lesson 6 — a barrier: phases of a parallel computation.
//!
//! Many parallel computations go in rounds: every thread computes its share of round *k* from
//! the results of round *k − 1*, and nobody may start round *k + 1* until everyone has finished
//! round *k*. `std::sync::Barrier::new(n)` is that rendezvous: `wait` blocks until `n` threads
//! have called it, then releases them all — and everything written before the barrier is
//! visible to every thread after it.
//!
//! The computation here is a one-dimensional cellular automaton (rule 90: each cell becomes the
//! XOR of its two neighbours), split into one chunk of cells per thread, with two buffers: round
//! *k* reads buffer *k mod 2* and writes the other. A thread's edge cells need its neighbours'
//! cells from the previous round. The pitfall: without the barrier a fast thread reads a
//! neighbour's chunk before it is written, and the result depends on scheduling; with it,
//! the parallel result equals the sequential one, cell for cell.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread;

/// Runs `rounds` rounds of rule 90 on `cells` (0 or 1 each, wrapping at the ends) sequentially.
pub fn rule90_sequential(cells: &[u8], rounds: usize) -> Vec<u8> {
    let mut current = cells.to_vec();
    let n = current.len();
    for _ in 0..rounds {
        current = (0..n)
            .map(|i| current[(i + n - 1) % n] ^ current[(i + 1) % n])
            .collect();
    }
    current
}

/// The same computation on `threads` threads, one chunk each, a barrier between rounds.
///
/// `on_round(thread, round)` is called by each thread after it finishes a round (before the
/// barrier), so tests and the example can watch the phases.
pub fn rule90_parallel(
    cells: &[u8],
    rounds: usize,
    threads: usize,
    on_round: impl Fn(usize, usize) + Sync,
) -> Vec<u8> {
    let n = cells.len();
    assert!(threads > 0 && threads <= n, "need 1..=n threads");
    // Atomics only so threads may share the buffers; the barrier orders every access.
    let buffers: [Vec<AtomicU8>; 2] = [
        cells.iter().map(|&c| AtomicU8::new(c)).collect(),
        (0..n).map(|_| AtomicU8::new(0)).collect(),
    ];
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (buffers, barrier, on_round) = (&buffers, &barrier, &on_round);
            s.spawn(move || {
                let chunk = t * n / threads..(t + 1) * n / threads;
                for round in 0..rounds {
                    let (from, to) = (&buffers[round % 2], &buffers[(round + 1) % 2]);
                    for i in chunk.clone() {
                        let left = from[(i + n - 1) % n].load(Ordering::Relaxed);
                        let right = from[(i + 1) % n].load(Ordering::Relaxed);
                        to[i].store(left ^ right, Ordering::Relaxed);
                    }
                    on_round(t, round);
                    // Nobody starts round + 1 (which reads `to`) before everyone has written it.
                    barrier.wait();
                }
            });
        }
    });
    buffers[rounds % 2]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect()
}

/// A row of `n` cells with a single live cell in the middle: rule 90 draws a Sierpinski triangle.
pub fn single_cell(n: usize) -> Vec<u8> {
    let mut cells = vec![0; n];
    cells[n / 2] = 1;
    cells
}

/// Cells as text: `#` alive, `.` dead.
pub fn render(cells: &[u8]) -> String {
    cells
        .iter()
        .map(|&c| if c == 1 { '#' } else { '.' })
        .collect()
}
