//! IR → SSA CFG, with closure conversion.
//!
//! Each IR lambda becomes its own [`Function`]; the top level is function 0.
//! Inside a function a variable is one of:
//! - a *local*: an SSA value (parameter, `let`, or a closure built here);
//! - a *capture*: a slot of the function's environment, read with `getcap`
//!   at each use;
//! - a *sibling*: a member of the letrec group the function belongs to
//!   (including itself), rebuilt on demand with `sibling`, so that no
//!   closure is ever stored in its own environment.
//!
//! A letrec group shares one environment holding the union of its members'
//! outer free variables; the defining function builds the first member with
//! `closure` and the others with `closureref` to the first one's environment.
//!
//! Control: `If` becomes a `Branch` to two fresh blocks and, outside tail
//! position, a join block with one parameter. Tail calls become `TailCall`,
//! except that a letrec member calling itself in tail position with exactly
//! its parameter count jumps back to a loop header: such a function's entry
//! block only jumps to the header, whose parameters are the loop variables
//! (so `licm` can hoist invariants into the entry block, the preheader). Code after a `Raise` is not
//! built. A very long `(list ...)` is built in chunks joined by
//! `list-concat`, so its register window stays small.

use crate::cfg::{Block, CapSrc, CfgProgram, FuncId, Function, InstKind, Terminator, Value};
use crate::lines::LineIndex;
use crate::OptError;
use menai_bytecode::Builtin;
use menai_compiler::ir::{Atom, Expr, ExprKind, Lambda, Program, RaiseKind, Span, VarId};
use rustc_hash::FxHashMap as HashMap;

/// Longest `(list ...)` built by one `makelist`; longer ones are built in
/// chunks and concatenated.
pub const LIST_CHUNK: usize = 1024;

/// Builds one CFG per function of the program.
pub fn build_program(program: &Program) -> Result<CfgProgram, OptError> {
    let mut b = Builder {
        program,
        functions: Vec::new(),
        lines: LineIndex::new(&program.files),
    };
    let top = b.alloc();
    // The body starts with the prelude bindings the program uses; the entry
    // function is still the user's file (file 0), not the prelude.
    let in_prelude = program
        .files
        .get(program.body.span.file as usize)
        .is_some_and(|f| f.path == menai_compiler::analyze::prelude::PRELUDE_PATH);
    let main_span = if in_prelude {
        Span {
            file: 0,
            start: 0,
            end: 0,
        }
    } else {
        program.body.span
    };
    let func = Function::new(top, "main".to_string(), vec![], None, main_span);
    let entry = func.entry;
    let mut cx = FnCtx {
        func,
        cur: entry,
        locals: HashMap::default(),
        captures: HashMap::default(),
        group: HashMap::default(),
        self_var: None,
        loop_header: None,
    };
    b.build_tail(&mut cx, &program.body)?;
    b.finish(top, cx)?;
    let mut functions = Vec::with_capacity(b.functions.len());
    for (i, f) in b.functions.into_iter().enumerate() {
        match f {
            Some(f) => functions.push(f),
            None => return Err(OptError::Malformed(format!("function {i} was never built"))),
        }
    }
    Ok(CfgProgram {
        functions,
        entry: top,
        structs: program.structs.clone(),
        files: program.files.clone(),
        clones: Vec::new(),
    })
}

/// Whether `e` calls `me` in tail position with exactly `n` arguments.
fn has_self_tail_call(e: &Expr, me: VarId, n: usize) -> bool {
    let mut e = e;
    loop {
        match &e.kind {
            ExprKind::Let { body, .. } | ExprKind::Letrec { body, .. } => e = body,
            ExprKind::If {
                then_branch,
                else_branch,
                ..
            } => {
                if has_self_tail_call(then_branch, me, n) {
                    return true;
                }
                e = else_branch;
            }
            ExprKind::Call {
                func: Atom::Var(v),
                args,
            } => return *v == me && args.len() == n,
            _ => return false,
        }
    }
}

struct Builder<'p> {
    program: &'p Program,
    functions: Vec<Option<Function>>,
    lines: LineIndex,
}

/// The state of the function being built.
struct FnCtx {
    func: Function,
    /// The block instructions are appended to.
    cur: Block,
    locals: HashMap<VarId, Value>,
    captures: HashMap<VarId, u16>,
    group: HashMap<VarId, FuncId>,
    /// The letrec binder of this function, when a self tail call may loop.
    self_var: Option<VarId>,
    /// The block self tail calls jump to (its parameters are the loop's
    /// variables; the entry block is its preheader).
    loop_header: Option<Block>,
}

impl FnCtx {
    fn push(&mut self, kind: InstKind, span: Span) -> Value {
        self.func.push_inst(self.cur, kind, span)
    }

    fn terminate(&mut self, term: Terminator, span: Span) {
        self.func.set_term(self.cur, term, span);
    }
}

impl Builder<'_> {
    fn alloc(&mut self) -> FuncId {
        self.functions.push(None);
        FuncId(self.functions.len() as u32 - 1)
    }

    fn finish(&mut self, id: FuncId, mut cx: FnCtx) -> Result<(), OptError> {
        cx.func.remove_unreachable_blocks();
        match self.functions.get_mut(id.0 as usize) {
            Some(slot) => {
                *slot = Some(cx.func);
                Ok(())
            }
            None => Err(OptError::Malformed(format!("no slot for {id}"))),
        }
    }

    fn var_name(&self, v: VarId) -> String {
        self.program
            .vars
            .get(v.0 as usize)
            .map_or_else(|| format!("%{}", v.0), |i| i.name.clone())
    }

    /// The value of a variable at the current point.
    fn var(&self, cx: &mut FnCtx, v: VarId, span: Span) -> Result<Value, OptError> {
        if let Some(&val) = cx.locals.get(&v) {
            return Ok(val);
        }
        if let Some(&f) = cx.group.get(&v) {
            return Ok(cx.push(InstKind::Sibling(f), span));
        }
        if let Some(&slot) = cx.captures.get(&v) {
            return Ok(cx.push(InstKind::GetCap(slot), span));
        }
        Err(OptError::Malformed(format!(
            "variable {} (#{}) is used in {} but neither bound there nor listed as free",
            self.var_name(v),
            v.0,
            cx.func.name
        )))
    }

    fn atom(&self, cx: &mut FnCtx, a: &Atom, span: Span) -> Result<Value, OptError> {
        match a {
            Atom::Var(v) => self.var(cx, *v, span),
            Atom::Const(c) => Ok(cx.push(InstKind::Const(c.clone()), span)),
            Atom::Builtin(b) => Ok(cx.push(InstKind::Builtin(*b), span)),
        }
    }

    fn atoms(&self, cx: &mut FnCtx, atoms: &[Atom], span: Span) -> Result<Vec<Value>, OptError> {
        atoms.iter().map(|a| self.atom(cx, a, span)).collect()
    }

    /// How a free variable of a lambda built here reaches its environment.
    fn cap_src(&self, cx: &mut FnCtx, v: VarId, span: Span) -> Result<CapSrc, OptError> {
        if cx.locals.contains_key(&v) || cx.group.contains_key(&v) {
            return Ok(CapSrc::Value(self.var(cx, v, span)?));
        }
        if let Some(&slot) = cx.captures.get(&v) {
            return Ok(CapSrc::Env(slot));
        }
        Err(OptError::Malformed(format!(
            "free variable {} (#{}) of a lambda is not visible in {}",
            self.var_name(v),
            v.0,
            cx.func.name
        )))
    }

    /// Walks a chain of `Let`/`Letrec`, binding as it goes; returns the
    /// innermost body, or `None` when control cannot reach it.
    fn bindings<'e>(
        &mut self,
        cx: &mut FnCtx,
        mut e: &'e Expr,
    ) -> Result<Option<&'e Expr>, OptError> {
        loop {
            match &e.kind {
                ExprKind::Let { var, value, body } => match self.build_value(cx, value)? {
                    Some(v) => {
                        cx.locals.insert(*var, v);
                        e = body;
                    }
                    None => return Ok(None),
                },
                ExprKind::Letrec { bindings, body } => {
                    self.build_letrec(cx, bindings, e.span)?;
                    e = body;
                }
                _ => return Ok(Some(e)),
            }
        }
    }

    /// Builds `e` in tail position: the current block gets terminated.
    fn build_tail(&mut self, cx: &mut FnCtx, e: &Expr) -> Result<(), OptError> {
        let Some(e) = self.bindings(cx, e)? else {
            return Ok(());
        };
        let span = e.span;
        match &e.kind {
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                origin,
            } => {
                let c = self.atom(cx, cond, span)?;
                let (t, f) = (
                    cx.func.add_block(then_branch.span),
                    cx.func.add_block(else_branch.span),
                );
                cx.terminate(
                    Terminator::Branch {
                        cond: c,
                        then_dest: t,
                        else_dest: f,
                        origin: *origin,
                    },
                    span,
                );
                cx.cur = t;
                self.build_tail(cx, then_branch)?;
                cx.cur = f;
                self.build_tail(cx, else_branch)
            }
            ExprKind::Call { func, args } => {
                if let (Atom::Var(v), Some(me), Some(header)) = (func, cx.self_var, cx.loop_header)
                {
                    if *v == me
                        && cx.func.rest_name.is_none()
                        && args.len() == cx.func.param_names.len()
                    {
                        let args = self.atoms(cx, args, span)?;
                        cx.terminate(Terminator::Jump { dest: header, args }, span);
                        return Ok(());
                    }
                }
                let f = self.atom(cx, func, span)?;
                let args = self.atoms(cx, args, span)?;
                cx.terminate(Terminator::TailCall { func: f, args }, span);
                Ok(())
            }
            ExprKind::Apply { func, list } => {
                let f = self.atom(cx, func, span)?;
                let l = self.atom(cx, list, span)?;
                cx.terminate(Terminator::TailApply { func: f, list: l }, span);
                Ok(())
            }
            ExprKind::Raise(kind) => self.raise(cx, kind, span),
            _ => {
                if let Some(v) = self.build_value(cx, e)? {
                    cx.terminate(Terminator::Return(v), span);
                }
                Ok(())
            }
        }
    }

    fn raise(&mut self, cx: &mut FnCtx, kind: &RaiseKind, span: Span) -> Result<(), OptError> {
        let term = match kind {
            RaiseKind::Error(a) => Terminator::Raise(self.atom(cx, a, span)?),
            RaiseKind::Unbound(name) => Terminator::RaiseUnbound(name.clone()),
            RaiseKind::NoMatch(a) => Terminator::RaiseNoMatch(self.atom(cx, a, span)?),
        };
        cx.terminate(term, span);
        Ok(())
    }

    /// Builds `e` for its value; `None` when control cannot continue.
    fn build_value(&mut self, cx: &mut FnCtx, e: &Expr) -> Result<Option<Value>, OptError> {
        let Some(e) = self.bindings(cx, e)? else {
            return Ok(None);
        };
        let span = e.span;
        let v = match &e.kind {
            ExprKind::Let { .. } | ExprKind::Letrec { .. } => {
                return Err(OptError::Malformed("binding chain not flattened".into()))
            }
            ExprKind::Atom(a) => self.atom(cx, a, span)?,
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                origin,
            } => {
                let c = self.atom(cx, cond, span)?;
                let (t, f) = (
                    cx.func.add_block(then_branch.span),
                    cx.func.add_block(else_branch.span),
                );
                let join = cx.func.add_block(span);
                cx.terminate(
                    Terminator::Branch {
                        cond: c,
                        then_dest: t,
                        else_dest: f,
                        origin: *origin,
                    },
                    span,
                );
                let mut reached = false;
                for (blk, branch) in [(t, then_branch), (f, else_branch)] {
                    cx.cur = blk;
                    if let Some(v) = self.build_value(cx, branch)? {
                        cx.terminate(
                            Terminator::Jump {
                                dest: join,
                                args: vec![v],
                            },
                            branch.span,
                        );
                        reached = true;
                    }
                }
                if !reached {
                    cx.func.graph.remove_node(join.0);
                    return Ok(None);
                }
                cx.cur = join;
                cx.func.add_param(join)
            }
            ExprKind::Lambda(lam) => {
                let id = self.alloc();
                let layout = lam.free.clone();
                self.build_lambda(lam, id, &layout, HashMap::default(), None)?;
                let captures = layout
                    .iter()
                    .map(|v| self.cap_src(cx, *v, span))
                    .collect::<Result<_, _>>()?;
                cx.push(InstKind::Closure { func: id, captures }, span)
            }
            ExprKind::Call { func, args } => {
                let f = self.atom(cx, func, span)?;
                let args = self.atoms(cx, args, span)?;
                cx.push(InstKind::Call { func: f, args }, span)
            }
            ExprKind::Apply { func, list } => {
                let f = self.atom(cx, func, span)?;
                let l = self.atom(cx, list, span)?;
                cx.push(InstKind::Apply { func: f, list: l }, span)
            }
            ExprKind::Prim {
                op: Builtin::List,
                args,
            } if args.len() > LIST_CHUNK => {
                // A long list: build it in chunks joined by list-concat, so
                // only one chunk of elements is in registers at a time.
                let mut acc: Option<Value> = None;
                for chunk in args.chunks(LIST_CHUNK) {
                    let elems = self.atoms(cx, chunk, span)?;
                    let part = cx.push(
                        InstKind::Prim {
                            op: Builtin::List,
                            args: elems,
                        },
                        span,
                    );
                    acc = Some(match acc {
                        None => part,
                        Some(a) => cx.push(
                            InstKind::Prim {
                                op: Builtin::ListConcat,
                                args: vec![a, part],
                            },
                            span,
                        ),
                    });
                }
                match acc {
                    Some(v) => v,
                    None => cx.push(
                        InstKind::Prim {
                            op: Builtin::List,
                            args: vec![],
                        },
                        span,
                    ),
                }
            }
            ExprKind::Prim { op, args } => {
                let args = self.atoms(cx, args, span)?;
                cx.push(InstKind::Prim { op: *op, args }, span)
            }
            ExprKind::MakeStruct { ty, args } => {
                let args = self.atoms(cx, args, span)?;
                cx.push(InstKind::MakeStruct { ty: *ty, args }, span)
            }
            ExprKind::Raise(kind) => {
                self.raise(cx, kind, span)?;
                return Ok(None);
            }
        };
        Ok(Some(v))
    }

    /// Builds a letrec group's functions and, in the current function, one
    /// closure per member, all sharing one environment.
    fn build_letrec(
        &mut self,
        cx: &mut FnCtx,
        bindings: &[(VarId, Lambda)],
        span: Span,
    ) -> Result<(), OptError> {
        if bindings.is_empty() {
            return Ok(());
        }
        let mut group = HashMap::default();
        for (v, _) in bindings {
            let id = self.alloc();
            group.insert(*v, id);
        }
        let mut layout: Vec<VarId> = Vec::new();
        for (_, lam) in bindings {
            for fv in &lam.free {
                if !group.contains_key(fv) && !layout.contains(fv) {
                    layout.push(*fv);
                }
            }
        }
        let mut first: Option<Value> = None;
        for (v, lam) in bindings {
            let id = group.get(v).copied().unwrap_or(FuncId(0));
            self.build_lambda(lam, id, &layout, group.clone(), Some(*v))?;
            let val = match first {
                None => {
                    let captures = layout
                        .iter()
                        .map(|fv| self.cap_src(cx, *fv, span))
                        .collect::<Result<_, _>>()?;
                    let c = cx.push(InstKind::Closure { func: id, captures }, lam.span);
                    first = Some(c);
                    c
                }
                Some(of) => cx.push(InstKind::ClosureRef { func: id, of }, lam.span),
            };
            cx.locals.insert(*v, val);
        }
        Ok(())
    }

    /// Builds the function for `lam` into slot `id`.
    fn build_lambda(
        &mut self,
        lam: &Lambda,
        id: FuncId,
        layout: &[VarId],
        group: HashMap<VarId, FuncId>,
        self_var: Option<VarId>,
    ) -> Result<(), OptError> {
        let name = if lam.name.is_empty() || lam.name == "lambda" {
            let (line, col) = self.lines.line_col(lam.span);
            format!("lambda@{line}:{col}")
        } else {
            lam.name.clone()
        };
        let params: Vec<String> = lam.params.iter().map(|p| self.var_name(*p)).collect();
        let rest = lam.rest.map(|r| self.var_name(r));
        let mut func = Function::new(id, name, params, rest, lam.span);
        func.num_captures = u16::try_from(layout.len()).map_err(|_| {
            OptError::Limit(format!("{} captures more than 65535 variables", lam.name))
        })?;
        let entry = func.entry;
        let mut locals = HashMap::default();
        let entry_params = func.block(entry).params.clone();
        for (var, val) in lam.params.iter().chain(lam.rest.iter()).zip(entry_params) {
            locals.insert(*var, val);
        }
        let captures = layout
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, i as u16))
            .collect();
        let mut cur = entry;
        let mut loop_header = None;
        if let Some(me) = self_var {
            if lam.rest.is_none() && has_self_tail_call(&lam.body, me, lam.params.len()) {
                // entry(p..) -> header(h..): self tail calls jump to the header.
                let header = func.add_block(lam.body.span);
                let entry_params = func.block(entry).params.clone();
                for var in &lam.params {
                    let h = func.add_param(header);
                    locals.insert(*var, h);
                }
                func.set_term(
                    entry,
                    Terminator::Jump {
                        dest: header,
                        args: entry_params,
                    },
                    lam.body.span,
                );
                cur = header;
                loop_header = Some(header);
            }
        }
        let mut cx = FnCtx {
            func,
            cur,
            locals,
            captures,
            group,
            self_var,
            loop_header,
        };
        self.build_tail(&mut cx, &lam.body)?;
        self.finish(id, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::function_text;
    use menai_compiler::ir::{Const, SourceFile, VarInfo};

    fn e(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }
    fn var(v: u32) -> Atom {
        Atom::Var(VarId(v))
    }
    fn lambda(name: &str, params: Vec<u32>, free: Vec<u32>, body: Expr) -> Lambda {
        Lambda {
            name: name.into(),
            params: params.into_iter().map(VarId).collect(),
            rest: None,
            free: free.into_iter().map(VarId).collect(),
            body: Box::new(body),
            span: Span::default(),
        }
    }

    /// (let ((k 1))
    ///   (letrec ((f (lambda (x) (g x)))
    ///            (g (lambda (y) (lambda (z) (f k)))))
    ///     (f 2)))
    /// vars: k=0 f=1 g=2 x=3 y=4 z=5
    #[test]
    fn letrec_group_shares_one_environment_and_rebuilds_siblings() {
        let f_body = e(ExprKind::Call {
            func: var(2),
            args: vec![var(3)],
        });
        let inner = lambda(
            "lambda",
            vec![5],
            vec![1, 0],
            e(ExprKind::Call {
                func: var(1),
                args: vec![var(0)],
            }),
        );
        let g_body = e(ExprKind::Lambda(inner));
        let group = vec![
            (VarId(1), lambda("f", vec![3], vec![2], f_body)),
            (VarId(2), lambda("g", vec![4], vec![1, 0], g_body)),
        ];
        let body = e(ExprKind::Let {
            var: VarId(0),
            value: Box::new(e(ExprKind::Atom(Atom::Const(Const::Int(1))))),
            body: Box::new(e(ExprKind::Letrec {
                bindings: group,
                body: Box::new(e(ExprKind::Call {
                    func: var(1),
                    args: vec![Atom::Const(Const::Int(2))],
                })),
            })),
        });
        let program = Program {
            files: vec![SourceFile {
                path: "t".into(),
                text: String::new(),
            }],
            vars: ["k", "f", "g", "x", "y", "z"]
                .iter()
                .map(|n| VarInfo {
                    name: n.to_string(),
                    span: Span::default(),
                })
                .collect(),
            structs: vec![],
            body,
        };
        let p = build_program(&program).unwrap();
        crate::verify::verify_program(&p, "build").unwrap();
        let texts: Vec<String> = p.functions.iter().map(function_text).collect();
        // main: one fresh environment holding k for the group, the sibling from it.
        assert!(texts[0].contains("v1 = closure fn1 [v0]"), "{}", texts[0]);
        assert!(
            texts[0].contains("v2 = closureref fn2 of v1"),
            "{}",
            texts[0]
        );
        assert!(texts[0].contains("tailcall v1(v3)"), "{}", texts[0]);
        // f calls its sibling g, rebuilt on demand, in tail position.
        assert_eq!(p.functions[1].num_captures, 1);
        assert!(
            texts[1].contains("= sibling fn2\n    tailcall v1(v0)"),
            "{}",
            texts[1]
        );
        // g's inner lambda captures f (rebuilt into a register) and k (straight from g's env).
        assert!(
            texts[2].contains("v1 = sibling fn1\n    v2 = closure fn3 [v1, env0]"),
            "{}",
            texts[2]
        );
        // The inner lambda has its own two-slot environment: f then k.
        assert_eq!(p.functions[3].num_captures, 2);
        assert!(
            texts[3].contains("v1 = getcap 0\n    v2 = getcap 1\n    tailcall v1(v2)"),
            "{}",
            texts[3]
        );
    }
}
