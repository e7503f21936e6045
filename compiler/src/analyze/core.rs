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
            if let CKind::Var(v) | CKind::NoMatch(v) = e.kind {
                f(v);
            }
            e.push_children(true, &mut stack);
        }
    }
}

/// Defines `push_children` and `push_children_mut` from one list of the
/// subexpressions of each kind.
macro_rules! children {
    ($name:ident, $($mut_:tt)?) => {
        impl CExpr {
            /// Pushes this expression's direct subexpressions onto `out`, in
            /// reverse evaluation order (popping visits them in order). With
            /// `into_lambdas` false, lambda bodies (also those of a
            /// `Letrec`'s members) are skipped: what remains is what
            /// evaluating this expression itself runs.
            pub fn $name<'a>(&'a $($mut_)? self, into_lambdas: bool, out: &mut Vec<&'a $($mut_)? CExpr>) {
                match &$($mut_)? self.kind {
                    CKind::Var(_)
                    | CKind::NoMatch(_)
                    | CKind::Const(_)
                    | CKind::Builtin(_)
                    | CKind::Unbound(_) => {}
                    CKind::Let { init, body, .. } => {
                        out.push(body);
                        out.push(init);
                    }
                    CKind::Letrec { bindings, body } => {
                        out.push(body);
                        if into_lambdas {
                            for (_, l) in bindings.into_iter().rev() {
                                out.push(& $($mut_)? l.body);
                            }
                        }
                    }
                    CKind::Lambda(l) => {
                        if into_lambdas {
                            out.push(& $($mut_)? l.body)
                        }
                    }
                    CKind::If {
                        cond,
                        then_branch,
                        else_branch,
                        ..
                    } => {
                        out.push(else_branch);
                        out.push(then_branch);
                        out.push(cond);
                    }
                    CKind::Call { func, args } => {
                        out.extend(args.into_iter().rev());
                        out.push(func);
                    }
                    CKind::Apply { func, list } => {
                        out.push(list);
                        out.push(func);
                    }
                    CKind::BuiltinCall { args, .. }
                    | CKind::Prim { args, .. }
                    | CKind::MakeStruct { args, .. } => out.extend(args.into_iter().rev()),
                    CKind::Error(m) => out.push(m),
                }
            }
        }
    };
}

children!(push_children,);
children!(push_children_mut, mut);
