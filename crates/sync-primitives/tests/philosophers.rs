//! Lesson 10, the fixed tables: with forks taken in order, or with a waiter, every philosopher
//! eats every meal, and no two neighbours ever eat at once (checked while eating).

mod support;

use support::{STEP, within};
use sync_primitives::philosophers::{dine_ordered, dine_with_waiter, forks_in_order};

#[test]
fn philosophers_ordered_forks_lower_number_first() {
    assert_eq!(forks_in_order(0, 5), (0, 1));
    assert_eq!(forks_in_order(3, 5), (3, 4));
    assert_eq!(
        forks_in_order(4, 5),
        (0, 4),
        "the last philosopher reaches across first"
    );
}

#[test]
fn philosophers_ordered_table_lets_everyone_eat() {
    for n in [2, 5, 7] {
        let meals = within(
            STEP,
            &format!("{n} ordered philosophers to eat 500 meals each"),
            move || dine_ordered(n, 500),
        );
        assert_eq!(meals, vec![500; n]);
    }
}

#[test]
fn philosophers_waiter_table_lets_everyone_eat() {
    for n in [2, 5, 7] {
        let meals = within(
            STEP,
            &format!("{n} philosophers with a waiter to eat 500 meals each"),
            move || dine_with_waiter(n, 500),
        );
        assert_eq!(meals, vec![500; n]);
    }
}
