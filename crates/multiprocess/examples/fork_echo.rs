//! An echo server that forks a child process for every connection, and reaps each child as it
//! exits (SIGCHLD + waitpid), so no zombie stays.
//!
//! Run:    cargo run -p multiprocess --example fork_echo
//! Client: nc 127.0.0.1 7101      (open several; `ps --ppid <server pid>` lists one child each;
//!         OpenBSD nc needs `-N` to hang up when its input ends: `echo hi | nc -N 127.0.0.1 7101`)
//! Output: listening on 127.0.0.1:7101   (and, on stderr, the server's pid)
//! Stop:   Ctrl-C (the children are stopped and reaped; exits with status 0)

use std::net::SocketAddr;

use clap::Parser;

/// A fork-per-connection echo server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7101")]
    addr: SocketAddr,
}

fn main() -> Result<(), netkit::Failure> {
    let args = Args::parse();
    // On stderr, so `listening on` stays the first line of stdout.
    let pid = std::process::id();
    eprintln!("server pid {pid}: see its children with `ps -o pid,stat,cmd --ppid {pid}`");
    Ok(netkit::serve(
        args.addr,
        multiprocess::per_process_server::fork_per_connection,
    )?)
}
