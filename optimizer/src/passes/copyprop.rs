//! Copy propagation.
//!
//! Rewrites every use of `v = copy x` to use `x` and deletes the copy; and
//! removes a block parameter whose incoming arguments are all one value `x`
//! (ignoring the parameter passed back to itself), using `x` instead.
//! Sound because SSA values never change: a copy is the same value, and a
//! parameter that can only receive `x` is `x` (whose definition dominates
//! every predecessor that passes it, hence the block). Entry-block
//! parameters are the function's parameters and are never removed.

use super::Changed;
use crate::cfg::{Function, InstKind, Terminator, Value};
use rustc_hash::FxHashMap as HashMap;

pub const DOC: &str = "replace copies and single-valued block parameters by their source";

fn resolve(map: &HashMap<Value, Value>, mut v: Value) -> Value {
    let mut steps = 0;
    while let Some(&w) = map.get(&v) {
        if w == v || steps > map.len() {
            break;
        }
        v = w;
        steps += 1;
    }
    v
}

pub fn run(f: &mut Function) -> Changed {
    let mut map: HashMap<Value, Value> = HashMap::default();
    let mut count = 0;
    for b in f.blocks() {
        let insts = f.block(b).insts.clone();
        let mut keep = Vec::with_capacity(insts.len());
        for i in insts {
            if let InstKind::Copy(x) = f.inst(i).kind {
                map.insert(f.inst(i).result, x);
                count += 1;
            } else {
                keep.push(i);
            }
        }
        f.block_mut(b).insts = keep;
    }
    // Single-valued parameters, to a fixed point (removing one may make another trivial).
    loop {
        let mut progress = false;
        for b in f.blocks() {
            if b == f.entry || f.block(b).params.is_empty() {
                continue;
            }
            let preds = f.preds(b);
            let jumps_here = preds
                .iter()
                .all(|&p| matches!(&f.block(p).term, Terminator::Jump { dest, .. } if *dest == b));
            if preds.is_empty() || !jumps_here {
                continue;
            }
            let params = f.block(b).params.clone();
            for k in (0..params.len()).rev() {
                let p = params[k];
                let mut only: Option<Value> = None;
                let mut trivial = true;
                for &pred in &preds {
                    if let Terminator::Jump { args, .. } = &f.block(pred).term {
                        let a = resolve(&map, args.get(k).copied().unwrap_or(p));
                        if a == p {
                            continue;
                        }
                        match only {
                            None => only = Some(a),
                            Some(o) if o == a => {}
                            Some(_) => trivial = false,
                        }
                    }
                }
                let Some(x) = only else { continue };
                if !trivial {
                    continue;
                }
                map.insert(p, x);
                f.block_mut(b).params.remove(k);
                for &pred in &preds {
                    if let Terminator::Jump { args, .. } = &mut f.block_mut(pred).term {
                        if k < args.len() {
                            args.remove(k);
                        }
                    }
                }
                count += 1;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    f.replace_uses(&map);
    Changed(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use crate::dump::function_text;
    use menai_bytecode::Builtin;
    use menai_compiler::ir::{Const, Span};

    #[test]
    fn removes_copies_and_trivial_params() {
        let sp = Span::default();
        let mut f = Function::new(
            FuncId(0),
            "f".into(),
            vec!["c".into(), "x".into()],
            None,
            sp,
        );
        let e = f.entry;
        let (c, x) = (f.block(e).params[0], f.block(e).params[1]);
        let y = f.push_inst(e, InstKind::Copy(x), sp);
        let (t, el, j) = (f.add_block(sp), f.add_block(sp), f.add_block(sp));
        let p = f.add_param(j);
        f.set_term(
            e,
            Terminator::Branch {
                cond: c,
                then_dest: t,
                else_dest: el,
                origin: menai_bytecode::CondOrigin::If,
            },
            sp,
        );
        f.set_term(
            t,
            Terminator::Jump {
                dest: j,
                args: vec![y],
            },
            sp,
        );
        f.set_term(
            el,
            Terminator::Jump {
                dest: j,
                args: vec![x],
            },
            sp,
        );
        let one = f.push_inst(j, InstKind::Const(Const::Int(1)), sp);
        let s = f.push_inst(
            j,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![p, one],
            },
            sp,
        );
        f.set_term(j, Terminator::Return(s), sp);
        assert_eq!(run(&mut f), Changed(2));
        let text = function_text(&f);
        assert!(!text.contains("copy"), "{text}");
        assert!(text.contains("prim integer+ v1, v"), "{text}");
        assert!(text.contains(&format!("{j}:")), "{text}");
        assert_eq!(run(&mut f), Changed(0));
        crate::verify::verify_function(
            &f,
            crate::verify::ProgramInfo {
                captures: &[0],
                struct_fields: &[],
            },
        )
        .unwrap();
    }

    #[test]
    fn keeps_params_with_different_inputs_and_entry_params() {
        let sp = Span::default();
        let mut f = Function::new(
            FuncId(0),
            "f".into(),
            vec!["c".into(), "x".into()],
            None,
            sp,
        );
        let e = f.entry;
        let (c, x) = (f.block(e).params[0], f.block(e).params[1]);
        let (t, el, j) = (f.add_block(sp), f.add_block(sp), f.add_block(sp));
        let p = f.add_param(j);
        f.set_term(
            e,
            Terminator::Branch {
                cond: c,
                then_dest: t,
                else_dest: el,
                origin: menai_bytecode::CondOrigin::If,
            },
            sp,
        );
        f.set_term(
            t,
            Terminator::Jump {
                dest: j,
                args: vec![x],
            },
            sp,
        );
        f.set_term(
            el,
            Terminator::Jump {
                dest: j,
                args: vec![c],
            },
            sp,
        );
        f.set_term(j, Terminator::Return(p), sp);
        assert_eq!(run(&mut f), Changed(0));
        assert_eq!(f.block(j).params, vec![p]);
    }
}
