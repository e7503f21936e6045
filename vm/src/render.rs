//! Rendering runtime errors for people: `error: <message>`, then
//! ` --> file:line:col`, then (when the source file can be read) an
//! ariadne snippet underlining the failing expression.

use crate::error::RtError;
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use menai_bytecode::module::NO_FILE;
use menai_bytecode::{Module, SrcLoc};

/// The text shown for a runtime error (ends with a newline).
pub fn render_error(err: &RtError, module: &Module, color: bool) -> String {
    let mut out = String::new();
    if color {
        out.push_str("\x1b[1;31merror\x1b[0m\x1b[1m: ");
        out.push_str(&err.message);
        out.push_str("\x1b[0m\n");
    } else {
        out.push_str("error: ");
        out.push_str(&err.message);
        out.push('\n');
    }
    let Some(loc) = err.loc else { return out };
    let Some(path) = file_name(module, &loc) else {
        return out;
    };
    out.push_str(&format!(" --> {}:{}:{}\n", path, loc.line, loc.col));
    if let Ok(text) = std::fs::read_to_string(path) {
        if let Some(snippet) = snippet(&err.message, path, &text, &loc, color) {
            out.push_str(&snippet);
        }
    }
    out
}

fn file_name<'a>(module: &'a Module, loc: &SrcLoc) -> Option<&'a str> {
    if loc.file == NO_FILE {
        return None;
    }
    module.files.get(loc.file as usize).map(String::as_str)
}

fn snippet(message: &str, path: &str, text: &str, loc: &SrcLoc, color: bool) -> Option<String> {
    let (start, end) = (loc.start as usize, loc.end as usize);
    if start > end
        || end > text.len()
        || !text.is_char_boundary(start)
        || !text.is_char_boundary(end)
    {
        return None;
    }
    let id = path.to_string();
    let report = Report::build(ReportKind::Error, (id.clone(), start..end))
        .with_config(
            Config::default()
                .with_color(color)
                .with_index_type(IndexType::Byte),
        )
        .with_message(message)
        .with_label(
            Label::new((id.clone(), start..end))
                .with_message(message)
                .with_color(Color::Red),
        )
        .finish();
    let mut buf = Vec::new();
    report.write((id, Source::from(text)), &mut buf).ok()?;
    let rendered = String::from_utf8(buf).ok()?;
    // Drop ariadne's own header line: the message is already printed above.
    let body = rendered.split_once('\n').map_or("", |(_, rest)| rest);
    Some(body.to_string())
}
