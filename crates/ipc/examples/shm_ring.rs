//! Streams data from a child to its parent through the lock-free ring in shared memory, and
//! checks every byte (`ipc::ring::stream`). The child dies with its parent (Ctrl-C, or any kill): it does not go on
//! filling a ring nobody reads.
//!
//! Run:    cargo run -p ipc --release --example shm_ring
//! Output: ring of 1048576 bytes; child 4242 sends 256 MiB in 65536-byte writes
//!         received 268435456 bytes in order, checksum ok: 3123 MB/s
//! (MB/s depends on the machine; `--mib 1` for a quick run; `--spin-yield` waits by spinning)

use std::time::{Duration, Instant};

use clap::Parser;
use ipc::ring::stream::{receive_pattern, send_pattern};
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
        let sent = ipc::die_with_parent(parent)
            .and_then(|()| send_pattern(&ring, total, args.chunk, patience));
        i32::from(sent.is_err())
    })?;
    println!(
        "ring of {} bytes; child {child} sends {} MiB in {}-byte writes",
        ring.capacity(),
        args.mib,
        args.chunk
    );
    let start = Instant::now();
    let bad = receive_pattern(&ring, total, args.chunk, patience)?;
    let elapsed = start.elapsed();
    let outcome = spawn::wait_for(child)?;
    match bad {
        None => println!(
            "received {total} bytes in order, checksum ok: {:.0} MB/s",
            total as f64 / elapsed.as_secs_f64() / 1e6
        ),
        Some(at) => println!("received {total} bytes; first wrong byte at offset {at}"),
    }
    if !outcome.success() || bad.is_some() {
        return Err(Failure::new(format!(
            "the ring's data was wrong, or the producer {outcome}"
        )));
    }
    Ok(())
}
