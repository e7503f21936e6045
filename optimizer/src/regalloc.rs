//! Liveness, register allocation and out-of-SSA.
//!
//! **Liveness** is computed per value by walking backwards from each use to
//! its definition (SSA makes this exact and cheap). Jump arguments are uses
//! at the end of the jumping block; block parameters are definitions at the
//! start of their block.
//!
//! **Allocation** visits blocks in reverse postorder (every block after its
//! dominators) and gives each value, at its definition, a register not held
//! by any live value: the hinted one when it is free, else the lowest. On
//! SSA this greedy colouring needs exactly as many registers as the peak of
//! simultaneously live values; windows for calls add to that only where
//! operands cannot sit in place.
//!
//! **Windows.** `call`, `tailcall`, `callb` and `make*` read consecutive
//! registers. A value whose last use is such an operand is *hinted* to its
//! slot (for `call`, slot 0 is the number of values live across the call),
//! so it is usually computed in place; otherwise a parallel move fills the
//! window just before the instruction. For `call` the window starts above
//! every register live across the call (the callee clobbers everything from
//! A+1 up).
//!
//! **Out of SSA.** A jump becomes a parallel move from argument registers
//! to the target's parameter registers; parameters prefer the register of
//! an incoming argument, and self tail calls (jumps to the entry) hint
//! their arguments to the parameter registers, so unchanged arguments move
//! nothing. Parallel moves are sequentialized with cycles broken through a
//! free register.
//!
//! **Last use.** Every lowered read carries a flag: the register's content
//! is not read again before being overwritten (the VM may move it out).

use crate::cfg::{Block, CapSrc, Function, Inst, InstKind, Terminator, Value};
use crate::emit::typed_op;
use crate::OptError;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

/// One register move; `last_use` = the source register is dead afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub dst: u16,
    pub src: u16,
    pub last_use: bool,
}

/// How one instruction or terminator is lowered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lowered {
    /// Executed, in order, just before the instruction.
    pub moves: Vec<Move>,
    /// First register of the operand window (`call`/`tailcall` A,
    /// `callb` C, `make*` B); 0 when the instruction has no window.
    pub window: u16,
    /// The registers the instruction reads, in operand order.
    pub reads: Vec<u16>,
    /// For each entry of `reads`: dead afterwards.
    pub read_dead: Vec<bool>,
}

/// The result of register allocation for one function.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Register of each value (`u16::MAX` for values never defined).
    pub regs: Vec<u16>,
    /// Blocks in emission order (reverse postorder).
    pub order: Vec<Block>,
    pub insts: HashMap<Inst, Lowered>,
    pub terms: HashMap<Block, Lowered>,
    pub num_registers: u16,
}

impl Allocation {
    pub fn reg(&self, v: Value) -> Result<u16, OptError> {
        match self.regs.get(v.0 as usize) {
            Some(&r) if r != u16::MAX => Ok(r),
            _ => Err(OptError::Internal(format!("{v} has no register"))),
        }
    }
}

/// Live-in and live-out sets of every reachable block.
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    pub live_in: HashMap<Block, HashSet<Value>>,
    pub live_out: HashMap<Block, HashSet<Value>>,
}

/// Computes liveness by exploring paths backwards from each use.
pub fn liveness(f: &Function, rpo: &[Block]) -> Liveness {
    let mut def_block: HashMap<Value, Block> = HashMap::default();
    for &b in rpo {
        for &p in &f.block(b).params {
            def_block.insert(p, b);
        }
        for &i in &f.block(b).insts {
            def_block.insert(f.inst(i).result, b);
        }
    }
    let reachable: HashSet<Block> = rpo.iter().copied().collect();
    let mut lv = Liveness::default();
    for &b in rpo {
        lv.live_in.entry(b).or_default();
        lv.live_out.entry(b).or_default();
    }
    for &b in rpo {
        let data = f.block(b);
        let mut uses: Vec<Value> = data
            .insts
            .iter()
            .flat_map(|&i| f.inst(i).kind.uses())
            .collect();
        uses.extend(data.term.uses());
        for v in uses {
            if def_block.get(&v) == Some(&b) {
                continue;
            }
            let mut stack = vec![b];
            while let Some(x) = stack.pop() {
                if !lv.live_in.entry(x).or_default().insert(v) {
                    continue;
                }
                for p in f.preds(x) {
                    if !reachable.contains(&p) {
                        continue;
                    }
                    lv.live_out.entry(p).or_default().insert(v);
                    if def_block.get(&v) != Some(&p) {
                        stack.push(p);
                    }
                }
            }
        }
    }
    lv
}

/// Values an instruction reads that are dead after it, per instruction and
/// per terminator, plus the number of values live across each instruction.
struct Kills {
    insts: HashMap<Inst, Vec<Value>>,
    terms: HashMap<Block, Vec<Value>>,
    /// Values live across each `call` (live after it, result excluded).
    across: HashMap<Inst, Vec<Value>>,
}

fn dedup(mut v: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::default();
    v.retain(|x| seen.insert(*x));
    v
}

fn kills(f: &Function, rpo: &[Block], lv: &Liveness) -> Kills {
    let mut k = Kills {
        insts: HashMap::default(),
        terms: HashMap::default(),
        across: HashMap::default(),
    };
    for &b in rpo {
        let data = f.block(b);
        let mut live: HashSet<Value> = lv.live_out.get(&b).cloned().unwrap_or_default();
        let tu = dedup(data.term.uses());
        k.terms.insert(
            b,
            tu.iter().copied().filter(|v| !live.contains(v)).collect(),
        );
        live.extend(tu);
        for &i in data.insts.iter().rev() {
            let inst = f.inst(i);
            live.remove(&inst.result);
            if matches!(inst.kind, InstKind::Call { .. }) {
                k.across.insert(i, live.iter().copied().collect());
            }
            let uses = dedup(inst.kind.uses());
            k.insts.insert(
                i,
                uses.iter().copied().filter(|v| !live.contains(v)).collect(),
            );
            live.extend(uses);
        }
    }
    k
}

/// The operands of a windowed instruction, or `None`.
fn window_operands(kind: &InstKind) -> Option<(Vec<Value>, bool)> {
    match kind {
        InstKind::Call { func, args } => {
            let mut v = vec![*func];
            v.extend_from_slice(args);
            Some((v, true))
        }
        InstKind::Prim { op, args } if typed_op(*op).is_none() => Some((args.clone(), false)),
        InstKind::MakeStruct { args, .. } => Some((args.clone(), false)),
        _ => None,
    }
}

/// Register occupancy during the walk.
struct Occ {
    held: Vec<Option<Value>>,
    /// Free registers below `held.len()`.
    free: BTreeSet<u16>,
    /// Held registers (for `top`).
    taken: BTreeSet<u16>,
}

impl Occ {
    fn new() -> Occ {
        Occ {
            held: Vec::new(),
            free: BTreeSet::new(),
            taken: BTreeSet::new(),
        }
    }
    fn is_free(&self, r: u16) -> bool {
        self.held.get(r as usize).is_none_or(|h| h.is_none())
    }
    /// Whether a window of `n` operands fits at register `c`: each slot is
    /// free now or already holds its own operand (`held(k)`: operand k's
    /// register, if it has one).
    fn window_fits(&self, c: usize, n: usize, held: impl Fn(usize) -> Option<u16>) -> bool {
        (0..n).all(|k| {
            let r = c + k;
            held(k).map(usize::from) == Some(r) || u16::try_from(r).is_ok_and(|r| self.is_free(r))
        })
    }
    fn take(&mut self, r: u16, v: Value) {
        let i = r as usize;
        while self.held.len() <= i {
            self.free.insert(self.held.len() as u16);
            self.held.push(None);
        }
        if let Some(h) = self.held.get_mut(i) {
            *h = Some(v);
        }
        self.free.remove(&r);
        self.taken.insert(r);
    }
    fn release(&mut self, r: u16) {
        if let Some(h) = self.held.get_mut(r as usize) {
            *h = None;
            self.free.insert(r);
            self.taken.remove(&r);
        }
    }
    fn lowest_free(&self) -> u16 {
        self.free.first().copied().unwrap_or(self.held.len() as u16)
    }
    /// The lowest `c` with registers `c .. c+n` all free.
    fn first_free_run(&self, n: usize) -> usize {
        let mut run = 0;
        for (r, h) in self.held.iter().enumerate() {
            if h.is_none() {
                run += 1;
                if run == n {
                    return r + 1 - n;
                }
            } else {
                run = 0;
            }
        }
        self.held.len() - run
    }
    /// One above the highest held register.
    fn top(&self) -> u16 {
        self.taken.last().map_or(0, |&r| r + 1)
    }
}

/// One more than the most operands a register window can hold.
const MAX_WINDOW: u16 = u16::MAX - 2;

fn checked_reg(n: usize) -> Result<u16, OptError> {
    u16::try_from(n)
        .ok()
        .filter(|&r| r < u16::MAX - 1)
        .ok_or_else(|| OptError::Limit("function needs more than 65533 registers".into()))
}

/// Allocates registers for `f` and lowers its windows and block parameters.
pub fn allocate(f: &Function) -> Result<Allocation, OptError> {
    check_ranges(f)?;
    let rpo = f.reverse_postorder();
    let lv = liveness(f, &rpo);
    let kl = kills(f, &rpo, &lv);
    let nvals = f.num_values as usize;
    let mut regs = vec![u16::MAX; nvals];
    let mut hint: Vec<Option<u16>> = vec![None; nvals];
    let use_counts = f.use_counts();
    let used = |v: Value| use_counts.get(v.0 as usize).copied().unwrap_or(0) > 0;
    let set_hint = |hint: &mut Vec<Option<u16>>, v: Value, r: usize| {
        if let (Some(h), Ok(r)) = (hint.get_mut(v.0 as usize), u16::try_from(r)) {
            if h.is_none() {
                *h = Some(r);
            }
        }
    };
    // Window operands whose last use is the window: computed in place when possible.
    let mut windows: HashMap<WinRef, Window> = HashMap::default();
    let mut window_use: HashMap<Value, (WinRef, usize)> = HashMap::default();
    // Jump arguments whose last use is the jump: the parameter they feed.
    let mut jump_use: HashMap<Value, Value> = HashMap::default();
    for &b in &rpo {
        let data = f.block(b);
        let mut add =
            |w: WinRef, ops: Vec<Value>, dying: &[Value], across: Vec<Value>, is_call: bool| {
                let dying: HashSet<Value> = dying.iter().copied().collect();
                let mut count: HashMap<Value, usize> = HashMap::default();
                for &v in &ops {
                    *count.entry(v).or_default() += 1;
                }
                for (k, &v) in ops.iter().enumerate() {
                    if dying.contains(&v) && count.get(&v) == Some(&1) {
                        window_use.insert(v, (w, k));
                    }
                }
                windows.insert(
                    w,
                    Window {
                        ops,
                        across,
                        is_call,
                    },
                );
            };
        for &i in &data.insts {
            let Some((ops, is_call)) = window_operands(&f.inst(i).kind) else {
                continue;
            };
            let dying = kl.insts.get(&i).cloned().unwrap_or_default();
            add(
                WinRef::Inst(i),
                ops,
                &dying,
                kl.across.get(&i).cloned().unwrap_or_default(),
                is_call,
            );
        }
        match &data.term {
            Terminator::TailCall { func, args } => {
                let ops: Vec<Value> = std::iter::once(*func).chain(args.iter().copied()).collect();
                add(WinRef::Term(b), ops.clone(), &ops, vec![], false);
            }
            Terminator::Jump { dest, args } => {
                // Arguments go straight into the target's parameter registers
                // when those are known by then (loop back edges).
                let dying: HashSet<Value> =
                    kl.terms.get(&b).into_iter().flatten().copied().collect();
                let params = &f.block(*dest).params;
                for (k, &v) in args.iter().enumerate() {
                    if dying.contains(&v) && args.iter().filter(|&&w| w == v).count() == 1 {
                        if let Some(&p) = params.get(k) {
                            jump_use.insert(v, p);
                        }
                        if *dest == f.entry {
                            set_hint(&mut hint, v, k);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    let mut alloc = Allocation {
        order: rpo.clone(),
        ..Allocation::default()
    };
    let mut max_reg: usize = f.block(f.entry).params.len();
    let get = |regs: &Vec<u16>, v: Value| -> Result<u16, OptError> {
        match regs.get(v.0 as usize) {
            Some(&r) if r != u16::MAX => Ok(r),
            _ => Err(OptError::Internal(format!(
                "{v} used before it has a register in {}",
                f.name
            ))),
        }
    };

    for &b in &rpo {
        let data = f.block(b);
        let mut occ = Occ::new();
        let empty = HashSet::default();
        let live_in = lv.live_in.get(&b).unwrap_or(&empty);
        let live_out = lv.live_out.get(&b).unwrap_or(&empty);
        for &v in live_in {
            occ.take(get(&regs, v)?, v);
        }
        // Parameters.
        let used_in_block: HashSet<Value> = data
            .insts
            .iter()
            .flat_map(|&i| f.inst(i).kind.uses())
            .chain(data.term.uses())
            .collect();
        for (k, &p) in data.params.iter().enumerate() {
            let r = if b == f.entry {
                checked_reg(k)?
            } else {
                // Prefer the register an incoming argument already has.
                let mut pick = None;
                for pred in f.preds(b) {
                    if let Terminator::Jump { args, .. } = &f.block(pred).term {
                        if let Some(&a) = args.get(k) {
                            if let Some(&r) = regs.get(a.0 as usize) {
                                if r != u16::MAX && occ.is_free(r) {
                                    pick = Some(r);
                                    break;
                                }
                            }
                        }
                    }
                }
                match pick {
                    Some(r) => r,
                    None => occ.lowest_free(),
                }
            };
            set_reg(&mut regs, p, r)?;
            occ.take(r, p);
            max_reg = max_reg.max(r as usize + 1);
        }
        for &p in &data.params {
            if !used_in_block.contains(&p) && !live_out.contains(&p) {
                occ.release(get(&regs, p)?);
            }
        }
        // Instructions.
        for &i in &data.insts {
            let inst = f.inst(i);
            for &v in kl.insts.get(&i).into_iter().flatten() {
                occ.release(get(&regs, v)?);
            }
            // occ now holds exactly the values live after `i`, except its result.
            let mut low = Lowered::default();
            if let Some((ops, is_call)) = window_operands(&inst.kind) {
                let src: Vec<u16> = ops
                    .iter()
                    .map(|&v| get(&regs, v))
                    .collect::<Result<_, _>>()?;
                let n = src.len();
                let kind = if is_call {
                    WinKind::Call {
                        top: occ.top() as usize,
                    }
                } else {
                    WinKind::Reads
                };
                let base = choose_base(&src, kind, &occ);
                checked_reg(base + n + 1)?;
                let parallel: Vec<(u16, u16)> = src
                    .iter()
                    .enumerate()
                    .map(|(k, &s)| ((base + k) as u16, s))
                    .collect();
                let in_place = src.iter().enumerate().all(|(k, &r)| r as usize == base + k);
                let temp = if in_place {
                    u16::MAX - 1
                } else {
                    let srcs: HashSet<u16> = src.iter().copied().collect();
                    (0u16..u16::MAX - 1)
                        .find(|&r| {
                            occ.is_free(r)
                                && !srcs.contains(&r)
                                && !(base..base + n).contains(&(r as usize))
                        })
                        .unwrap_or(u16::MAX - 1)
                };
                low.moves = sequentialize(&parallel, temp);
                low.window = base as u16;
                low.reads = (base..base + n).map(|r| r as u16).collect();
                max_reg = max_reg.max(base + n);
                if low.moves.iter().any(|m| m.dst == temp) {
                    max_reg = max_reg.max(temp as usize + 1);
                }
            } else {
                low.reads = direct_reads(&inst.kind, &regs)?;
            }
            let reads: HashSet<u16> = low.reads.iter().copied().collect();
            mark_moves(&mut low.moves, |r| !occ.is_free(r) || reads.contains(&r));
            low.read_dead = dead_reads(&low.reads, |r| !occ.is_free(r));
            // The result.
            let preferred = match &inst.kind {
                InstKind::Copy(v) if kl.insts.get(&i).is_some_and(|k| k.contains(v)) => {
                    Some(get(&regs, *v)?)
                }
                _ => window_hint(inst.result, &window_use, &windows, &regs, &occ)
                    .or_else(|| {
                        let p = jump_use.get(&inst.result)?;
                        regs.get(p.0 as usize).copied().filter(|&r| r != u16::MAX)
                    })
                    .or_else(|| hint.get(inst.result.0 as usize).copied().flatten()),
            };
            let r = match preferred {
                Some(h) if occ.is_free(h) => h,
                _ => occ.lowest_free(),
            };
            set_reg(&mut regs, inst.result, r)?;
            max_reg = max_reg.max(r as usize + 1);
            checked_reg(max_reg)?;
            if used(inst.result) {
                occ.take(r, inst.result);
            }
            alloc.insts.insert(i, low);
        }
        // Terminator (jumps are lowered below, once every parameter has a register).
        for &v in kl.terms.get(&b).into_iter().flatten() {
            occ.release(get(&regs, v)?);
        }
        let mut low = Lowered::default();
        match &data.term {
            Terminator::TailCall { func, args } => {
                let src: Vec<u16> = std::iter::once(*func)
                    .chain(args.iter().copied())
                    .map(|v| get(&regs, v))
                    .collect::<Result<_, _>>()?;
                let n = src.len();
                let base = choose_base(&src, WinKind::Tail, &occ);
                checked_reg(base + n + 1)?;
                let parallel: Vec<(u16, u16)> = src
                    .iter()
                    .enumerate()
                    .map(|(k, &s)| ((base + k) as u16, s))
                    .collect();
                let temp = checked_reg(
                    src.iter()
                        .map(|&r| r as usize + 1)
                        .max()
                        .unwrap_or(0)
                        .max(base + n),
                )?;
                low.moves = sequentialize(&parallel, temp);
                if low.moves.iter().any(|m| m.dst == temp) {
                    max_reg = max_reg.max(temp as usize + 1);
                }
                low.window = base as u16;
                low.reads = (base..base + n).map(|r| r as u16).collect();
                max_reg = max_reg.max(base + n);
            }
            Terminator::Jump { .. } => {}
            t => {
                for v in t.uses() {
                    low.reads.push(get(&regs, v)?);
                }
            }
        }
        let reads: HashSet<u16> = low.reads.iter().copied().collect();
        mark_moves(&mut low.moves, |r| !occ.is_free(r) || reads.contains(&r));
        low.read_dead = dead_reads(&low.reads, |r| !occ.is_free(r));
        alloc.terms.insert(b, low);
    }

    // Jumps: parallel moves into the target's parameters.
    for &b in &rpo {
        let Terminator::Jump { dest, args } = &f.block(b).term else {
            continue;
        };
        let params = &f.block(*dest).params;
        let mut parallel = Vec::new();
        let mut needed: HashSet<u16> = HashSet::default();
        if let Some(li) = lv.live_in.get(dest) {
            for &v in li {
                needed.insert(get(&regs, v)?);
            }
        }
        for (&p, &a) in params.iter().zip(args) {
            if !used(p) {
                continue;
            }
            let (pr, ar) = (get(&regs, p)?, get(&regs, a)?);
            needed.insert(pr);
            parallel.push((pr, ar));
        }
        let avoid: HashSet<u16> = needed
            .iter()
            .copied()
            .chain(parallel.iter().flat_map(|&(d, s)| [d, s]))
            .collect();
        let temp = (0u16..)
            .find(|r| !avoid.contains(r))
            .unwrap_or(u16::MAX - 1);
        let mut moves = sequentialize(&parallel, temp);
        if moves.iter().any(|m| m.dst == temp) {
            max_reg = max_reg.max(temp as usize + 1);
        }
        mark_moves(&mut moves, |r| needed.contains(&r));
        if let Some(low) = alloc.terms.get_mut(&b) {
            low.moves = moves;
        }
    }
    alloc.regs = regs;
    alloc.num_registers = checked_reg(max_reg.max(1))?;
    Ok(alloc)
}

/// What constrains where an operand window may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WinKind {
    /// `call`: the callee's window (A+1 up) must lie above every register
    /// live across the call (all below `top`).
    Call { top: usize },
    /// `callb`/`make*`: each slot either already holds its operand or holds
    /// nothing live after the instruction.
    Reads,
    /// `tailcall`: nothing is live afterwards; any place works.
    Tail,
}

/// Where to put a window of `src.len()` operands (currently in registers
/// `src`): among the valid bases, the one where the most operands already
/// sit (ties: the lowest); else the lowest valid place.
fn choose_base(src: &[u16], kind: WinKind, occ: &Occ) -> usize {
    let n = src.len();
    if n == 0 {
        return 0;
    }
    let valid = |c: usize| match kind {
        WinKind::Call { top } => c >= top || (c + 1 == top && src[0] as usize == c),
        WinKind::Reads => occ.window_fits(c, n, |k| src.get(k).copied()),
        WinKind::Tail => true,
    };
    let mut counts: HashMap<usize, usize> = HashMap::default();
    for (k, &r) in src.iter().enumerate() {
        if r as usize >= k {
            *counts.entry(r as usize - k).or_default() += 1;
        }
    }
    let mut cands: Vec<(usize, usize)> = counts.into_iter().collect();
    cands.sort_by_key(|&(c, matches)| (std::cmp::Reverse(matches), c));
    if let Some(&(c, _)) = cands.iter().find(|&&(c, _)| valid(c)) {
        return c;
    }
    match kind {
        WinKind::Call { top } => top,
        WinKind::Reads => occ.first_free_run(n),
        WinKind::Tail => 0,
    }
}

/// An instruction or terminator with an operand window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum WinRef {
    Inst(Inst),
    Term(Block),
}

/// A window's operands; for `call`, the values live across it.
struct Window {
    ops: Vec<Value>,
    across: Vec<Value>,
    is_call: bool,
}

/// Where `v` should go so that it is already in its window slot when its
/// last use (a window operand) comes: for `call`, just above the values
/// live across it that already have registers; otherwise next to an
/// operand of the same window that already has one (if the rest of that
/// window is free or in place), or at the lowest place where the whole
/// window is free now.
fn window_hint(
    v: Value,
    window_use: &HashMap<Value, (WinRef, usize)>,
    windows: &HashMap<WinRef, Window>,
    regs: &[u16],
    occ: &Occ,
) -> Option<u16> {
    let (w, k) = window_use.get(&v)?;
    let win = windows.get(w)?;
    let reg = |x: &Value| regs.get(x.0 as usize).copied().filter(|&r| r != u16::MAX);
    let slot = if win.is_call {
        win.across
            .iter()
            .filter_map(reg)
            .map(|r| r as usize + 1)
            .max()
            .unwrap_or(0)
            + k
    } else {
        let n = win.ops.len();
        let fits = |c: usize| occ.window_fits(c, n, |j| win.ops.get(j).and_then(reg));
        let placed = win.ops.iter().enumerate().find_map(|(j, op)| {
            let r = reg(op)? as usize;
            (j != *k && r >= j && fits(r - j)).then(|| r - j + k)
        });
        match placed {
            Some(s) => s,
            None => {
                // The lowest place where the whole window is free, within
                // the register range (no hint when there is none).
                let free = |r: usize| u16::try_from(r).is_ok_and(|r| occ.is_free(r));
                let mut c = 0usize;
                while c + n <= usize::from(u16::MAX) && !(c..c + n).all(free) {
                    c += 1;
                }
                if c + n > usize::from(u16::MAX) {
                    return None;
                }
                c + k
            }
        }
    };
    u16::try_from(slot).ok()
}

fn set_reg(regs: &mut [u16], v: Value, r: u16) -> Result<(), OptError> {
    match regs.get_mut(v.0 as usize) {
        Some(slot) => {
            *slot = r;
            Ok(())
        }
        None => Err(OptError::Internal(format!("{v} is out of range"))),
    }
}

/// Every instruction id and value of `f` is in range (so indexing by them
/// below cannot fail), whether or not the verifier ran.
fn check_ranges(f: &Function) -> Result<(), OptError> {
    let bad = |what: String| {
        Err(OptError::Internal(format!(
            "{}: {what} out of range",
            f.name
        )))
    };
    for b in f.blocks() {
        let data = f.block(b);
        if let Some(p) = data.params.iter().find(|p| p.0 >= f.num_values) {
            return bad(p.to_string());
        }
        for &i in &data.insts {
            if i.0 as usize >= f.insts.len() {
                return bad(i.to_string());
            }
            let d = f.inst(i);
            // A window holds its operands in consecutive registers.
            let operands = d.kind.uses().len();
            if operands >= usize::from(MAX_WINDOW) {
                return Err(OptError::Limit(format!(
                    "{}: an operation with {operands} operands (a register window holds at most {})",
                    f.name,
                    MAX_WINDOW - 1
                )));
            }
            if let Some(v) = d
                .kind
                .uses()
                .into_iter()
                .chain([d.result])
                .find(|v| v.0 >= f.num_values)
            {
                return bad(v.to_string());
            }
        }
        if let Some(v) = data.term.uses().into_iter().find(|v| v.0 >= f.num_values) {
            return bad(v.to_string());
        }
    }
    Ok(())
}

/// Registers read by an instruction without a window.
fn direct_reads(kind: &InstKind, regs: &[u16]) -> Result<Vec<u16>, OptError> {
    let get = |v: Value| match regs.get(v.0 as usize) {
        Some(&r) if r != u16::MAX => Ok(r),
        _ => Err(OptError::Internal(format!("{v} has no register"))),
    };
    Ok(match kind {
        InstKind::Closure { captures, .. } => captures
            .iter()
            .filter_map(|c| match c {
                CapSrc::Value(v) => Some(get(*v)),
                CapSrc::Env(_) => None,
            })
            .collect::<Result<_, _>>()?,
        k => k.uses().into_iter().map(get).collect::<Result<_, _>>()?,
    })
}

/// Read flags: a read is dead when its register holds nothing live
/// afterwards and no later read of the same instruction uses it.
fn dead_reads(reads: &[u16], live_after: impl Fn(u16) -> bool) -> Vec<bool> {
    let mut last: HashMap<u16, usize> = HashMap::default();
    for (k, &r) in reads.iter().enumerate() {
        last.insert(r, k);
    }
    reads
        .iter()
        .enumerate()
        .map(|(k, &r)| !live_after(r) && last.get(&r) == Some(&k))
        .collect()
}

/// Sets `last_use` on moves whose source is not read again before being
/// overwritten; `needed(r)` = register `r` is read or live after the sequence.
fn mark_moves(moves: &mut [Move], needed: impl Fn(u16) -> bool) {
    let mut last_read: HashMap<u16, usize> = HashMap::default();
    let mut last_write: HashMap<u16, usize> = HashMap::default();
    for (k, m) in moves.iter().enumerate() {
        last_read.insert(m.src, k);
        last_write.insert(m.dst, k);
    }
    for (k, m) in moves.iter_mut().enumerate() {
        let later_read = last_read.get(&m.src).is_some_and(|&j| j > k);
        let later_write = last_write.get(&m.src).is_some_and(|&j| j > k);
        m.last_use = !later_read && (later_write || !needed(m.src));
    }
}

/// Orders a parallel move (`(dst, src)` pairs, distinct destinations) into
/// sequential moves with the same effect, breaking cycles through `temp`
/// (which must be neither a source nor a destination). Linear in the
/// number of moves (plus fan-out).
pub fn sequentialize(parallel: &[(u16, u16)], temp: u16) -> Vec<Move> {
    let moves: Vec<(u16, u16)> = parallel.iter().copied().filter(|(d, s)| d != s).collect();
    let mut src: Vec<u16> = moves.iter().map(|m| m.1).collect();
    let mut readers: HashMap<u16, Vec<usize>> = HashMap::default();
    let mut by_dst: HashMap<u16, usize> = HashMap::default();
    for (k, &(d, s)) in moves.iter().enumerate() {
        readers.entry(s).or_default().push(k);
        by_dst.insert(d, k);
    }
    let mut done = vec![false; moves.len()];
    let mut ready: Vec<usize> = (0..moves.len())
        .filter(|&k| readers.get(&moves[k].0).is_none_or(|r| r.is_empty()))
        .collect();
    ready.reverse();
    let mut remaining = moves.len();
    let mut next = 0;
    let mut out = Vec::with_capacity(moves.len() + 1);
    loop {
        while let Some(k) = ready.pop() {
            if done[k] {
                continue;
            }
            out.push(Move {
                dst: moves[k].0,
                src: src[k],
                last_use: false,
            });
            done[k] = true;
            remaining -= 1;
            if let Some(list) = readers.get_mut(&src[k]) {
                list.retain(|&j| j != k);
                if list.is_empty() {
                    if let Some(&j) = by_dst.get(&src[k]) {
                        if !done[j] {
                            ready.push(j);
                        }
                    }
                }
            }
        }
        if remaining == 0 {
            break;
        }
        // Only cycles remain: save one destination's old value in `temp`.
        while next < done.len() && done[next] {
            next += 1;
        }
        let Some(&(d, _)) = moves.get(next) else {
            break;
        };
        out.push(Move {
            dst: temp,
            src: d,
            last_use: false,
        });
        for r in readers.remove(&d).unwrap_or_default() {
            src[r] = temp;
            readers.entry(temp).or_default().push(r);
        }
        ready.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::FuncId;
    use menai_bytecode::Builtin;
    use menai_compiler::ir::{Const, Span};

    /// Runs sequential moves on a register file.
    fn run(moves: &[Move], regs: &mut [i32]) {
        for m in moves {
            regs[m.dst as usize] = regs[m.src as usize];
        }
    }

    #[test]
    fn parallel_moves_swap_rotate_and_fan_out() {
        // Swap r0 <-> r1 through temp r5.
        let mut r = [10, 11, 12, 13, 14, 0];
        let m = sequentialize(&[(0, 1), (1, 0)], 5);
        run(&m, &mut r);
        assert_eq!(&r[..2], &[11, 10]);
        assert_eq!(m.len(), 3);
        // Rotation of three plus a chain hanging off it and a fan-out.
        let mut r = [0, 1, 2, 3, 4, 5, 6, 0];
        let m = sequentialize(&[(0, 1), (1, 2), (2, 0), (3, 0), (4, 4), (5, 6)], 7);
        run(&m, &mut r);
        assert_eq!(&r[..6], &[1, 2, 0, 0, 4, 6]);
        // No cycle: no temp.
        let m = sequentialize(&[(1, 0), (2, 1)], 9);
        assert!(m.iter().all(|m| m.dst != 9));
        assert_eq!(
            m,
            vec![
                Move {
                    dst: 2,
                    src: 1,
                    last_use: false
                },
                Move {
                    dst: 1,
                    src: 0,
                    last_use: false
                }
            ]
        );
    }

    fn add(f: &mut Function, b: Block, x: Value, y: Value) -> Value {
        f.push_inst(
            b,
            InstKind::Prim {
                op: Builtin::IntegerAdd,
                args: vec![x, y],
            },
            Span::default(),
        )
    }

    #[test]
    fn register_count_is_peak_liveness() {
        // (a b) -> t1 = a+b; t2 = t1+a; t3 = t2+t2; return t3: at most 2 live at once
        // after the parameters (a, b live; then t1, a; then t2).
        let sp = Span::default();
        let mut f = Function::new(
            FuncId(0),
            "f".into(),
            vec!["a".into(), "b".into()],
            None,
            sp,
        );
        let e = f.entry;
        let (a, b) = (f.block(e).params[0], f.block(e).params[1]);
        let t1 = add(&mut f, e, a, b);
        let t2 = add(&mut f, e, t1, a);
        let t3 = add(&mut f, e, t2, t2);
        f.set_term(e, Terminator::Return(t3), sp);
        let al = allocate(&f).unwrap();
        assert_eq!(al.num_registers, 2);
        // Eight values, a chain: still two registers.
        let mut g = Function::new(FuncId(0), "g".into(), vec!["x".into()], None, sp);
        let e = g.entry;
        let mut v = g.block(e).params[0];
        for k in 0..8 {
            let c = g.push_inst(e, InstKind::Const(Const::Int(k)), sp);
            v = add(&mut g, e, v, c);
        }
        g.set_term(e, Terminator::Return(v), sp);
        assert_eq!(g.num_values, 17);
        assert_eq!(allocate(&g).unwrap().num_registers, 2);
    }

    #[test]
    fn call_window_sits_above_values_live_across() {
        // (f x) -> r = f(x); return r + x: x is live across the call.
        let sp = Span::default();
        let mut g = Function::new(
            FuncId(0),
            "g".into(),
            vec!["f".into(), "x".into()],
            None,
            sp,
        );
        let e = g.entry;
        let (fv, x) = (g.block(e).params[0], g.block(e).params[1]);
        let call = g.push_inst(
            e,
            InstKind::Call {
                func: fv,
                args: vec![x],
            },
            sp,
        );
        let s = add(&mut g, e, call, x);
        g.set_term(e, Terminator::Return(s), sp);
        let al = allocate(&g).unwrap();
        let inst = g.block(e).insts[0];
        let low = &al.insts[&inst];
        let xr = al.reg(x).unwrap();
        assert!(
            low.window >= xr,
            "window {} must not be below live x in r{xr}",
            low.window
        );
        assert_eq!(low.reads.len(), 2);
        // The moved copy of x in the window is dead after the call; x itself is not touched.
        assert_eq!(low.read_dead, vec![true, true]);
        assert!(low.moves.iter().all(|m| m.dst >= low.window));
        let mv = low.moves.iter().find(|m| m.src == xr).unwrap();
        assert!(!mv.last_use, "x is live after the call");
    }

    #[test]
    fn self_loop_moves_only_changed_arguments() {
        // loop(n, acc): if n = 0 return acc else loop(n - 1, acc)
        let sp = Span::default();
        let mut f = Function::new(
            FuncId(0),
            "loop".into(),
            vec!["n".into(), "acc".into()],
            None,
            sp,
        );
        let e = f.entry;
        let (n, acc) = (f.block(e).params[0], f.block(e).params[1]);
        let zero = f.push_inst(e, InstKind::Const(Const::Int(0)), sp);
        let c = f.push_inst(
            e,
            InstKind::Prim {
                op: Builtin::IntegerEq,
                args: vec![n, zero],
            },
            sp,
        );
        let (t, el) = (f.add_block(sp), f.add_block(sp));
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
        f.set_term(t, Terminator::Return(acc), sp);
        let one = f.push_inst(el, InstKind::Const(Const::Int(1)), sp);
        let n1 = f.push_inst(
            el,
            InstKind::Prim {
                op: Builtin::IntegerSub,
                args: vec![n, one],
            },
            sp,
        );
        f.set_term(
            el,
            Terminator::Jump {
                dest: e,
                args: vec![n1, acc],
            },
            sp,
        );
        let al = allocate(&f).unwrap();
        assert_eq!(
            al.reg(n1).unwrap(),
            0,
            "n-1 is computed straight into n's register"
        );
        assert!(al.terms[&el].moves.is_empty(), "{:?}", al.terms[&el].moves);
        assert_eq!(al.num_registers, 3);
    }
}
