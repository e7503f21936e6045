//! `(import "name")` (LANGUAGE.md §8): module search, loading, cycle
//! detection. Each module is read and analyzed once per build, in an empty
//! scope (it sees only its own bindings, the builtins and the prelude); its
//! value is bound to a temporary at the top of the program (dependencies
//! first) and every import of it refers to that temporary.

use super::core::CExpr;
use super::Analyzer;
use crate::diagnostic::Diagnostic;
use crate::ir::{Const, SourceFile, VarId};
use crate::sexp::{Sexp, SexpKind};
use std::collections::HashMap;
use std::path::PathBuf;

/// Compilation options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The module search path; `None`: `MENAI_MODULE_PATH`, else the main
    /// file's directory then `.`.
    pub module_path: Option<Vec<PathBuf>>,
}

/// Import state of one build.
pub(crate) struct Modules {
    search: Vec<PathBuf>,
    /// Finished modules by resolved path.
    done: HashMap<PathBuf, VarId>,
    /// Modules being analyzed (for cycle reports): name and path.
    active: Vec<(String, PathBuf)>,
    /// Module values in dependency order.
    pub bindings: Vec<(VarId, CExpr)>,
}

impl Modules {
    pub fn new(opts: &Options, main_dir: Option<PathBuf>) -> Modules {
        let search = if let Some(p) = &opts.module_path {
            p.clone()
        } else if let Some(env) = std::env::var_os("MENAI_MODULE_PATH").filter(|e| !e.is_empty()) {
            std::env::split_paths(&env).collect()
        } else {
            let mut v = Vec::new();
            if let Some(d) = main_dir {
                v.push(d);
            }
            v.push(PathBuf::from("."));
            v
        };
        Modules {
            search,
            done: HashMap::new(),
            active: Vec::new(),
            bindings: Vec::new(),
        }
    }
}

/// Why a module name is invalid, if it is.
fn invalid_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("the module name is empty");
    }
    if name.starts_with('/') || name.starts_with('\\') || std::path::Path::new(name).is_absolute() {
        return Some("the module name must not be an absolute path");
    }
    if name
        .split('/')
        .any(|seg| seg == "." || seg == ".." || seg.is_empty())
    {
        return Some("the module name must not contain '.', '..' or empty path segments");
    }
    None
}

impl Analyzer {
    /// `(import "name")`.
    pub(super) fn import(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        let span = s.span;
        let name = match items {
            [_, arg] => match &arg.kind {
                SexpKind::Str(n) => n.clone(),
                _ => {
                    return self.fail(arg.span, "import: the module name must be a string literal")
                }
            },
            _ => return self.fail(span, "import: expected (import \"name\")"),
        };
        if let Some(why) = invalid_name(&name) {
            return self.fail(
                items[1].span,
                format!("import: invalid module name \"{name}\": {why}"),
            );
        }
        let file_name = format!("{name}.menai");
        let candidates: Vec<PathBuf> = self
            .modules
            .search
            .iter()
            .map(|d| d.join(&file_name))
            .collect();
        let Some(path) = candidates.iter().find(|p| p.is_file()).cloned() else {
            let searched: Vec<String> =
                candidates.iter().map(|p| p.display().to_string()).collect();
            let msg = format!("import: module \"{name}\" not found");
            let note = if searched.is_empty() {
                "the module search path is empty".to_string()
            } else {
                format!("searched: {}", searched.join(", "))
            };
            self.diags
                .push(Diagnostic::error(span, msg).with_note(note));
            return CExpr::konst(Const::None, span);
        };
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(v) = self.modules.done.get(&key) {
            return CExpr::var(*v, span);
        }
        if let Some(pos) = self.modules.active.iter().position(|(_, p)| *p == key) {
            let mut chain: Vec<String> = self.modules.active[pos..]
                .iter()
                .map(|(n, _)| format!("\"{n}\""))
                .collect();
            chain.push(format!("\"{name}\""));
            return self.fail(span, format!("import cycle: {}", chain.join(" imports ")));
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    return self.fail(
                        span,
                        format!("import: {} is not valid UTF-8", path.display()),
                    )
                }
            },
            Err(e) => {
                return self.fail(span, format!("import: cannot read {}: {e}", path.display()))
            }
        };
        let file = self.files.len() as u32;
        self.files.push(SourceFile {
            path: path.display().to_string(),
            text,
        });
        let (sexps, diags) = crate::read::read(file, &self.files[file as usize].text);
        let read_failed = diags
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error);
        self.diags.extend(diags);
        if read_failed {
            return CExpr::konst(Const::None, span);
        }
        let body = match sexps.as_slice() {
            [one] => one,
            [] => {
                let end = self.files[file as usize].text.len() as u32;
                let sp = crate::ir::Span {
                    file,
                    start: 0,
                    end,
                };
                self.diags.push(
                    Diagnostic::error(
                        sp,
                        format!("module \"{name}\" is empty: a module is exactly one expression"),
                    )
                    .with_label(span, "imported here"),
                );
                return CExpr::konst(Const::None, span);
            }
            [_, second, ..] => {
                self.diags.push(
                    Diagnostic::error(
                        second.span,
                        format!("module \"{name}\" must be exactly one expression"),
                    )
                    .with_label(span, "imported here"),
                );
                return CExpr::konst(Const::None, span);
            }
        };
        self.modules.active.push((name.clone(), key.clone()));
        // The module sees only its own bindings and struct names; the
        // struct names it declares are registered for the importer too.
        let saved = self.take_scope();
        let saved_structs = std::mem::take(&mut self.struct_names);
        let value = self.expr(body);
        let declared = std::mem::replace(&mut self.struct_names, saved_structs);
        self.struct_names.extend(declared);
        self.put_scope(saved);
        self.modules.active.pop();
        let v = self.fresh(format!("%module:{name}"), body.span);
        self.modules.done.insert(key, v);
        self.modules.bindings.push((v, value));
        CExpr::var(v, span)
    }
}
