//! The CFG verifier. It never panics; it returns every violation it finds,
//! each located at a function, block and (when relevant) instruction.
//!
//! Invariants checked:
//! 1. every block is reachable from the entry and ends in a real terminator;
//! 2. terminator targets are live blocks of the function; a `Jump` passes
//!    one argument per target parameter; `Branch` targets have no parameters;
//! 3. graph edges are exactly the terminators' successor lists;
//! 4. the entry block's parameters match the function's parameters;
//! 5. every value is below `num_values` and defined exactly once; every
//!    instruction belongs to at most one block;
//! 6. every use is dominated by its definition (within a block: defined
//!    earlier; jump arguments are uses at the end of the jumping block);
//! 7. function references are in range; closures give their function as
//!    many captures as it has; siblings share this function's environment
//!    size; capture slots and struct types are in range; primitives have their primitive
//!    arity (any count for `list`/`set`, an even count for `dict`) and are
//!    native; struct types are in range and get one argument per field.

use crate::cfg::{Block, CapSrc, DomOrder, Function, Inst, InstKind, Terminator, Value};
use menai_bytecode::builtins::Impl;
use menai_bytecode::Builtin;
use menai_compiler::ir::Const;
use std::fmt;

/// Where in a function a violation is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Function,
    Block(Block),
    Inst(Block, Inst),
    Term(Block),
}

/// One violated invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    pub function: String,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "function {}", self.function)?;
        match &self.location {
            Location::Function => {}
            Location::Block(b) => write!(f, ", {b}")?,
            Location::Inst(b, i) => write!(f, ", {b}, {i}")?,
            Location::Term(b) => write!(f, ", {b} terminator")?,
        }
        write!(f, ": {}", self.message)
    }
}

/// What the verifier needs to know about the rest of the program.
#[derive(Clone, Copy, Debug)]
pub struct ProgramInfo<'a> {
    /// Environment size of each function (its length is the function count).
    pub captures: &'a [u16],
    /// Field count of each struct type.
    pub struct_fields: &'a [usize],
}

/// Checks every invariant listed in the module doc.
pub fn verify_function(f: &Function, info: ProgramInfo<'_>) -> Result<(), Vec<VerifyError>> {
    let mut errs = Vec::new();
    let mut err = |location: Location, message: String| {
        errs.push(VerifyError {
            function: f.name.clone(),
            location,
            message,
        });
    };
    if !f.contains(f.entry) {
        err(
            Location::Function,
            format!("entry block {} does not exist", f.entry),
        );
        return Err(errs);
    }
    let nparams = f.param_names.len() + usize::from(f.rest_name.is_some());
    if f.block(f.entry).params.len() != nparams {
        err(
            Location::Block(f.entry),
            format!(
                "entry block has {} parameters, function has {nparams}",
                f.block(f.entry).params.len()
            ),
        );
    }
    let rpo = f.reverse_postorder();
    // Tables indexed by block, value and instruction number.
    let mut reachable = vec![false; f.block_bound()];
    for b in &rpo {
        reachable[b.index()] = true;
    }
    let is_reachable = |b: Block| reachable.get(b.index()).copied().unwrap_or(false);
    // Definitions.
    let mut def: Vec<Option<(Block, Option<usize>)>> = vec![None; f.num_values as usize];
    let mut inst_owner: Vec<Option<Block>> = vec![None; f.insts.len()];
    for b in f.blocks() {
        if !is_reachable(b) {
            err(
                Location::Block(b),
                "block is unreachable from the entry".into(),
            );
        }
        let data = f.block(b);
        for &p in &data.params {
            if p.0 >= f.num_values {
                err(Location::Block(b), format!("parameter {p} is out of range"));
            }
            if def
                .get_mut(p.0 as usize)
                .and_then(|d| d.replace((b, None)))
                .is_some()
            {
                err(Location::Block(b), format!("{p} is defined more than once"));
            }
        }
        for (pos, &i) in data.insts.iter().enumerate() {
            if i.0 as usize >= f.insts.len() {
                err(Location::Block(b), format!("{i} does not exist"));
                continue;
            }
            if let Some(other) = inst_owner.get_mut(i.0 as usize).and_then(|o| o.replace(b)) {
                err(
                    Location::Inst(b, i),
                    format!("{i} is also listed in {other}"),
                );
            }
            let r = f.inst(i).result;
            if r.0 >= f.num_values {
                err(Location::Inst(b, i), format!("result {r} is out of range"));
            }
            if def
                .get_mut(r.0 as usize)
                .and_then(|d| d.replace((b, Some(pos))))
                .is_some()
            {
                err(
                    Location::Inst(b, i),
                    format!("{r} is defined more than once"),
                );
            }
        }
    }
    let order = DomOrder::new(f, &rpo);
    let dominates = |a: Block, b: Block| order.dominates(a, b);
    let check_use =
        |v: Value, b: Block, pos: usize, loc: Location, errs: &mut Vec<VerifyError>| match def
            .get(v.0 as usize)
            .copied()
            .flatten()
        {
            None => errs.push(VerifyError {
                function: f.name.clone(),
                location: loc,
                message: format!("use of undefined value {v}"),
            }),
            Some((db, dpos)) => {
                let ok = if db == b {
                    match dpos {
                        None => true,
                        Some(d) => d < pos,
                    }
                } else {
                    is_reachable(b) && dominates(db, b)
                };
                if !ok {
                    errs.push(VerifyError {
                        function: f.name.clone(),
                        location: loc,
                        message: format!("use of {v} is not dominated by its definition in {db}"),
                    });
                }
            }
        };
    for b in f.blocks() {
        let data = f.block(b);
        for (pos, &i) in data.insts.iter().enumerate() {
            if i.0 as usize >= f.insts.len() {
                continue;
            }
            let inst = f.inst(i);
            for v in inst.kind.uses() {
                check_use(v, b, pos, Location::Inst(b, i), &mut errs);
            }
            if let Some(m) = check_inst_shape(&inst.kind, f, info) {
                errs.push(VerifyError {
                    function: f.name.clone(),
                    location: Location::Inst(b, i),
                    message: m,
                });
            }
        }
        let end = data.insts.len();
        for v in data.term.uses() {
            check_use(v, b, end, Location::Term(b), &mut errs);
        }
        let mut term_err = |m: String| {
            errs.push(VerifyError {
                function: f.name.clone(),
                location: Location::Term(b),
                message: m,
            });
        };
        match &data.term {
            Terminator::Unterminated => term_err("block has no terminator".into()),
            Terminator::Jump { dest, args } => {
                if !f.contains(*dest) {
                    term_err(format!("jump to missing block {dest}"));
                } else if f.block(*dest).params.len() != args.len() {
                    term_err(format!(
                        "jump passes {} arguments to {dest}, which has {} parameters",
                        args.len(),
                        f.block(*dest).params.len()
                    ));
                }
            }
            Terminator::Branch {
                then_dest,
                else_dest,
                ..
            } => {
                for d in [then_dest, else_dest] {
                    if !f.contains(*d) {
                        term_err(format!("branch to missing block {d}"));
                    } else if !f.block(*d).params.is_empty() {
                        term_err(format!("branch target {d} has parameters"));
                    }
                }
            }
            _ => {}
        }
        // Edges mirror the terminator.
        let mut succ: Vec<Block> = data
            .term
            .successors()
            .into_iter()
            .filter(|s| f.contains(*s))
            .collect();
        let mut edges: Vec<Block> = f
            .graph
            .neighbors_directed(b.0, petgraph::Direction::Outgoing)
            .map(Block)
            .collect();
        succ.sort();
        edges.sort();
        if succ != edges {
            term_err(format!(
                "graph edges {edges:?} do not match the terminator's successors {succ:?}"
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

fn check_inst_shape(kind: &InstKind, f: &Function, info: ProgramInfo<'_>) -> Option<String> {
    let env = f.num_captures;
    match kind {
        InstKind::GetCap(s) if *s >= env => Some(format!(
            "capture slot {s} out of range (environment size {env})"
        )),
        InstKind::Const(Const::StructType(t)) if *t as usize >= info.struct_fields.len() => {
            Some(format!("struct type {t} does not exist"))
        }
        InstKind::Closure { func, captures } => {
            let Some(&n) = info.captures.get(func.0 as usize) else {
                return Some(format!("closure of missing function {func}"));
            };
            if n as usize != captures.len() {
                return Some(format!(
                    "closure of {func} gives {} captures, it needs {n}",
                    captures.len()
                ));
            }
            captures.iter().find_map(|c| match c {
                CapSrc::Env(s) if *s >= env => Some(format!(
                    "capture slot {s} out of range (environment size {env})"
                )),
                _ => None,
            })
        }
        InstKind::Sibling(func) | InstKind::ClosureRef { func, .. } => {
            match info.captures.get(func.0 as usize) {
                None => Some(format!("reference to missing function {func}")),
                Some(&n) if matches!(kind, InstKind::Sibling(_)) && n != env => Some(format!(
                    "sibling {func} has {n} captures, this function has {env}"
                )),
                Some(_) => None,
            }
        }
        InstKind::Prim { op, args } => {
            let bi = op.info();
            if bi.implementation != Impl::Native {
                return Some(format!("{} is not a native primitive", bi.name));
            }
            match op {
                Builtin::List | Builtin::Set => None,
                Builtin::Dict if args.len() % 2 == 0 => None,
                Builtin::Dict => Some("dict with an odd number of arguments".into()),
                _ if args.len() != bi.prim_arity as usize || bi.prim_arity == 0 => Some(format!(
                    "{} takes {} operands, given {}",
                    bi.name,
                    bi.prim_arity,
                    args.len()
                )),
                _ => None,
            }
        }
        InstKind::MakeStruct { ty, args } => match info.struct_fields.get(*ty as usize) {
            None => Some(format!("struct type {ty} does not exist")),
            Some(&n) if n != args.len() => Some(format!(
                "struct type {ty} has {n} fields, given {}",
                args.len()
            )),
            Some(_) => None,
        },
        _ => None,
    }
}

/// Verifies every function of a program.
pub fn verify_program(p: &crate::cfg::CfgProgram, after: &str) -> Result<(), crate::OptError> {
    let fields: Vec<usize> = p.structs.iter().map(|s| s.fields.len()).collect();
    let captures: Vec<u16> = p.functions.iter().map(|f| f.num_captures).collect();
    let info = ProgramInfo {
        captures: &captures,
        struct_fields: &fields,
    };
    let mut errors = Vec::new();
    let mut listing = String::new();
    for f in &p.functions {
        if let Err(e) = verify_function(f, info) {
            listing.push_str(&crate::dump::function_text_with_errors(f, &e));
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(crate::OptError::Verify {
            after: after.to_string(),
            errors,
            listing,
        })
    }
}

/// Formats verifier errors one per line.
pub fn render_errors(errs: &[VerifyError]) -> String {
    errs.iter().map(|e| format!("{e}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use menai_compiler::ir::{Const, Span};

    const INFO: ProgramInfo<'static> = ProgramInfo {
        captures: &[0],
        struct_fields: &[],
    };

    #[test]
    fn accepts_a_simple_function_and_rejects_bad_ones() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["x".into()], None, sp);
        let e = f.entry;
        let x = f.block(e).params[0];
        let one = f.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        let s = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x, one],
            },
            sp,
        );
        f.set_term(e, Terminator::Return(s), sp);
        assert_eq!(verify_function(&f, INFO), Ok(()));

        // A use before its definition.
        let mut g = f.clone();
        let insts = g.block(e).insts.clone();
        g.block_mut(e).insts = vec![insts[1], insts[0]];
        let errs = verify_function(&g, INFO).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].location, Location::Inst(e, insts[1]));
        assert!(errs[0].message.contains("not dominated"), "{}", errs[0]);

        // Wrong primitive arity and a missing terminator.
        let mut h = f.clone();
        let b = h.add_block(sp);
        h.set_term(
            e,
            Terminator::Jump {
                dest: b,
                args: vec![],
            },
            sp,
        );
        h.push_inst(
            b,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x],
            },
            sp,
        );
        let errs = verify_function(&h, INFO).unwrap_err();
        let text = render_errors(&errs);
        assert!(
            text.contains("integer+ takes 2 operands, given 1"),
            "{text}"
        );
        assert!(text.contains("no terminator"), "{text}");
    }

    #[test]
    fn jump_arity_and_branch_params_are_checked() {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "f".into(), vec!["c".into()], None, sp);
        let e = f.entry;
        let c = f.block(e).params[0];
        let t = f.add_block(sp);
        let j = f.add_block(sp);
        f.add_param(t);
        f.set_term(
            e,
            Terminator::Branch {
                cond: c,
                then_dest: t,
                else_dest: j,
                origin: menai_bytecode::CondOrigin::If,
            },
            sp,
        );
        f.set_term(
            t,
            Terminator::Jump {
                dest: j,
                args: vec![c],
            },
            sp,
        );
        f.set_term(j, Terminator::Return(c), sp);
        let text = render_errors(&verify_function(&f, INFO).unwrap_err());
        assert!(text.contains("has parameters"), "{text}");
        assert!(text.contains("passes 1 arguments"), "{text}");
    }
}
