//! An echo server on tokio, as a Rust programmer would write it: a task per connection,
//! `read` then `write_all`, on tokio's runtime. The io-models bench script runs it beside the
//! chapter's own servers under the same load, as the peer they are measured against.
//!
//! Run:    cargo run --release --manifest-path scripts/tokio-echo/Cargo.toml -- --addr 127.0.0.1:0
//! Client: nc 127.0.0.1 7010
//! Output: listening on 127.0.0.1:7010
//! Stop:   Ctrl-C (exits with status 0)
//!
//! `--workers 1` (the default) runs tokio's current-thread runtime, one thread like every
//! io-models server; `--workers N` its multi-thread runtime with N worker threads.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `--addr HOST:PORT` (default 127.0.0.1:7010) and `--workers N` (default 1).
fn parse_args() -> Result<(SocketAddr, usize), String> {
    let mut addr: SocketAddr = "127.0.0.1:7010".parse().expect("a valid default");
    let mut workers = 1;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?,
            "--workers" => {
                workers = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--workers {value}: a count of 1 or more"))?
            }
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --addr HOST:PORT --workers N"
                ));
            }
        }
    }
    Ok((addr, workers))
}

fn main() {
    let result = parse_args()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        .and_then(|(addr, workers)| {
            let runtime = match workers {
                1 => tokio::runtime::Builder::new_current_thread(),
                n => {
                    let mut builder = tokio::runtime::Builder::new_multi_thread();
                    builder.worker_threads(n);
                    builder
                }
            }
            .enable_all()
            .build()?;
            runtime.block_on(serve(addr))
        });
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}

/// Accepts until Ctrl-C; each client is a task.
async fn serve(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(echo(stream));
                }
                // Out of descriptors, or a client gone before it was accepted: say so, and
                // back off so that a full descriptor table does not make the loop spin.
                Err(e) => {
                    eprintln!("tokio-echo: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// Echoes one client until it closes.
async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
