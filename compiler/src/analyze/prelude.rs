//! The prelude (`src/prelude.menai`): the `Prelude` builtins written in
//! Menai. It is one `letrec`; its bindings are analyzed in their own scope
//! and later wrapped, as `letrec` groups, around the whole program (so
//! unused ones are dropped). Program code reaches them only through the
//! builtin names (`Analyzer::builtin_value`), so a local binding still
//! shadows them and the prelude's own helpers are invisible.

use super::letrec::RecBinding;
use super::{sym, Analyzer};
use crate::ir::SourceFile;
use crate::sexp::SexpKind;
use menai_bytecode::builtins::Impl;
use menai_bytecode::Builtin;

/// The prelude source.
pub const PRELUDE_SOURCE: &str = include_str!("../prelude.menai");

/// The file name the prelude's spans refer to.
pub const PRELUDE_PATH: &str = "<prelude>";

impl Analyzer {
    /// Reads and analyzes the prelude, registering its public functions.
    pub(crate) fn load_prelude(&mut self) -> Vec<RecBinding> {
        let file = self.files.len() as u32;
        self.files.push(SourceFile {
            path: PRELUDE_PATH.to_string(),
            text: PRELUDE_SOURCE.to_string(),
        });
        let (sexps, diags) = crate::read::read(file, PRELUDE_SOURCE);
        self.diags.extend(diags);
        let Some(top) = sexps.first() else {
            return Vec::new();
        };
        let SexpKind::List(items) = &top.kind else {
            self.error(top.span, "prelude: expected (letrec (...) #none)");
            return Vec::new();
        };
        if items.len() != 3 || items.first().and_then(sym) != Some("letrec") {
            self.error(top.span, "prelude: expected (letrec (...) #none)");
            return Vec::new();
        }
        let Some(bs) = self.bindings("letrec", &items[1], true) else {
            return Vec::new();
        };
        let mark = self.mark();
        let vars: Vec<_> = bs.iter().map(|b| self.bind(&b.name, b.name_span)).collect();
        for (b, v) in bs.iter().zip(&vars) {
            if let Some(id) = Builtin::by_name(&b.name) {
                if id.info().implementation == Impl::Prelude {
                    self.prelude.insert(id, *v);
                }
            }
        }
        let mut out = Vec::with_capacity(bs.len());
        for (b, v) in bs.iter().zip(&vars) {
            let init = self.binding_init(&b.name, b.init, None);
            out.push(RecBinding {
                var: *v,
                name: b.name.clone(),
                span: b.name_span,
                init,
            });
        }
        self.restore(mark);
        out
    }
}
