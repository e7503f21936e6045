//! The Menai frontend: source text to IR.
//!
//! reader (`read`) → S-expressions (`sexp`) → analysis, checks and
//! desugaring (`analyze`) → IR (`ir`), serialized as `.mir`.

pub mod analyze;
pub mod ast_print;
pub mod diagnostic;
pub mod ir;
pub mod ir_check;
pub mod ir_print;
pub mod lower;
pub mod read;
pub mod render;
pub mod sexp;

pub use analyze::Options;

use diagnostic::{Diagnostic, Severity};
use ir::{Program, SourceFile, Span};
use std::path::{Path, PathBuf};

/// A successful compilation: the program and any warnings.
#[derive(Debug)]
pub struct Compiled {
    pub program: Program,
    pub warnings: Vec<Diagnostic>,
}

/// A failed compilation: every diagnostic (errors and warnings) and the
/// source files their spans refer to.
#[derive(Debug)]
pub struct Failed {
    pub diagnostics: Vec<Diagnostic>,
    pub files: Vec<SourceFile>,
}

/// Compiles the file at `path` (imports are searched from its directory).
pub fn compile_file(path: &Path, opts: &Options) -> Result<Compiled, Failed> {
    let file = load_file(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    compile_source(file, Some(dir), opts)
}

/// Compiles source text (imports are searched in `.` unless `opts` or
/// `MENAI_MODULE_PATH` say otherwise). `name` is the file name shown in
/// diagnostics.
pub fn compile_str(name: &str, text: &str, opts: &Options) -> Result<Compiled, Failed> {
    compile_source(
        SourceFile {
            path: name.to_string(),
            text: text.to_string(),
        },
        None,
        opts,
    )
}

/// Reads source text into S-expressions (for `--emit ast`).
pub fn read_ast(name: &str, text: &str) -> Result<Vec<sexp::Sexp>, Failed> {
    let (sexps, diags) = read::read(0, text);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(Failed {
            diagnostics: diags,
            files: vec![SourceFile {
                path: name.to_string(),
                text: text.to_string(),
            }],
        });
    }
    Ok(sexps)
}

/// Reads a source file as UTF-8.
pub fn load_file(path: &Path) -> Result<SourceFile, Failed> {
    let name = path.display().to_string();
    let fail = |msg: String| Failed {
        diagnostics: vec![Diagnostic::error(Span::default(), msg)],
        files: vec![SourceFile {
            path: name.clone(),
            text: String::new(),
        }],
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| fail(format!("{name} is not valid UTF-8")))?;
    Ok(SourceFile {
        path: name.clone(),
        text,
    })
}

fn compile_source(
    main: SourceFile,
    main_dir: Option<PathBuf>,
    opts: &Options,
) -> Result<Compiled, Failed> {
    let (sexps, mut diags) = read::read(0, &main.text);
    let failed =
        |diagnostics: Vec<Diagnostic>, files: Vec<SourceFile>| Err(Failed { diagnostics, files });
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return failed(diags, vec![main]);
    }
    let expr = match sexps.as_slice() {
        [one] => one,
        [] => {
            let span = Span {
                file: 0,
                start: 0,
                end: main.text.len() as u32,
            };
            diags.push(Diagnostic::error(
                span,
                "empty program: a program is exactly one expression",
            ));
            return failed(diags, vec![main]);
        }
        [_, second, ..] => {
            diags.push(Diagnostic::error(
                second.span,
                "a program is exactly one expression; this one is extra",
            ));
            return failed(diags, vec![main]);
        }
    };
    let mut an = analyze::Analyzer::new(vec![main], opts, main_dir);
    an.diags = diags;
    let core = an.program(expr);
    if an.has_errors() {
        return failed(an.diags, an.files);
    }
    let mut vars = std::mem::take(&mut an.vars);
    let body = lower::lower_program(&mut vars, core);
    let program = Program {
        files: an.files,
        vars,
        structs: an.structs,
        body,
    };
    Ok(Compiled {
        program,
        warnings: an.diags,
    })
}
