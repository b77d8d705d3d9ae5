//! Plain-text tables with aligned columns, for `list` and `grade`.

/// Renders `header` and `rows` as left-aligned columns separated by two spaces. The last column
/// is not padded, so long details do not leave trailing blanks. Widths count characters.
pub fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(ToString::to_string).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate().take(columns) {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_by_characters() {
        let rows = vec![
            vec!["a".to_string(), "—dash".to_string(), "x".to_string()],
            vec!["long-id".to_string(), "b".to_string(), "".to_string()],
        ];
        assert_eq!(
            render_table(&["ID", "T", "END"], &rows),
            "ID       T      END\na        —dash  x\nlong-id  b\n"
        );
    }
}
