//! The ticket office: every ticket sold exactly once, in order, by more than one window, none
//! after the last — in-process with seeded random delays, and through the example.

use std::time::Duration;

use harness::ExampleProcess;
use multithread::ticket_office::{self, Plan, Sale};

fn check(sales: &[Sale], tickets: u32, windows: usize) {
    let numbers: Vec<u32> = sales.iter().map(|s| s.ticket).collect();
    assert_eq!(
        numbers,
        (1..=tickets).collect::<Vec<_>>(),
        "each ticket once, in order"
    );
    assert!(sales.iter().all(|s| (1..=windows).contains(&s.window)));
    let mut used: Vec<usize> = sales.iter().map(|s| s.window).collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() > 1, "more than one window sold: {used:?}");
}

#[test]
fn ticket_office_sells_each_ticket_once_in_order_from_several_windows() {
    for seed in [1, 2, 3] {
        let plan = Plan {
            tickets: 500,
            windows: 10,
            sale: Duration::ZERO,
            jitter: Duration::from_micros(300),
            seed,
        };
        let announced = std::sync::Mutex::new(Vec::new());
        let sales = ticket_office::run(&plan, &|sale| announced.lock().unwrap().push(sale));
        check(&sales, 500, 10);
        assert_eq!(
            *announced.lock().unwrap(),
            sales,
            "announced in selling order"
        );
    }
}

#[test]
fn ticket_office_sells_nothing_after_the_last_ticket() {
    let office = ticket_office::Office::new(2);
    let quiet = |_| {};
    assert_eq!(office.sell_next(1, &quiet), Some(1));
    assert_eq!(office.sell_next(2, &quiet), Some(2));
    assert_eq!(office.sell_next(1, &quiet), None);
    assert_eq!(office.sell_next(3, &quiet), None);
    assert_eq!(office.sales().len(), 2);
}

#[test]
fn ticket_office_example_prints_every_sale_in_order() {
    let mut example = ExampleProcess::spawn(
        "ticket_office",
        &["--sale-ms", "0", "--jitter-ms", "0.3", "--seed", "42"],
    )
    .unwrap();
    let mut sales = Vec::new();
    for _ in 0..500 {
        let line = example.read_line().unwrap();
        let (window, ticket) = line
            .split_once(" ---- ")
            .unwrap_or_else(|| panic!("{line}"));
        sales.push(Sale {
            window: window.strip_prefix('w').unwrap().parse().unwrap(),
            ticket: ticket.strip_prefix('T').unwrap().parse().unwrap(),
        });
    }
    let summary = example.read_line().unwrap();
    example.expect_success().unwrap();
    check(&sales, 500, 10);
    assert!(summary.starts_with("sold 500 tickets from "), "{summary}");
}
