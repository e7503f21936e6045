//! The SSA control-flow graph: one [`Function`] per IR lambda (plus the
//! program's top level), each a petgraph `StableDiGraph` whose nodes are
//! basic blocks.
//!
//! Invariants (checked by `verify`):
//! - every value is defined exactly once, either as a block parameter or as
//!   the result of an instruction, and every use is dominated by its
//!   definition;
//! - the entry block's parameters are the function's parameters (then the
//!   rest parameter), in order; the register allocator pins them to
//!   registers 0.. (the calling convention). Self tail calls jump to a loop
//!   header right after the entry (see `build`), though a jump to the entry
//!   itself is also valid;
//! - every block ends in exactly one terminator; a `Jump` passes exactly one
//!   argument per parameter of its target, and `Branch` targets have no
//!   parameters (so out-of-SSA never needs to split an edge);
//! - graph edges mirror terminators exactly: `set_term` keeps them in sync,
//!   and nobody edits edges directly;
//! - block ids are `StableGraph` node indices, so removing a block never
//!   renumbers the others.
//!
//! Every instruction and terminator carries the span of the IR expression it
//! came from; passes keep it when they rewrite the instruction.

use menai_bytecode::{Builtin, CondOrigin};
use menai_compiler::ir::{Const, SourceFile, Span, StructDecl};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rustc_hash::FxHashMap as HashMap;
use std::fmt;

/// An SSA value; prints as `v3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A basic block (a node of the function's graph); prints as `block2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block(pub NodeIndex<u32>);

impl Block {
    /// The block's number, for tables indexed by block (below
    /// [`Function::block_bound`]).
    pub fn index(self) -> usize {
        self.0.index()
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block{}", self.0.index())
    }
}

/// An instruction (an index into `Function::insts`); prints as `inst4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Inst(pub u32);

impl fmt::Display for Inst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inst{}", self.0)
    }
}

/// A function of the program (an index into `CfgProgram::functions`, and
/// the same index in the emitted module); prints as `fn1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

impl fmt::Display for FuncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn{}", self.0)
    }
}

/// Where a captured value comes from when a closure is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CapSrc {
    /// A value of the building function.
    Value(Value),
    /// A slot of the building function's own environment.
    Env(u16),
}

/// What an instruction computes. Every instruction defines one value.
#[derive(Clone, Debug, PartialEq)]
pub enum InstKind {
    /// The same value under another name (removed by copy propagation).
    Copy(Value),
    Const(Const),
    /// A builtin used as a value.
    Builtin(Builtin),
    /// Slot of the current closure's environment.
    GetCap(u16),
    /// A closure of `func` with a fresh environment holding `captures`.
    Closure {
        func: FuncId,
        captures: Vec<CapSrc>,
    },
    /// A closure of `func` sharing the current environment (letrec sibling).
    Sibling(FuncId),
    /// A closure of `func` sharing the environment of closure `of`.
    ClosureRef {
        func: FuncId,
        of: Value,
    },
    /// A primitive operation (exactly its primitive arity of args, except
    /// `list`/`dict`/`set`).
    Prim {
        op: Builtin,
        args: Vec<Value>,
    },
    MakeStruct {
        ty: u32,
        args: Vec<Value>,
    },
    Call {
        func: Value,
        args: Vec<Value>,
    },
    Apply {
        func: Value,
        list: Value,
    },
}

impl InstKind {
    /// The values this instruction reads, in operand order.
    pub fn uses(&self) -> Vec<Value> {
        match self {
            InstKind::Copy(v) => vec![*v],
            InstKind::Const(_)
            | InstKind::Builtin(_)
            | InstKind::GetCap(_)
            | InstKind::Sibling(_) => vec![],
            InstKind::Closure { captures, .. } => captures
                .iter()
                .filter_map(|c| match c {
                    CapSrc::Value(v) => Some(*v),
                    CapSrc::Env(_) => None,
                })
                .collect(),
            InstKind::ClosureRef { of, .. } => vec![*of],
            InstKind::Prim { args, .. } | InstKind::MakeStruct { args, .. } => args.clone(),
            InstKind::Call { func, args } => {
                let mut v = Vec::with_capacity(args.len() + 1);
                v.push(*func);
                v.extend_from_slice(args);
                v
            }
            InstKind::Apply { func, list } => vec![*func, *list],
        }
    }

    /// Applies `f` to every value this instruction reads.
    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            InstKind::Copy(v) => *v = f(*v),
            InstKind::Const(_)
            | InstKind::Builtin(_)
            | InstKind::GetCap(_)
            | InstKind::Sibling(_) => {}
            InstKind::Closure { captures, .. } => {
                for c in captures {
                    if let CapSrc::Value(v) = c {
                        *v = f(*v);
                    }
                }
            }
            InstKind::ClosureRef { of, .. } => *of = f(*of),
            InstKind::Prim { args, .. } | InstKind::MakeStruct { args, .. } => {
                for a in args {
                    *a = f(*a);
                }
            }
            InstKind::Call { func, args } => {
                *func = f(*func);
                for a in args {
                    *a = f(*a);
                }
            }
            InstKind::Apply { func, list } => {
                *func = f(*func);
                *list = f(*list);
            }
        }
    }

    /// Whether the instruction can be deleted when its result is unused:
    /// it has no effect and cannot fail. (Calls may fail or not terminate;
    /// most primitives check their operand types.)
    pub fn is_removable(&self) -> bool {
        match self {
            InstKind::Copy(_)
            | InstKind::Const(_)
            | InstKind::Builtin(_)
            | InstKind::GetCap(_)
            | InstKind::Closure { .. }
            | InstKind::Sibling(_)
            | InstKind::ClosureRef { .. }
            | InstKind::MakeStruct { .. } => true,
            InstKind::Prim { op, .. } => prim_cannot_fail(*op),
            InstKind::Call { .. } | InstKind::Apply { .. } => false,
        }
    }
}

/// Primitives that accept any operand values and have no effect.
pub fn prim_cannot_fail(op: Builtin) -> bool {
    use Builtin::*;
    matches!(
        op,
        List | FunctionP
            | SymbolP
            | NoneP
            | BooleanP
            | IntegerP
            | FloatP
            | ComplexP
            | StringP
            | ListP
            | DictP
            | SetP
            | StructP
    )
}

/// One instruction: what it computes, the value it defines, and the span of
/// the source expression it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct InstData {
    pub kind: InstKind,
    pub result: Value,
    pub span: Span,
}

/// How a block ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Terminator {
    /// Only while a block is being built; the verifier rejects it.
    Unterminated,
    Jump {
        dest: Block,
        args: Vec<Value>,
    },
    /// `cond` must be a boolean at run time (else an error naming
    /// `origin`, the form the test comes from).
    Branch {
        cond: Value,
        then_dest: Block,
        else_dest: Block,
        origin: CondOrigin,
    },
    Return(Value),
    TailCall {
        func: Value,
        args: Vec<Value>,
    },
    TailApply {
        func: Value,
        list: Value,
    },
    /// `(error msg)`.
    Raise(Value),
    /// An unbound name was evaluated.
    RaiseUnbound(String),
    /// No match clause matched the value.
    RaiseNoMatch(Value),
}

impl Terminator {
    /// Successor blocks, in order (`then` before `else`).
    pub fn successors(&self) -> Vec<Block> {
        match self {
            Terminator::Jump { dest, .. } => vec![*dest],
            Terminator::Branch {
                then_dest,
                else_dest,
                ..
            } => vec![*then_dest, *else_dest],
            _ => vec![],
        }
    }

    /// The values this terminator reads, in operand order.
    pub fn uses(&self) -> Vec<Value> {
        match self {
            Terminator::Unterminated | Terminator::RaiseUnbound(_) => vec![],
            Terminator::Jump { args, .. } => args.clone(),
            Terminator::Branch { cond, .. } => vec![*cond],
            Terminator::Return(v) | Terminator::Raise(v) | Terminator::RaiseNoMatch(v) => vec![*v],
            Terminator::TailCall { func, args } => {
                let mut v = vec![*func];
                v.extend_from_slice(args);
                v
            }
            Terminator::TailApply { func, list } => vec![*func, *list],
        }
    }

    /// Applies `f` to every value this terminator reads.
    pub fn map_uses(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminator::Unterminated | Terminator::RaiseUnbound(_) => {}
            Terminator::Jump { args, .. } => {
                for a in args {
                    *a = f(*a);
                }
            }
            Terminator::Branch { cond, .. } => *cond = f(*cond),
            Terminator::Return(v) | Terminator::Raise(v) | Terminator::RaiseNoMatch(v) => {
                *v = f(*v)
            }
            Terminator::TailCall { func, args } => {
                *func = f(*func);
                for a in args {
                    *a = f(*a);
                }
            }
            Terminator::TailApply { func, list } => {
                *func = f(*func);
                *list = f(*list);
            }
        }
    }
}

/// A basic block: parameters (SSA values defined on entry), instructions,
/// and one terminator.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockData {
    pub params: Vec<Value>,
    pub insts: Vec<Inst>,
    pub term: Terminator,
    pub term_span: Span,
}

/// One function in SSA form.
#[derive(Clone, Debug)]
pub struct Function {
    pub id: FuncId,
    /// A readable name (the binding it came from, or `lambda@line:col`).
    pub name: String,
    pub param_names: Vec<String>,
    pub rest_name: Option<String>,
    /// Size of the environment the function's closures carry.
    pub num_captures: u16,
    /// Where the function is defined.
    pub span: Span,
    pub graph: StableDiGraph<BlockData, ()>,
    pub entry: Block,
    /// Instruction arena; an instruction is live while some block lists it.
    pub insts: Vec<InstData>,
    /// Number of values allocated so far (values are `v0 .. v(n-1)`).
    pub num_values: u32,
    /// Target of writes through a removed block id (never read).
    scratch: BlockData,
}

impl Function {
    /// A function with an empty, unterminated entry block whose parameters
    /// are the function's parameters.
    pub fn new(
        id: FuncId,
        name: String,
        param_names: Vec<String>,
        rest_name: Option<String>,
        span: Span,
    ) -> Function {
        let mut graph = StableDiGraph::new();
        let entry = Block(graph.add_node(empty_block(span)));
        let mut f = Function {
            id,
            name,
            param_names,
            rest_name,
            num_captures: 0,
            span,
            graph,
            entry,
            insts: vec![],
            num_values: 0,
            scratch: empty_block(span),
        };
        let n = f.param_names.len() + usize::from(f.rest_name.is_some());
        for _ in 0..n {
            let v = f.new_value();
            f.block_mut(entry).params.push(v);
        }
        f
    }

    /// A function from its parts, as the CFG reader (`parse`) assembles
    /// them: `graph` holds the blocks without edges (the caller sets each
    /// terminator with [`Function::set_term`], which adds them), `insts` the
    /// arena the blocks index, and values are below `num_values`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        id: FuncId,
        name: String,
        param_names: Vec<String>,
        rest_name: Option<String>,
        num_captures: u16,
        span: Span,
        graph: StableDiGraph<BlockData, ()>,
        entry: Block,
        insts: Vec<InstData>,
        num_values: u32,
    ) -> Function {
        Function {
            id,
            name,
            param_names,
            rest_name,
            num_captures,
            span,
            graph,
            entry,
            insts,
            num_values,
            scratch: empty_block(span),
        }
    }

    /// Allocates a fresh value.
    pub fn new_value(&mut self) -> Value {
        let v = Value(self.num_values);
        self.num_values += 1;
        v
    }

    /// Adds an empty, unterminated block.
    pub fn add_block(&mut self, span: Span) -> Block {
        Block(self.graph.add_node(empty_block(span)))
    }

    /// Adds a block parameter and returns its value.
    pub fn add_param(&mut self, b: Block) -> Value {
        let v = self.new_value();
        self.block_mut(b).params.push(v);
        v
    }

    /// Whether `b` is a live block of this function.
    pub fn contains(&self, b: Block) -> bool {
        self.graph.contains_node(b.0)
    }

    /// The block's data. Blocks handed out by this function stay valid
    /// until removed; asking for a removed block is a caller bug, answered
    /// with an empty placeholder rather than a panic.
    pub fn block(&self, b: Block) -> &BlockData {
        static EMPTY: BlockData = BlockData {
            params: Vec::new(),
            insts: Vec::new(),
            term: Terminator::Unterminated,
            term_span: Span {
                file: 0,
                start: 0,
                end: 0,
            },
        };
        self.graph.node_weight(b.0).unwrap_or(&EMPTY)
    }

    /// Mutable block data; see [`Function::block`]. For a removed block the
    /// change goes to a scratch block that nothing reads.
    pub fn block_mut(&mut self, b: Block) -> &mut BlockData {
        if self.graph.contains_node(b.0) {
            // Indexing cannot panic: the node was just checked to exist.
            &mut self.graph[b.0]
        } else {
            self.scratch = empty_block(self.span);
            &mut self.scratch
        }
    }

    /// Appends a new instruction to block `b`, returning its result.
    pub fn push_inst(&mut self, b: Block, kind: InstKind, span: Span) -> Value {
        let (inst, result) = self.new_inst(kind, span);
        self.block_mut(b).insts.push(inst);
        result
    }

    /// Creates an instruction in no block yet (the caller places it in a
    /// block's list), returning it and its result.
    pub fn new_inst(&mut self, kind: InstKind, span: Span) -> (Inst, Value) {
        let result = self.new_value();
        let inst = Inst(self.insts.len() as u32);
        self.insts.push(InstData { kind, result, span });
        (inst, result)
    }

    /// An instruction's data. `Inst` ids come only from `push_inst`, so
    /// they index the arena (the verifier and the register allocator check
    /// this before relying on it).
    pub fn inst(&self, i: Inst) -> &InstData {
        &self.insts[i.0 as usize]
    }

    pub fn inst_mut(&mut self, i: Inst) -> &mut InstData {
        &mut self.insts[i.0 as usize]
    }

    /// Sets the terminator of `b` and rebuilds its outgoing edges.
    pub fn set_term(&mut self, b: Block, term: Terminator, span: Span) {
        let old: Vec<_> = self
            .graph
            .edges_directed(b.0, Direction::Outgoing)
            .map(|e| e.id())
            .collect();
        for e in old {
            self.graph.remove_edge(e);
        }
        for s in term.successors() {
            if self.graph.contains_node(s.0) {
                self.graph.add_edge(b.0, s.0, ());
            }
        }
        let data = self.block_mut(b);
        data.term = term;
        data.term_span = span;
    }

    /// Live blocks, in index order.
    pub fn blocks(&self) -> Vec<Block> {
        self.graph.node_indices().map(Block).collect()
    }

    /// Predecessor blocks (one entry per incoming edge).
    pub fn preds(&self, b: Block) -> Vec<Block> {
        self.graph
            .neighbors_directed(b.0, Direction::Incoming)
            .map(Block)
            .collect()
    }

    /// One more than the largest block number: tables indexed by block
    /// have this length.
    pub fn block_bound(&self) -> usize {
        petgraph::visit::NodeIndexable::node_bound(&self.graph)
    }

    /// Blocks reachable from the entry in reverse postorder (successors are
    /// explored so that a branch's `then` block comes before its `else`).
    pub fn reverse_postorder(&self) -> Vec<Block> {
        let mut visited = vec![false; self.block_bound()];
        let mut post = Vec::new();
        // Iterative DFS: (block, successors, next successor index).
        let mut stack: Vec<(Block, Vec<Block>, usize)> = Vec::new();
        if let Some(v) = visited.get_mut(self.entry.index()) {
            *v = true;
        }
        stack.push((self.entry, self.block(self.entry).term.successors(), 0));
        while let Some(top) = stack.last_mut() {
            if top.2 < top.1.len() {
                // Explore in reverse order so `then` ends up first in RPO.
                let s = top.1[top.1.len() - 1 - top.2];
                top.2 += 1;
                if self.contains(s) && !visited[s.index()] {
                    visited[s.index()] = true;
                    let succ = self.block(s).term.successors();
                    stack.push((s, succ, 0));
                }
            } else {
                post.push(top.0);
                stack.pop();
            }
        }
        post.reverse();
        post
    }

    /// The immediate dominator of each block, indexed by block number
    /// (`None` for the entry and for unreachable blocks); `rpo` is
    /// `self.reverse_postorder()`. The Cooper–Harvey–Kennedy iteration on
    /// dense reverse-postorder numbers: no hashing, so it stays linear in
    /// practice on large functions.
    pub fn immediate_dominators(&self, rpo: &[Block]) -> Vec<Option<Block>> {
        let n = self.block_bound();
        let mut out = vec![None; n];
        if rpo.is_empty() {
            return out;
        }
        let mut order = vec![UNNUMBERED; n];
        for (k, b) in rpo.iter().enumerate() {
            order[b.index()] = k as u32;
        }
        let preds: Vec<Vec<u32>> = rpo
            .iter()
            .map(|&b| {
                self.preds(b)
                    .into_iter()
                    .map(|p| order.get(p.index()).copied().unwrap_or(UNNUMBERED))
                    .filter(|&o| o != UNNUMBERED)
                    .collect()
            })
            .collect();
        // idom[k]: the RPO number of block k's immediate dominator.
        let mut idom = vec![UNNUMBERED; rpo.len()];
        idom[0] = 0;
        let intersect = |idom: &[u32], mut a: u32, mut b: u32| {
            while a != b {
                while a > b {
                    a = idom[a as usize];
                }
                while b > a {
                    b = idom[b as usize];
                }
            }
            a
        };
        let mut changed = true;
        while changed {
            changed = false;
            for k in 1..rpo.len() {
                let mut new = UNNUMBERED;
                for &p in &preds[k] {
                    if idom[p as usize] == UNNUMBERED {
                        continue;
                    }
                    new = if new == UNNUMBERED {
                        p
                    } else {
                        intersect(&idom, p, new)
                    };
                }
                if new != idom[k] {
                    idom[k] = new;
                    changed = true;
                }
            }
        }
        for k in 1..rpo.len() {
            if let Some(&d) = rpo.get(idom[k] as usize) {
                out[rpo[k].index()] = Some(d);
            }
        }
        out
    }

    /// The dominator tree: each block's children (immediately dominated
    /// blocks, in reverse postorder), indexed by block number; `rpo` is
    /// `self.reverse_postorder()`.
    pub fn dominator_children(&self, rpo: &[Block]) -> Vec<Vec<Block>> {
        let idom = self.immediate_dominators(rpo);
        let mut children = vec![Vec::new(); self.block_bound()];
        for &b in rpo {
            if let Some(d) = idom[b.index()] {
                children[d.index()].push(b);
            }
        }
        children
    }

    /// Removes every block not reachable from the entry; returns how many.
    pub fn remove_unreachable_blocks(&mut self) -> usize {
        let mut reachable = vec![false; self.block_bound()];
        for b in self.reverse_postorder() {
            reachable[b.index()] = true;
        }
        let dead: Vec<Block> = self
            .blocks()
            .into_iter()
            .filter(|b| !reachable[b.index()])
            .collect();
        for b in &dead {
            self.graph.remove_node(b.0);
        }
        dead.len()
    }

    /// Replaces every use of a key of `map` by its value (following chains).
    pub fn replace_uses(&mut self, map: &HashMap<Value, Value>) {
        if map.is_empty() {
            return;
        }
        let resolve = |mut v: Value| {
            let mut steps = 0;
            while let Some(&w) = map.get(&v) {
                if w == v || steps > map.len() {
                    break;
                }
                v = w;
                steps += 1;
            }
            v
        };
        for b in self.blocks() {
            let insts = self.block(b).insts.clone();
            for i in insts {
                self.inst_mut(i).kind.map_uses(resolve);
            }
            self.block_mut(b).term.map_uses(resolve);
        }
    }

    /// The number of uses of each value (indexed by value number).
    pub fn use_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.num_values as usize];
        for b in self.blocks() {
            let data = self.block(b);
            for &i in &data.insts {
                for v in self.inst(i).kind.uses() {
                    if let Some(c) = counts.get_mut(v.0 as usize) {
                        *c += 1;
                    }
                }
            }
            for v in data.term.uses() {
                if let Some(c) = counts.get_mut(v.0 as usize) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// The instruction defining each value, if any (block params map to `None`).
    pub fn defining_insts(&self) -> HashMap<Value, Inst> {
        let mut m = HashMap::default();
        for b in self.blocks() {
            for &i in &self.block(b).insts {
                m.insert(self.inst(i).result, i);
            }
        }
        m
    }
}

fn empty_block(span: Span) -> BlockData {
    BlockData {
        params: vec![],
        insts: vec![],
        term: Terminator::Unterminated,
        term_span: span,
    }
}

/// The whole program as CFGs: one function per lambda plus the top level.
#[derive(Clone, Debug)]
pub struct CfgProgram {
    pub functions: Vec<Function>,
    pub entry: FuncId,
    pub structs: Vec<StructDecl>,
    pub files: Vec<SourceFile>,
    /// The clones made by the `specialize` pass, by what they specialize
    /// (so later runs reuse them).
    pub clones: Vec<Specialization>,
}

/// A clone of `of` made for a known function argument (see
/// `passes::specialize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Specialization {
    pub of: FuncId,
    /// The argument position specialized.
    pub arg: usize,
    pub known: KnownFunction,
    pub clone: FuncId,
}

/// A function value known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownFunction {
    /// A closure of this function (with its captures passed separately).
    Closure(FuncId),
    Builtin(Builtin),
}

/// Who builds the closures of each function (indexed by function).
pub struct ClosureUses {
    /// The `closure` instructions (function index, instruction) building it.
    pub sites: Vec<Vec<(usize, Inst)>>,
    /// Whether its environment may be shared: it is referenced by
    /// `sibling`/`closureref`, builds siblings itself, or a `closureref`
    /// shares the environment of one of its closures (a letrec group
    /// shares one environment).
    pub shared: Vec<bool>,
}

impl CfgProgram {
    /// Every function's closure sites and environment sharing, in one scan.
    pub fn closure_uses(&self) -> ClosureUses {
        let n = self.functions.len();
        let mut uses = ClosureUses {
            sites: vec![Vec::new(); n],
            shared: vec![false; n],
        };
        let mut untraced = false;
        for (fi, f) in self.functions.iter().enumerate() {
            let mut defs = None;
            for b in f.blocks() {
                for &i in &f.block(b).insts {
                    match &f.inst(i).kind {
                        InstKind::Closure { func, .. } => {
                            if let Some(s) = uses.sites.get_mut(func.0 as usize) {
                                s.push((fi, i));
                            }
                        }
                        InstKind::Sibling(g) => {
                            if let Some(s) = uses.shared.get_mut(g.0 as usize) {
                                *s = true;
                            }
                            uses.shared[fi] = true;
                        }
                        InstKind::ClosureRef { func: g, of } => {
                            if let Some(s) = uses.shared.get_mut(g.0 as usize) {
                                *s = true;
                            }
                            uses.shared[fi] = true;
                            // The function whose closure `of` is shares its
                            // environment with `g` too.
                            let defs = defs.get_or_insert_with(|| f.defining_insts());
                            match defs.get(of).map(|&d| &f.inst(d).kind) {
                                Some(
                                    InstKind::Closure { func: h, .. }
                                    | InstKind::Sibling(h)
                                    | InstKind::ClosureRef { func: h, .. },
                                ) => {
                                    if let Some(s) = uses.shared.get_mut(h.0 as usize) {
                                        *s = true;
                                    }
                                }
                                _ => untraced = true,
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        // An environment of unknown origin may be any function's.
        if untraced {
            uses.shared.iter_mut().for_each(|s| *s = true);
        }
        uses
    }
}

/// Pre/post numbers of a DFS over the dominator tree, so that "a dominates
/// b" is two comparisons instead of a walk up the tree (which made
/// verifying long chains of branches quadratic). Indexed by block number.
pub struct DomOrder {
    pre: Vec<u32>,
    post: Vec<u32>,
}

/// No number: the block is unreachable or was removed.
const UNNUMBERED: u32 = u32::MAX;

impl DomOrder {
    /// The dominator tree of `f`; `rpo` is `f.reverse_postorder()`.
    pub fn new(f: &Function, rpo: &[Block]) -> DomOrder {
        let children = f.dominator_children(rpo);
        let n = f.block_bound();
        // The entry, first in reverse postorder, is the tree's root.
        let root = rpo.first().copied();
        let (mut pre, mut post) = (vec![UNNUMBERED; n], vec![UNNUMBERED; n]);
        let mut clock = 0u32;
        // Iterative DFS: (block, whether its children were pushed).
        let mut stack: Vec<(Block, bool)> = root.into_iter().map(|r| (r, false)).collect();
        while let Some((b, expanded)) = stack.pop() {
            if expanded {
                post[b.index()] = clock;
                clock += 1;
                continue;
            }
            pre[b.index()] = clock;
            clock += 1;
            stack.push((b, true));
            for &c in &children[b.index()] {
                stack.push((c, false));
            }
        }
        DomOrder { pre, post }
    }

    /// Whether `a` dominates `b` (both reachable; a block dominates itself).
    pub fn dominates(&self, a: Block, b: Block) -> bool {
        let num = |v: &[u32], x: Block| v.get(x.index()).copied().filter(|&n| n != UNNUMBERED);
        match (
            num(&self.pre, a),
            num(&self.post, a),
            num(&self.pre, b),
            num(&self.post, b),
        ) {
            (Some(pa), Some(qa), Some(pb), Some(qb)) => pa <= pb && qb <= qa,
            _ => false,
        }
    }
}
