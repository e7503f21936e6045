//! Byte offset → (line, column) for the program's source files, with line
//! starts precomputed so building a line table is linear, not quadratic
//! (and, on an ASCII line, a column is a subtraction: a long generated line
//! does not make every lookup count its characters again).
//! Lines and columns are 1-based; columns count characters (as
//! `compiler::render::line_col` does).

use menai_bytecode::module::{SrcLoc, NO_FILE};
use menai_compiler::ir::{SourceFile, Span};

/// Per file: its text, the byte offset each line starts at, and whether
/// each line is pure ASCII.
pub struct LineIndex {
    files: Vec<(String, Vec<usize>, Vec<bool>)>,
}

impl LineIndex {
    pub fn new(files: &[SourceFile]) -> LineIndex {
        let files = files
            .iter()
            .map(|f| {
                let mut starts = vec![0];
                starts.extend(f.text.match_indices('\n').map(|(i, _)| i + 1));
                let ascii = f.text.split('\n').map(str::is_ascii).collect();
                (f.text.clone(), starts, ascii)
            })
            .collect();
        LineIndex { files }
    }

    /// Line and column of the start of `span` (`(0, 0)` for an unknown file).
    pub fn line_col(&self, span: Span) -> (u32, u32) {
        let Some((text, starts, ascii)) = self.files.get(span.file as usize) else {
            return (0, 0);
        };
        let mut b = (span.start as usize).min(text.len());
        while b > 0 && !text.is_char_boundary(b) {
            b -= 1;
        }
        let line = starts.partition_point(|&s| s <= b).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let col = if ascii.get(line - 1).copied().unwrap_or(false) {
            b - line_start
        } else {
            text.get(line_start..b).map_or(0, |s| s.chars().count())
        } + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }

    /// The bytecode location of `span`.
    pub fn srcloc(&self, span: Span) -> SrcLoc {
        if span.file as usize >= self.files.len() {
            return SrcLoc {
                file: NO_FILE,
                line: 0,
                col: 0,
                start: span.start,
                end: span.end,
            };
        }
        let (line, col) = self.line_col(span);
        SrcLoc {
            file: span.file,
            line,
            col,
            start: span.start,
            end: span.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_character_columns() {
        let idx = LineIndex::new(&[SourceFile {
            path: "a".into(),
            text: "ab\nλx y\n".into(),
        }]);
        assert_eq!(
            idx.line_col(Span {
                file: 0,
                start: 0,
                end: 1
            }),
            (1, 1)
        );
        assert_eq!(
            idx.line_col(Span {
                file: 0,
                start: 3,
                end: 4
            }),
            (2, 1)
        );
        // 'x' is after the two-byte 'λ': byte 5, character column 2.
        assert_eq!(
            idx.line_col(Span {
                file: 0,
                start: 5,
                end: 6
            }),
            (2, 2)
        );
        assert_eq!(
            idx.line_col(Span {
                file: 0,
                start: 7,
                end: 8
            }),
            (2, 4)
        );
        assert_eq!(
            idx.line_col(Span {
                file: 9,
                start: 0,
                end: 0
            }),
            (0, 0)
        );
        assert_eq!(
            idx.srcloc(Span {
                file: 9,
                start: 1,
                end: 2
            })
            .file,
            NO_FILE
        );
    }
}
