//! The IR text form (`menaic --emit ir`, snapshot tests): stable and
//! readable, one binding per line, nesting shown by indentation.
//!
//! Variables print as `name.id` (`x.3`, temporaries `%t.7`), builtins as
//! `@name`, struct types as `#<struct point>`; constants as in the
//! language (`'sym`, `'(1 2)`, `"str"`, `#t`, `#none`, `1.5`, `1+2j`).
//!
//! ```text
//! let x.1 = prim integer+ a.0 1
//! letrec
//!   f.2 = lambda f (n.3) free ()
//!     call f.2 n.3
//! if c.4
//! then
//!   ...
//! else
//!   ...
//! ```

use crate::ir::{Atom, Const, Expr, ExprKind, Lambda, Program, RaiseKind, VarId};
use menai_bytecode::CondOrigin;
use std::fmt::Write;

/// Prints a whole program: its struct types, then the body.
pub fn print_ir(p: &Program) -> String {
    let mut pr = Printer {
        p,
        out: String::new(),
    };
    for (i, s) in p.structs.iter().enumerate() {
        let _ = writeln!(pr.out, "struct {i} {} ({})", s.name, s.fields.join(" "));
    }
    pr.expr(&p.body, 0);
    pr.out
}

struct Printer<'a> {
    p: &'a Program,
    out: String,
}

fn float(f: f64) -> String {
    if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{f:?}")
    }
}

impl Printer<'_> {
    fn var(&self, v: VarId) -> String {
        match self.p.vars.get(v.0 as usize) {
            Some(info) => format!("{}.{}", info.name, v.0),
            None => format!("?.{}", v.0),
        }
    }

    fn konst(&self, c: &Const, quoted: bool) -> String {
        let q = if quoted { "'" } else { "" };
        match c {
            Const::None => "#none".to_string(),
            Const::Bool(b) => if *b { "#t" } else { "#f" }.to_string(),
            Const::Int(i) => i.to_string(),
            Const::BigInt(s) => s.clone(),
            Const::Float(f) => float(*f),
            Const::Complex(re, im) => {
                let im_s = float(*im);
                let sign = if im_s.starts_with('-') { "" } else { "+" };
                format!("{}{sign}{im_s}j", float(*re))
            }
            Const::Str(s) => format!("{s:?}"),
            Const::Symbol(s) => format!("{q}{s}"),
            Const::EmptyList => "()".to_string(),
            Const::List(items) => {
                let inner: Vec<String> = items.iter().map(|c| self.konst(c, false)).collect();
                format!("{q}({})", inner.join(" "))
            }
            Const::StructType(i) => match self.p.structs.get(*i as usize) {
                Some(s) => format!("#<struct {}>", s.name),
                None => format!("#<struct ?{i}>"),
            },
        }
    }

    fn atom(&self, a: &Atom) -> String {
        match a {
            Atom::Var(v) => self.var(*v),
            Atom::Const(c) => self.konst(c, true),
            Atom::Builtin(b) => format!("@{}", b.name()),
        }
    }

    fn atoms(&self, args: &[Atom]) -> String {
        args.iter().map(|a| format!(" {}", self.atom(a))).collect()
    }

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn lambda_header(&self, l: &Lambda) -> String {
        let mut ps: Vec<String> = l.params.iter().map(|v| self.var(*v)).collect();
        if let Some(r) = l.rest {
            ps.push(".".to_string());
            ps.push(self.var(r));
        }
        let free: Vec<String> = l.free.iter().map(|v| self.var(*v)).collect();
        format!(
            "lambda {} ({}) free ({})",
            l.name,
            ps.join(" "),
            free.join(" ")
        )
    }

    /// A one-line form of a non-binding expression, if it has one.
    fn simple(&self, e: &Expr) -> Option<String> {
        Some(match &e.kind {
            ExprKind::Atom(a) => self.atom(a),
            ExprKind::Call { func, args } => {
                format!("call {}{}", self.atom(func), self.atoms(args))
            }
            ExprKind::Apply { func, list } => {
                format!("apply {} {}", self.atom(func), self.atom(list))
            }
            ExprKind::Prim { op, args } => format!("prim {}{}", op.name(), self.atoms(args)),
            ExprKind::MakeStruct { ty, args } => {
                let name = self
                    .p
                    .structs
                    .get(*ty as usize)
                    .map(|s| s.name.as_str())
                    .unwrap_or("?");
                format!("make-struct {name}{}", self.atoms(args))
            }
            ExprKind::Raise(RaiseKind::Error(a)) => format!("raise error {}", self.atom(a)),
            ExprKind::Raise(RaiseKind::Unbound(n)) => format!("raise unbound {n:?}"),
            ExprKind::Raise(RaiseKind::NoMatch(a)) => format!("raise no-match {}", self.atom(a)),
            _ => return None,
        })
    }

    fn expr(&mut self, e: &Expr, indent: usize) {
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Let { var, value, body } => {
                    let head = format!("let {} =", self.var(*var));
                    match self.simple(value) {
                        Some(s) => self.line(indent, &format!("{head} {s}")),
                        None => {
                            self.line(indent, &head);
                            self.expr(value, indent + 1);
                        }
                    }
                    cur = body;
                }
                ExprKind::Letrec { bindings, body } => {
                    self.line(indent, "letrec");
                    for (v, l) in bindings {
                        let text = format!("{} = {}", self.var(*v), self.lambda_header(l));
                        self.line(indent + 1, &text);
                        self.expr(&l.body, indent + 2);
                    }
                    cur = body;
                }
                ExprKind::Lambda(l) => {
                    let text = self.lambda_header(l);
                    self.line(indent, &text);
                    self.expr(&l.body, indent + 1);
                    return;
                }
                ExprKind::If {
                    cond,
                    then_branch,
                    else_branch,
                    origin,
                } => {
                    // A test from `and`/`or`/`match` says so (it names the
                    // form in its runtime error).
                    let text = match origin {
                        CondOrigin::If => format!("if {}", self.atom(cond)),
                        o => format!("if {} ({})", self.atom(cond), o.name()),
                    };
                    self.line(indent, &text);
                    self.line(indent, "then");
                    self.expr(then_branch, indent + 1);
                    self.line(indent, "else");
                    self.expr(else_branch, indent + 1);
                    return;
                }
                _ => {
                    let text = self.simple(cur).unwrap_or_default();
                    self.line(indent, &text);
                    return;
                }
            }
        }
    }
}
