//! Command-line values every chapter's examples read the same way.

/// A number of seconds from 0 to a day (`--idle-timeout 2.5`), for a clap `value_parser`; a
/// sentence naming the bad value otherwise.
pub fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0 to 86400"
        )),
    }
}
