//! `letrec` grouping (LANGUAGE.md §4): the bindings are split into strongly
//! connected components of the "init mentions name" graph and evaluated in
//! dependency order (textual order among independent groups). A
//! non-cyclic single binding becomes an ordinary (droppable) `Let`; a
//! cyclic group becomes one `Letrec` of lambdas.
//!
//! # Recursion through data, without reference cycles
//!
//! A cyclic group may hold data members: inits that are not lambdas but
//! values containing lambdas that refer back (`(letrec ((x (list (lambda ()
//! x)))) ...)`). Every cycle must still pass through a lambda: the graph of
//! *direct* mentions (outside any lambda) among the members must be
//! acyclic, else the group is a compile error.
//!
//! Storing `x` where its own lambdas can reach it would make a reference
//! cycle that reference counting never frees. Because the language is
//! pure, `x` is instead *rebuilt on demand* (ARCHITECTURE.md, "No cycles
//! from letrec"):
//! - each data member `x` gets a thunk `x = (lambda () init)`, a member of
//!   the group, and every reference to `x` inside the group becomes a call
//!   of that thunk;
//! - the lambdas of `init` that capture nothing bound inside `init` are
//!   lifted into the group as members, so a rebuilt value holds the *same*
//!   closures (same function, the one group environment): `function=?` and
//!   structural equality cannot tell a rebuilt value from the first;
//! - where the group is evaluated, each data member is built once, in
//!   dependency order, and bound for the body.
//!
//! The group is then an ordinary function-only `Letrec`: one environment of
//! outer captures shared by every member, no value stored inside its own
//! environment, so memory stays flat however many groups a loop creates.
//! Only closures created *while* building (inside a `map-list`, say, or
//! capturing a `let` of the init) are fresh on each rebuild.

use super::core::{CExpr, CKind, CLambda};
use super::Analyzer;
use crate::diagnostic::Diagnostic;
use crate::ir::Const;
use crate::ir::{Span, VarId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

pub(crate) struct RecBinding {
    pub var: VarId,
    pub name: String,
    pub span: Span,
    pub init: CExpr,
}

/// Tarjan's strongly connected components, iteratively. Components come
/// out in reverse topological order (a component after those it points to).
fn sccs(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = deps.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = work.last_mut() {
            let v = top.0;
            if top.1 < deps[v].len() {
                let w = deps[v][top.1];
                top.1 += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out
}

impl Analyzer {
    /// Builds the grouped, ordered bindings around `body`.
    pub(super) fn letrec_groups(
        &mut self,
        binds: Vec<RecBinding>,
        body: CExpr,
        span: Span,
    ) -> CExpr {
        let n = binds.len();
        let pos: HashMap<VarId, usize> =
            binds.iter().enumerate().map(|(i, b)| (b.var, i)).collect();
        let deps: Vec<Vec<usize>> = binds
            .iter()
            .map(|b| {
                let mut d = Vec::new();
                b.init.for_each_var(|v| {
                    if let Some(&j) = pos.get(&v) {
                        d.push(j);
                    }
                });
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        let comps = sccs(&deps);
        let mut comp_of = vec![0usize; n];
        for (c, members) in comps.iter().enumerate() {
            for &m in members {
                comp_of[m] = c;
            }
        }
        // Order the components: dependencies first, else textual order.
        let nc = comps.len();
        let mut indeg = vec![0usize; nc];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); nc];
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                let (a, b) = (comp_of[i], comp_of[j]);
                if a != b {
                    users[b].push(a);
                    indeg[a] += 1;
                }
            }
        }
        let mut heap: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
        for c in 0..nc {
            if indeg[c] == 0 {
                heap.push(Reverse((comps[c][0], c)));
            }
        }
        let mut order = Vec::with_capacity(nc);
        while let Some(Reverse((_, c))) = heap.pop() {
            order.push(c);
            for &u in &users[c] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    heap.push(Reverse((comps[u][0], u)));
                }
            }
        }
        let mut slots: Vec<Option<RecBinding>> = binds.into_iter().map(Some).collect();
        let mut result = body;
        for &c in order.iter().rev() {
            let members = &comps[c];
            let cyclic = members.len() > 1 || deps[members[0]].contains(&members[0]);
            let mut group: Vec<RecBinding> =
                members.iter().filter_map(|&m| slots[m].take()).collect();
            if !cyclic {
                if let Some(b) = group.pop() {
                    let sp = b.init.span;
                    result = CExpr::let_(b.var, b.init, result, true, sp);
                }
                continue;
            }
            // `(f (let ((k e)) (lambda ...)))`: bindings around a member's
            // init that do not mention the group are evaluated before it.
            let names: HashSet<VarId> = group.iter().map(|b| b.var).collect();
            let mut hoisted: Vec<(VarId, CExpr, bool, Span)> = Vec::new();
            for b in group.iter_mut() {
                let init = std::mem::replace(&mut b.init, CExpr::konst(Const::None, b.span));
                b.init = hoist_lets(init, &names, &mut hoisted);
                if let CKind::Lambda(l) = &mut b.init.kind {
                    if l.name == "lambda" {
                        l.name = b.name.clone();
                    }
                }
            }
            if let Some(cycle) = value_cycle(&group) {
                self.report_value_cycle(&group, &cycle);
                continue;
            }
            let body_uses_group = mentions(&result, &names);
            let FunctionGroup { members, data } = self.rebuild_on_demand(group);
            // Data members are built once where the group is evaluated, in
            // dependency order (all of them, as the reference evaluates
            // every init of the group; none when the body does not use
            // the group, which is then dropped whole).
            for d in data.into_iter().rev() {
                let build = call_thunk(d.thunk, d.span);
                result = CExpr::let_(d.var, build, result, !body_uses_group, d.span);
            }
            result = CExpr::new(
                CKind::Letrec {
                    bindings: members,
                    body: Box::new(result),
                },
                span,
            );
            for (var, init, droppable, sp) in hoisted.into_iter().rev() {
                result = CExpr::let_(var, init, result, droppable, sp);
            }
        }
        result
    }
}

/// Whether `e` mentions any of `names`.
fn mentions(e: &CExpr, names: &HashSet<VarId>) -> bool {
    let mut found = false;
    e.for_each_var(|v| found |= names.contains(&v));
    found
}

/// Peels the droppable `let`s wrapping a member's init whose inits do not
/// mention `names` (appending them to `out`), so they are evaluated once,
/// before the group. A non-droppable `let` (a temporary of the desugaring,
/// such as a `match` scrutinee) stops the peeling: outside the group it
/// would run even when the group is dropped.
fn hoist_lets(
    init: CExpr,
    names: &HashSet<VarId>,
    out: &mut Vec<(VarId, CExpr, bool, Span)>,
) -> CExpr {
    let mut peeled: Vec<(VarId, CExpr, bool, Span)> = Vec::new();
    let mut cur = init;
    loop {
        match cur.kind {
            CKind::Let {
                var,
                init,
                body,
                droppable: true,
            } if !mentions(&init, names) => {
                peeled.push((var, *init, true, cur.span));
                cur = *body;
            }
            kind => {
                cur = CExpr {
                    kind,
                    span: cur.span,
                };
                break;
            }
        }
    }
    out.extend(peeled);
    cur
}

/// A recursive group as lambdas only: its members, and its data members
/// with their thunks in the order to build them.
struct FunctionGroup {
    members: Vec<(VarId, CLambda)>,
    data: Vec<DataMember>,
}

/// A data member `var` of a group, rebuilt by calling the member `thunk`.
struct DataMember {
    var: VarId,
    thunk: VarId,
    span: Span,
}

/// Calls `f` on every variable `e` mentions outside any lambda (what
/// evaluating `e` reads directly).
fn for_each_direct_var(e: &CExpr, mut f: impl FnMut(VarId)) {
    let mut stack: Vec<&CExpr> = vec![e];
    while let Some(e) = stack.pop() {
        if let CKind::Var(v) | CKind::NoMatch(v) = e.kind {
            f(v);
        }
        e.push_children(false, &mut stack);
    }
}

/// The graph of direct mentions among the members of a group: for each
/// member, the members its init reads outside any lambda.
fn direct_edges(group: &[RecBinding]) -> Vec<Vec<usize>> {
    let pos: HashMap<VarId, usize> = group.iter().enumerate().map(|(i, b)| (b.var, i)).collect();
    group
        .iter()
        .map(|b| {
            let mut d = Vec::new();
            for_each_direct_var(&b.init, |v| {
                if let Some(&j) = pos.get(&v) {
                    d.push(j);
                }
            });
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect()
}

/// A cycle of direct mentions (no lambda on the way), as member indices in
/// path order, if the group has one.
fn value_cycle(group: &[RecBinding]) -> Option<Vec<usize>> {
    let edges = direct_edges(group);
    let comp = sccs(&edges)
        .into_iter()
        .find(|c| c.len() > 1 || edges[c[0]].contains(&c[0]))?;
    // Walk edges inside the component from its first member until a member
    // repeats: the part from that member on is a cycle.
    let inside: HashSet<usize> = comp.iter().copied().collect();
    let mut path = vec![comp[0]];
    loop {
        let last = path[path.len() - 1];
        let next = *edges[last].iter().find(|j| inside.contains(j))?;
        if let Some(at) = path.iter().position(|&p| p == next) {
            return Some(path.split_off(at));
        }
        path.push(next);
    }
}

/// Every variable bound anywhere inside `e` (let, lambda parameters,
/// letrec members).
fn binders(e: &CExpr) -> HashSet<VarId> {
    let mut out = HashSet::new();
    let mut stack: Vec<&CExpr> = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            CKind::Let { var, .. } => {
                out.insert(*var);
            }
            CKind::Letrec { bindings, .. } => out.extend(bindings.iter().map(|(v, _)| *v)),
            CKind::Lambda(l) => out.extend(l.params.iter().copied().chain(l.rest)),
            _ => {}
        }
        e.push_children(true, &mut stack);
    }
    out
}

/// A call of `thunk` with no arguments.
fn call_thunk(thunk: VarId, span: Span) -> CExpr {
    CExpr::new(
        CKind::Call {
            func: Box::new(CExpr::var(thunk, span)),
            args: vec![],
        },
        span,
    )
}

impl Analyzer {
    /// Reports a cycle of direct mentions (`cycle`, indices into `group`).
    fn report_value_cycle(&mut self, group: &[RecBinding], cycle: &[usize]) {
        let first = &group[cycle[0]];
        let msg = if cycle.len() == 1 {
            format!(
                "letrec: '{}' is defined in terms of itself, and not through a function",
                first.name
            )
        } else {
            let chain: Vec<&str> = cycle.iter().map(|&i| group[i].name.as_str()).collect();
            format!(
                "letrec: cyclic definition through values that are not functions: {} -> {}",
                chain.join(" -> "),
                chain[0]
            )
        };
        let mut d = Diagnostic::error(first.span, msg);
        for &i in &cycle[1..] {
            let b = &group[i];
            d = d.with_label(b.span, format!("'{}' is part of the cycle", b.name));
        }
        self.diags.push(d.with_note(
            "a cycle in letrec must pass through a lambda: wrap the reference in (lambda () ...)",
        ));
    }

    /// Turns a cyclic group whose direct mentions are acyclic into a
    /// function-only group (see the module documentation).
    fn rebuild_on_demand(&mut self, group: Vec<RecBinding>) -> FunctionGroup {
        let order = build_order(&group);
        let mut thunk_of: HashMap<VarId, VarId> = HashMap::new();
        let mut members: Vec<(VarId, CLambda)> = Vec::new();
        let mut data: Vec<DataMember> = Vec::new();
        let mut slots: Vec<Option<RecBinding>> = group.into_iter().map(Some).collect();
        for i in order {
            let Some(b) = slots[i].take() else { continue };
            match b.init.kind {
                CKind::Lambda(l) => members.push((b.var, l)),
                kind => {
                    let mut init = CExpr {
                        kind,
                        span: b.init.span,
                    };
                    self.lift_lambdas(&mut init, &mut members);
                    let thunk = self.fresh(b.name.clone(), b.span);
                    thunk_of.insert(b.var, thunk);
                    data.push(DataMember {
                        var: b.var,
                        thunk,
                        span: b.span,
                    });
                    members.push((
                        thunk,
                        CLambda {
                            name: b.name,
                            params: vec![],
                            rest: None,
                            span: init.span,
                            body: Box::new(init),
                        },
                    ));
                }
            }
        }
        for (_, l) in &mut members {
            self.call_thunks(&mut l.body, &thunk_of);
        }
        FunctionGroup { members, data }
    }

    /// Replaces the lambdas that building `init` creates and that capture
    /// nothing bound inside `init` by new group members (pushed onto
    /// `members`), referenced by name.
    fn lift_lambdas(&mut self, init: &mut CExpr, members: &mut Vec<(VarId, CLambda)>) {
        let inner = binders(init);
        let mut stack: Vec<&mut CExpr> = vec![init];
        while let Some(e) = stack.pop() {
            if let CKind::Lambda(l) = &e.kind {
                let own = binders(e);
                let mut free_inner = false;
                l.body
                    .for_each_var(|v| free_inner |= inner.contains(&v) && !own.contains(&v));
                if !free_inner {
                    let v = self.fresh(l.name.clone(), e.span);
                    let CKind::Lambda(l) = std::mem::replace(&mut e.kind, CKind::Var(v)) else {
                        continue;
                    };
                    members.push((v, l));
                }
                continue;
            }
            e.push_children_mut(false, &mut stack);
        }
    }

    /// Rewrites every reference to a data member in `e` (lambdas included)
    /// into a call of its thunk.
    fn call_thunks(&mut self, e: &mut CExpr, thunk_of: &HashMap<VarId, VarId>) {
        let mut stack: Vec<&mut CExpr> = vec![e];
        while let Some(e) = stack.pop() {
            match e.kind {
                CKind::Var(v) => {
                    if let Some(&t) = thunk_of.get(&v) {
                        *e = call_thunk(t, e.span);
                    }
                    continue;
                }
                CKind::NoMatch(v) => {
                    if let Some(&t) = thunk_of.get(&v) {
                        let tmp = self.fresh("%match", e.span);
                        let raise = CExpr::new(CKind::NoMatch(tmp), e.span);
                        *e = CExpr::let_(tmp, call_thunk(t, e.span), raise, false, e.span);
                    }
                    continue;
                }
                _ => {}
            }
            e.push_children_mut(true, &mut stack);
        }
    }
}

/// The order to evaluate a group's members: data members after the data
/// members they read directly (the direct graph is acyclic), otherwise in
/// textual order.
fn build_order(group: &[RecBinding]) -> Vec<usize> {
    let edges = direct_edges(group);
    let n = group.len();
    let mut indeg = vec![0usize; n];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in edges.iter().enumerate() {
        for &j in d {
            users[j].push(i);
            indeg[i] += 1;
        }
    }
    let mut heap: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indeg[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = heap.pop() {
        order.push(i);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                heap.push(Reverse(u));
            }
        }
    }
    order
}
