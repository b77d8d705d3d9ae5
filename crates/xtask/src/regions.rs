//! Solution regions: the reference code an exercise asks students to write.
//!
//! A region is a block of whole lines inside a function body, opened by a
//! `// BEGIN SOLUTION: <id>` line and closed by a `// END SOLUTION` line (leading
//! whitespace allowed; the END line may repeat the id). In the repository the region holds the
//! reference solution; [`strip`] swaps each region for a single replacement line (the `todo!`
//! of a handout).
//!
//! [`parse`] works on a file's text and never gives up at the first problem: it reports every
//! malformed, unmatched or nested marker with its line number, so an instructor fixes a broken
//! chapter in one pass. It knows nothing about `exercises.toml`; matching regions to listed
//! exercises is done in [`crate::exercises`].

use std::fmt;

/// Text that opens a region (followed by `: <id>`).
pub const BEGIN_MARKER: &str = "// BEGIN SOLUTION";
/// Text that closes a region (optionally followed by `: <id>`).
pub const END_MARKER: &str = "// END SOLUTION";

/// One well-formed region of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The exercise id named by the BEGIN marker.
    pub id: String,
    /// 1-based line number of the BEGIN marker.
    pub begin_line: usize,
    /// 1-based line number of the END marker.
    pub end_line: usize,
    /// Leading whitespace of the BEGIN marker, reused for the replacement line.
    pub indent: String,
}

/// A problem with the markers of a file, at a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionError {
    /// 1-based line number the problem is reported at.
    pub line: usize,
    /// What is wrong, in words an instructor can act on.
    pub message: String,
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Everything [`parse`] found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedRegions {
    /// Well-formed, top-level regions in file order.
    pub regions: Vec<Region>,
    /// Every marker problem in file order.
    pub errors: Vec<RegionError>,
    /// Every valid id named by a BEGIN marker, well-formed region or not. Lets callers tell
    /// "this exercise's region is broken" (already reported) from "it has no region at all".
    pub begin_ids: Vec<String>,
}

/// Is `id` a valid exercise id (`[a-z0-9-]+`)?
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What a single line of source is, as far as regions are concerned.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    Begin(Option<&'a str>),
    End(Option<&'a str>),
    /// Starts like a marker but is not one, e.g. `// BEGIN SOLUTIONS`.
    Malformed(&'static str),
}

/// Classifies a line; `None` for ordinary code. Returns the line's indentation too.
fn classify(line: &str) -> Option<(&str, Marker<'_>)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let body = body.trim_end();
    let (rest, begin) = if let Some(rest) = body.strip_prefix(BEGIN_MARKER) {
        (rest, true)
    } else if let Some(rest) = body.strip_prefix(END_MARKER) {
        (rest, false)
    } else {
        return None;
    };
    let id = if rest.is_empty() {
        None
    } else if let Some(id) = rest.strip_prefix(':') {
        Some(id.trim()).filter(|id| !id.is_empty())
    } else {
        let expected = if begin {
            "malformed marker: expected `// BEGIN SOLUTION: <id>`"
        } else {
            "malformed marker: expected `// END SOLUTION`"
        };
        return Some((indent, Marker::Malformed(expected)));
    };
    let marker = if begin {
        Marker::Begin(id)
    } else {
        Marker::End(id)
    };
    Some((indent, marker))
}

/// A region whose END has not been seen yet. `id` is `None` for a BEGIN without an id (already
/// reported); it is still tracked so that its END does not cause a second, confusing error.
struct Open<'a> {
    id: Option<&'a str>,
    line: usize,
    indent: &'a str,
}

/// Finds the regions of a file and every problem with its markers.
pub fn parse(text: &str) -> ParsedRegions {
    let mut parser = Parser::default();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        match classify(line) {
            None => {}
            Some((_, Marker::Malformed(message))) => parser.error(number, message.to_string()),
            Some((indent, Marker::Begin(id))) => parser.begin(number, indent, id),
            Some((_, Marker::End(id))) => parser.end(number, id),
        }
    }
    if let Some(region) = parser.open.take() {
        let name = region.id.map_or(String::new(), |id| format!(" `{id}`"));
        parser.error(
            region.line,
            format!("unmatched BEGIN SOLUTION{name}: no `// END SOLUTION` before end of file"),
        );
    }
    parser.parsed.errors.sort_by_key(|e| e.line);
    parser.parsed
}

/// The state of [`parse`] between marker lines.
#[derive(Default)]
struct Parser<'a> {
    parsed: ParsedRegions,
    open: Option<Open<'a>>,
}

impl<'a> Parser<'a> {
    fn error(&mut self, line: usize, message: String) {
        self.parsed.errors.push(RegionError { line, message });
    }

    fn begin(&mut self, number: usize, indent: &'a str, id: Option<&'a str>) {
        // Regions cannot nest. Either an END is missing or the nesting is deliberate; both get
        // this one message, and parsing goes on from the new BEGIN so that a single forgotten
        // END does not make every later region look nested too.
        if let Some(outer) = self.open.take() {
            self.error(
                number,
                format!(
                    "nested region: BEGIN SOLUTION while region{} opened at line {} has no END \
                     SOLUTION yet (regions cannot nest)",
                    outer.id.map_or(String::new(), |id| format!(" `{id}`")),
                    outer.line
                ),
            );
        }
        match id {
            None => self.error(
                number,
                "BEGIN SOLUTION without an id: expected `// BEGIN SOLUTION: <id>`".to_string(),
            ),
            Some(id) if !is_valid_id(id) => self.error(
                number,
                format!("invalid region id `{id}`: use lowercase letters, digits and `-`"),
            ),
            Some(id) => self.parsed.begin_ids.push(id.to_string()),
        }
        self.open = Some(Open {
            id: id.filter(|id| is_valid_id(id)),
            line: number,
            indent,
        });
    }

    fn end(&mut self, number: usize, end_id: Option<&str>) {
        let Some(region) = self.open.take() else {
            let message = "END SOLUTION without a matching BEGIN SOLUTION".to_string();
            self.error(number, message);
            return;
        };
        if let (Some(end_id), Some(id)) = (end_id, region.id)
            && end_id != id
        {
            self.error(
                number,
                format!(
                    "END SOLUTION: {end_id} closes region `{id}` opened at line {}",
                    region.line
                ),
            );
        }
        if let Some(id) = region.id {
            self.parsed.regions.push(Region {
                id: id.to_string(),
                begin_line: region.line,
                end_line: number,
                indent: region.indent.to_string(),
            });
        }
    }
}

/// Replaces the regions `keep_region` does not keep, markers included, by one line each:
/// the BEGIN marker's indentation followed by `replacement(region)`.
///
/// `regions` must come from [`parse`] of the same `text`. Line endings are preserved. Returns the
/// new text and the regions that were replaced.
pub fn strip<'r>(
    text: &str,
    regions: &'r [Region],
    mut should_strip: impl FnMut(&Region) -> bool,
    mut replacement: impl FnMut(&Region) -> String,
) -> (String, Vec<&'r Region>) {
    let mut out = String::with_capacity(text.len());
    let mut stripped = Vec::new();
    let mut pending = regions.iter().filter(|r| should_strip(r)).peekable();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        match pending.peek() {
            Some(region) if number == region.begin_line => {
                let ending = if line.ends_with("\r\n") {
                    "\r\n"
                } else if line.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                out.push_str(&region.indent);
                out.push_str(&replacement(region));
                out.push_str(ending);
            }
            Some(region) if number > region.begin_line && number <= region.end_line => {
                if number == region.end_line {
                    stripped.extend(pending.next());
                }
            }
            _ => out.push_str(line),
        }
    }
    (out, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joins lines into a file's text. Tests spell sources as line arrays so that no line of this
    /// file starts with a marker (xtask scans every chapter's `.rs` files, its own included).
    fn text(lines: &[&str]) -> String {
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }

    fn messages(parsed: &ParsedRegions) -> Vec<String> {
        parsed.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn finds_well_formed_regions() {
        let src = text(&[
            "fn f() -> u32 {",
            "    // BEGIN SOLUTION: add-one",
            "    let x = 1;",
            "    x + 1",
            "    // END SOLUTION",
            "}",
            "fn g() {",
            "\t// BEGIN SOLUTION: g-2",
            "\t// END SOLUTION: g-2",
            "}",
        ]);
        let parsed = parse(&src);
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.begin_ids, ["add-one", "g-2"]);
        assert_eq!(
            parsed.regions,
            vec![
                Region {
                    id: "add-one".into(),
                    begin_line: 2,
                    end_line: 5,
                    indent: "    ".into()
                },
                Region {
                    id: "g-2".into(),
                    begin_line: 8,
                    end_line: 9,
                    indent: "\t".into()
                },
            ]
        );
    }

    #[test]
    fn ignores_markers_that_are_not_whole_lines() {
        let src = text(&[
            "let a = 1; // BEGIN SOLUTION: x",
            "let s = \"// END SOLUTION\";",
            "//! // BEGIN SOLUTION: doc",
        ]);
        assert_eq!(parse(&src), ParsedRegions::default());
    }

    #[test]
    fn unmatched_begin_at_end_of_file() {
        let src = text(&["fn f() {", "    // BEGIN SOLUTION: a", "    1", "}"]);
        let parsed = parse(&src);
        assert!(parsed.regions.is_empty());
        assert_eq!(parsed.begin_ids, ["a"]);
        assert_eq!(
            messages(&parsed),
            vec!["line 2: unmatched BEGIN SOLUTION `a`: no `// END SOLUTION` before end of file"]
        );
    }

    #[test]
    fn begin_before_end_is_a_nested_region() {
        let src = text(&[
            "    // BEGIN SOLUTION: a",
            "    // BEGIN SOLUTION: b",
            "    // END SOLUTION",
            "    // END SOLUTION",
            "    // BEGIN SOLUTION: c",
            "    // END SOLUTION",
        ]);
        assert_eq!(
            messages(&parse(&src)),
            vec![
                "line 2: nested region: BEGIN SOLUTION while region `a` opened at line 1 has no \
                 END SOLUTION yet (regions cannot nest)",
                "line 4: END SOLUTION without a matching BEGIN SOLUTION",
            ]
        );
    }

    #[test]
    fn a_forgotten_end_is_reported_once_at_the_next_begin() {
        let src = text(&[
            "fn f() {",
            "    // BEGIN SOLUTION: a",
            "}",
            "fn g() {",
            "    // BEGIN SOLUTION: b",
            "    // END SOLUTION",
            "}",
            "fn h() {",
            "    // BEGIN SOLUTION: c",
            "    // END SOLUTION",
            "}",
        ]);
        let parsed = parse(&src);
        let errors = messages(&parsed);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "line 5: nested region: BEGIN SOLUTION while region `a` opened at line 2"
            ),
            "{errors:?}"
        );
        // The regions after it are still parsed normally.
        let ids: Vec<_> = parsed.regions.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
    }

    #[test]
    fn end_without_begin() {
        let src = text(&["fn f() {", "    // END SOLUTION", "}"]);
        assert_eq!(
            messages(&parse(&src)),
            vec!["line 2: END SOLUTION without a matching BEGIN SOLUTION"]
        );
    }

    #[test]
    fn begin_without_id() {
        for begin in [
            "// BEGIN SOLUTION",
            "// BEGIN SOLUTION:",
            "// BEGIN SOLUTION:   ",
        ] {
            let src = text(&["fn f() {", begin, "// END SOLUTION", "}"]);
            let parsed = parse(&src);
            assert_eq!(
                messages(&parsed),
                vec!["line 2: BEGIN SOLUTION without an id: expected `// BEGIN SOLUTION: <id>`"],
                "{begin:?}"
            );
            // Its END is consumed quietly, and there is nothing to strip.
            assert!(parsed.regions.is_empty());
        }
    }

    #[test]
    fn invalid_id_and_malformed_markers() {
        let src = text(&[
            "// BEGIN SOLUTION: Bad_Id",
            "// END SOLUTION",
            "// BEGIN SOLUTIONS",
            "// END SOLUTION please",
        ]);
        assert_eq!(
            messages(&parse(&src)),
            vec![
                "line 1: invalid region id `Bad_Id`: use lowercase letters, digits and `-`",
                "line 3: malformed marker: expected `// BEGIN SOLUTION: <id>`",
                "line 4: malformed marker: expected `// END SOLUTION`",
            ]
        );
    }

    #[test]
    fn end_naming_another_region() {
        let src = text(&["// BEGIN SOLUTION: a", "// END SOLUTION: b"]);
        assert_eq!(
            messages(&parse(&src)),
            vec!["line 2: END SOLUTION: b closes region `a` opened at line 1"]
        );
    }

    #[test]
    fn reports_every_problem_not_just_the_first() {
        let src = text(&[
            "// END SOLUTION",
            "// BEGIN SOLUTION",
            "// END SOLUTION",
            "// BEGIN SOLUTION: ok",
            "// END SOLUTION",
            "// BEGIN SOLUTION: open",
        ]);
        let lines: Vec<_> = parse(&src).errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 6]);
    }

    #[test]
    fn valid_ids() {
        assert!(is_valid_id("io-select-rebuild"));
        assert!(is_valid_id("a1"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("Upper"));
        assert!(!is_valid_id("under_score"));
        assert!(!is_valid_id("sp ace"));
    }

    #[test]
    fn strip_replaces_selected_regions_and_keeps_the_rest() {
        let src = [
            "fn f() -> u32 {\r\n",
            "    // BEGIN SOLUTION: a\r\n",
            "    41 + 1\r\n",
            "    // END SOLUTION\r\n",
            "}\r\n",
            "fn g() {\n",
            "        // BEGIN SOLUTION: b\n",
            "        println!();\n",
            "        // END SOLUTION\n",
            "}",
        ]
        .concat();
        let parsed = parse(&src);
        assert!(parsed.errors.is_empty());

        let (out, stripped) = strip(
            &src,
            &parsed.regions,
            |_| true,
            |r| format!("todo!({})", r.id),
        );
        assert_eq!(
            out,
            "fn f() -> u32 {\r\n    todo!(a)\r\n}\r\nfn g() {\n        todo!(b)\n}"
        );
        assert_eq!(stripped.len(), 2);

        let (out, stripped) = strip(&src, &parsed.regions, |r| r.id == "b", |_| "X".into());
        assert!(out.contains("41 + 1") && !out.contains("println"));
        assert!(out.contains("        X\n}"));
        assert_eq!(
            stripped.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );

        let (out, stripped) = strip(&src, &parsed.regions, |_| false, |_| unreachable!());
        assert_eq!(out, src);
        assert!(stripped.is_empty());
    }
}
