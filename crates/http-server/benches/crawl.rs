//! The crawler's three models side by side: pages per second crawling the generated site of
//! 1,000 linked pages (the one the tests crawl), served by this chapter's server.
//!
//! Run:   cargo bench -p http-server --bench crawl              (about half a minute)
//!        cargo bench -p http-server --bench crawl -- --quick   (a smoke test: seconds)
//!
//! The server (epoll model, one thread) runs in this process on a thread of its own; each
//! crawl starts from the site's index, and every model must find all 1,000 pages and 20
//! broken links, or the bench stops. Each cell is the median of 21 crawls, the models taking turns. Read the models'
//! ratios within one run, not the absolute numbers: crawler and server share the machine.

#[path = "../tests/common/site.rs"]
#[allow(dead_code)]
mod site;

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use benchkit::{BenchArgs, Machine, Table};
use clap::Parser;
use http_server::crawl::{self, Model, Options, Target};
use http_server::{Root, Site};
use netkit::Stop;

/// Pages per second of each crawler model.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    bench: BenchArgs,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let machine = Machine::start();
    let dir = tempfile::tempdir()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let authority = listener.local_addr()?.to_string();
    let (pages, broken) = site::generate(dir.path(), &authority);
    let site = Site::new(Arc::new(Root::open(dir.path())?));
    let stop = Arc::new(Stop::new()?);
    let server_stop = Arc::clone(&stop);
    let server = thread::spawn(move || {
        http_server::serve(http_server::Model::Epoll, listener, &server_stop, &site)
    });
    let runs = args.bench.pick(21, 1);
    let conns = [1, 8, 64];
    let target = Target::parse(&format!("http://{authority}/"))?;
    let mut header = vec!["model".to_string()];
    header.extend(conns.iter().map(|c| format!("{c} conns: pages/s")));
    let mut table = Table::new(header).numeric();
    let times = measure(&target, pages.len(), broken.len(), &conns, runs)?;
    let fetched = (pages.len() + broken.len()) as f64;
    for (model, mut row_times) in Model::ALL.into_iter().zip(times) {
        let mut row = vec![format!("crawl --model {model}")];
        for cell in &mut row_times {
            cell.sort();
            let median: Duration = cell[cell.len() / 2];
            row.push(format!("{:.0}", fetched / median.as_secs_f64()));
        }
        table.row(row);
    }
    stop.stop();
    server.join().expect("the server thread does not panic")?;
    print!("{table}");
    println!("\nmedian of {runs} crawls per cell; {}.", machine.line());
    Ok(())
}

/// The crawls' durations, `[model][conns]`; the models take turns, so a change in the
/// machine's load falls on all of them alike. Every crawl must find the whole site.
fn measure(
    target: &Target,
    pages: usize,
    broken: usize,
    conns: &[usize],
    runs: usize,
) -> io::Result<Vec<Vec<Vec<Duration>>>> {
    let mut times = vec![vec![Vec::new(); conns.len()]; Model::ALL.len()];
    for (column, &c) in conns.iter().enumerate() {
        for _ in 0..runs {
            for (m, model) in Model::ALL.into_iter().enumerate() {
                let options = Options {
                    conns: c,
                    ..Options::default()
                };
                let report = crawl::crawl(model, target, &options, &Stop::new()?)?;
                let errors = report.errors().count();
                if report.pages() != pages || errors != broken {
                    return Err(io::Error::other(format!(
                        "{model} with {c} connections found {} pages and {errors} errors",
                        report.pages()
                    )));
                }
                times[m][column].push(report.elapsed);
            }
        }
    }
    Ok(times)
}
