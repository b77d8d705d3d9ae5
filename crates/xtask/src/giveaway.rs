//! Solutions given away: a stripped region whose code stands nearly verbatim elsewhere in the
//! handout — in a hint, a README, or a neighbouring function the student can copy.
//!
//! The region's code and the handout's text are cut into tokens (identifier and number runs,
//! and each punctuation character); every run of [`SHINGLE`] tokens of the region that also
//! occurs somewhere in the handout marks its tokens as *found*. A region of at least
//! [`MIN_TOKENS`] tokens with [`MAX_FOUND_PERCENT`] % or more of them found in one file is
//! reported. Shingles found in [`IDIOM_FILES`] files or more are idioms of the workspace, not a
//! solution standing somewhere, and do not count. Comment lines inside a region are left out
//! (they leave with it). Short regions are not judged this way: their few tokens are found
//! anywhere. Separately, an exercise's own hint may not quote [`HINT_RUN`] consecutive tokens of
//! its solution: a hint names the idea and the API, never the lines.
//!
//! The pitfall this guards against is invisible in the reference workspace: a hint written as
//! the code itself, or a sibling function written as the same loop, reads fine until a student
//! copies it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::exercises::{Catalog, RegionFile};
use crate::regions::{self, Region};

/// Tokens per shingle: long enough that `for x in y {` alone does not count.
pub const SHINGLE: usize = 10;
/// Regions with fewer tokens are not judged.
pub const MIN_TOKENS: usize = 60;
/// Share of a region's tokens found elsewhere that makes it given away.
pub const MAX_FOUND_PERCENT: usize = 55;
/// Tokens of a region's code in one run that its own hint may not quote: a whole call with its
/// arguments (`waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG))` is 17).
pub const HINT_RUN: usize = 16;

/// A region found nearly verbatim elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenAway {
    /// Exercise id.
    pub id: String,
    /// The file of the region, relative to the workspace.
    pub file: PathBuf,
    /// Its BEGIN line.
    pub line: usize,
    /// Where and how much.
    pub how: How,
}

/// How a region is given away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// This share (percent) of its tokens stands in the first of these files.
    Elsewhere(usize, Vec<PathBuf>),
    /// Its hint quotes these tokens of its code.
    Hint(String),
}

impl fmt::Display for GivenAway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: the solution of `{}` is given away: ",
            self.file.display(),
            self.line,
            self.id
        )?;
        match &self.how {
            How::Elsewhere(percent, places) => {
                let places: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{percent}% of its code stands nearly verbatim in {} (also: {})",
                    places[0],
                    places[1..].join(", ")
                )
            }
            How::Hint(quote) => write!(
                f,
                "its hint quotes the code `{quote}`; a hint names the idea and the API, never \
                 the lines"
            ),
        }
    }
}

/// Every region of `region_files` given away by the rest of the handout or by its hint.
pub fn find(catalog: &Catalog, region_files: &[RegionFile]) -> Result<Vec<GivenAway>> {
    let corpus = Corpus::of_handout(&catalog.root, region_files)?;
    let mut given_away = Vec::new();
    for file in region_files {
        let path = catalog.root.join(&file.path);
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let lines: Vec<&str> = text.lines().collect();
        for region in &file.regions {
            let code = region_code(&lines, region);
            let tokens = tokenize(&code);
            let mut report = |how| {
                given_away.push(GivenAway {
                    id: region.id.clone(),
                    file: file.path.clone(),
                    line: region.begin_line,
                    how,
                })
            };
            let hint = catalog.exercise(&region.id).map_or("", |e| e.hint.as_str());
            let quote = longest_common_run(&tokens, &tokenize(hint));
            if quote.len() >= HINT_RUN {
                report(How::Hint(span_text(&code, &quote)));
            }
            if tokens.len() < MIN_TOKENS {
                continue;
            }
            let (found, found_in) = corpus.found(&tokens);
            let percent = found * 100 / tokens.len();
            if percent >= MAX_FOUND_PERCENT {
                report(How::Elsewhere(percent, found_in));
            }
        }
    }
    Ok(given_away)
}

/// The text of `code` from the first to the last of `tokens` (slices of `code`), on one line.
fn span_text(code: &str, tokens: &[&str]) -> String {
    let offset = |token: &str| token.as_ptr() as usize - code.as_ptr() as usize;
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return String::new();
    };
    let text = &code[offset(first)..offset(last) + last.len()];
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The longest run of tokens of `a` that also stands, in order, in `b`.
pub fn longest_common_run<'a>(a: &[&'a str], b: &[&str]) -> Vec<&'a str> {
    let (mut best_len, mut best_end) = (0, 0);
    let mut previous = vec![0usize; b.len() + 1];
    for (i, token) in a.iter().enumerate() {
        let mut current = vec![0usize; b.len() + 1];
        for (j, other) in b.iter().enumerate() {
            if token == other {
                current[j + 1] = previous[j] + 1;
                if current[j + 1] > best_len {
                    (best_len, best_end) = (current[j + 1], i + 1);
                }
            }
        }
        previous = current;
    }
    a[best_end - best_len..best_end].to_vec()
}

/// The lines between a region's markers, without comment lines.
fn region_code(lines: &[&str], region: &Region) -> String {
    lines[region.begin_line..region.end_line - 1]
        .iter()
        .filter(|line| !line.trim_start().starts_with("//"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Identifier and number runs, and each other non-space character.
pub fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut word_start = None;
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || c == '_';
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (true, Some(_)) => {}
            (false, start) => {
                if let Some(start) = start {
                    tokens.push(&text[start..i]);
                    word_start = None;
                }
                if !c.is_whitespace() {
                    tokens.push(&text[i..i + c.len_utf8()]);
                }
            }
        }
    }
    if let Some(start) = word_start {
        tokens.push(&text[start..]);
    }
    tokens
}

/// The shingles of every text file of the handout, by file, without idioms.
struct Corpus {
    files: Vec<(PathBuf, HashSet<String>)>,
}

/// A shingle in this many files or more is an idiom of the workspace (an error-kind match, a
/// lock-or-recover line), not a solution standing somewhere.
pub const IDIOM_FILES: usize = 3;

impl Corpus {
    /// Sources, manifests, hints and docs, as the handout has them (every region stripped).
    fn of_handout(root: &Path, region_files: &[RegionFile]) -> Result<Corpus> {
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0 || !(name == "target" || name.starts_with('.') || name == "book")
            });
        for entry in walker {
            let entry = entry.with_context(|| format!("scanning {}", root.display()))?;
            let is_text = entry
                .path()
                .extension()
                .is_some_and(|ext| ext == "rs" || ext == "md" || ext == "toml");
            if !entry.file_type().is_file() || !is_text {
                continue;
            }
            let Ok(text) = fs::read_to_string(entry.path()) else {
                continue;
            };
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let text = match region_files.iter().find(|f| f.path == relative) {
                Some(file) => regions::strip(&text, &file.regions, |_| true, |_| String::new()).0,
                None => text,
            };
            let shingles = tokenize(&text)
                .windows(SHINGLE)
                .map(|w| w.concat())
                .collect();
            files.push((relative.to_path_buf(), shingles));
        }
        Ok(Corpus::without_idioms(files))
    }

    fn without_idioms(mut files: Vec<(PathBuf, HashSet<String>)>) -> Corpus {
        let mut in_files: HashMap<&str, usize> = HashMap::new();
        for (_, shingles) in &files {
            for shingle in shingles {
                *in_files.entry(shingle).or_default() += 1;
            }
        }
        let idioms: HashSet<String> = in_files
            .into_iter()
            .filter(|(_, n)| *n >= IDIOM_FILES)
            .map(|(s, _)| s.to_string())
            .collect();
        for (_, shingles) in &mut files {
            shingles.retain(|s| !idioms.contains(s));
        }
        Corpus { files }
    }

    /// The most of `tokens` that lie in shingles found in one file of the corpus, and the (at
    /// most three) files that hold the most.
    fn found(&self, tokens: &[&str]) -> (usize, Vec<PathBuf>) {
        let mut by_file: Vec<(usize, &PathBuf)> = Vec::new();
        for (path, shingles) in &self.files {
            let mut covered = vec![false; tokens.len()];
            for (start, window) in tokens.windows(SHINGLE).enumerate() {
                if shingles.contains(&window.concat()) {
                    covered[start..start + SHINGLE].fill(true);
                }
            }
            let count = covered.iter().filter(|&&c| c).count();
            if count > 0 {
                by_file.push((count, path));
            }
        }
        by_file.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let most = by_file.first().map_or(0, |(count, _)| *count);
        let places = by_file.iter().take(3).map(|(_, p)| (*p).clone()).collect();
        (most, places)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_words_numbers_and_single_punctuation() {
        assert_eq!(
            tokenize("let x_1 = a.b(2.5)?;"),
            [
                "let", "x_1", "=", "a", ".", "b", "(", "2", ".", "5", ")", "?", ";"
            ]
        );
    }

    fn corpus(files: &[(&str, &str)]) -> Corpus {
        Corpus::without_idioms(
            files
                .iter()
                .map(|(path, text)| {
                    let shingles = tokenize(text)
                        .windows(SHINGLE)
                        .map(|w| w.concat())
                        .collect();
                    (PathBuf::from(path), shingles)
                })
                .collect(),
        )
    }

    #[test]
    fn a_sibling_written_as_the_same_loop_is_found_and_other_code_is_not() {
        let region = "let mut best = None;\n\
                      for (name, weight) in items.iter().filter(|(_, w)| *w > limit) {\n\
                      if best.is_none_or(|(_, b)| weight > b) { best = Some((name, weight)); }\n\
                      }\n\
                      best.map(|(name, _)| name.to_uppercase())";
        let tokens = tokenize(region);
        let sibling = region.replace("weight > b", "weight < b");
        let with_sibling = corpus(&[("a.rs", "fn unrelated() {}"), ("pick.rs", &sibling)]);
        let (found, places) = with_sibling.found(&tokens);
        assert!(
            found * 100 / tokens.len() >= MAX_FOUND_PERCENT,
            "{found}/{}",
            tokens.len()
        );
        assert_eq!(places, [PathBuf::from("pick.rs")]);

        let elsewhere = corpus(&[("b.rs", "let total: f64 = values.iter().sum(); total / n")]);
        assert_eq!(elsewhere.found(&tokens), (0, vec![]));
    }

    #[test]
    fn a_line_standing_in_many_files_is_an_idiom() {
        let line = "Err(e) if e.kind() == ErrorKind::Interrupted => continue,";
        let files: Vec<(String, String)> = (0..IDIOM_FILES)
            .map(|i| (format!("{i}.rs"), line.to_string()))
            .collect();
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert_eq!(corpus(&files).found(&tokenize(line)), (0, vec![]));
        assert_eq!(
            corpus(&files[..1]).found(&tokenize(line)).0,
            tokenize(line).len()
        );
    }

    #[test]
    fn the_longest_quote_of_the_code_in_a_hint() {
        let code = tokenize("let n = waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG))?;");
        let hint = tokenize("Call `waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG))` in a loop.");
        let quote = longest_common_run(&code, &hint);
        assert_eq!(
            quote.concat(),
            "waitpid(None::<Pid>,Some(WaitPidFlag::WNOHANG))"
        );
        assert!(quote.len() > HINT_RUN);
        let named = tokenize("Reap with waitpid and WNOHANG until it reports no child.");
        assert!(longest_common_run(&code, &named).len() < 3);
    }
}
