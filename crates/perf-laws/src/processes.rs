//! The same workloads on worker **processes** instead of threads.
//!
//! The parent re-runs its own executable (`std::env::current_exe()`) with the hidden `worker`
//! subcommand, once per worker — the usual way to get a fresh process with Rust's standard
//! library, since `fork` in a multi-threaded program is a minefield. Each child rebuilds the
//! problem from its command line and talks over its stdin and stdout:
//!
//! ```text
//!   static share:  perf-laws worker --workload W --size N … --index i --of p
//!                  worker → parent   <answer of share i>\n            then exit
//!   dynamic:       perf-laws worker --workload W --size N … --serve
//!                  parent → worker   <start> <end>\n                  a chunk of tasks
//!                  worker → parent   <answer of that chunk>\n         … until end of stdin
//! ```
//!
//! Processes share nothing, so they cannot race, but everything costs more than with threads:
//! starting one (`fork` + `exec` + loading the program), and every message (a pipe write, a
//! read, two context switches). Those costs are serial overhead that the laws see — Karp–Flatt
//! grows with `p` — and the chapter's tables compare the two on the same problem.
//!
//! The pitfall: a parent that fails half-way must not leave workers behind. [`Workers`] kills
//! and reaps every child it still holds when dropped, so an error or a panic leaves no zombie.

use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::schedule::{self, Schedule};
use crate::workloads::{Problem, Workload};

/// What one worker process is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Compute static share `index` of `of` and print its answer.
    Share { index: u64, of: u64 },
    /// Answer one line per chunk `<start> <end>` read from stdin, until end of input.
    Serve,
}

/// The worker side: does `role` for `problem`, reading chunks from `input` and writing answers
/// to `output`.
pub fn serve(
    problem: &Problem,
    role: Role,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<()> {
    match role {
        Role::Share { index, of } => {
            if of == 0 || index >= of {
                bail!("worker {index} of {of} does not exist");
            }
            writeln!(output, "{}", problem.share(index, of))?;
        }
        Role::Serve => {
            let (_, parallel) = problem.phases();
            for line in input.lines() {
                let line = line.context("reading a chunk from the parent")?;
                let chunk = parse_chunk(&line)?;
                if chunk.start < parallel.start || chunk.end > parallel.end {
                    bail!("chunk {chunk:?} is outside the tasks {parallel:?}");
                }
                writeln!(output, "{}", problem.task(chunk))?;
                output.flush()?;
            }
        }
    }
    output.flush()?;
    Ok(())
}

fn parse_chunk(line: &str) -> Result<Range<u64>> {
    let mut words = line.split_whitespace().map(str::parse::<u64>);
    match (words.next(), words.next(), words.next()) {
        (Some(Ok(start)), Some(Ok(end)), None) if start <= end => Ok(start..end),
        _ => bail!("a chunk is `<start> <end>` with start ≤ end, got {line:?}"),
    }
}

/// Worker processes, killed and reaped on drop if they have not been waited for.
#[derive(Debug, Default)]
pub struct Workers {
    children: Vec<Child>,
}

impl Workers {
    /// Starts `exe worker <problem> <role>` with piped stdin and stdout.
    fn start(&mut self, exe: &Path, problem: &Problem, role: Role) -> Result<&mut Child> {
        let mut command = Command::new(exe);
        command
            .arg("worker")
            .args(["--workload", problem.workload.name()])
            .args(["--size", &problem.size.to_string()])
            .args(["--serial-fraction", &problem.serial_fraction.to_string()])
            .args(["--multiplier", &problem.multiplier.to_string()]);
        match role {
            Role::Share { index, of } => {
                command.args(["--index", &index.to_string(), "--of", &of.to_string()])
            }
            Role::Serve => command.arg("--serve"),
        };
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting worker process {}", exe.display()))?;
        self.children.push(child);
        Ok(self.children.last_mut().expect("just pushed"))
    }

    /// Waits for every child and checks each exited with status 0.
    fn finish(mut self) -> Result<()> {
        for (i, mut child) in std::mem::take(&mut self.children).into_iter().enumerate() {
            let status = child
                .wait()
                .with_context(|| format!("waiting for worker {i}"))?;
            if !status.success() {
                bail!("worker process {i} failed: {status}");
            }
        }
        Ok(())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_answer(stdout: &mut BufReader<ChildStdout>, worker: usize) -> Result<u64> {
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .with_context(|| format!("reading worker {worker}'s answer"))?;
    line.trim()
        .parse()
        .with_context(|| format!("worker {worker} answered {line:?}, not a number"))
}

/// Runs `problem` with `p` worker processes started from `exe`: the serial phase here, the
/// parallel phase in the children (static shares, or chunks on demand for a dynamic schedule).
pub fn run_processes(problem: &Problem, p: usize, exe: &Path) -> Result<u64> {
    if p == 0 {
        bail!("p must be at least 1");
    }
    if problem.workload == Workload::Memsum {
        bail!("memsum runs on threads only: each process would need its own copy of the array");
    }
    let (serial, parallel) = problem.phases();
    let first = problem.task(serial);
    let mut workers = Workers::default();
    let rest = match problem.schedule() {
        Schedule::Dynamic { chunk } => {
            let mut pipes = Vec::new();
            for _ in 0..p {
                let child = workers.start(exe, problem, Role::Serve)?;
                let stdin: ChildStdin = child.stdin.take().expect("stdin is piped");
                let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
                pipes.push((stdin, stdout));
            }
            let senders = pipes
                .into_iter()
                .enumerate()
                .map(|(i, (mut stdin, mut stdout))| {
                    move |tasks: Range<u64>| -> Result<u64> {
                        writeln!(stdin, "{} {}", tasks.start, tasks.end)
                            .with_context(|| format!("sending a chunk to worker {i}"))?;
                        read_answer(&mut stdout, i)
                    }
                })
                .collect();
            // The closures (and the stdin they own) are dropped when this returns: the
            // children read end of file and exit.
            schedule::run_dynamic(parallel, chunk, senders)?
        }
        Schedule::Block | Schedule::Cyclic { .. } => {
            let mut outputs = Vec::new();
            for index in 0..p as u64 {
                let child = workers.start(
                    exe,
                    problem,
                    Role::Share {
                        index,
                        of: p as u64,
                    },
                )?;
                drop(child.stdin.take());
                outputs.push(BufReader::new(
                    child.stdout.take().expect("stdout is piped"),
                ));
            }
            let mut sum = 0u64;
            for (i, stdout) in outputs.iter_mut().enumerate() {
                sum = sum.wrapping_add(read_answer(stdout, i)?);
            }
            sum
        }
    };
    workers.finish()?;
    Ok(first.wrapping_add(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_worker_prints_its_share() {
        let problem = Problem::new(Workload::Primes, 100_000, 0.0).unwrap();
        let mut out = Vec::new();
        serve(
            &problem,
            Role::Share { index: 1, of: 2 },
            &b""[..],
            &mut out,
        )
        .unwrap();
        let answer: u64 = String::from_utf8(out).unwrap().trim().parse().unwrap();
        assert_eq!(answer, problem.share(1, 2));
        assert!(answer > 0 && answer < 9592);
    }

    #[test]
    fn a_serving_worker_answers_each_chunk_and_refuses_bad_ones() {
        let problem = Problem::new(Workload::Primes, 100, 0.0).unwrap();
        let mut out = Vec::new();
        serve(&problem, Role::Serve, &b"0 10\n10 100\n"[..], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "4\n21\n");
        for bad in ["0 1000\n", "5\n", "9 3\n", "a b\n"] {
            let error = serve(&problem, Role::Serve, bad.as_bytes(), Vec::new()).unwrap_err();
            assert!(error.to_string().contains("chunk"), "{bad:?}: {error}");
        }
    }
}
