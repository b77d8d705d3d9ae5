//! Two threads print 12A34B…5152Z together, solved three ways.
//!
//! Run:    cargo run -p sync-primitives --example print_12a34b
//! Output: condvar:    12A34B56C78D910E1112F1314G1516H1718I1920J2122K2324L2526M2728N2930O3132P3334Q3536R3738S3940T4142U4344V4546W4748X4950Y5152Z
//!         semaphores: 12A34B56C…5152Z (the same)
//!         park:       12A34B56C…5152Z (the same)

use clap::Parser;
use labkit::Failure;
use sync_primitives::print_12a34b::{with_condvar, with_park, with_semaphores};

/// Prints the 12A34B string made by each solution.
#[derive(Parser)]
struct Args {
    /// Only this solution: condvar, semaphores or park (default: all three).
    #[arg(long)]
    only: Option<String>,
}

/// A solution's name and the function that runs it.
type Solution = (&'static str, fn() -> String);

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let solutions: [Solution; 3] = [
        ("condvar", with_condvar),
        ("semaphores", with_semaphores),
        ("park", with_park),
    ];
    if let Some(only) = &args.only
        && !solutions.iter().any(|(name, _)| name == only)
    {
        return Err(Failure::new(format!(
            "unknown solution {only:?}: condvar, semaphores or park"
        )));
    }
    for (name, solve) in solutions {
        if args.only.as_deref().is_none_or(|only| only == name) {
            println!("{:<11} {}", format!("{name}:"), solve());
        }
    }
    Ok(())
}
