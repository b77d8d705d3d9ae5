//! A breadth-first crawler: this chapter's client, on one of three concurrency models.
//!
//! Run:    cargo run -p http-server --example http_server -- --root docs/src --quiet
//!         cargo run -p http-server --example crawl -- http://127.0.0.1:8080/ --model async --conns 8
//! Models: --model threads|callbacks|async   (default: async)
//! Output: failed http://127.0.0.1:8080/missing.html: 404
//!         (one line per page that failed, at most 20)
//!         pages 1000, bytes 301234, errors 20, 2345 pages/s
//!         (a progress bar on stderr while it runs, when stderr is a terminal)
//! Stop:   Ctrl-C (the pages fetched so far are reported)

use std::time::Duration;

use clap::Parser;
use http_server::crawl::{self, Model, Options, Outcome, Target};
use indicatif::{ProgressBar, ProgressStyle};
use labkit::{Context, Failure};
use netkit::Stop;

/// Fetches every page of a site reachable from URL, on the same host and port.
#[derive(Parser)]
struct Args {
    /// Where to start: http://host[:port][/path].
    #[arg(default_value = "http://127.0.0.1:8080/")]
    url: String,
    /// How connections wait: threads, callbacks (one epoll loop) or async (tasks on a reactor).
    #[arg(long, default_value = "async")]
    model: Model,
    /// Connections at once, each kept alive.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1000))]
    conns: u16,
    /// Stop after this many pages.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_pages: usize,
    /// Seconds for one request, connect to last byte.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// A longer response body is an error.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_body: usize,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let target = Target::parse(&args.url).context(format_args!("cannot crawl {}", args.url))?;
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| Failure::new("--timeout must be a positive number of seconds"))?;
    let progress = ProgressBar::new(1); // hidden when stderr is not a terminal
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} pages {per_sec}")
            .expect("the template is valid"),
    );
    let options = Options {
        conns: args.conns.into(),
        max_pages: args.max_pages,
        timeout,
        max_body: args.max_body,
        progress: progress.clone(),
    };
    let stop = Stop::on_ctrl_c()?;
    let report = crawl::crawl(args.model, &target, &options, &stop)?;
    progress.finish_and_clear();
    let errors: Vec<_> = report.errors().collect();
    for (path, outcome) in errors.iter().take(20) {
        match outcome {
            Outcome::Status(code) => println!("failed http://{}{path}: {code}", report.authority),
            Outcome::Failed(why) => println!("failed http://{}{path}: {why}", report.authority),
        }
    }
    if errors.len() > 20 {
        println!("... and {} more", errors.len() - 20);
    }
    println!("{}", report.summary());
    Ok(())
}
