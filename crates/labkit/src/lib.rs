//! The pieces every chapter shares that are not about networking (those are in `netkit`), so
//! each is written once and each lesson shows only its own idea.
//!
//! | module | what it gives |
//! | --- | --- |
//! | [`args`] | command-line values read the same way everywhere: [`args::seconds`] |
//! | [`Failure`] | what every example's `main` returns: an error that prints as a sentence |
//! | [`panic`] | the text of a panic payload, for a thread or a child that panicked |
//! | [`proc`] | `/proc/<pid>/stat` parsed once; a process's children and descendants |

pub mod args;
mod failure;
pub mod panic;
pub mod proc;

pub use failure::{Context, Failure};
