//! An echo server on io_uring: the completion model. Every accept, receive and send is a
//! submission to a ring shared with the kernel, and every one ends in a completion; one thread,
//! one `io_uring_enter` per turn. Needs Linux 5.19 or newer with io_uring allowed.
//!
//! Run:    cargo run -p io-models --example uring_echo
//! Client: nc 127.0.0.1 7009      (open several: each is echoed at once)
//! Output: listening on 127.0.0.1:7009
//! Stop:   Ctrl-C (cancels everything in flight, waits for the cancellations, exits with status 0)
//! Where the kernel refuses io_uring it prints one sentence saying why and how to check
//! (`sysctl kernel.io_uring_disabled`) and exits with status 1.

use std::net::SocketAddr;

use clap::Parser;
use io_models::uring;
use labkit::Failure;

/// An echo server on io_uring.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7009", value_parser = netkit::parse_addr)]
    addr: SocketAddr,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    uring::available()?; // before the banner: a refusal is the only thing printed
    Ok(netkit::serve(args.addr, uring::run)?)
}
