//! `match` (LANGUAGE.md §5), compiled to decision code.
//!
//! The scrutinee is bound to a temporary. Each clause becomes
//! `if <test> then <bind pattern variables; result> else <next clause>`,
//! the last `else` raising "no clause matched". A test is a chain of
//! checks (type tests, `list-length`, equality primitives, predicate calls)
//! joined by `if`s, with sub-values bound to temporaries, so the code size
//! is linear in the size of the patterns. The pattern variables are bound
//! afterwards from access paths (`list-first`, `list-ref`, `list-rest`,
//! `list-slice`, `struct-get-imm`); unused ones are dropped like any `let`
//! binding.

use super::core::{CExpr, CKind};
use super::{datum, sym, Analyzer};
use crate::ir::{Const, Span, VarId};
use crate::sexp::{Sexp, SexpKind};
use menai_bytecode::{Builtin, CondOrigin};

/// A checked pattern.
enum Pat {
    Wild,
    Var(String, Span),
    Lit(Const, Span),
    Empty(Span),
    /// Fixed element patterns, and the rest pattern after `.` if any.
    List(Vec<Pat>, Option<Box<Pat>>, Span),
    /// `(? pred x)`; `x` is `None` for `_`.
    Pred(CExpr, Option<(String, Span)>, Span),
    Struct(u32, Vec<Pat>, Span),
}

impl Pat {
    /// Matches anything without a test.
    fn irrefutable(&self) -> bool {
        matches!(self, Pat::Wild | Pat::Var(..))
    }

    fn binds_nothing(&self) -> bool {
        match self {
            Pat::Wild | Pat::Lit(..) | Pat::Empty(_) => true,
            Pat::Var(..) => false,
            Pat::Pred(_, x, _) => x.is_none(),
            Pat::List(ps, rest, _) => {
                ps.iter().all(Pat::binds_nothing) && rest.as_ref().is_none_or(|r| r.binds_nothing())
            }
            Pat::Struct(_, ps, _) => ps.iter().all(Pat::binds_nothing),
        }
    }
}

/// A step of a clause test.
enum Step {
    /// Fails the test unless the expression is `#t`.
    Check(CExpr),
    /// Binds a temporary.
    Bind(VarId, CExpr),
}

fn int(i: usize, span: Span) -> CExpr {
    CExpr::konst(Const::Int(i as i64), span)
}

fn p1(op: Builtin, a: CExpr, span: Span) -> CExpr {
    CExpr::prim(op, vec![a], span)
}

fn p2(op: Builtin, a: CExpr, b: CExpr, span: Span) -> CExpr {
    CExpr::prim(op, vec![a, b], span)
}

/// The elements of list `v` from index `k` on: `(list-rest v)` for `k = 1`
/// (one typed instruction), else `(list-slice v k (list-length v))`. Used
/// only after the pattern's length test, so `v` has more than `k - 1`
/// elements and neither can fail.
fn tail_from(v: CExpr, k: usize, span: Span) -> CExpr {
    if k == 1 {
        return p1(Builtin::ListRest, v, span);
    }
    let len = p1(Builtin::ListLength, v.clone(), span);
    CExpr::prim(Builtin::ListSlice, vec![v, int(k, span), len], span)
}

/// Element `i` of list `v`: `(list-first v)` for the first (one typed
/// instruction), else `(list-ref v i)`. Used only after the length test.
fn element(v: CExpr, i: usize, span: Span) -> CExpr {
    if i == 0 {
        return p1(Builtin::ListFirst, v, span);
    }
    p2(Builtin::ListRef, v, int(i, span), span)
}

impl Analyzer {
    /// `(match e (pattern result) ...)`.
    pub(super) fn match_form(&mut self, s: &Sexp, items: &[Sexp]) -> CExpr {
        let span = s.span;
        if items.len() < 2 {
            return self.fail(span, "match: expected (match expr (pattern result) ...)");
        }
        let scrutinee = self.expr(&items[1]);
        let (sv, bind_scrutinee) = match scrutinee.kind {
            CKind::Var(v) => (v, false),
            _ => (self.fresh("%match", items[1].span), true),
        };
        let mut clauses = Vec::new();
        // The scrutinee's length (-1 if not a list), shared by the tests
        // of the top-level list patterns.
        let mut len_var: Option<VarId> = None;
        for c in &items[2..] {
            let pair = match &c.kind {
                SexpKind::List(p) if p.len() == 2 => p,
                _ => {
                    self.error(c.span, "match: a clause must be (pattern result)");
                    continue;
                }
            };
            let Some(pat) = self.pattern(&pair[0]) else {
                let _ = self.expr(&pair[1]);
                continue;
            };
            let top_list = matches!(pat, Pat::Empty(_) | Pat::List(..));
            if top_list && len_var.is_none() {
                len_var = Some(self.fresh("%len", items[1].span));
            }
            let test = self.test(&pat, sv, pair[0].span, len_var.filter(|_| top_list));
            let mut binds = Vec::new();
            collect_binds(&pat, CExpr::var(sv, pair[0].span), &mut binds);
            let mark = self.mark();
            let vars: Vec<(VarId, CExpr)> = binds
                .into_iter()
                .map(|(n, sp, e)| (self.bind(&n, sp), e))
                .collect();
            // In the clause of a struct pattern, the matched variable is
            // known to hold that struct type.
            let before = self.known_struct.get(&sv).copied();
            let narrowed = match &pat {
                Pat::Struct(ty, ..) if !bind_scrutinee => {
                    self.known_struct.insert(sv, *ty);
                    true
                }
                _ => false,
            };
            let mut body = self.expr(&pair[1]);
            if narrowed {
                match before {
                    Some(ty) => self.known_struct.insert(sv, ty),
                    None => self.known_struct.remove(&sv),
                };
            }
            self.restore(mark);
            for (v, e) in vars.into_iter().rev() {
                let sp = e.span;
                body = CExpr::let_(v, e, body, true, sp);
            }
            clauses.push((test, body, c.span));
        }
        // Whether the first clause matches anything: then no test reads the
        // scrutinee, and only that clause's body runs.
        let first_irrefutable = clauses.first().is_some_and(|c| c.0.is_none());
        let mut chain = CExpr::new(CKind::NoMatch(sv), span);
        for (test, body, cspan) in clauses.into_iter().rev() {
            chain = match test {
                None => body,
                Some(t) => CExpr::iff(test_origin(&t), t, body, chain, cspan),
            };
        }
        if let Some(l) = len_var {
            let x = CExpr::var(sv, span);
            let init = CExpr::iff(
                CondOrigin::If,
                p1(Builtin::ListP, x.clone(), span),
                p1(Builtin::ListLength, x, span),
                CExpr::konst(Const::Int(-1), span),
                span,
            );
            chain = CExpr::let_(l, init, chain, false, span);
        }
        if bind_scrutinee {
            CExpr::let_(sv, scrutinee, chain, false, span)
        } else if first_irrefutable {
            // A variable scrutinee is a reference to it even when no test
            // reads it (`(match x (_ 1))`, `(match x (y 1))` with `y`
            // unused): keep one use, so a `let` binding of `x` is still
            // evaluated (LANGUAGE.md §4: only a binding that is never
            // referenced is dropped).
            let keep = self.fresh("%match", items[1].span);
            CExpr::let_(keep, CExpr::var(sv, items[1].span), chain, false, span)
        } else {
            chain
        }
    }

    /// Checks a pattern's shape.
    fn pattern(&mut self, s: &Sexp) -> Option<Pat> {
        let span = s.span;
        match &s.kind {
            SexpKind::Symbol(n) if n == "_" => Some(Pat::Wild),
            SexpKind::Symbol(n) if n == "." => {
                self.error(span, "match: misplaced '.' in a pattern");
                None
            }
            SexpKind::Symbol(n) => Some(Pat::Var(n.clone(), span)),
            SexpKind::List(items) if items.is_empty() => Some(Pat::Empty(span)),
            SexpKind::List(items) => {
                let head = sym(&items[0]);
                if head == Some("?") {
                    if items.len() != 3 {
                        self.error(span, "match: a predicate pattern is (? pred name)");
                        return None;
                    }
                    let pred = self.expr(&items[1]);
                    let bind = match sym(&items[2]) {
                        Some("_") => None,
                        Some(n) if n != "." => Some((n.to_string(), items[2].span)),
                        _ => {
                            self.error(
                                items[2].span,
                                "match: the name in (? pred name) must be a symbol",
                            );
                            return None;
                        }
                    };
                    return Some(Pat::Pred(pred, bind, span));
                }
                let has_dot = items.iter().any(|i| sym(i) == Some("."));
                if !has_dot {
                    if let Some(&ty) = head.and_then(|h| self.struct_names.get(h)) {
                        if self.structs[ty as usize].fields.len() == items.len() - 1 {
                            let subs: Option<Vec<Pat>> =
                                items[1..].iter().map(|p| self.pattern(p)).collect();
                            return Some(Pat::Struct(ty, subs?, span));
                        }
                    }
                    let subs: Option<Vec<Pat>> = items.iter().map(|p| self.pattern(p)).collect();
                    return Some(Pat::List(subs?, None, span));
                }
                let dot = items.iter().position(|i| sym(i) == Some("."))?;
                if dot == 0 || dot + 2 != items.len() {
                    self.error(
                        items[dot].span,
                        "match: '.' in a pattern needs at least one pattern before it and exactly one after it",
                    );
                    return None;
                }
                let subs: Option<Vec<Pat>> = items[..dot].iter().map(|p| self.pattern(p)).collect();
                let rest = self.pattern(&items[dot + 1])?;
                Some(Pat::List(subs?, Some(Box::new(rest)), span))
            }
            _ => Some(Pat::Lit(datum(s), span)),
        }
    }

    /// The test of a clause (`None`: always matches).
    /// `len`: a variable holding the length of `v` (-1 if not a list).
    fn test(&mut self, pat: &Pat, v: VarId, span: Span, len: Option<VarId>) -> Option<CExpr> {
        let mut steps = Vec::new();
        match (pat, len) {
            (Pat::Empty(sp), Some(l)) => {
                let n = CExpr::var(l, *sp);
                steps.push(Step::Check(p2(Builtin::IntegerEq, n, int(0, *sp), *sp)));
            }
            (Pat::List(ps, rest, sp), Some(l)) => {
                let n = CExpr::var(l, *sp);
                let cmp = if rest.is_some() {
                    Builtin::IntegerGe
                } else {
                    Builtin::IntegerEq
                };
                steps.push(Step::Check(p2(cmp, n, int(ps.len(), *sp), *sp)));
                self.elements(ps, rest.as_deref(), v, *sp, &mut steps);
            }
            _ => self.steps(pat, v, &mut steps),
        }
        let mut acc: Option<CExpr> = None;
        for step in steps.into_iter().rev() {
            acc = Some(match (step, acc) {
                (Step::Check(c), None) => c,
                (Step::Check(c), Some(a)) => {
                    let sp = c.span;
                    CExpr::iff(test_origin(&c), c, a, CExpr::bool(false, sp), sp)
                }
                (Step::Bind(t, e), Some(a)) => CExpr::let_(t, e, a, false, span),
                (Step::Bind(..), None) => return None,
            });
        }
        acc
    }

    /// A temporary bound to `e` for the test of a sub-pattern.
    fn sub(&mut self, p: &Pat, e: CExpr, out: &mut Vec<Step>) {
        if p.irrefutable() {
            return;
        }
        let t = self.fresh("%elem", e.span);
        out.push(Step::Bind(t, e));
        self.steps(p, t, out);
    }

    /// The tests of the elements (and rest) of a list known to be long enough.
    fn elements(
        &mut self,
        ps: &[Pat],
        rest: Option<&Pat>,
        v: VarId,
        sp: Span,
        out: &mut Vec<Step>,
    ) {
        let x = CExpr::var(v, sp);
        for (i, p) in ps.iter().enumerate() {
            self.sub(p, element(x.clone(), i, sp), out);
        }
        if let Some(r) = rest {
            self.sub(r, tail_from(x, ps.len(), sp), out);
        }
    }

    fn steps(&mut self, pat: &Pat, v: VarId, out: &mut Vec<Step>) {
        match pat {
            Pat::Wild | Pat::Var(..) => {}
            Pat::Lit(c, sp) => {
                let sp = *sp;
                let x = CExpr::var(v, sp);
                let (is, eq) = match c {
                    Const::Int(_) | Const::BigInt(_) => {
                        (Builtin::IntegerP, Some(Builtin::IntegerEq))
                    }
                    Const::Float(_) => (Builtin::FloatP, Some(Builtin::FloatEq)),
                    Const::Complex(..) => (Builtin::ComplexP, Some(Builtin::ComplexEq)),
                    Const::Str(_) => (Builtin::StringP, Some(Builtin::StringEq)),
                    Const::Bool(_) => (Builtin::BooleanP, Some(Builtin::BooleanEq)),
                    _ => (Builtin::NoneP, None),
                };
                out.push(Step::Check(p1(is, x.clone(), sp)));
                if let Some(eq) = eq {
                    out.push(Step::Check(p2(eq, x, CExpr::konst(c.clone(), sp), sp)));
                }
            }
            Pat::Empty(sp) => {
                let x = CExpr::var(v, *sp);
                out.push(Step::Check(p1(Builtin::ListP, x.clone(), *sp)));
                out.push(Step::Check(p1(Builtin::ListNullP, x, *sp)));
            }
            Pat::List(ps, rest, sp) => {
                let sp = *sp;
                let x = CExpr::var(v, sp);
                out.push(Step::Check(p1(Builtin::ListP, x.clone(), sp)));
                let len = p1(Builtin::ListLength, x.clone(), sp);
                let cmp = if rest.is_some() {
                    Builtin::IntegerGe
                } else {
                    Builtin::IntegerEq
                };
                out.push(Step::Check(p2(cmp, len, int(ps.len(), sp), sp)));
                self.elements(ps, rest.as_deref(), v, sp, out);
            }
            Pat::Pred(pred, _, sp) => {
                let arg = vec![CExpr::var(v, *sp)];
                let call = match pred.kind {
                    // A native builtin predicate is called directly.
                    CKind::Builtin(b) if b.info().accepts(1) => {
                        CKind::BuiltinCall { op: b, args: arg }
                    }
                    _ => CKind::Call {
                        func: Box::new(pred.clone()),
                        args: arg,
                    },
                };
                out.push(Step::Check(CExpr::new(call, *sp)));
            }
            Pat::Struct(ty, ps, sp) => {
                let sp = *sp;
                let x = CExpr::var(v, sp);
                let t = CExpr::konst(Const::StructType(*ty), sp);
                out.push(Step::Check(p2(Builtin::StructTypeP, t, x.clone(), sp)));
                for (i, p) in ps.iter().enumerate() {
                    self.sub(p, p2(Builtin::StructGetImm, x.clone(), int(i, sp), sp), out);
                }
            }
        }
    }
}

/// The pattern variables with the expressions that extract their values.
fn collect_binds(pat: &Pat, access: CExpr, out: &mut Vec<(String, Span, CExpr)>) {
    if pat.binds_nothing() {
        return;
    }
    match pat {
        Pat::Var(n, sp) => out.push((n.clone(), *sp, access)),
        Pat::Pred(_, Some((n, sp)), _) => out.push((n.clone(), *sp, access)),
        Pat::List(ps, rest, sp) => {
            for (i, p) in ps.iter().enumerate() {
                collect_binds(p, element(access.clone(), i, *sp), out);
            }
            if let Some(r) = rest {
                collect_binds(r, tail_from(access, ps.len(), *sp), out);
            }
        }
        Pat::Struct(_, ps, sp) => {
            for (i, p) in ps.iter().enumerate() {
                collect_binds(
                    p,
                    p2(Builtin::StructGetImm, access.clone(), int(i, *sp), *sp),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// The origin of a pattern test: a primitive check (`list?`, `integer=?`…)
/// is always a boolean; anything else involves a predicate's result, whose
/// non-boolean value is reported as the `match` predicate's error.
fn test_origin(t: &CExpr) -> CondOrigin {
    match t.kind {
        CKind::Prim { .. } => CondOrigin::If,
        _ => CondOrigin::Match,
    }
}
