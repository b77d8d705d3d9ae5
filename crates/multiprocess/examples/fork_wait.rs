//! Runs a program three ways — fork + execvp + waitpid, posix_spawn, Command — and says how
//! each run ended: an exit status, or the signal that killed it.
//!
//! Run:    cargo run -p multiprocess --example fork_wait -- sh -c 'exit 3'
//! Output: fork + execvp + waitpid: exited with status 3
//!         posix_spawn + waitpid:   exited with status 3
//!         Command::status:         exited with status 3
//! Try:    ... -- sh -c 'kill -TERM $$'   (killed by SIGTERM)
//!         ... -- no-such-program         (fork + exec: exited with status 127; the others:
//!                                         cannot run no-such-program: No such file or directory)

use clap::Parser;
use labkit::Failure;
use multiprocess::spawn;

/// Runs PROGRAM [ARGS...] three ways and prints how each run ended.
#[derive(Parser)]
struct Args {
    /// The program and its arguments (default: `true`); everything after the first word goes to
    /// the program, flags included.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM [ARGS]"
    )]
    command: Vec<String>,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let (program, rest) = match args.command.split_first() {
        Some((program, rest)) => (program.as_str(), rest),
        None => ("true", &[][..]),
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    println!(
        "fork + execvp + waitpid: {}",
        spawn::fork_exec_wait(program, &rest)?
    );
    // posix_spawn and Command report a program that cannot be run as an error of the call,
    // where fork + exec can only tell it by the child's exit status.
    report(
        "posix_spawn + waitpid:  ",
        spawn::posix_spawn_wait(program, &rest),
        program,
    );
    report(
        "Command::status:        ",
        spawn::command_wait(program, &rest),
        program,
    );
    Ok(())
}

fn report(how: &str, result: std::io::Result<spawn::Outcome>, program: &str) {
    match result {
        Ok(outcome) => println!("{how} {outcome}"),
        Err(e) => println!("{how} cannot run {program}: {e}"),
    }
}
