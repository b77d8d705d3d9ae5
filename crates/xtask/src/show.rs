//! What `list`, `hint` and `handout` print, as text: the instructor guide quotes it, and a
//! workspace test compares the guide with it.

use std::collections::HashSet;

use crate::exercises::{Catalog, Exercise};
use crate::handout::Handout;
use crate::table::render_table;

/// `cargo xtask list`: a row per exercise, in reading order.
pub fn list(catalog: &Catalog) -> String {
    if catalog.exercises.is_empty() {
        return format!("no exercises in {}\n", catalog.root.display());
    }
    let rows: Vec<Vec<String>> = catalog
        .exercises
        .iter()
        .map(|e| {
            vec![
                e.id.clone(),
                e.chapter.clone(),
                e.title.clone(),
                e.difficulty.to_string(),
                e.points.to_string(),
            ]
        })
        .collect();
    render_table(&["ID", "CHAPTER", "TITLE", "DIFFICULTY", "POINTS"], &rows)
}

/// `cargo xtask hint <id>`: where the exercise is, how it is graded, and its hint.
pub fn hint(e: &Exercise) -> String {
    let points = if e.points == 1 { "" } else { "s" };
    let hint = if e.hint.trim().is_empty() {
        "(no hint for this exercise)"
    } else {
        e.hint.as_str()
    };
    format!(
        "{}: {}\nchapter:    {}\ndifficulty: {} ({} point{points})\nfile:       {}\n\
         tests:      {}\nrun them:   cargo xtask grade --exercise {}\n\n{hint}\n",
        e.id,
        e.title,
        e.chapter,
        e.difficulty,
        e.points,
        e.file.display(),
        e.tests.join(", "),
        e.id,
    )
}

/// `cargo xtask handout`: each region stripped, then where the handout is.
pub fn handout(written: &Handout) -> String {
    let mut out = String::new();
    for stripped in &written.stripped {
        out.push_str(&format!(
            "stripped {} ({}:{}-{})\n",
            stripped.id,
            stripped.file.display(),
            stripped.lines.0,
            stripped.lines.1
        ));
    }
    let exercises: HashSet<&str> = written.stripped.iter().map(|s| s.id.as_str()).collect();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    out.push_str(&format!(
        "wrote the handout to {}: {} region{} of {} exercise{} replaced by todo!()\n",
        written.out.display(),
        written.stripped.len(),
        plural(written.stripped.len()),
        exercises.len(),
        plural(exercises.len())
    ));
    out
}
