//! Markdown tables: the form in which every docs page records a measurement.
//!
//! ```
//! let mut table = benchkit::Table::new(["model", "µs"]).numeric();
//! table.row(["poll", "12.5"]);
//! assert_eq!(table.to_string(), "| model | µs |\n| --- | ---: |\n| poll | 12.5 |\n");
//! ```

use std::fmt;

/// A markdown table: a header, rows of cells as text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    right: bool,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            right: false,
            rows: Vec::new(),
        }
    }

    /// Right-aligns every column after the first (the columns of numbers).
    pub fn numeric(mut self) -> Table {
        self.right = true;
        self
    }

    /// Adds a row; a short row is padded with empty cells, a long one is an error of the caller.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        assert!(
            cells.len() <= self.header.len(),
            "a row of {} cells in a table of {} columns",
            cells.len(),
            self.header.len()
        );
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
        self
    }

    /// The rows so far.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| {} |", self.header.join(" | "))?;
        let rule: Vec<&str> = (0..self.header.len())
            .map(|i| if self.right && i > 0 { "---:" } else { "---" })
            .collect();
        writeln!(f, "| {} |", rule.join(" | "))?;
        for row in &self.rows {
            writeln!(f, "| {} |", row.join(" | "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_padded_to_the_header() {
        let mut table = Table::new(["a", "b", "c"]);
        table.row(["1"]).row(["2", "3", "4"]);
        assert_eq!(
            table.to_string(),
            "| a | b | c |\n| --- | --- | --- |\n| 1 |  |  |\n| 2 | 3 | 4 |\n"
        );
        assert_eq!(table.rows().len(), 2);
    }

    #[test]
    #[should_panic(expected = "a row of 2 cells in a table of 1 columns")]
    fn a_row_longer_than_the_header_is_refused() {
        Table::new(["only"]).row(["1", "2"]);
    }
}
