//! Streams data from a child to its parent through the lock-free ring in shared memory, and
//! checks every byte. The child dies with its parent (Ctrl-C, or any kill): it does not go on
//! filling a ring nobody reads.
//!
//! Run:    cargo run -p ipc --release --example shm_ring
//! Output: ring of 1048576 bytes; child 4242 sends 256 MiB in 65536-byte writes
//!         received 268435456 bytes in order, checksum ok: 3123 MB/s
//! (MB/s depends on the machine; `--mib 1` for a quick run; `--spin-yield` waits by spinning)

use std::time::{Duration, Instant};

use clap::Parser;
use ipc::ring::{Ring, WaitStrategy};
use labkit::Failure;
use multiprocess::spawn;
use nix::unistd::getpid;

/// One producer process, one consumer process, one ring.
#[derive(Parser)]
struct Args {
    /// How much to send, in MiB.
    #[arg(long, default_value_t = 256)]
    mib: usize,
    /// Ring capacity in bytes (rounded up to a power of two).
    #[arg(long, default_value_t = 1 << 20)]
    capacity: usize,
    /// Bytes per push.
    #[arg(long, default_value_t = 64 << 10)]
    chunk: usize,
    /// Wait by spinning and yielding (step 1) instead of sleeping on a futex.
    #[arg(long)]
    spin_yield: bool,
}

/// The byte at stream offset `i`: a pattern that catches lost, repeated or reordered bytes.
fn pattern(i: u64) -> u8 {
    (i ^ (i >> 8) ^ (i >> 16)) as u8
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let strategy = if args.spin_yield {
        WaitStrategy::SpinYield
    } else {
        WaitStrategy::Futex
    };
    let ring = Ring::with_strategy(args.capacity, strategy)?;
    let total = (args.mib as u64) << 20;
    let patience = Duration::from_secs(10);
    let parent = getpid();
    let child = spawn::fork_run(|| {
        if ipc::die_with_parent(parent).is_err() {
            return 1;
        }
        let mut offset = 0u64;
        let mut chunk = vec![0u8; args.chunk];
        while offset < total {
            let n = chunk.len().min((total - offset) as usize);
            for (k, byte) in chunk[..n].iter_mut().enumerate() {
                *byte = pattern(offset + k as u64);
            }
            if ring.write_all(&chunk[..n], patience).is_err() {
                return 1;
            }
            offset += n as u64;
        }
        0
    })?;
    println!(
        "ring of {} bytes; child {child} sends {} MiB in {}-byte writes",
        ring.capacity(),
        args.mib,
        args.chunk
    );
    let start = Instant::now();
    let mut offset = 0u64;
    let mut buf = vec![0u8; args.chunk];
    let mut bad = None;
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        ring.read_exact(&mut buf[..n], patience)?;
        if bad.is_none() {
            bad = (0..n)
                .find(|&k| buf[k] != pattern(offset + k as u64))
                .map(|k| offset + k as u64);
        }
        offset += n as u64;
    }
    let elapsed = start.elapsed();
    let outcome = spawn::wait_for(child)?;
    match bad {
        None => println!(
            "received {offset} bytes in order, checksum ok: {:.0} MB/s",
            offset as f64 / elapsed.as_secs_f64() / 1e6
        ),
        Some(at) => println!("received {offset} bytes; first wrong byte at offset {at}"),
    }
    if !outcome.success() || bad.is_some() {
        return Err(Failure::new(format!(
            "the ring's data was wrong, or the producer {outcome}"
        )));
    }
    Ok(())
}
