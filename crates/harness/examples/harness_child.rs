//! A child process with scripted behaviour, for the harness's own tests of `ExampleProcess`.
//!
//! Run: `cargo run -p harness --example harness_child -- serve --addr 127.0.0.1:0`
//! Expected: `listening on 127.0.0.1:<port>`; Ctrl-C (or a `quit` line on stdin) exits with 0.
//!
//! Modes: `serve` (as above), `crash` (prints the banner, complains on stderr, exits 3),
//! `no-banner` (prints something else first), `echo-stdin` (copies stdin lines to stdout
//! until EOF, then exits 0).

use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("serve");
    let addr = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .unwrap_or("127.0.0.1:0");
    match mode {
        "serve" => serve(addr),
        "crash" => {
            let listener = TcpListener::bind(addr).expect("bind");
            println!("listening on {}", listener.local_addr().expect("addr"));
            eprintln!("harness_child: deliberate failure for the test");
            std::process::exit(3);
        }
        "no-banner" => println!("hello, I forgot the banner"),
        "echo-stdin" => {
            for line in std::io::stdin().lock().lines() {
                println!("{}", line.expect("stdin"));
            }
        }
        other => {
            eprintln!("harness_child: unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}

/// Prints the banner, then waits for SIGINT/SIGTERM or a `quit` line on stdin.
fn serve(addr: &str) {
    // Handlers first, banner second: a test may send SIGINT as soon as it reads the banner.
    let mut signals = Signals::new([SIGINT, SIGTERM]).expect("signal handler");
    let listener = TcpListener::bind(addr).expect("bind");
    println!("listening on {}", listener.local_addr().expect("addr"));
    std::io::stdout().flush().expect("flush");
    let (done_tx, done_rx) = mpsc::channel();
    let on_signal = done_tx.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = on_signal.send(format!("signal {signal}"));
        }
    });
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if line.trim() == "quit" {
                let _ = done_tx.send("quit".to_string());
            }
        }
    });
    let why = done_rx.recv().expect("a reason to stop");
    eprintln!("harness_child: stopping on {why}");
}
