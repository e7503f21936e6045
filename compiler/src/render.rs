//! Rendering diagnostics for people, with ariadne: one report per
//! diagnostic (severity, message, the primary label at its span, secondary
//! labels, notes), a JSON Lines form for tools ([`render_json`]), and
//! [`line_col`], the byte offset → line/column conversion shared by line
//! tables and runtime error locations.
//!
//! Spans are byte offsets (ariadne is configured with `IndexType::Byte`).
//! Rendering never panics: spans past the end of a file or inside a UTF-8
//! sequence are clamped to the nearest character boundary, and a span whose
//! file is unknown is rendered against an empty `<unknown>` source.

use crate::diagnostic::{Diagnostic, Severity};
use crate::ir::{SourceFile, Span};
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use std::fmt;
use std::ops::Range;

/// A source id for ariadne: the file's index (for uniqueness) and its path
/// (what is displayed).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FileId(Option<u32>, String);

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.1)
    }
}

/// Renders every diagnostic against `files` (indexed by `Span::file`),
/// with ANSI colours if `color`. Reports are concatenated in order.
pub fn render(diags: &[Diagnostic], files: &[SourceFile], color: bool) -> String {
    let unknown = FileId(None, "<unknown>".to_string());
    let id_of = |file: u32| -> FileId {
        match files.get(file as usize) {
            Some(f) => FileId(Some(file), f.path.clone()),
            None => unknown.clone(),
        }
    };
    let text_of = |file: u32| -> &str { files.get(file as usize).map_or("", |f| f.text.as_str()) };
    let range_of = |span: Span| -> Range<usize> { clamp(text_of(span.file), span) };

    // One cache for all reports: each source's line index is built once.
    let mut sources: Vec<(FileId, &str)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                FileId(u32::try_from(i).ok(), f.path.clone()),
                f.text.as_str(),
            )
        })
        .collect();
    sources.push((unknown.clone(), ""));
    let mut cache = ariadne::sources(sources);

    let mut out = String::new();
    for d in diags {
        if touches_long_line(d, files) {
            out.push_str(&render_plain(d, files));
            continue;
        }
        let (kind, label_color) = match d.severity {
            Severity::Error => (ReportKind::Error, Color::Red),
            Severity::Warning => (ReportKind::Warning, Color::Yellow),
        };
        let config = Config::default()
            .with_color(color)
            .with_index_type(IndexType::Byte);
        let mut primary =
            Label::new((id_of(d.span.file), range_of(d.span))).with_message(&d.message);
        if color {
            primary = primary.with_color(label_color);
        }
        let mut report = Report::build(kind, (id_of(d.span.file), range_of(d.span)))
            .with_config(config)
            .with_message(&d.message)
            .with_label(primary);
        for (span, msg) in &d.labels {
            let mut label = Label::new((id_of(span.file), range_of(*span))).with_message(msg);
            if color {
                label = label.with_color(Color::Blue);
            }
            report = report.with_label(label);
        }
        for note in &d.notes {
            report = report.with_note(note);
        }
        let mut buf: Vec<u8> = Vec::new();
        match report.finish().write(&mut cache, &mut buf) {
            Ok(()) => out.push_str(&String::from_utf8_lossy(&buf)),
            Err(_) => {
                let word = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                out.push_str(&format!("{word}: {}\n", d.message));
            }
        }
    }
    out
}

/// Renders the diagnostics for tools (`--error-format=json`): one JSON
/// object per line, with `severity` (`"error"`/`"warning"`), `message`,
/// the location of the primary span (`file` path or `null`, 1-based `line`
/// and `col` as in [`line_col`], byte `start`/`end`), `labels` (each with
/// the same location fields and its `message`) and `notes`.
pub fn render_json(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let location = |span: Span| -> String {
        match files.get(span.file as usize) {
            Some(f) => {
                let (line, col) = line_col(&f.text, span.start);
                format!(
                    "\"file\":{},\"line\":{line},\"col\":{col},\"start\":{},\"end\":{}",
                    json_str(&f.path),
                    span.start,
                    span.end
                )
            }
            None => format!(
                "\"file\":null,\"line\":0,\"col\":0,\"start\":{},\"end\":{}",
                span.start, span.end
            ),
        }
    };
    let mut out = String::new();
    for d in diags {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let labels: Vec<String> = d
            .labels
            .iter()
            .map(|(span, msg)| format!("{{{},\"message\":{}}}", location(*span), json_str(msg)))
            .collect();
        let notes: Vec<String> = d.notes.iter().map(|n| json_str(n)).collect();
        out.push_str(&format!(
            "{{\"severity\":\"{severity}\",\"message\":{},{},\"labels\":[{}],\"notes\":[{}]}}\n",
            json_str(&d.message),
            location(d.span),
            labels.join(","),
            notes.join(",")
        ));
    }
    out
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lines longer than this (in bytes) are not given to ariadne, which
/// prints whole lines: a diagnostic on a megabyte-long line would print a
/// megabyte. Such diagnostics get a compact rendering with an excerpt.
const MAX_LINE: usize = 400;

/// How many characters of a long line the compact rendering shows on each
/// side of the span (and of the span itself).
const WINDOW: usize = 40;

/// The byte range of the line containing byte `at` (without its newline).
fn line_range(text: &str, at: usize) -> Range<usize> {
    let start = text[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| is_line_break(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[at..]
        .find(is_line_break)
        .map_or(text.len(), |i| at + i);
    start..end
}

/// Whether any span of `d` starts or ends on a line longer than [`MAX_LINE`].
fn touches_long_line(d: &Diagnostic, files: &[SourceFile]) -> bool {
    std::iter::once(d.span)
        .chain(d.labels.iter().map(|(s, _)| *s))
        .any(|span| {
            let text = files
                .get(span.file as usize)
                .map_or("", |f| f.text.as_str());
            let r = clamp(text, span);
            [r.start, r.end]
                .into_iter()
                .any(|at| line_range(text, at).len() > MAX_LINE)
        })
}

/// A compact rendering (no ariadne) for diagnostics on very long lines:
/// the location, an excerpt of the line around the primary span with
/// carets under it, then the other labels' locations and the notes.
fn render_plain(d: &Diagnostic, files: &[SourceFile]) -> String {
    let word = match d.severity {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
    };
    let location = |span: Span| -> String {
        match files.get(span.file as usize) {
            Some(f) => {
                let r = clamp(&f.text, span);
                let (line, col) = line_col(&f.text, r.start as u32);
                format!("{}:{line}:{col}", f.path)
            }
            None => "<unknown>".to_string(),
        }
    };
    let mut out = format!("{word}: {}\n   --> {}\n", d.message, location(d.span));
    if let Some(f) = files.get(d.span.file as usize) {
        let text = f.text.as_str();
        let r = clamp(text, d.span);
        let line = line_range(text, r.start);
        let span_end = r.end.min(line.end);
        let before: Vec<char> = text[line.start..r.start].chars().collect();
        let shown_before = &before[before.len().saturating_sub(WINDOW)..];
        let inside: Vec<char> = text[r.start..span_end].chars().collect();
        let shown_inside = &inside[..inside.len().min(WINDOW)];
        let after: String = text[span_end..line.end].chars().take(WINDOW).collect();
        let mut excerpt = String::new();
        if shown_before.len() < before.len() {
            excerpt.push('…');
        }
        let pad = excerpt.chars().count() + shown_before.len();
        excerpt.extend(shown_before);
        excerpt.extend(shown_inside);
        excerpt.push_str(&after);
        if span_end + after.len() < line.end {
            excerpt.push('…');
        }
        let carets = "^".repeat(shown_inside.len().max(1));
        let (ln, _) = line_col(text, r.start as u32);
        let width = ln.to_string().len();
        out.push_str(&format!("{:width$} |\n", ""));
        out.push_str(&format!("{ln} | {excerpt}\n"));
        out.push_str(&format!(
            "{:width$} | {}{carets} {}\n",
            "",
            " ".repeat(pad),
            d.message
        ));
    }
    for (span, msg) in &d.labels {
        out.push_str(&format!("   = {}: {msg}\n", location(*span)));
    }
    for note in &d.notes {
        out.push_str(&format!("   = note: {note}\n"));
    }
    out
}

/// Clamps a span to `text`: both ends within the text, on character
/// boundaries, and `start <= end`.
fn clamp(text: &str, span: Span) -> Range<usize> {
    let fix = |b: u32| -> usize {
        let mut b = (b as usize).min(text.len());
        while !text.is_char_boundary(b) {
            b -= 1;
        }
        b
    };
    let start = fix(span.start);
    let end = fix(span.end).max(start);
    start..end
}

/// Line breaks, as ariadne counts them (CRLF counts once), so that
/// [`line_col`] agrees with the locations in rendered reports.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\x0b' | '\x0c' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The byte offsets at which lines start (the first is 0), with the line
/// breaks of [`line_col`]. With it, many lookups cost a binary search each
/// ([`line_col_with`]): use it to build line tables.
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, c) in text.char_indices() {
        if is_line_break(c) && !(c == '\r' && text[i + 1..].starts_with('\n')) {
            starts.push(i + c.len_utf8());
        }
    }
    starts
}

/// The 1-based line and 1-based column (counted in characters) of byte
/// offset `byte` in `text`. Lines end at `\n`, `\r\n`, `\r`, and the
/// other breaks ariadne knows (`\v`, `\f`, U+0085, U+2028, U+2029), so the
/// result matches ariadne's report headers. Offsets past the end give the
/// position just after the last character; an offset inside a UTF-8
/// sequence gives the column of that character.
pub fn line_col(text: &str, byte: u32) -> (u32, u32) {
    line_col_with(text, &line_starts(text), byte)
}

/// [`line_col`] with the line starts of `text` precomputed by
/// [`line_starts`].
pub fn line_col_with(text: &str, starts: &[usize], byte: u32) -> (u32, u32) {
    let mut b = (byte as usize).min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    let line = starts.partition_point(|&s| s <= b).max(1);
    let line_start = starts.get(line - 1).copied().unwrap_or(0).min(b);
    let col = text.get(line_start..b).map_or(0, |s| s.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}
