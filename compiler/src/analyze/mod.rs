//! Semantic analysis: S-expressions to the resolved core tree (`core`).
//!
//! Recognizes special forms by name at the head of a list (`forms`), checks
//! their shapes (every wrong shape is a compile error with a span, even in
//! dead code), resolves names with lexical scope (a local binding shadows a
//! builtin; an unbound name is a warning and raises when evaluated), checks
//! direct builtin, primitive and struct-constructor calls' argument counts,
//! splits `letrec`s into ordered groups (`letrec`), compiles `match`
//! (`pattern`), resolves imports (`modules`) and binds the prelude
//! (`prelude`).
//!
//! Errors do not stop the analysis: each is recorded and a placeholder
//! expression is produced, so one run reports every error.

pub mod core;
mod forms;
mod letrec;
pub mod modules;
mod pattern;
pub mod prelude;

use crate::diagnostic::Diagnostic;
use crate::ir::{Const, SourceFile, Span, StructDecl, VarId, VarInfo};
use crate::sexp::{Sexp, SexpKind};
use core::{CExpr, CKind};
use menai_bytecode::builtins::{Impl, MANY};
use menai_bytecode::Builtin;
use num_traits::ToPrimitive;
use std::collections::HashMap;

pub use modules::Options;

/// The special-form keywords (LANGUAGE.md §4).
pub const SPECIAL_FORMS: &[&str] = &[
    "quote", "if", "and", "or", "lambda", "let", "let*", "letrec", "match", "error", "apply",
    "struct", "import",
];

/// The whole analysis state of one build (main file, modules, prelude).
pub struct Analyzer {
    pub vars: Vec<VarInfo>,
    pub structs: Vec<StructDecl>,
    /// Struct constructor and pattern names (by program text order, §4).
    struct_names: HashMap<String, u32>,
    pub diags: Vec<Diagnostic>,
    pub files: Vec<SourceFile>,
    /// Lexical scope: name → stack of binders; `log` records pushes.
    scope: HashMap<String, Vec<VarId>>,
    log: Vec<String>,
    /// The prelude's public functions.
    prelude: HashMap<Builtin, VarId>,
    /// Variables known to hold an instance of a given struct type.
    known_struct: HashMap<VarId, u32>,
    pub(crate) modules: modules::Modules,
}

impl Analyzer {
    pub fn new(
        files: Vec<SourceFile>,
        opts: &Options,
        main_dir: Option<std::path::PathBuf>,
    ) -> Analyzer {
        Analyzer {
            vars: Vec::new(),
            structs: Vec::new(),
            struct_names: HashMap::new(),
            diags: Vec::new(),
            files,
            scope: HashMap::new(),
            log: Vec::new(),
            prelude: HashMap::new(),
            known_struct: HashMap::new(),
            modules: modules::Modules::new(opts, main_dir),
        }
    }

    /// Whether an error has been reported.
    pub fn has_errors(&self) -> bool {
        self.diags
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error)
    }

    pub fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, msg));
    }

    /// Records an error and returns a placeholder expression.
    fn fail(&mut self, span: Span, msg: impl Into<String>) -> CExpr {
        self.error(span, msg);
        CExpr::konst(Const::None, span)
    }

    pub fn fresh(&mut self, name: impl Into<String>, span: Span) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push(VarInfo {
            name: name.into(),
            span,
        });
        id
    }

    /// Analyzes a whole program: the prelude, the main expression, the
    /// modules it imports; returns the core tree of the whole program.
    pub fn program(&mut self, main: &Sexp) -> CExpr {
        let prelude = self.load_prelude();
        let mut body = self.expr(main);
        let span = main.span;
        let modules = std::mem::take(&mut self.modules.bindings);
        for (v, value) in modules.into_iter().rev() {
            body = CExpr::let_(v, value, body, true, span);
        }
        self.letrec_groups(prelude, body, span)
    }

    // ---- scope ----

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scope.get(name).and_then(|s| s.last().copied())
    }

    fn push_name(&mut self, name: &str, v: VarId) {
        self.scope.entry(name.to_string()).or_default().push(v);
        self.log.push(name.to_string());
    }

    /// Binds a fresh variable for `name` in the current scope.
    fn bind(&mut self, name: &str, span: Span) -> VarId {
        let v = self.fresh(name, span);
        self.push_name(name, v);
        v
    }

    fn mark(&self) -> usize {
        self.log.len()
    }

    fn restore(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some(name) = self.log.pop() {
                if let Some(stack) = self.scope.get_mut(&name) {
                    stack.pop();
                }
            }
        }
    }

    /// Replaces the scope by an empty one (for a module); returns the old one.
    fn take_scope(&mut self) -> (HashMap<String, Vec<VarId>>, Vec<String>) {
        (
            std::mem::take(&mut self.scope),
            std::mem::take(&mut self.log),
        )
    }

    fn put_scope(&mut self, saved: (HashMap<String, Vec<VarId>>, Vec<String>)) {
        self.scope = saved.0;
        self.log = saved.1;
    }

    // ---- expressions ----

    /// Analyzes one expression.
    pub fn expr(&mut self, s: &Sexp) -> CExpr {
        let span = s.span;
        match &s.kind {
            SexpKind::Int(_)
            | SexpKind::Float(_)
            | SexpKind::Complex(..)
            | SexpKind::Str(_)
            | SexpKind::Bool(_)
            | SexpKind::None => CExpr::konst(datum(s), span),
            SexpKind::Symbol(name) => self.resolve(name, span),
            SexpKind::List(items) => match items.first() {
                None => CExpr::konst(Const::EmptyList, span),
                Some(head) => {
                    if let SexpKind::Symbol(name) = &head.kind {
                        if SPECIAL_FORMS.contains(&name.as_str()) {
                            return self.form(name, s, items);
                        }
                    }
                    self.call(s, items)
                }
            },
        }
    }

    /// Resolves a name used as a value.
    fn resolve(&mut self, name: &str, span: Span) -> CExpr {
        if let Some(v) = self.lookup(name) {
            return CExpr::var(v, span);
        }
        match name {
            "pi" => return CExpr::konst(Const::Float(std::f64::consts::PI), span),
            "e" => return CExpr::konst(Const::Float(std::f64::consts::E), span),
            _ => {}
        }
        if let Some(b) = Builtin::by_name(name) {
            return self.builtin_value(b, name, span);
        }
        self.unbound(name, span)
    }

    fn unbound(&mut self, name: &str, span: Span) -> CExpr {
        self.diags
            .push(Diagnostic::warning(span, format!("unbound name '{name}'")));
        CExpr::new(CKind::Unbound(name.to_string()), span)
    }

    /// A builtin used as a value: a native builtin, or the prelude lambda.
    fn builtin_value(&mut self, b: Builtin, name: &str, span: Span) -> CExpr {
        if b.info().implementation == Impl::Prelude {
            match self.prelude.get(&b) {
                Some(v) => CExpr::var(*v, span),
                None => self.unbound(name, span),
            }
        } else {
            CExpr::new(CKind::Builtin(b), span)
        }
    }

    fn exprs(&mut self, items: &[Sexp]) -> Vec<CExpr> {
        items.iter().map(|s| self.expr(s)).collect()
    }

    /// A list form whose head is not a special-form keyword.
    fn call(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        let span = s.span;
        let head = &items[0];
        let args = &items[1..];
        let SexpKind::Symbol(name) = &head.kind else {
            let func = self.expr(head);
            let args = self.exprs(args);
            return CExpr::new(
                CKind::Call {
                    func: Box::new(func),
                    args,
                },
                span,
            );
        };
        let local = self.lookup(name);
        if local.is_none() {
            if let Some(pname) = name.strip_prefix('$') {
                return self.prim_call(pname, head.span, args, span);
            }
        }
        if let Some(&ty) = self.struct_names.get(name.as_str()) {
            let decl = &self.structs[ty as usize];
            if decl.fields.len() != args.len() {
                let msg = format!(
                    "struct constructor '{}' expects {} argument{}, got {}",
                    name,
                    decl.fields.len(),
                    plural(decl.fields.len()),
                    args.len()
                );
                let decl_span = decl.span;
                self.diags.push(
                    Diagnostic::error(span, msg).with_label(decl_span, "struct declared here"),
                );
                return CExpr::konst(Const::None, span);
            }
            let args = self.exprs(args);
            return CExpr::new(CKind::MakeStruct { ty, args }, span);
        }
        if local.is_none() && name != "pi" && name != "e" {
            if let Some(b) = Builtin::by_name(name) {
                return self.builtin_call(b, head.span, args, span);
            }
        }
        let func = self.resolve(name, head.span);
        let args = self.exprs(args);
        CExpr::new(
            CKind::Call {
                func: Box::new(func),
                args,
            },
            span,
        )
    }

    /// A direct call of a builtin by name (not shadowed).
    fn builtin_call(&mut self, b: Builtin, head_span: Span, args: &[Sexp], span: Span) -> CExpr {
        let info = b.info();
        if !info.accepts(args.len()) {
            return self.fail(
                span,
                format!(
                    "'{}' {}, got {}",
                    info.name,
                    describe_arity(info.min_args, info.max_args),
                    args.len()
                ),
            );
        }
        if b == Builtin::Dict && !args.len().is_multiple_of(2) {
            return self.fail(
                span,
                format!(
                    "'dict' expects an even number of arguments (key value ...), got {}",
                    args.len()
                ),
            );
        }
        if info.implementation == Impl::Prelude {
            let func = self.builtin_value(b, info.name, head_span);
            let args = self.exprs(args);
            return CExpr::new(
                CKind::Call {
                    func: Box::new(func),
                    args,
                },
                span,
            );
        }
        let args = self.exprs(args);
        if let Some(e) = self.static_field_access(b, &args, span) {
            return e;
        }
        CExpr::new(CKind::BuiltinCall { op: b, args }, span)
    }

    /// `(struct-get v 'field)` / `(struct-set v 'field x)` where `v` is
    /// known to hold an instance of one struct type: the field's position
    /// is resolved now (LANGUAGE.md §7).
    fn static_field_access(&self, b: Builtin, args: &[CExpr], span: Span) -> Option<CExpr> {
        let imm = match b {
            Builtin::StructGet => Builtin::StructGetImm,
            Builtin::StructSet => Builtin::StructSetImm,
            _ => return None,
        };
        let (CKind::Var(v), CKind::Const(Const::Symbol(field))) = (&args[0].kind, &args[1].kind)
        else {
            return None;
        };
        let ty = *self.known_struct.get(v)?;
        let pos = self
            .structs
            .get(ty as usize)?
            .fields
            .iter()
            .position(|f| f == field)?;
        let mut new_args = vec![
            args[0].clone(),
            CExpr::konst(Const::Int(pos as i64), args[1].span),
        ];
        new_args.extend(args[2..].iter().cloned());
        Some(CExpr::prim(imm, new_args, span))
    }

    /// Records that `v` holds an instance of the struct type `init` builds, if it does.
    fn note_struct_value(&mut self, v: VarId, init: &CExpr) {
        if let CKind::MakeStruct { ty, .. } = init.kind {
            self.known_struct.insert(v, ty);
        }
    }

    /// `($name arg ...)`.
    fn prim_call(&mut self, pname: &str, head_span: Span, args: &[Sexp], span: Span) -> CExpr {
        let Some(b) = Builtin::by_name(pname).filter(|b| b.info().prim_arity > 0) else {
            return self.fail(head_span, format!("unknown primitive '${pname}'"));
        };
        let arity = b.info().prim_arity as usize;
        if args.len() != arity {
            return self.fail(
                span,
                format!(
                    "primitive '${pname}' expects exactly {arity} argument{}, got {}",
                    plural(arity),
                    args.len()
                ),
            );
        }
        let args = self.exprs(args);
        CExpr::prim(b, args, span)
    }

    /// Declares a struct type named `name` (registering the constructor name).
    fn declare_struct(&mut self, name: &str, fields: Vec<String>, span: Span) -> u32 {
        let idx = self.structs.len() as u32;
        self.structs.push(StructDecl {
            name: name.to_string(),
            fields,
            span,
        });
        self.struct_names.insert(name.to_string(), idx);
        idx
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "expects exactly 2 arguments", "expects at least 1 argument", ...
pub fn describe_arity(min: u8, max: u8) -> String {
    if max == MANY {
        format!("expects at least {min} argument{}", plural(min as usize))
    } else if min == max {
        format!("expects exactly {min} argument{}", plural(min as usize))
    } else {
        format!("expects {min} to {max} arguments")
    }
}

/// The constant a datum (quoted or literal) stands for.
pub fn datum(s: &Sexp) -> Const {
    match &s.kind {
        SexpKind::Int(i) => match i.to_i64() {
            Some(v) => Const::Int(v),
            None => Const::BigInt(i.to_string()),
        },
        SexpKind::Float(f) => Const::Float(*f),
        SexpKind::Complex(re, im) => Const::Complex(*re, *im),
        SexpKind::Str(t) => Const::Str(t.clone()),
        SexpKind::Bool(b) => Const::Bool(*b),
        SexpKind::None => Const::None,
        SexpKind::Symbol(n) => Const::Symbol(n.clone()),
        SexpKind::List(items) if items.is_empty() => Const::EmptyList,
        SexpKind::List(items) => Const::List(items.iter().map(datum).collect()),
    }
}

/// The symbol name of a sexp, if it is one.
fn sym(s: &Sexp) -> Option<&str> {
    match &s.kind {
        SexpKind::Symbol(n) => Some(n),
        _ => None,
    }
}
