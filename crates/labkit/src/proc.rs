//! `/proc/<pid>/stat`, parsed once, and the process tree read from it.
//!
//! The line is `pid (comm) state ppid pgrp …` (see `proc(5)`). The pitfall is `comm`: the
//! command name may hold spaces and parentheses (`(my (weird) prog)`), so a split on spaces
//! shifts every later field; the fields after it start after the *last* `)`.

use std::collections::HashMap;
use std::fs;
use std::io;

/// One `/proc/<pid>/stat` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The process.
    pub pid: u32,
    /// The command name, as the kernel shows it between parentheses.
    pub command: String,
    /// `R` running, `S` sleeping, `Z` zombie, `T` stopped, …
    pub state: char,
    /// The parent's pid.
    pub ppid: u32,
    /// Every field after the command, from `state` (field 3 in `proc(5)`) on.
    rest: Vec<String>,
}

impl Stat {
    /// Reads `/proc/<pid>/stat`.
    pub fn of(pid: u32) -> io::Result<Stat> {
        Stat::parse(&fs::read_to_string(format!("/proc/{pid}/stat"))?)
    }

    /// Parses a `/proc/<pid>/stat` line.
    pub fn parse(line: &str) -> io::Result<Stat> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad stat line: {line}"));
        let open = line.find('(').ok_or_else(bad)?;
        let close = line.rfind(')').ok_or_else(bad)?;
        let pid = line[..open].trim().parse().map_err(|_| bad())?;
        let rest: Vec<String> = line[close + 1..]
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let state = rest
            .first()
            .and_then(|s| s.chars().next())
            .ok_or_else(bad)?;
        let ppid = rest.get(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        Ok(Stat {
            pid,
            command: line[open + 1..close].to_string(),
            state,
            ppid,
            rest,
        })
    }

    /// Field `number` as `proc(5)` counts it (1 is the pid, 14 `utime`, 15 `stime`), as a
    /// number; `None` for the pid and command, or past the end.
    pub fn field(&self, number: usize) -> Option<u64> {
        self.rest.get(number.checked_sub(3)?)?.parse().ok()
    }

    /// CPU time used, user + system (`utime` + `stime`), in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        self.field(14).unwrap_or(0) + self.field(15).unwrap_or(0)
    }
}

impl std::fmt::Display for Stat {
    /// The line as `/proc` shows it, up to the parent.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) {} {}",
            self.pid, self.command, self.state, self.ppid
        )
    }
}

/// Every process's stat line; processes that exit while being read are skipped.
pub fn processes() -> io::Result<Vec<Stat>> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(stat) = Stat::of(pid) {
            found.push(stat);
        }
    }
    Ok(found)
}

/// The stat lines of process `pid`'s children.
pub fn children_of(pid: u32) -> io::Result<Vec<Stat>> {
    Ok(processes()?
        .into_iter()
        .filter(|stat| stat.ppid == pid)
        .collect())
}

/// Every process whose chain of parents leads to `pid`.
pub fn descendants(pid: u32) -> io::Result<Vec<u32>> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for stat in processes()? {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::Stat;

    #[test]
    fn a_command_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let line = "42 (my (weird) prog) S 7 42 42 0 -1 4194560 100 0 0 0 25 5 0 0 20 0 1 0";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(stat.command, "my (weird) prog");
        assert_eq!((stat.pid, stat.state, stat.ppid), (42, 'S', 7));
        assert_eq!(stat.field(14), Some(25));
        assert_eq!(stat.cpu_ticks(), 30);
        assert_eq!(stat.to_string(), "42 (my (weird) prog) S 7");
    }

    #[test]
    fn this_process_is_read_and_its_parent_lists_it_as_a_child() {
        let me = Stat::of(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        let siblings = super::children_of(me.ppid).unwrap();
        assert!(siblings.iter().any(|s| s.pid == me.pid));
        assert!(super::descendants(me.ppid).unwrap().contains(&me.pid));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Stat::parse("not a stat line").is_err());
    }
}
