//! The analyzer's output: a resolved, checked, partly desugared expression
//! tree ("core"), the input of the ANF lowering (`crate::lower`).
//!
//! Invariants: every name is resolved (a `VarId`, a builtin, a constant, or
//! `Unbound`); every binder has a fresh `VarId`; special forms have been
//! checked and desugared (`let*`, `and`/`or`, `match`, structs, imports);
//! `Builtin` calls have an argument count the builtin accepts (the variadic
//! expansion into binary primitives happens in the lowering, once the
//! arguments are atoms); `letrec` groups are already split and ordered.

use crate::ir::{Const, Span, VarId};
use menai_bytecode::{Builtin, CondOrigin};

#[derive(Clone, Debug)]
pub struct CExpr {
    pub kind: CKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct CLambda {
    pub name: String,
    pub params: Vec<VarId>,
    pub rest: Option<VarId>,
    pub body: Box<CExpr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum CKind {
    Var(VarId),
    Const(Const),
    /// A native builtin used as a value.
    Builtin(Builtin),
    /// An unbound name: raises when evaluated.
    Unbound(String),
    /// `let var = init in body`. A `droppable` binding (a user binding) is
    /// removed, init and all, when `var` is never used; a non-droppable one
    /// (a temporary of the desugaring) is always evaluated.
    Let {
        var: VarId,
        init: Box<CExpr>,
        body: Box<CExpr>,
        droppable: bool,
    },
    /// One strongly connected group of mutually recursive lambdas (dropped
    /// as a whole when no member is used outside the group).
    Letrec {
        bindings: Vec<(VarId, CLambda)>,
        body: Box<CExpr>,
    },
    Lambda(CLambda),
    If {
        cond: Box<CExpr>,
        then_branch: Box<CExpr>,
        else_branch: Box<CExpr>,
        /// The form the test comes from (names it in the runtime error).
        origin: CondOrigin,
    },
    Call {
        func: Box<CExpr>,
        args: Vec<CExpr>,
    },
    Apply {
        func: Box<CExpr>,
        list: Box<CExpr>,
    },
    /// A direct call of a native builtin with a count it accepts; expanded
    /// by the lowering (variadic folds, comparison chains, defaults).
    BuiltinCall {
        op: Builtin,
        args: Vec<CExpr>,
    },
    /// A `$name` primitive call: exactly the primitive arity.
    Prim {
        op: Builtin,
        args: Vec<CExpr>,
    },
    MakeStruct {
        ty: u32,
        args: Vec<CExpr>,
    },
    /// `(error msg)`.
    Error(Box<CExpr>),
    /// No match clause matched the value of the variable.
    NoMatch(VarId),
}

impl CExpr {
    pub fn new(kind: CKind, span: Span) -> CExpr {
        CExpr { kind, span }
    }

    pub fn konst(c: Const, span: Span) -> CExpr {
        CExpr::new(CKind::Const(c), span)
    }

    pub fn var(v: VarId, span: Span) -> CExpr {
        CExpr::new(CKind::Var(v), span)
    }

    pub fn bool(b: bool, span: Span) -> CExpr {
        CExpr::konst(Const::Bool(b), span)
    }

    /// A conditional; `origin` is the form its test comes from.
    pub fn iff(
        origin: CondOrigin,
        cond: CExpr,
        then_branch: CExpr,
        else_branch: CExpr,
        span: Span,
    ) -> CExpr {
        CExpr::new(
            CKind::If {
                cond: Box::new(cond),
                then_branch: Box::new(then_branch),
                else_branch: Box::new(else_branch),
                origin,
            },
            span,
        )
    }

    pub fn prim(op: Builtin, args: Vec<CExpr>, span: Span) -> CExpr {
        CExpr::new(CKind::Prim { op, args }, span)
    }

    pub fn let_(var: VarId, init: CExpr, body: CExpr, droppable: bool, span: Span) -> CExpr {
        CExpr::new(
            CKind::Let {
                var,
                init: Box::new(init),
                body: Box::new(body),
                droppable,
            },
            span,
        )
    }

    /// Calls `f` on every variable this expression references (iteratively:
    /// expressions can be deep).
    pub fn for_each_var(&self, mut f: impl FnMut(VarId)) {
        let mut stack: Vec<&CExpr> = vec![self];
        while let Some(e) = stack.pop() {
            match &e.kind {
                CKind::Var(v) | CKind::NoMatch(v) => f(*v),
                CKind::Const(_) | CKind::Builtin(_) | CKind::Unbound(_) => {}
                CKind::Let { init, body, .. } => {
                    stack.push(body);
                    stack.push(init);
                }
                CKind::Letrec { bindings, body } => {
                    stack.push(body);
                    for (_, l) in bindings {
                        stack.push(&l.body);
                    }
                }
                CKind::Lambda(l) => stack.push(&l.body),
                CKind::If {
                    cond,
                    then_branch,
                    else_branch,
                    ..
                } => {
                    stack.push(else_branch);
                    stack.push(then_branch);
                    stack.push(cond);
                }
                CKind::Call { func, args } => {
                    stack.extend(args.iter().rev());
                    stack.push(func);
                }
                CKind::Apply { func, list } => {
                    stack.push(list);
                    stack.push(func);
                }
                CKind::BuiltinCall { args, .. }
                | CKind::Prim { args, .. }
                | CKind::MakeStruct { args, .. } => stack.extend(args.iter().rev()),
                CKind::Error(m) => stack.push(m),
            }
        }
    }
}
