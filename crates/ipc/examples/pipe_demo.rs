//! The four facts of an anonymous pipe, each shown between real processes.
//!
//! Run:    cargo run -p ipc --example pipe_demo
//! Output: capacity: 65536 bytes (F_GETPIPE_SZ); PIPE_BUF = 4096
//!         full: a non-blocking writer got EAGAIN after 65536 bytes (a blocking one would wait)
//!         grown: F_SETPIPE_SZ 1048576 → 1048576 bytes
//!         4 writers × 200 records of 4096 B: 800 records, 0 torn (≤ PIPE_BUF: atomic)
//!         4 writers × 200 records of 262144 B: 800 records, 377 torn (> PIPE_BUF: interleaved)
//!         EOF: no hang-up while the parent holds a write end; EOF once it closes it
//!         no reader: write returned "Broken pipe (os error 32)" (SIGPIPE ignored, EPIPE handled)
//!         no reader, SIGPIPE at its default: the writer was killed by SIGPIPE
//! (the torn count varies from run to run; 0 for records of at most PIPE_BUF bytes)

use clap::Parser;
use ipc::pipe;
use labkit::Failure;

/// Capacity, PIPE_BUF atomicity, EOF and EPIPE of an anonymous pipe.
#[derive(Parser)]
struct Args {
    /// Concurrent writer processes.
    #[arg(long, default_value_t = 4)]
    writers: u8,
    /// Records per writer.
    #[arg(long, default_value_t = 200)]
    records: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let (read, write) = pipe::pipe()?;
    println!(
        "capacity: {} bytes (F_GETPIPE_SZ); PIPE_BUF = {}",
        pipe::capacity(&read)?,
        pipe::PIPE_BUF
    );
    println!(
        "full: a non-blocking writer got EAGAIN after {} bytes (a blocking one would wait)",
        pipe::fill(&write)?
    );
    drop((read, write));
    let (read, _write) = pipe::pipe()?;
    let asked = 1 << 20;
    match pipe::set_capacity(&read, asked) {
        Ok(got) => println!("grown: F_SETPIPE_SZ {asked} → {got} bytes"),
        Err(e) => {
            println!("grown: F_SETPIPE_SZ {asked} refused: {e} (see /proc/sys/fs/pipe-max-size)")
        }
    }
    for len in [pipe::PIPE_BUF, 64 * pipe::PIPE_BUF] {
        let report = pipe::concurrent_writers(args.writers, args.records, len)?;
        let why = if len <= pipe::PIPE_BUF {
            "≤ PIPE_BUF: atomic"
        } else {
            "> PIPE_BUF: interleaved"
        };
        println!(
            "{} writers × {} records of {len} B: {} records, {} torn ({why})",
            args.writers, args.records, report.records, report.torn
        );
    }
    let (hup_while_held, eof_after_close) = pipe::eof_needs_every_writer_closed()?;
    println!(
        "EOF: {} while the parent holds a write end; {} once it closes it",
        if hup_while_held {
            "hang-up"
        } else {
            "no hang-up"
        },
        if eof_after_close { "EOF" } else { "no EOF" }
    );
    println!(
        "no reader: write returned \"{}\" (SIGPIPE ignored, EPIPE handled)",
        pipe::write_to_closed_reader()?
    );
    println!(
        "no reader, SIGPIPE at its default: the writer was {}",
        pipe::sigpipe_by_default()?
    );
    Ok(())
}
