//! Lowering: the analyzer's core tree to the ANF IR (`crate::ir`).
//!
//! - Operands become atoms; anything else is bound to a fresh temporary
//!   (named `%t`), in evaluation order.
//! - Direct builtin calls are expanded here, once their arguments are atoms
//!   (so every argument is evaluated before any operation runs): variadic
//!   arithmetic folds left into binary `Prim`s, with the identity filling
//!   the 0- and 1-argument cases so a lone argument is still type-checked;
//!   comparison chains test adjacent pairs left to right and stop at the
//!   first false pair; `T!=?` with 3+ arguments is `boolean-not` of the
//!   `T=?` chain; optional arguments get their defaults.
//! - Unused bindings are dropped: a binding's body is lowered first, and a
//!   droppable `let` whose variable has no use (or a `letrec` group none of
//!   whose members is used from outside) is never lowered, so whatever it
//!   alone used becomes unused in turn.
//! - Every lambda gets its free-variable list (sorted by `VarId`).

use crate::analyze::core::{CExpr, CKind, CLambda};
use crate::ir::{Atom, Const, Expr, ExprKind, Lambda, RaiseKind, Span, VarId, VarInfo};
use menai_bytecode::builtins::MANY;
use menai_bytecode::{Builtin, CondOrigin};
use std::collections::BTreeSet;

/// A binding in front of an expression.
enum Bind {
    Let(VarId, Expr, Span),
    Letrec(Vec<(VarId, Lambda)>, Span),
}

/// A link of a chain of core bindings (lowered back to front).
enum Link {
    Let {
        var: VarId,
        init: CExpr,
        droppable: bool,
        span: Span,
    },
    Letrec {
        bindings: Vec<(VarId, CLambda)>,
        span: Span,
    },
}

pub struct Lowerer<'a> {
    vars: &'a mut Vec<VarInfo>,
    uses: Vec<u32>,
}

/// Lowers a whole program body, then renumbers the variables in order of
/// binding (dropping those that no longer occur, such as the prelude's
/// unused functions); `vars` becomes the new variable table.
pub fn lower_program(vars: &mut Vec<VarInfo>, body: CExpr) -> Expr {
    let uses = vec![0; vars.len()];
    let mut l = Lowerer { vars, uses };
    let mut body = l.expr(body);
    let mut r = Renumber {
        old: vars,
        map: vec![None; vars.len()],
        new: Vec::new(),
    };
    r.expr(&mut body);
    let new = std::mem::take(&mut r.new);
    *vars = new;
    body
}

/// Renumbering of the variables of a lowered program.
struct Renumber<'a> {
    old: &'a [VarInfo],
    map: Vec<Option<VarId>>,
    new: Vec<VarInfo>,
}

impl Renumber<'_> {
    fn var(&mut self, v: &mut VarId) {
        let i = v.0 as usize;
        if let Some(Some(n)) = self.map.get(i) {
            *v = *n;
            return;
        }
        let n = VarId(self.new.len() as u32);
        let info = self.old.get(i).cloned().unwrap_or(VarInfo {
            name: "%?".to_string(),
            span: Span::default(),
        });
        self.new.push(info);
        if let Some(slot) = self.map.get_mut(i) {
            *slot = Some(n);
        }
        *v = n;
    }

    fn atom(&mut self, a: &mut Atom) {
        if let Atom::Var(v) = a {
            self.var(v);
        }
    }

    fn lambda(&mut self, l: &mut Lambda) {
        for p in l.params.iter_mut().chain(l.rest.iter_mut()) {
            self.var(p);
        }
        for f in l.free.iter_mut() {
            self.var(f);
        }
        l.free.sort_unstable();
        self.expr(&mut l.body);
    }

    fn expr(&mut self, e: &mut Expr) {
        let mut cur = e;
        loop {
            match &mut cur.kind {
                ExprKind::Let { var, value, body } => {
                    self.var(var);
                    self.expr(value);
                    cur = body;
                    continue;
                }
                ExprKind::Letrec { bindings, body } => {
                    for (v, _) in bindings.iter_mut() {
                        self.var(v);
                    }
                    for (_, l) in bindings.iter_mut() {
                        self.lambda(l);
                    }
                    cur = body;
                    continue;
                }
                ExprKind::Atom(a) => self.atom(a),
                ExprKind::Lambda(l) => self.lambda(l),
                ExprKind::If {
                    cond,
                    then_branch,
                    else_branch,
                    ..
                } => {
                    self.atom(cond);
                    self.expr(then_branch);
                    self.expr(else_branch);
                }
                ExprKind::Call { func, args } => {
                    self.atom(func);
                    args.iter_mut().for_each(|a| self.atom(a));
                }
                ExprKind::Apply { func, list } => {
                    self.atom(func);
                    self.atom(list);
                }
                ExprKind::Prim { args, .. } | ExprKind::MakeStruct { args, .. } => {
                    args.iter_mut().for_each(|a| self.atom(a))
                }
                ExprKind::Raise(RaiseKind::Error(a)) | ExprKind::Raise(RaiseKind::NoMatch(a)) => {
                    self.atom(a)
                }
                ExprKind::Raise(RaiseKind::Unbound(_)) => {}
            }
            return;
        }
    }
}

fn wrap(binds: Vec<Bind>, mut body: Expr) -> Expr {
    for b in binds.into_iter().rev() {
        body = match b {
            Bind::Let(var, value, span) => Expr::new(
                ExprKind::Let {
                    var,
                    value: Box::new(value),
                    body: Box::new(body),
                },
                span,
            ),
            Bind::Letrec(bindings, span) => Expr::new(
                ExprKind::Letrec {
                    bindings,
                    body: Box::new(body),
                },
                span,
            ),
        };
    }
    body
}

fn atom_expr(a: Atom, span: Span) -> Expr {
    Expr::new(ExprKind::Atom(a), span)
}

fn prim(op: Builtin, args: Vec<Atom>, span: Span) -> Expr {
    Expr::new(ExprKind::Prim { op, args }, span)
}

/// The identity filling the 0-argument case of a variadic builtin.
fn empty_value(op: Builtin) -> Option<Const> {
    Some(match op {
        Builtin::IntegerAdd => Const::Int(0),
        Builtin::IntegerMul => Const::Int(1),
        Builtin::FloatAdd => Const::Float(0.0),
        Builtin::FloatMul => Const::Float(1.0),
        Builtin::ComplexAdd => Const::Complex(0.0, 0.0),
        Builtin::ComplexMul => Const::Complex(1.0, 0.0),
        Builtin::StringConcat => Const::Str(String::new()),
        Builtin::ListConcat => Const::EmptyList,
        _ => return None,
    })
}

/// The right operand that makes a 1-argument call type-check its argument
/// and return it unchanged (`-0.0` so that `(float+ -0.0)` is `-0.0`).
fn unit_operand(op: Builtin) -> Option<Const> {
    Some(match op {
        Builtin::FloatAdd => Const::Float(-0.0),
        Builtin::ComplexAdd => Const::Complex(-0.0, -0.0),
        _ => return empty_value(op),
    })
}

/// For a variadic comparison: the `=?` whose negation it is (for `!=?`).
fn comparison(op: Builtin) -> Option<Option<Builtin>> {
    use Builtin::*;
    Some(match op {
        BooleanEq | IntegerEq | IntegerLt | IntegerGt | IntegerLe | IntegerGe | FloatEq
        | FloatLt | FloatGt | FloatLe | FloatGe | ComplexEq | StringEq | StringLt | StringGt
        | StringLe | StringGe | ListEq | DictEq | SetEq => None,
        BooleanNe => Some(BooleanEq),
        IntegerNe => Some(IntegerEq),
        FloatNe => Some(FloatEq),
        ComplexNe => Some(ComplexEq),
        StringNe => Some(StringEq),
        ListNe => Some(ListEq),
        DictNe => Some(DictEq),
        SetNe => Some(SetEq),
        _ => return None,
    })
}

/// The default of a missing optional argument (the builtins not listed
/// here are called through their value instead).
fn default_arg(op: Builtin) -> Option<Const> {
    Some(match op {
        Builtin::IntegerToComplex => Const::Int(0),
        Builtin::FloatToComplex => Const::Float(0.0),
        Builtin::IntegerToString | Builtin::StringToInteger => Const::Int(10),
        Builtin::StringToList | Builtin::ListToString => Const::Str(String::new()),
        Builtin::DictGet => Const::None,
        Builtin::Range => Const::Int(1),
        _ => return None,
    })
}

impl Lowerer<'_> {
    fn tmp(&mut self, span: Span) -> VarId {
        let v = VarId(self.vars.len() as u32);
        self.vars.push(VarInfo {
            name: "%t".to_string(),
            span,
        });
        self.uses.push(0);
        v
    }

    fn use_var(&mut self, v: VarId) -> Atom {
        if let Some(u) = self.uses.get_mut(v.0 as usize) {
            *u += 1;
        }
        Atom::Var(v)
    }

    fn used(&self, v: VarId) -> bool {
        self.uses.get(v.0 as usize).is_some_and(|u| *u > 0)
    }

    /// Lowers `e` to a complete expression.
    pub fn expr(&mut self, e: CExpr) -> Expr {
        let mut binds = Vec::new();
        let tail = self.lower(e, &mut binds);
        wrap(binds, tail)
    }

    /// Lowers `e` to an atom, binding a temporary if needed.
    fn atom(&mut self, e: CExpr, binds: &mut Vec<Bind>) -> Atom {
        match e.kind {
            CKind::Var(v) => self.use_var(v),
            CKind::Const(c) => Atom::Const(c),
            CKind::Builtin(b) => Atom::Builtin(b),
            _ => {
                let span = e.span;
                let tail = self.lower(e, binds);
                if let ExprKind::Atom(a) = tail.kind {
                    return a;
                }
                let t = self.tmp(span);
                binds.push(Bind::Let(t, tail, span));
                self.use_var(t)
            }
        }
    }

    fn atoms(&mut self, es: Vec<CExpr>, binds: &mut Vec<Bind>) -> Vec<Atom> {
        es.into_iter().map(|e| self.atom(e, binds)).collect()
    }

    /// Lowers `e`, pushing leading bindings onto `binds`; the returned
    /// expression is never a `Let`/`Letrec`.
    fn lower(&mut self, e: CExpr, binds: &mut Vec<Bind>) -> Expr {
        let span = e.span;
        match e.kind {
            CKind::Var(v) => atom_expr(self.use_var(v), span),
            CKind::Const(c) => atom_expr(Atom::Const(c), span),
            CKind::Builtin(b) => atom_expr(Atom::Builtin(b), span),
            CKind::Unbound(n) => Expr::new(ExprKind::Raise(RaiseKind::Unbound(n)), span),
            CKind::Let { .. } | CKind::Letrec { .. } => self.chain(e, binds),
            CKind::Lambda(l) => Expr::new(ExprKind::Lambda(self.lambda(l)), span),
            CKind::If {
                cond,
                then_branch,
                else_branch,
                origin,
            } => {
                let cond = self.atom(*cond, binds);
                let then_branch = Box::new(self.expr(*then_branch));
                let else_branch = Box::new(self.expr(*else_branch));
                Expr::new(
                    ExprKind::If {
                        cond,
                        then_branch,
                        else_branch,
                        origin,
                    },
                    span,
                )
            }
            CKind::Call { func, args } => {
                let func = self.atom(*func, binds);
                let args = self.atoms(args, binds);
                Expr::new(ExprKind::Call { func, args }, span)
            }
            CKind::Apply { func, list } => {
                let func = self.atom(*func, binds);
                let list = self.atom(*list, binds);
                Expr::new(ExprKind::Apply { func, list }, span)
            }
            CKind::BuiltinCall { op, args } => {
                let args = self.atoms(args, binds);
                self.expand(op, args, span, binds)
            }
            CKind::Prim { op, args } => {
                let args = self.atoms(args, binds);
                prim(op, args, span)
            }
            CKind::MakeStruct { ty, args } => {
                let args = self.atoms(args, binds);
                Expr::new(ExprKind::MakeStruct { ty, args }, span)
            }
            CKind::Error(m) => {
                let m = self.atom(*m, binds);
                Expr::new(ExprKind::Raise(RaiseKind::Error(m)), span)
            }
            CKind::NoMatch(v) => {
                let a = self.use_var(v);
                Expr::new(ExprKind::Raise(RaiseKind::NoMatch(a)), span)
            }
        }
    }

    /// A chain of `Let`/`Letrec`s: the final body first, then the bindings
    /// from last to first, each kept only if used (or not droppable).
    fn chain(&mut self, e: CExpr, binds: &mut Vec<Bind>) -> Expr {
        let mut links = Vec::new();
        let mut cur = e;
        loop {
            match cur.kind {
                CKind::Let {
                    var,
                    init,
                    body,
                    droppable,
                } => {
                    links.push(Link::Let {
                        var,
                        init: *init,
                        droppable,
                        span: cur.span,
                    });
                    cur = *body;
                }
                CKind::Letrec { bindings, body } => {
                    links.push(Link::Letrec {
                        bindings,
                        span: cur.span,
                    });
                    cur = *body;
                }
                _ => break,
            }
        }
        let mut body_binds = Vec::new();
        let tail = self.lower(cur, &mut body_binds);
        let mut segments: Vec<Vec<Bind>> = Vec::with_capacity(links.len());
        for link in links.into_iter().rev() {
            match link {
                Link::Let {
                    var,
                    init,
                    droppable,
                    span,
                } => {
                    if droppable && !self.used(var) {
                        continue;
                    }
                    let mut init = init;
                    if let CKind::Lambda(l) = &mut init.kind {
                        // A lambda takes the name of the binding it is bound to.
                        let name = self.vars.get(var.0 as usize).map(|v| v.name.as_str());
                        if let Some(n) = name.filter(|n| l.name == "lambda" && !n.starts_with('%'))
                        {
                            l.name = n.to_string();
                        }
                    }
                    let mut seg = Vec::new();
                    let value = self.lower(init, &mut seg);
                    seg.push(Bind::Let(var, value, span));
                    segments.push(seg);
                }
                Link::Letrec { bindings, span } => {
                    if !bindings.iter().any(|(v, _)| self.used(*v)) {
                        continue;
                    }
                    let lowered: Vec<(VarId, Lambda)> = bindings
                        .into_iter()
                        .map(|(v, l)| (v, self.lambda(l)))
                        .collect();
                    segments.push(vec![Bind::Letrec(lowered, span)]);
                }
            }
        }
        for seg in segments.into_iter().rev() {
            binds.extend(seg);
        }
        binds.extend(body_binds);
        tail
    }

    fn lambda(&mut self, l: CLambda) -> Lambda {
        let body = self.expr(*l.body);
        let mut bound: Vec<VarId> = l.params.clone();
        bound.extend(l.rest);
        let free = free_vars(&body, &bound);
        Lambda {
            name: l.name,
            params: l.params,
            rest: l.rest,
            free,
            body: Box::new(body),
            span: l.span,
        }
    }

    /// A direct call of a native builtin, its argument count accepted.
    fn expand(&mut self, op: Builtin, args: Vec<Atom>, span: Span, binds: &mut Vec<Bind>) -> Expr {
        let info = op.info();
        let n = args.len();
        if info.prim_arity == 0 || n == info.prim_arity as usize {
            return prim(op, args, span);
        }
        if info.max_args != MANY {
            // Missing optional arguments.
            let mut args = args;
            match default_arg(op) {
                Some(c) if n + 1 == info.prim_arity as usize => {
                    args.push(Atom::Const(c));
                    return prim(op, args, span);
                }
                _ => {
                    return Expr::new(
                        ExprKind::Call {
                            func: Atom::Builtin(op),
                            args,
                        },
                        span,
                    )
                }
            }
        }
        if let Some(negates) = comparison(op) {
            return match negates {
                None => self.compare_chain(op, &args, span, binds),
                Some(eq) => {
                    let r = self.compare_chain(eq, &args, span, binds);
                    let t = self.tmp(span);
                    binds.push(Bind::Let(t, r, span));
                    let a = self.use_var(t);
                    prim(Builtin::BooleanNot, vec![a], span)
                }
            };
        }
        // Left fold.
        match n {
            0 => atom_expr(Atom::Const(empty_value(op).unwrap_or(Const::None)), span),
            1 => {
                let a = args[0].clone();
                let b = match unit_operand(op) {
                    Some(c) => Atom::Const(c),
                    None => a.clone(), // min/max of one value
                };
                prim(op, vec![a, b], span)
            }
            _ => {
                let mut acc = args[0].clone();
                for a in &args[1..n - 1] {
                    let t = self.tmp(span);
                    binds.push(Bind::Let(t, prim(op, vec![acc, a.clone()], span), span));
                    acc = self.use_var(t);
                }
                prim(op, vec![acc, args[n - 1].clone()], span)
            }
        }
    }

    /// `a0 op a1 && a1 op a2 && ...`, stopping at the first false pair.
    fn compare_chain(
        &mut self,
        op: Builtin,
        args: &[Atom],
        span: Span,
        binds: &mut Vec<Bind>,
    ) -> Expr {
        if args.len() <= 2 {
            return prim(op, args.to_vec(), span);
        }
        let t = self.tmp(span);
        binds.push(Bind::Let(
            t,
            prim(op, vec![args[0].clone(), args[1].clone()], span),
            span,
        ));
        let cond = self.use_var(t);
        let mut rest_binds = Vec::new();
        let rest = self.compare_chain(op, &args[1..], span, &mut rest_binds);
        let then_branch = Box::new(wrap(rest_binds, rest));
        let else_branch = Box::new(atom_expr(Atom::Const(Const::Bool(false)), span));
        // The test is a comparison's result: always a boolean.
        Expr::new(
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                origin: CondOrigin::If,
            },
            span,
        )
    }
}

/// The free variables of a lambda body (nested lambdas contribute their
/// own free lists), excluding `params`, sorted.
pub fn free_vars(body: &Expr, params: &[VarId]) -> Vec<VarId> {
    let mut used: BTreeSet<VarId> = BTreeSet::new();
    let mut bound: BTreeSet<VarId> = params.iter().copied().collect();
    let mut stack: Vec<&Expr> = vec![body];
    let atom = |a: &Atom, used: &mut BTreeSet<VarId>| {
        if let Atom::Var(v) = a {
            used.insert(*v);
        }
    };
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Atom(a) => atom(a, &mut used),
            ExprKind::Let { var, value, body } => {
                bound.insert(*var);
                stack.push(value);
                stack.push(body);
            }
            ExprKind::Letrec { bindings, body } => {
                for (v, l) in bindings {
                    bound.insert(*v);
                    used.extend(l.free.iter().copied());
                }
                stack.push(body);
            }
            ExprKind::Lambda(l) => used.extend(l.free.iter().copied()),
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                ..
            } => {
                atom(cond, &mut used);
                stack.push(then_branch);
                stack.push(else_branch);
            }
            ExprKind::Call { func, args } => {
                atom(func, &mut used);
                args.iter().for_each(|a| atom(a, &mut used));
            }
            ExprKind::Apply { func, list } => {
                atom(func, &mut used);
                atom(list, &mut used);
            }
            ExprKind::Prim { args, .. } | ExprKind::MakeStruct { args, .. } => {
                args.iter().for_each(|a| atom(a, &mut used))
            }
            ExprKind::Raise(k) => match k {
                RaiseKind::Error(a) | RaiseKind::NoMatch(a) => atom(a, &mut used),
                RaiseKind::Unbound(_) => {}
            },
        }
    }
    used.difference(&bound).copied().collect()
}
