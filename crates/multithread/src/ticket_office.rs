//! The course's ticket office: tickets T1–T500 sold strictly in order by 10 windows (threads).
//!
//! Each window is a thread that loops: take the next ticket, announce the sale (`w3 ---- T128`),
//! then spend the sale's time with the customer. The order is the point: seats are numbered, so
//! T128 must be announced before T129, and no ticket may be sold twice or after the last one.
//!
//! The course's Python (`while ticket: print(ticket.pop(0))`) works only because of the GIL, and
//! even there the check `while ticket` and the `pop` are two steps: two windows can both see
//! one ticket left, and the second `pop` fails. Here the check, the take *and* the announcement
//! happen under one lock ([`Office::sell_next`]), so the printed order is the selling order; the
//! sale's time is spent *outside* the lock, so ten windows really work at once.

use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One sale: which window sold which ticket (1-based numbers: `w3`, `T128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    pub window: usize,
    pub ticket: u32,
}

/// How the office runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tickets: u32,
    pub windows: usize,
    /// Time each sale takes (the course: 0.1 s).
    pub sale: Duration,
    /// Up to this much more per sale, drawn from a generator seeded with `seed` (per window).
    pub jitter: Duration,
    pub seed: u64,
}

/// The tickets not sold yet, and the log of every sale in selling order.
#[derive(Debug)]
pub struct Office {
    state: Mutex<Counter>,
}

#[derive(Debug)]
struct Counter {
    next: u32,
    last: u32,
    sold: Vec<Sale>,
}

impl Office {
    /// An office with tickets 1 to `tickets`.
    pub fn new(tickets: u32) -> Office {
        Office {
            state: Mutex::new(Counter {
                next: 1,
                last: tickets,
                sold: Vec::new(),
            }),
        }
    }

    /// Window `window` sells the next ticket, if any is left, and announces it through
    /// `announce` before any other window can sell; the ticket, or `None` when sold out.
    pub fn sell_next(&self, window: usize, announce: &(dyn Fn(Sale) + Sync)) -> Option<u32> {
        // BEGIN SOLUTION: mt-ticket-order
        // Check, take and announce under one lock: no two windows take one ticket, none is
        // taken after the last, and announcements come out in ticket order.
        let mut counter = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if counter.next > counter.last {
            return None;
        }
        let ticket = counter.next;
        counter.next += 1;
        let sale = Sale { window, ticket };
        counter.sold.push(sale);
        announce(sale);
        Some(ticket)
        // END SOLUTION
    }

    /// Every sale so far, in selling order.
    pub fn sales(&self) -> Vec<Sale> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sold
            .clone()
    }
}

/// Runs the office to the last ticket; every sale in selling order.
pub fn run(plan: &Plan, announce: &(dyn Fn(Sale) + Sync)) -> Vec<Sale> {
    let office = Office::new(plan.tickets);
    let windows = plan.windows.max(1);
    // All windows open together, so the first one started does not sell a head start.
    let open = Barrier::new(windows);
    thread::scope(|scope| {
        for window in 1..=windows {
            let (office, open) = (&office, &open);
            scope.spawn(move || {
                let mut rng = StdRng::seed_from_u64(plan.seed.wrapping_add(window as u64));
                open.wait();
                while office.sell_next(window, announce).is_some() {
                    let jitter = if plan.jitter.is_zero() {
                        Duration::ZERO
                    } else {
                        plan.jitter.mul_f64(rng.random_range(0.0..=1.0))
                    };
                    // Time with the customer: outside the lock, so the other windows sell.
                    thread::sleep(plan.sale + jitter);
                }
            });
        }
    });
    office.sales()
}

/// The course's line for a sale: `w3 ---- T128`.
pub fn line(sale: Sale) -> String {
    format!("w{} ---- T{}", sale.window, sale.ticket)
}
