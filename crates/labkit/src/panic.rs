//! The text of a panic payload: `panic!("literal")` carries a `&str`, `panic!("{x}")` a
//! `String`, and `panic_any(anything)` something else — said so, rather than lost.

use std::any::Any;

/// The message a panic carried.
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a payload that is not text".to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal_formatted_and_other_payloads() {
        let literal = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(super::message(&*literal), "plain");
        let n = 3;
        let formatted = std::panic::catch_unwind(|| panic!("{n} apples")).unwrap_err();
        assert_eq!(super::message(&*formatted), "3 apples");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42)).unwrap_err();
        assert!(super::message(&*other).contains("not text"));
    }
}
