//! A prefork echo server: N worker processes share one listening socket, each serving one
//! client at a time; client N+1 waits in the listen queue until a worker is free.
//!
//! Run:    cargo run -p multiprocess --example prefork_echo -- --workers 2
//! Client: nc 127.0.0.1 7102      (a third nc waits until one of the first two quits)
//! Output: listening on 127.0.0.1:7102   (and, on stderr, the server's pid)
//! Stop:   Ctrl-C (the workers are stopped and reaped; exits with status 0)
//! Try:    kill -9 one worker (`ps --ppid <server pid>`): the server starts another.
//! Also:   `-- --uppercase` serves the line-uppercasing protocol instead (`hi` → `HI`): the same
//!         server, another handler.

use std::net::SocketAddr;

use clap::Parser;
use labkit::Failure;
use multiprocess::per_process_server::{prefork, prefork_with};
use netkit::lines::{serve_blocking, uppercase};

/// A prefork echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7102")]
    addr: SocketAddr,
    /// Worker processes (each serves one client at a time).
    #[arg(long, default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    workers: usize,
    /// Answer each line in upper case instead of echoing (the same server, another handler).
    #[arg(long)]
    uppercase: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    // On stderr, so `listening on` stays the first line of stdout.
    let pid = std::process::id();
    eprintln!("server pid {pid}: see its children with `ps -o pid,stat,cmd --ppid {pid}`");
    Ok(netkit::serve(args.addr, |listener, stop| {
        if args.uppercase {
            prefork_with(listener, stop, args.workers, |s| {
                serve_blocking(s, uppercase)
            })
        } else {
            prefork(listener, stop, args.workers)
        }
    })?)
}
