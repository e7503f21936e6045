//! The special forms (LANGUAGE.md §4): shape checks and desugaring of
//! `quote if and or lambda let let* letrec error apply struct import`
//! (`match` is in `pattern`).

use super::core::{CExpr, CKind, CLambda};
use super::{datum, sym, Analyzer};
use crate::diagnostic::Diagnostic;
use crate::ir::{Const, Span, VarId};
use crate::sexp::{Sexp, SexpKind};
use menai_bytecode::CondOrigin;
use std::collections::HashMap;

/// A parsed binding `(name init)`.
pub(super) struct Binding<'s> {
    pub name: String,
    pub name_span: Span,
    pub init: &'s Sexp,
}

/// A parsed parameter list.
pub(super) struct Params {
    pub fixed: Vec<(String, Span)>,
    pub rest: Option<(String, Span)>,
}

impl Analyzer {
    /// Dispatches a special form; `items[0]` is the keyword.
    pub(super) fn form(&mut self, name: &str, s: &Sexp, items: &[Sexp]) -> CExpr {
        let span = s.span;
        match name {
            "quote" => {
                if items.len() != 2 {
                    return self.fail(span, "quote: expected exactly one operand: (quote datum)");
                }
                CExpr::konst(datum(&items[1]), span)
            }
            "if" => {
                if items.len() != 4 {
                    return self.fail(
                        span,
                        format!(
                            "if: expected exactly 3 operands (if cond then else), got {}",
                            items.len() - 1
                        ),
                    );
                }
                let c = self.expr(&items[1]);
                let t = self.expr(&items[2]);
                let e = self.expr(&items[3]);
                CExpr::iff(CondOrigin::If, c, t, e, span)
            }
            "and" | "or" => {
                let ops = self.exprs(&items[1..]);
                and_or(name == "and", ops, span)
            }
            "lambda" => self.lambda(s, items, "lambda".to_string()),
            "let" => self.let_form(s, items),
            "let*" => self.let_star(s, items),
            "letrec" => self.letrec_form(s, items),
            "match" => self.match_form(s, items),
            "error" => {
                if items.len() != 2 {
                    return self.fail(
                        span,
                        format!(
                            "error: expected exactly one operand (error message), got {}",
                            items.len() - 1
                        ),
                    );
                }
                let m = self.expr(&items[1]);
                CExpr::new(CKind::Error(Box::new(m)), span)
            }
            "apply" => {
                if items.len() != 3 {
                    return self.fail(
                        span,
                        format!(
                            "apply: expected exactly 2 operands (apply f list), got {}",
                            items.len() - 1
                        ),
                    );
                }
                let f = self.expr(&items[1]);
                let l = self.expr(&items[2]);
                CExpr::new(
                    CKind::Apply {
                        func: Box::new(f),
                        list: Box::new(l),
                    },
                    span,
                )
            }
            "struct" => {
                // Check the shape anyway, to report everything at once.
                let _ = self.struct_fields(s, items);
                self.fail(span, "struct: a struct declaration must be the init of a let, let* or letrec binding")
            }
            "import" => self.import(s, items),
            _ => self.fail(span, format!("unknown special form '{name}'")),
        }
    }

    /// Checks `(struct (field ...))` and returns the field names.
    fn struct_fields(&mut self, s: &Sexp, items: &[Sexp]) -> Option<Vec<String>> {
        let shape = "struct: expected (struct (field ...))";
        if items.len() != 2 {
            self.error(s.span, shape);
            return None;
        }
        let SexpKind::List(fs) = &items[1].kind else {
            self.error(items[1].span, shape);
            return None;
        };
        let mut names: Vec<String> = Vec::new();
        let mut ok = true;
        for f in fs {
            match sym(f) {
                Some(n) if n != "." => {
                    if names.iter().any(|m| m == n) {
                        self.error(f.span, format!("struct: duplicate field name '{n}'"));
                        ok = false;
                    }
                    names.push(n.to_string());
                }
                _ => {
                    self.error(f.span, "struct: a field name must be a symbol");
                    ok = false;
                }
            }
        }
        ok.then_some(names)
    }

    /// If `init` is a `(struct ...)` form, declares it under `name`.
    fn predeclare_struct(&mut self, b: &Binding) -> Option<CExpr> {
        let SexpKind::List(items) = &b.init.kind else {
            return None;
        };
        if items.first().and_then(sym) != Some("struct") {
            return None;
        }
        let e = match self.struct_fields(b.init, items) {
            Some(fields) => {
                let idx = self.declare_struct(&b.name, fields, b.init.span);
                CExpr::konst(Const::StructType(idx), b.init.span)
            }
            None => CExpr::konst(Const::None, b.init.span),
        };
        Some(e)
    }

    /// The init of a binding named `name` (lambdas take the binding's name).
    pub(super) fn binding_init(
        &mut self,
        name: &str,
        init: &Sexp,
        predeclared: Option<CExpr>,
    ) -> CExpr {
        if let Some(e) = predeclared {
            return e;
        }
        if let SexpKind::List(items) = &init.kind {
            if items.first().and_then(sym) == Some("lambda") {
                return self.lambda(init, items, name.to_string());
            }
        }
        self.expr(init)
    }

    /// Parses `((name init) ...)`; reports shape errors (and duplicates
    /// when `unique`). Returns `None` when the list itself is malformed.
    pub(super) fn bindings<'s>(
        &mut self,
        form: &str,
        list: &'s Sexp,
        unique: bool,
    ) -> Option<Vec<Binding<'s>>> {
        let SexpKind::List(items) = &list.kind else {
            self.error(
                list.span,
                format!("{form}: expected a list of bindings ((name init) ...)"),
            );
            return None;
        };
        let mut out: Vec<Binding> = Vec::new();
        for b in items {
            let pair = match &b.kind {
                SexpKind::List(p) if p.len() == 2 => p,
                _ => {
                    self.error(b.span, format!("{form}: a binding must be (name init)"));
                    continue;
                }
            };
            let Some(name) = sym(&pair[0]).filter(|n| *n != ".") else {
                self.error(
                    pair[0].span,
                    format!("{form}: a binding name must be a symbol"),
                );
                continue;
            };
            if unique {
                if let Some(prev) = out.iter().find(|o| o.name == name) {
                    let prev_span = prev.name_span;
                    self.diags.push(
                        Diagnostic::error(
                            pair[0].span,
                            format!("{form}: duplicate binding '{name}'"),
                        )
                        .with_label(prev_span, "first bound here"),
                    );
                    continue;
                }
            }
            out.push(Binding {
                name: name.to_string(),
                name_span: pair[0].span,
                init: &pair[1],
            });
        }
        // Shape errors are reported; what parsed is still analyzed, to find more.
        Some(out)
    }

    fn check_binding_form(&mut self, form: &str, s: &Sexp, items: &[Sexp]) -> bool {
        if items.len() != 3 {
            let msg = if items.len() < 3 {
                format!("{form}: expected ({form} ((name init) ...) body)")
            } else {
                format!(
                    "{form}: the body must be exactly one expression, got {}",
                    items.len() - 2
                )
            };
            self.error(s.span, msg);
            return false;
        }
        true
    }

    /// `(let ((x e) ...) body)`: parallel bindings.
    fn let_form(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        if !self.check_binding_form("let", s, items) {
            return CExpr::konst(Const::None, s.span);
        }
        let Some(bs) = self.bindings("let", &items[1], true) else {
            return CExpr::konst(Const::None, s.span);
        };
        let pre: Vec<Option<CExpr>> = bs.iter().map(|b| self.predeclare_struct(b)).collect();
        let mut inits = Vec::with_capacity(bs.len());
        for (b, p) in bs.iter().zip(pre) {
            inits.push(self.binding_init(&b.name, b.init, p));
        }
        let mark = self.mark();
        let vars: Vec<VarId> = bs.iter().map(|b| self.bind(&b.name, b.name_span)).collect();
        for (v, init) in vars.iter().zip(&inits) {
            self.note_struct_value(*v, init);
        }
        let mut body = self.expr(&items[2]);
        self.restore(mark);
        for ((v, init), b) in vars.into_iter().zip(inits).zip(&bs).rev() {
            let span = b.init.span;
            body = CExpr::let_(v, init, body, true, span);
        }
        body
    }

    /// `(let* ((x e) ...) body)`: sequential bindings.
    fn let_star(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        if !self.check_binding_form("let*", s, items) {
            return CExpr::konst(Const::None, s.span);
        }
        let Some(bs) = self.bindings("let*", &items[1], false) else {
            return CExpr::konst(Const::None, s.span);
        };
        let pre: Vec<Option<CExpr>> = bs.iter().map(|b| self.predeclare_struct(b)).collect();
        let mark = self.mark();
        let mut bound = Vec::with_capacity(bs.len());
        for (b, p) in bs.iter().zip(pre) {
            let init = self.binding_init(&b.name, b.init, p);
            let v = self.bind(&b.name, b.name_span);
            self.note_struct_value(v, &init);
            bound.push((v, init, b.init.span));
        }
        let mut body = self.expr(&items[2]);
        self.restore(mark);
        for (v, init, span) in bound.into_iter().rev() {
            body = CExpr::let_(v, init, body, true, span);
        }
        body
    }

    /// `(letrec ((f e) ...) body)`: recursive bindings, grouped and ordered.
    fn letrec_form(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        if !self.check_binding_form("letrec", s, items) {
            return CExpr::konst(Const::None, s.span);
        }
        let Some(bs) = self.bindings("letrec", &items[1], true) else {
            return CExpr::konst(Const::None, s.span);
        };
        let pre: Vec<Option<CExpr>> = bs.iter().map(|b| self.predeclare_struct(b)).collect();
        let mark = self.mark();
        let vars: Vec<VarId> = bs.iter().map(|b| self.bind(&b.name, b.name_span)).collect();
        let mut group = Vec::with_capacity(bs.len());
        for ((b, p), v) in bs.iter().zip(pre).zip(&vars) {
            let init = self.binding_init(&b.name, b.init, p);
            group.push(super::letrec::RecBinding {
                var: *v,
                name: b.name.clone(),
                span: b.name_span,
                init,
            });
        }
        for b in &group {
            self.note_struct_value(b.var, &b.init);
        }
        let body = self.expr(&items[2]);
        self.restore(mark);
        self.letrec_groups(group, body, s.span)
    }

    /// Parses a lambda parameter list (`(a b)`, `(a . rest)`, `(. rest)`).
    fn params(&mut self, list: &Sexp) -> Option<Params> {
        let SexpKind::List(items) = &list.kind else {
            self.error(
                list.span,
                "lambda: the parameters must be a list (p ...), (p ... . rest) or (. rest)",
            );
            return None;
        };
        let mut fixed: Vec<(String, Span)> = Vec::new();
        let mut rest = None;
        let mut ok = true;
        let mut i = 0;
        while i < items.len() {
            let p = &items[i];
            match sym(p) {
                Some(".") => {
                    if i + 2 != items.len() {
                        self.error(
                            p.span,
                            "lambda: '.' must be followed by exactly one rest parameter",
                        );
                        return None;
                    }
                    match sym(&items[i + 1]) {
                        Some(n) if n != "." => rest = Some((n.to_string(), items[i + 1].span)),
                        _ => {
                            self.error(items[i + 1].span, "lambda: a parameter must be a symbol");
                            return None;
                        }
                    }
                    break;
                }
                Some(n) => fixed.push((n.to_string(), p.span)),
                None => {
                    self.error(p.span, "lambda: a parameter must be a symbol");
                    ok = false;
                }
            }
            i += 1;
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let all: Vec<&(String, Span)> = fixed.iter().chain(rest.iter()).collect();
        for (n, sp) in all {
            if let Some(prev) = seen.insert(n, *sp) {
                self.diags.push(
                    Diagnostic::error(*sp, format!("lambda: duplicate parameter '{n}'"))
                        .with_label(prev, "first declared here"),
                );
                ok = false;
            }
        }
        ok.then_some(Params { fixed, rest })
    }

    /// `(lambda params body)`.
    pub(super) fn lambda(&mut self, s: &Sexp, items: &[Sexp], name: String) -> CExpr {
        if items.len() != 3 {
            let msg = if items.len() < 3 {
                "lambda: expected (lambda (param ...) body)".to_string()
            } else {
                format!(
                    "lambda: the body must be exactly one expression, got {}",
                    items.len() - 2
                )
            };
            return self.fail(s.span, msg);
        }
        let Some(ps) = self.params(&items[1]) else {
            // Still check the body.
            let _ = self.expr(&items[2]);
            return CExpr::konst(Const::None, s.span);
        };
        let mark = self.mark();
        let params: Vec<VarId> = ps.fixed.iter().map(|(n, sp)| self.bind(n, *sp)).collect();
        let rest = ps.rest.as_ref().map(|(n, sp)| self.bind(n, *sp));
        let body = self.expr(&items[2]);
        self.restore(mark);
        CExpr::new(
            CKind::Lambda(CLambda {
                name,
                params,
                rest,
                body: Box::new(body),
                span: s.span,
            }),
            s.span,
        )
    }
}

/// `and`/`or` as nested `if`s: every operand but the last is tested.
fn and_or(is_and: bool, mut ops: Vec<CExpr>, span: Span) -> CExpr {
    let Some(mut acc) = ops.pop() else {
        return CExpr::bool(is_and, span);
    };
    // Each test is located at its operand: that is what a non-boolean
    // operand error points at.
    while let Some(op) = ops.pop() {
        let at = op.span;
        acc = if is_and {
            CExpr::iff(CondOrigin::And, op, acc, CExpr::bool(false, span), at)
        } else {
            CExpr::iff(CondOrigin::Or, op, CExpr::bool(true, span), acc, at)
        };
    }
    acc
}
