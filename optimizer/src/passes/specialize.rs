//! Specialization of functions on a known function argument: a known call
//! `g(.., f, ..)` of a capture-free function `g`, whose argument `f` is a
//! closure of a known function `F` built in the caller (`f = closure F
//! [c1 .. cm]`) or a builtin value, calls instead a clone `g<F>` of `g`
//! that takes `F`'s captures `c1 .. cm` in place of `f` and rebuilds
//! `closure F [c1 .. cm]` (or the builtin) on entry. Inside the clone the
//! argument is a known closure, so the other passes turn its calls into
//! known calls (`lambda-lift`) and inline it (`inline-once`): a loop over a
//! list that calls its function argument (`map-list`, `fold-list`, a
//! user's own) pays no call per element for a lambda written at the call.
//! Clones are shared by every call with the same callee, argument position
//! and function (`g<F>` calling itself with its own rebuilt closure calls
//! `g<F>`), so recursion specializes once.
//!
//! Only where the argument cannot be observed as a value: inside `g`, the
//! parameter is only called, passed on to a known call in a position that
//! is itself only called, passed through a jump to a block parameter that
//! is, or captured by a closure whose function only calls that capture.
//! (A rebuilt closure is a new object: `function=?` could tell it from the
//! caller's, so the parameter must not escape.) Clones are bounded: `g`
//! must be small, a function gets at most [`MAX_CLONES_OF`] clones, and the
//! whole program at most [`MAX_CLONES`].
//!
//! Sound because building a closure has no effect and its identity is not
//! observed, and `closure F [c1 .. cm]` built in the clone from the same
//! capture values behaves exactly as the caller's closure when called.

use super::Changed;
use crate::cfg::{
    CapSrc, CfgProgram, FuncId, Function, Inst, InstKind, KnownFunction as Known, Specialization,
    Terminator, Value,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub const DOC: &str = "clone a function for a known closure or builtin argument that it only \
     calls, passing the closure's captures instead";

/// Largest function (in instructions) that is cloned.
const MAX_SIZE: usize = 400;
/// Most clones of one function.
const MAX_CLONES_OF: usize = 16;
/// Most clones in one program.
const MAX_CLONES: usize = 256;

/// One call to specialize: in function `caller`, the call at `site`
/// (an instruction, or the block's tail call) of `callee`, argument `arg`.
struct Candidate {
    caller: usize,
    site: Site,
    callee: FuncId,
    arg: usize,
    known: Known,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Site {
    Call(Inst),
    TailCall(crate::cfg::Block),
}

pub fn run(p: &mut CfgProgram, touched: &mut [bool]) -> Changed {
    if p.clones.len() >= MAX_CLONES {
        return Changed(0);
    }
    let candidates = find_candidates(p);
    // A clone no closure refers to any more may have been inlined into its
    // one caller and left as a stub (`inline-once`): it is not reused.
    let mut referenced = vec![false; p.functions.len()];
    for (g, sites) in p.closure_uses().sites.iter().enumerate() {
        referenced[g] = !sites.is_empty();
    }
    let mut count = 0;
    for c in candidates {
        let existing = p
            .clones
            .iter()
            .rev()
            .find(|s| (s.of, s.arg, s.known) == (c.callee, c.arg, c.known))
            .map(|s| s.clone)
            .filter(|id| referenced.get(id.0 as usize).copied().unwrap_or(true));
        let clone = match existing {
            Some(id) => id,
            None => {
                let of_this = p.clones.iter().filter(|s| s.of == c.callee).count();
                if of_this >= MAX_CLONES_OF || p.clones.len() >= MAX_CLONES {
                    continue;
                }
                let id = make_clone(p, c.callee, c.arg, c.known);
                p.clones.push(Specialization {
                    of: c.callee,
                    arg: c.arg,
                    known: c.known,
                    clone: id,
                });
                id
            }
        };
        rewrite_site(&mut p.functions[c.caller], c.site, c.arg, c.known, clone);
        if let Some(t) = touched.get_mut(c.caller) {
            *t = true;
        }
        count += 1;
    }
    Changed(count)
}

/// `g<F>` (or `g<builtin>`): the clone's name in dumps.
fn clone_name(p: &CfgProgram, g: FuncId, known: Known) -> String {
    let base = &p.functions[g.0 as usize].name;
    match known {
        Known::Closure(f) => format!("{base}<{}>", p.functions[f.0 as usize].name),
        Known::Builtin(b) => format!("{base}<{}>", b.name()),
    }
}

/// Every call of a capture-free known function with a known function
/// argument that the callee only calls.
fn find_candidates(p: &CfgProgram) -> Vec<Candidate> {
    let mut escape = EscapeCache::default();
    let mut out = Vec::new();
    for (fi, f) in p.functions.iter().enumerate() {
        let defs = f.defining_insts();
        let def = |v: Value| defs.get(&v).map(|&i| &f.inst(i).kind);
        let mut consider = |site: Site, func: Value, args: &[Value]| {
            let Some(InstKind::Closure { func: g, captures }) = def(func) else {
                return;
            };
            if !captures.is_empty() {
                return;
            }
            let Some(callee) = p.functions.get(g.0 as usize) else {
                return;
            };
            if callee.num_captures != 0
                || callee.rest_name.is_some()
                || callee.param_names.len() != args.len()
                || callee.id == p.entry
                || size(callee) > MAX_SIZE
            {
                return;
            }
            for (k, &a) in args.iter().enumerate() {
                let known = match def(a) {
                    Some(InstKind::Closure { func, .. }) => Known::Closure(*func),
                    Some(InstKind::Builtin(b)) => Known::Builtin(*b),
                    _ => continue,
                };
                let param = callee.block(callee.entry).params[k];
                if escape.only_called(p, *g, param) {
                    out.push(Candidate {
                        caller: fi,
                        site,
                        callee: *g,
                        arg: k,
                        known,
                    });
                    return; // one argument per call and run
                }
            }
        };
        for b in f.blocks() {
            for &i in &f.block(b).insts {
                if let InstKind::Call { func, args } = &f.inst(i).kind {
                    consider(Site::Call(i), *func, args);
                }
            }
            if let Terminator::TailCall { func, args } = &f.block(b).term {
                consider(Site::TailCall(b), *func, args);
            }
        }
    }
    out
}

fn size(f: &Function) -> usize {
    f.blocks().iter().map(|&b| f.block(b).insts.len() + 1).sum()
}

/// "This value is only called" answers (see the module doc).
#[derive(Default)]
struct EscapeCache {
    /// Values known to escape. (Only these are remembered: a "no" holds
    /// whatever was assumed on the way, a "yes" may rest on an assumption
    /// about a question still open.)
    escapes: HashSet<(FuncId, Value)>,
    /// Questions being answered (assumed yes: a value passed around a
    /// recursion is only called if every other use is a call).
    pending: HashSet<(FuncId, Value)>,
}

/// Most questions open at once (deeper chains are refused).
const MAX_PENDING: usize = 64;

impl EscapeCache {
    fn only_called(&mut self, p: &CfgProgram, g: FuncId, v: Value) -> bool {
        let key = (g, v);
        if self.escapes.contains(&key) {
            return false;
        }
        if self.pending.contains(&key) {
            return true;
        }
        if self.pending.len() >= MAX_PENDING {
            return false;
        }
        self.pending.insert(key);
        let answer = self.check(p, g, v);
        self.pending.remove(&key);
        if !answer {
            self.escapes.insert(key);
        }
        answer
    }

    fn check(&mut self, p: &CfgProgram, g: FuncId, v: Value) -> bool {
        let Some(f) = p.functions.get(g.0 as usize) else {
            return false;
        };
        let defs = f.defining_insts();
        // A known callee of a call: a capture-free closure of a function
        // built in `f`, called with its exact parameter count.
        let known_callee = |func: Value, n: usize| -> Option<&Function> {
            let &i = defs.get(&func)?;
            match &f.inst(i).kind {
                InstKind::Closure { func: h, captures } if captures.is_empty() => p
                    .functions
                    .get(h.0 as usize)
                    .filter(|h| h.param_names.len() == n && h.rest_name.is_none()),
                _ => None,
            }
        };
        let mut passes: Vec<(FuncId, Value)> = Vec::new();
        let call_ok = |func: Value, args: &[Value], passes: &mut Vec<(FuncId, Value)>| {
            for (j, &a) in args.iter().enumerate() {
                if a != v {
                    continue;
                }
                match known_callee(func, args.len()) {
                    Some(h) if func != v => passes.push((h.id, h.block(h.entry).params[j])),
                    _ => return false,
                }
            }
            true
        };
        for b in f.blocks() {
            let data = f.block(b);
            for &i in &data.insts {
                match &f.inst(i).kind {
                    InstKind::Call { func, args } => {
                        if !call_ok(*func, args, &mut passes) {
                            return false;
                        }
                    }
                    InstKind::Closure { func: h, captures } => {
                        for (s, c) in captures.iter().enumerate() {
                            if *c != CapSrc::Value(v) {
                                continue;
                            }
                            let Some(hf) = p.functions.get(h.0 as usize) else {
                                return false;
                            };
                            // Every read of that slot must be only called.
                            for hb in hf.blocks() {
                                for &hi in &hf.block(hb).insts {
                                    if hf.inst(hi).kind == InstKind::GetCap(s as u16) {
                                        passes.push((*h, hf.inst(hi).result));
                                    }
                                }
                            }
                            if uses_env_otherwise(hf, s as u16) {
                                return false;
                            }
                        }
                    }
                    kind => {
                        if kind.uses().contains(&v) {
                            return false;
                        }
                    }
                }
            }
            match &data.term {
                Terminator::TailCall { func, args } => {
                    if !call_ok(*func, args, &mut passes) {
                        return false;
                    }
                }
                Terminator::Jump { dest, args } => {
                    for (j, &a) in args.iter().enumerate() {
                        if a == v {
                            match f.block(*dest).params.get(j) {
                                Some(&bp) => passes.push((g, bp)),
                                None => return false,
                            }
                        }
                    }
                }
                term => {
                    if term.uses().contains(&v) {
                        return false;
                    }
                }
            }
        }
        passes
            .into_iter()
            .all(|(h, w)| (h, w) == (g, v) || self.only_called(p, h, w))
    }
}

/// Whether `f` reads environment slot `s` other than by `getcap` (a
/// closure copying it, or a shared environment: siblings).
fn uses_env_otherwise(f: &Function, s: u16) -> bool {
    f.blocks().iter().any(|&b| {
        f.block(b).insts.iter().any(|&i| match &f.inst(i).kind {
            InstKind::Closure { captures, .. } => captures.contains(&CapSrc::Env(s)),
            InstKind::Sibling(_) => true,
            _ => false,
        })
    })
}

/// Appends the clone `g<known at arg>` to the program; returns its id.
fn make_clone(p: &mut CfgProgram, g: FuncId, arg: usize, known: Known) -> FuncId {
    let id = FuncId(p.functions.len() as u32);
    let name = clone_name(p, g, known);
    let ncaps = match known {
        Known::Closure(f) => p.functions[f.0 as usize].num_captures as usize,
        Known::Builtin(_) => 0,
    };
    let mut c = p.functions[g.0 as usize].clone();
    c.id = id;
    c.name = name;
    let entry = c.entry;
    let old = c.block(entry).params[arg];
    let new: Vec<Value> = (0..ncaps).map(|_| c.new_value()).collect();
    let mut params = c.block(entry).params.clone();
    params.splice(arg..=arg, new.iter().copied());
    c.block_mut(entry).params = params;
    let old_name = c.param_names[arg].clone();
    c.param_names
        .splice(arg..=arg, (0..ncaps).map(|j| format!("{old_name}.cap{j}")));
    let span = c.span;
    let kind = match known {
        Known::Closure(f) => InstKind::Closure {
            func: f,
            captures: new.iter().map(|&v| CapSrc::Value(v)).collect(),
        },
        Known::Builtin(b) => InstKind::Builtin(b),
    };
    let (inst, rebuilt) = c.new_inst(kind, span);
    c.block_mut(entry).insts.insert(0, inst);
    // A jump back to the entry passes the captures through.
    for b in c.blocks() {
        if let Terminator::Jump { dest, args } = c.block(b).term.clone() {
            if dest == entry {
                let mut all = args;
                all.splice(arg..=arg, new.iter().copied());
                let span = c.block(b).term_span;
                c.set_term(b, Terminator::Jump { dest, args: all }, span);
            }
        }
    }
    let mut map = HashMap::default();
    map.insert(old, rebuilt);
    c.replace_uses(&map);
    p.functions.push(c);
    id
}

/// Makes the call at `site` of `f` call `clone`, passing the captures of
/// its argument `arg` (a closure built in `f`) in its place.
fn rewrite_site(f: &mut Function, site: Site, arg: usize, known: Known, clone: FuncId) {
    let defs = f.defining_insts();
    let (block, args) = match site {
        Site::Call(i) => match &f.inst(i).kind {
            InstKind::Call { args, .. } => (None, args.clone()),
            _ => return,
        },
        Site::TailCall(b) => match &f.block(b).term {
            Terminator::TailCall { args, .. } => (Some(b), args.clone()),
            _ => return,
        },
    };
    let span = match site {
        Site::Call(i) => f.inst(i).span,
        Site::TailCall(b) => f.block(b).term_span,
    };
    let mut before: Vec<Inst> = Vec::new();
    let caps: Vec<Value> = match known {
        Known::Builtin(_) => vec![],
        Known::Closure(_) => {
            let srcs = match defs.get(&args[arg]).map(|&i| f.inst(i).kind.clone()) {
                Some(InstKind::Closure { captures, .. }) => captures,
                _ => return,
            };
            srcs.into_iter()
                .map(|c| match c {
                    CapSrc::Value(v) => v,
                    CapSrc::Env(s) => {
                        let (i, v) = f.new_inst(InstKind::GetCap(s), span);
                        before.push(i);
                        v
                    }
                })
                .collect()
        }
    };
    let (ci, callee) = f.new_inst(
        InstKind::Closure {
            func: clone,
            captures: vec![],
        },
        span,
    );
    before.push(ci);
    let mut new_args = args;
    new_args.splice(arg..=arg, caps);
    match (site, block) {
        (Site::Call(i), _) => {
            let Some(b) = f
                .blocks()
                .into_iter()
                .find(|&b| f.block(b).insts.contains(&i))
            else {
                return;
            };
            let insts = &mut f.block_mut(b).insts;
            let at = insts.iter().position(|&x| x == i).unwrap_or(0);
            insts.splice(at..at, before);
            f.inst_mut(i).kind = InstKind::Call {
                func: callee,
                args: new_args,
            };
        }
        (Site::TailCall(_), Some(b)) => {
            f.block_mut(b).insts.extend(before);
            let span = f.block(b).term_span;
            f.set_term(
                b,
                Terminator::TailCall {
                    func: callee,
                    args: new_args,
                },
                span,
            );
        }
        _ => {}
    }
}
