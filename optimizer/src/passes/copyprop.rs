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

// Tests: `optimizer/tests/filetests/copyprop_*.cfg` (CFG text in, the
// pass's output as a reviewed snapshot).
