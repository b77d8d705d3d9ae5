//! `cargo xtask`: list, hint, handout, grade and check the workspace's exercises.
//!
//! Argument parsing and printing only; the work is done by the `xtask` library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use xtask::check::{self, CheckOptions};
use xtask::classroom;
use xtask::exercises::Catalog;
use xtask::grade::{self, GradeOptions};
use xtask::gradebook::{self, ClassOptions, Gradebook};
use xtask::handout::{self, Handout, HandoutOptions};
use xtask::show;

/// Instructor tooling for Concurrency Labs exercises.
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version)]
struct Cli {
    /// Workspace to work on [default: the workspace xtask was built in]
    #[arg(long, global = true, value_name = "DIR")]
    workspace: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every exercise: id, chapter, title, difficulty, points.
    List,
    /// Show an exercise's details and hint.
    Hint {
        /// Exercise id, as shown by `list`.
        id: String,
    },
    /// Copy the workspace to DIR with the solutions replaced by `todo!()`.
    Handout {
        /// Output directory (created if missing; must be empty unless --force).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Strip only this chapter's exercises.
        #[arg(long, value_name = "CHAPTER")]
        chapter: Option<String>,
        /// Write into a non-empty directory, overwriting files (nothing is deleted).
        #[arg(long)]
        force: bool,
        /// Also write .github/workflows/classroom.yml: GitHub Classroom autograding, one test
        /// per exercise with its points.
        #[arg(long)]
        classroom: bool,
    },
    /// Run the exercises' tests in each DIR and report points (exit status 0 even if some
    /// fail); with several DIRs (a class), write one gradebook.
    Grade(GradeArgs),
    /// Re-grade the current exercise whenever a file changes, and show the progress so far.
    Watch {
        /// Only this chapter's exercises.
        chapter: Option<String>,
    },
    /// Validate exercises, check the reference solutions pass, and check the handout builds
    /// with exactly the exercise tests failing (for maintainers and CI).
    Check {
        /// Limit for each `cargo test` run, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 1800)]
        timeout: u64,
    },
}

/// The arguments of `grade`.
#[derive(Debug, clap::Args)]
struct GradeArgs {
    /// Workspaces to grade, e.g. students' handouts; the exercise list always comes from
    /// --workspace [default: the workspace]
    dirs: Vec<PathBuf>,
    /// Also write the report (with several DIRs: the gradebook) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the gradebook as CSV to FILE: a row per DIR, a column per exercise.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Grade only this chapter's exercises.
    #[arg(long, value_name = "CHAPTER")]
    chapter: Option<String>,
    /// Grade only this exercise (repeatable).
    #[arg(long = "exercise", value_name = "ID")]
    exercises: Vec<String>,
    /// Limit for each `cargo test` run, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    timeout: u64,
    /// Limit for all the cargo runs of one DIR together, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    submission_timeout: u64,
    /// Exit with status 1 unless every graded exercise passed (for autograders).
    #[arg(long, conflicts_with = "csv")]
    strict: bool,
}

fn main() -> ExitCode {
    // `cargo xtask list | head` ends quietly when the reader leaves, like any Unix tool.
    // SAFETY: SIG_DFL installs no handler code, and no other thread exists yet.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if xtask::process::interrupted() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    xtask::process::install_interrupt_handler()?;
    let root = cli.workspace.unwrap_or_else(xtask::default_workspace);
    let catalog = Catalog::load(&root)?;
    match cli.command {
        Command::List => list(&catalog),
        Command::Hint { id } => hint(&catalog, &id)?,
        Command::Handout {
            out,
            chapter,
            force,
            classroom,
        } => {
            let options = HandoutOptions {
                out: &out,
                chapter: chapter.as_deref(),
                force,
            };
            let written = handout::write_handout(&catalog, options)?;
            print_handout(&written);
            if classroom {
                let path = written.out.join(classroom::WORKFLOW_PATH);
                write_file(&path, &classroom::workflow(&catalog))?;
                println!("wrote {}", path.display());
            }
        }
        Command::Grade(args) => grade(&catalog, args)?,
        Command::Watch { chapter } => {
            let selected = catalog.select(chapter.as_deref(), &[])?;
            let mut options = GradeOptions::new(&catalog.root, Duration::from_secs(600));
            options.target_dir = xtask::target_dir(&catalog.root);
            options.progress = false;
            xtask::watch::watch(&catalog.root, &selected, &options)?;
        }
        Command::Check { timeout } => check::check(
            &catalog,
            CheckOptions {
                timeout: Duration::from_secs(timeout),
            },
        )?,
    }
    Ok(())
}

fn grade(catalog: &Catalog, args: GradeArgs) -> Result<()> {
    let selected = catalog.select(args.chapter.as_deref(), &args.exercises)?;
    let timeout = Duration::from_secs(args.timeout);
    if args.dirs.len() > 1 || args.csv.is_some() {
        let options = ClassOptions {
            target_dir: grade_target_dir(catalog, false),
            timeout,
            submission_timeout: Duration::from_secs(args.submission_timeout),
        };
        let book = gradebook::grade_class(&selected, &args.dirs, &options)?;
        print!("{}", book.table());
        return write_gradebook(&book, args.json.as_deref(), args.csv.as_deref());
    }
    let dir = args.dirs.first().cloned();
    let mut options = GradeOptions::new(dir.as_deref().unwrap_or(&catalog.root), timeout);
    let own = dir.is_none_or(|d| d.canonicalize().is_ok_and(|d| d == catalog.root));
    options.target_dir = grade_target_dir(catalog, own);
    // Another copy may have been graded in the same target directory.
    options.touch_sources = !own;
    let report = grade::grade(&selected, &options)?;
    print!("{}", report.table());
    if let Some(path) = args.json {
        report.write_json(&path)?;
        println!("wrote {}", path.display());
    }
    let failed = report.exercises.len() - report.passed;
    if args.strict && failed > 0 {
        anyhow::bail!(
            "{failed} of {} exercises did not pass",
            report.exercises.len()
        );
    }
    Ok(())
}

/// Where grading builds: `CARGO_TARGET_DIR` when set; the workspace's own `target/` for the
/// workspace itself; otherwise `<workspace>/target/xtask-grade`, shared by every submission so
/// that dependencies are compiled once.
fn grade_target_dir(catalog: &Catalog, own_workspace: bool) -> PathBuf {
    let target = xtask::target_dir(&catalog.root);
    if own_workspace || std::env::var_os("CARGO_TARGET_DIR").is_some() {
        target
    } else {
        target.join("xtask-grade")
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn write_gradebook(book: &Gradebook, json: Option<&Path>, csv: Option<&Path>) -> Result<()> {
    if let Some(path) = json {
        book.write_json(path)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = csv {
        book.write_csv(path)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_handout(written: &Handout) {
    print!("{}", show::handout(written));
}

fn list(catalog: &Catalog) {
    print!("{}", show::list(catalog));
}

fn hint(catalog: &Catalog, id: &str) -> Result<()> {
    print!("{}", show::hint(catalog.exercise(id)?));
    Ok(())
}
