//! No code. Every workspace member depends on this crate, and this crate depends on the
//! third-party crates that the members would otherwise build with different features depending
//! on the command (`cargo test --workspace`, `cargo run -p X`, with or without dev-dependencies),
//! asking for the union of those features. So each of them is compiled once per profile and
//! shared by every command, instead of being rebuilt — with everything above it — each time a
//! student switches from one documented command to another. `tests/feature_sets.rs` fails, naming
//! the crate and the features, when a change makes two commands disagree again.
