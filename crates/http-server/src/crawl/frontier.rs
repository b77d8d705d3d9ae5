//! The frontier: the pages seen, the pages still to fetch (breadth-first), and what each
//! fetch gave — one bookkeeping for all three crawlers, which differ only in how they wait.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use super::links;
use super::response::Response;

/// What one fetch gave.
#[derive(Debug)]
pub enum Fetched {
    /// A whole response (any status).
    Page(Response),
    /// No usable response: the sentence says why (refused, reset, timed out, malformed).
    Failed(String),
    /// A reused keep-alive connection ended before the first byte of the answer: the server
    /// closed it (idle) as the request went out. Not the page's fault; fetched again, once.
    Stale,
}

/// What became of one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status.
    Status(u16),
    /// No response; why.
    Failed(String),
}

impl Outcome {
    /// True for a 2xx response.
    pub fn is_page(&self) -> bool {
        matches!(self, Outcome::Status(200..=299))
    }
}

/// What a crawler does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Fetch this path.
    Fetch(String),
    /// Nothing to fetch now, but fetches are in flight and may find more: wait for one.
    Wait,
    /// The crawl is over.
    Done,
}

/// The crawl's bookkeeping.
#[derive(Debug)]
pub struct Frontier {
    /// `host:port`: links elsewhere are not followed.
    authority: String,
    /// Paths found and not yet fetched, oldest first (breadth-first).
    queue: VecDeque<String>,
    /// Every path ever queued: a page is fetched once however many pages link to it.
    seen: HashSet<String>,
    /// Paths already fetched again after a [`Fetched::Stale`].
    retried: HashSet<String>,
    /// Fetches started and not yet finished.
    in_flight: usize,
    /// The most fetches ever in flight at once: more than one is the concurrency, seen.
    peak_in_flight: usize,
    /// Connections opened: no more than the crawler's connections, when they are kept alive.
    connections: usize,
    /// At most this many paths are queued (`--max-pages`).
    max_pages: usize,
    /// What became of each fetched path.
    outcomes: BTreeMap<String, Outcome>,
    /// Body bytes received.
    bytes: u64,
    started: Instant,
    progress: ProgressBar,
}

impl Frontier {
    /// A frontier holding `start`, on `authority`.
    pub fn new(authority: &str, start: &str, max_pages: usize, progress: ProgressBar) -> Frontier {
        progress.set_length(1);
        Frontier {
            authority: authority.to_string(),
            queue: VecDeque::from([start.to_string()]),
            seen: HashSet::from([start.to_string()]),
            retried: HashSet::new(),
            in_flight: 0,
            peak_in_flight: 0,
            connections: 0,
            max_pages: max_pages.max(1),
            outcomes: BTreeMap::new(),
            bytes: 0,
            started: Instant::now(),
            progress,
        }
    }

    /// The next path to fetch, if any; a path handed out must come back through
    /// [`finish`](Self::finish).
    pub fn take(&mut self) -> Next {
        match self.queue.pop_front() {
            Some(path) => {
                self.in_flight += 1;
                self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
                Next::Fetch(path)
            }
            None if self.in_flight > 0 => Next::Wait,
            None => Next::Done,
        }
    }

    /// Counts a connection opened.
    pub fn opened(&mut self) {
        self.connections += 1;
    }

    /// Records what fetching `path` gave, and queues the new links of an HTML page.
    pub fn finish(&mut self, path: String, fetched: Fetched) {
        self.in_flight -= 1;
        let outcome = match fetched {
            Fetched::Stale if self.retried.insert(path.clone()) => {
                self.queue.push_front(path);
                return;
            }
            Fetched::Stale => Outcome::Failed("the server closed the connection".into()),
            Fetched::Failed(why) => Outcome::Failed(why),
            Fetched::Page(response) => {
                self.bytes += response.body.len() as u64;
                if response.head.html && (200..300).contains(&response.head.status) {
                    self.follow(&path, &response.body);
                }
                Outcome::Status(response.head.status)
            }
        };
        self.outcomes.insert(path, outcome);
        self.progress.set_length(self.seen.len() as u64);
        self.progress.inc(1);
    }

    fn follow(&mut self, base: &str, html: &[u8]) {
        for href in links::hrefs(html) {
            if self.seen.len() >= self.max_pages {
                return;
            }
            if let Some(path) = links::resolve(&self.authority, base, &href)
                && self.seen.insert(path.clone())
            {
                self.queue.push_back(path);
            }
        }
    }

    /// The crawl's report, so far.
    pub fn report(&self) -> Report {
        Report {
            authority: self.authority.clone(),
            outcomes: self.outcomes.clone(),
            bytes: self.bytes,
            elapsed: self.started.elapsed(),
            connections: self.connections,
            peak_in_flight: self.peak_in_flight,
        }
    }
}

/// What a crawl found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The crawled `host:port`.
    pub authority: String,
    /// Every fetched path and what became of it.
    pub outcomes: BTreeMap<String, Outcome>,
    /// Body bytes received.
    pub bytes: u64,
    /// From start to end.
    pub elapsed: Duration,
    /// Connections opened.
    pub connections: usize,
    /// The most fetches in flight at once.
    pub peak_in_flight: usize,
}

impl Report {
    /// Pages answered with a 2xx status.
    pub fn pages(&self) -> usize {
        self.outcomes.values().filter(|o| o.is_page()).count()
    }

    /// Fetches that failed or were answered with another status.
    pub fn errors(&self) -> impl Iterator<Item = (&String, &Outcome)> {
        self.outcomes.iter().filter(|(_, o)| !o.is_page())
    }

    /// The summary line: `pages 1000, bytes 301234, errors 20, 2345 pages/s`.
    pub fn summary(&self) -> String {
        let rate = self.outcomes.len() as f64 / self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "pages {}, bytes {}, errors {}, {rate:.0} pages/s",
            self.pages(),
            self.bytes,
            self.errors().count()
        )
    }
}
