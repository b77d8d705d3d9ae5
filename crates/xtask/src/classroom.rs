//! GitHub Classroom autograding: the workflow that grades every exercise on each push.
//!
//! `cargo xtask handout --out DIR --classroom` writes `DIR/.github/workflows/classroom.yml` in
//! Classroom's autograding format: one `autograding-command-grader` step per exercise, named by
//! its id and worth its points, then the reporter that sends the points to Classroom. Each step
//! runs `cargo xtask grade --exercise <id> --strict`, which exits non-zero unless the exercise
//! passes (the same rule as a local grade: at least one test ran, none failed). A first step
//! builds every test once, so each exercise's time limit is spent on its tests, not on
//! compiling the workspace; another installs the clients the FTP tests drive.

use std::fmt::Write as _;

use crate::exercises::Catalog;

/// Where the workflow goes in a handout.
pub const WORKFLOW_PATH: &str = ".github/workflows/classroom.yml";

/// Minutes each exercise's step may take, once the workspace is built.
pub const STEP_MINUTES: u32 = 10;

/// The command a step runs for exercise `id`.
pub fn grade_command(id: &str) -> String {
    format!("cargo xtask grade --exercise {id} --strict")
}

/// The workflow for every exercise of `catalog`.
pub fn workflow(catalog: &Catalog) -> String {
    let mut yaml = String::from(
        "name: Autograding Tests\n\
         'on':\n\
         \x20 push:\n\
         \x20 repository_dispatch:\n\
         permissions:\n\
         \x20 checks: write\n\
         \x20 actions: read\n\
         \x20 contents: read\n\
         jobs:\n\
         \x20 run-autograding-tests:\n\
         \x20   runs-on: ubuntu-latest\n\
         \x20   if: github.actor != 'github-classroom[bot]'\n\
         \x20   steps:\n\
         \x20   - name: Checkout code\n\
         \x20     uses: actions/checkout@v4\n\
         \x20   - name: Install the clients the FTP tests drive\n\
         \x20     run: sudo apt-get update -qq && sudo apt-get install -y -qq lftp curl netcat-openbsd\n\
         \x20   - name: Build every test once\n\
         \x20     run: cargo test --workspace --no-run --quiet\n",
    );
    let mut env = String::new();
    for exercise in &catalog.exercises {
        let id = &exercise.id;
        let _ = write!(
            yaml,
            "    - name: {id}\n\
             \x20     id: {id}\n\
             \x20     uses: classroom-resources/autograding-command-grader@v1\n\
             \x20     with:\n\
             \x20       test-name: {id}\n\
             \x20       setup-command: ''\n\
             \x20       command: {command}\n\
             \x20       timeout: {STEP_MINUTES}\n\
             \x20       max-score: {points}\n",
            command = grade_command(id),
            points = exercise.points,
        );
        let _ = writeln!(
            env,
            "        {}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"",
            id.to_uppercase()
        );
    }
    let runners: Vec<&str> = catalog.exercises.iter().map(|e| e.id.as_str()).collect();
    let _ = write!(
        yaml,
        "    - name: Autograding Reporter\n\
         \x20     uses: classroom-resources/autograding-grading-reporter@v1\n\
         \x20     env:\n\
         {env}\
         \x20     with:\n\
         \x20       runners: {}\n",
        runners.join(",")
    );
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_per_exercise_with_its_points_and_the_reporter_naming_them_all() {
        let root = crate::default_workspace();
        let catalog = Catalog::load(&root).unwrap();
        let yaml = workflow(&catalog);
        for exercise in &catalog.exercises {
            let step = format!(
                "    - name: {id}\n      id: {id}\n      uses: classroom-resources/autograding-command-grader@v1\n",
                id = exercise.id
            );
            assert!(yaml.contains(&step), "no step for {}", exercise.id);
            let score = format!(
                "        command: {}\n        timeout: {STEP_MINUTES}\n        max-score: {}\n",
                grade_command(&exercise.id),
                exercise.points
            );
            assert!(yaml.contains(&score), "{}: {yaml}", exercise.id);
            let result = format!(
                "{}_RESULTS: \"${{{{steps.{}.outputs.result}}}}\"",
                exercise.id.to_uppercase(),
                exercise.id
            );
            assert!(yaml.contains(&result), "{result}");
        }
        let ids: Vec<&str> = catalog.exercises.iter().map(|e| e.id.as_str()).collect();
        assert!(yaml.ends_with(&format!("        runners: {}\n", ids.join(","))));
        assert!(!yaml.contains('\t'), "YAML indents with spaces only");
    }
}
