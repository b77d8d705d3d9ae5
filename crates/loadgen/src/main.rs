//! `loadgen`: see `loadgen --help` and the crate README.

fn main() -> std::process::ExitCode {
    loadgen::cli::main()
}
