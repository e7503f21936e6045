//! Rendering runtime errors for people: `error: <message>`, then
//! ` --> file:line:col`, then (when the source file can be read back
//! unchanged, see `read_source`) an ariadne snippet underlining the
//! failing expression.

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
    let recorded = module.file_hashes.get(loc.file as usize).copied();
    if let Some(text) = recorded.and_then(|h| read_source(path, h)) {
        if let Some(snippet) = snippet(&err.message, path, &text, &loc, color) {
            out.push_str(&snippet);
        }
    }
    out
}

/// Largest source file read back for a snippet.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// The text of the source file `path` if it is still the one the module
/// was compiled from: a regular file (not a FIFO, a device or a directory,
/// which could block or never end), at most [`MAX_SOURCE_BYTES`] long,
/// UTF-8, whose contents hash to `hash`. Anything else: no snippet.
fn read_source(path: &str, hash: u64) -> Option<String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    // The file may have grown since: read at most one byte past the limit.
    file.take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES || menai_bytecode::module::source_hash(&bytes) != hash
    {
        return None;
    }
    String::from_utf8(bytes).ok()
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
