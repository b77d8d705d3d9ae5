//! Makes a zombie, an orphan and a parent-death signal happen, and shows each in /proc.
//!
//! Run:    cargo run -p multiprocess --example zombie_orphan
//! Output: zombie: child 4242 has exited and is not reaped yet
//!           /proc/4242/stat: 4242 (zombie_orphan) Z 4241
//!         zombie: reaped (exited with status 7); /proc/4242 is gone
//!         orphan: 4244 was born to 4243, which exited with status 0
//!           /proc/4244/stat: 4244 (zombie_orphan) S 4241   (S sleeping, or R if just running)
//!         orphan: re-parented to this process (4241), a subreaper
//!         orphan: released and reaped (exited with status 0)
//!         pdeathsig: parent killed by SIGKILL; its child killed by SIGTERM
//! (pids differ). Add `--pause` to stop after the zombie and the orphan steps until Enter, and
//! look with `ps -o pid,ppid,stat,cmd --ppid <pid>` in another terminal (the pdeathsig step
//! kills and reaps at once, so there is nothing to see between).

use std::io::{self, BufRead};
use std::path::Path;

use clap::Parser;
use labkit::Failure;
use multiprocess::lifecycle::{self, Stat, Subreaper};

/// Narrates process states: zombie, orphan, parent-death signal.
#[derive(Parser)]
struct Args {
    /// Wait for Enter after each step, to look at the processes from another terminal.
    #[arg(long)]
    pause: bool,
}

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let step = || -> io::Result<()> {
        if args.pause {
            println!("  (press Enter to go on)");
            io::stdin().lock().read_line(&mut String::new())?;
        }
        Ok(())
    };

    let zombie = lifecycle::make_zombie(7)?;
    let pid = zombie.pid();
    println!("zombie: child {pid} has exited and is not reaped yet");
    println!("  /proc/{pid}/stat: {}", Stat::of(pid.as_raw() as u32)?);
    step()?;
    let outcome = zombie.reap()?;
    let gone = !Path::new(&format!("/proc/{pid}")).exists();
    println!(
        "zombie: reaped ({outcome}); /proc/{pid} is {}",
        if gone { "gone" } else { "still there" }
    );

    let subreaper = Subreaper::become_one()?;
    let orphan = lifecycle::make_orphan(&subreaper)?;
    println!(
        "orphan: {} was born to {}, which {}",
        orphan.pid, orphan.first_parent, orphan.first_parent_outcome
    );
    let stat = Stat::of(orphan.pid.as_raw() as u32)?;
    println!("  /proc/{}/stat: {stat}", orphan.pid);
    println!(
        "orphan: re-parented to this process ({}), a subreaper",
        std::process::id()
    );
    step()?;
    println!("orphan: released and reaped ({})", orphan.release()?);

    let death = lifecycle::parent_death_signal(&subreaper)?;
    println!(
        "pdeathsig: parent {}; its child {}",
        death.parent, death.child
    );
    Ok(())
}
