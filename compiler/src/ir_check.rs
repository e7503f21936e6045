//! Checks a `.mir` program against the IR's contract (`ir.rs`) before the
//! optimizer trusts it, as strictly as the validator checks a `.bc`: a
//! file from anywhere must be refused with a message, never turned into
//! bytecode the VM rejects or into a crash of `menai-opt`.
//!
//! Checked, without recursion (a hostile file can nest millions deep):
//! - every span names a file of the program and lies within its text;
//! - every variable is in `vars` and bound exactly once;
//! - every builtin used as a value or a primitive is a VM builtin
//!   (`Native`; prelude builtins are functions, never primitives), and a
//!   primitive has exactly its primitive arity (`list`/`set` any count,
//!   `dict` an even count);
//! - every struct type index is declared, and a construction passes one
//!   argument per field;
//! - every big-integer constant is a canonical decimal outside the `i64`
//!   range (the rule of `.bc` constants);
//! - quoted data nests at most `MAX_CONSTANT_DEPTH` lists, and
//!   expressions at most `MAX_IR_DEPTH` levels.
//!
//! Free-variable lists and scoping are left to the optimizer's builder,
//! which reports them as malformed IR.

use crate::ir::{Atom, Const, Expr, ExprKind, Lambda, Program, RaiseKind, Span, VarId};
use menai_bytecode::builtins::Impl;
use menai_bytecode::module::MAX_CONSTANT_DEPTH;
use menai_bytecode::Builtin;

/// The deepest expression nesting a `.mir` may have: deeper than any
/// source the reader accepts produces in practice (a million-binding
/// `let*` is a million levels), within what the optimizer's 1 GiB stack
/// handles.
pub const MAX_IR_DEPTH: usize = 4_000_000;

/// Checks `p`; the error says what is wrong and where.
pub fn check(p: &Program) -> Result<(), String> {
    check_nesting(p, MAX_IR_DEPTH)
}

/// `check` with expressions nested at most `max_depth` deep.
pub fn check_nesting(p: &Program, max_depth: usize) -> Result<(), String> {
    let mut c = Checker {
        p,
        bound: vec![false; p.vars.len()],
    };
    for (i, v) in p.vars.iter().enumerate() {
        c.span(v.span, &format!("variable {i}"))?;
    }
    for (i, s) in p.structs.iter().enumerate() {
        c.span(s.span, &format!("struct type {i}"))?;
    }
    let mut work: Vec<(&Expr, usize)> = vec![(&p.body, 0)];
    while let Some((e, depth)) = work.pop() {
        if depth > max_depth {
            return Err(format!(
                "expressions nested more than {max_depth} deep (limit exceeded)"
            ));
        }
        c.span(e.span, "expression")?;
        match &e.kind {
            ExprKind::Atom(a) => c.atom(a)?,
            ExprKind::Let { var, value, body } => {
                c.bind(*var)?;
                work.push((value, depth + 1));
                work.push((body, depth + 1));
            }
            ExprKind::Letrec { bindings, body } => {
                for (var, lam) in bindings {
                    c.bind(*var)?;
                    c.lambda(lam)?;
                    work.push((&*lam.body, depth + 1));
                }
                work.push((body, depth + 1));
            }
            ExprKind::Lambda(lam) => {
                c.lambda(lam)?;
                work.push((&*lam.body, depth + 1));
            }
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                ..
            } => {
                c.atom(cond)?;
                work.push((then_branch, depth + 1));
                work.push((else_branch, depth + 1));
            }
            ExprKind::Call { func, args } => {
                c.atom(func)?;
                args.iter().try_for_each(|a| c.atom(a))?;
            }
            ExprKind::Apply { func, list } => {
                c.atom(func)?;
                c.atom(list)?;
            }
            ExprKind::Prim { op, args } => {
                c.native(*op)?;
                let n = args.len();
                let arity_ok = match op {
                    Builtin::List | Builtin::Set => true,
                    Builtin::Dict => n % 2 == 0,
                    _ => n == usize::from(op.info().prim_arity) && n > 0,
                };
                if !arity_ok {
                    return Err(format!("primitive {} applied to {n} operands", op.name()));
                }
                args.iter().try_for_each(|a| c.atom(a))?;
            }
            ExprKind::MakeStruct { ty, args } => {
                let decl = c.struct_type(*ty)?;
                if decl.fields.len() != args.len() {
                    return Err(format!(
                        "struct {} built with {} values for {} fields",
                        decl.name,
                        args.len(),
                        decl.fields.len()
                    ));
                }
                args.iter().try_for_each(|a| c.atom(a))?;
            }
            ExprKind::Raise(kind) => match kind {
                RaiseKind::Error(a) | RaiseKind::NoMatch(a) => c.atom(a)?,
                RaiseKind::Unbound(_) => {}
            },
        }
    }
    Ok(())
}

struct Checker<'p> {
    p: &'p Program,
    bound: Vec<bool>,
}

impl<'p> Checker<'p> {
    fn span(&self, s: Span, what: &str) -> Result<(), String> {
        let Some(file) = self.p.files.get(s.file as usize) else {
            return Err(format!(
                "{what}: source file {} out of range ({} files)",
                s.file,
                self.p.files.len()
            ));
        };
        if s.start > s.end || s.end as usize > file.text.len() {
            return Err(format!(
                "{what}: span {}..{} outside {} ({} bytes)",
                s.start,
                s.end,
                file.path,
                file.text.len()
            ));
        }
        Ok(())
    }

    fn var(&self, v: VarId) -> Result<(), String> {
        if (v.0 as usize) < self.bound.len() {
            Ok(())
        } else {
            Err(format!(
                "variable {} out of range ({} variables)",
                v.0,
                self.bound.len()
            ))
        }
    }

    fn bind(&mut self, v: VarId) -> Result<(), String> {
        self.var(v)?;
        let slot = &mut self.bound[v.0 as usize];
        if std::mem::replace(slot, true) {
            return Err(format!("variable {} is bound twice", v.0));
        }
        Ok(())
    }

    fn lambda(&mut self, lam: &Lambda) -> Result<(), String> {
        self.span(lam.span, &format!("lambda {}", lam.name))?;
        for &v in lam.params.iter().chain(&lam.rest) {
            self.bind(v)?;
        }
        lam.free.iter().try_for_each(|&v| self.var(v))
    }

    fn native(&self, b: Builtin) -> Result<(), String> {
        match b.info().implementation {
            Impl::Native => Ok(()),
            Impl::Prelude => Err(format!(
                "{} is a prelude function, not a VM builtin",
                b.name()
            )),
        }
    }

    fn struct_type(&self, ty: u32) -> Result<&'p crate::ir::StructDecl, String> {
        self.p.structs.get(ty as usize).ok_or_else(|| {
            format!(
                "struct type {ty} out of range ({} declared)",
                self.p.structs.len()
            )
        })
    }

    fn atom(&self, a: &Atom) -> Result<(), String> {
        match a {
            Atom::Var(v) => self.var(*v),
            Atom::Builtin(b) => self.native(*b),
            Atom::Const(c) => self.constant(c),
        }
    }

    fn constant(&self, c: &Const) -> Result<(), String> {
        let mut work = vec![(c, 0usize)];
        while let Some((c, depth)) = work.pop() {
            match c {
                Const::BigInt(text) if !menai_bytecode::validate::valid_bigint(text) => {
                    return Err(format!(
                        "big integer {text:?} is not a canonical decimal outside the i64 range"
                    ));
                }
                Const::StructType(t) => {
                    self.struct_type(*t)?;
                }
                Const::List(items) => {
                    if depth + 1 > MAX_CONSTANT_DEPTH {
                        return Err(format!(
                            "quoted data nested more than {MAX_CONSTANT_DEPTH} deep (limit exceeded)"
                        ));
                    }
                    work.extend(items.iter().map(|x| (x, depth + 1)));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
