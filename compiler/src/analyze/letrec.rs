//! `letrec` grouping (LANGUAGE.md §4): the bindings are split into strongly
//! connected components of the "init mentions name" graph and evaluated in
//! dependency order (textual order among independent groups). A cyclic
//! group must consist of lambdas only (it becomes a `Letrec`); a cycle
//! through a plain value is a compile error. A non-cyclic single binding
//! becomes an ordinary (droppable) `Let`.

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
            // lambda that do not mention the group are evaluated before it.
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
            if let Some(bad) = group
                .iter()
                .find(|b| !matches!(b.init.kind, CKind::Lambda(_)))
            {
                let chain: Vec<&str> = group.iter().map(|b| b.name.as_str()).collect();
                let msg = if group.len() == 1 {
                    format!(
                        "letrec: '{}' is defined in terms of itself, and is not a function",
                        bad.name
                    )
                } else {
                    format!(
                        "letrec: cyclic definition through values that are not functions: {} -> {}",
                        chain.join(" -> "),
                        chain[0]
                    )
                };
                let mut d = Diagnostic::error(bad.span, msg);
                for b in &group {
                    if b.var != bad.var {
                        d = d.with_label(b.span, format!("'{}' is part of the cycle", b.name));
                    }
                }
                self.diags.push(
                    d.with_note("a cycle in letrec must pass through a lambda on every binding"),
                );
                continue;
            }
            let bindings: Vec<(VarId, CLambda)> = group
                .into_iter()
                .filter_map(|b| match b.init.kind {
                    CKind::Lambda(l) => Some((b.var, l)),
                    _ => None,
                })
                .collect();
            result = CExpr::new(
                CKind::Letrec {
                    bindings,
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

/// Peels the `let`s wrapping a lambda whose inits do not mention `names`
/// (appending them to `out`); leaves `init` unchanged unless a lambda is
/// what remains.
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
                droppable,
            } if !mentions(&init, names) => {
                peeled.push((var, *init, droppable, cur.span));
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
    if matches!(cur.kind, CKind::Lambda(_)) {
        out.extend(peeled);
        return cur;
    }
    for (var, e, droppable, sp) in peeled.into_iter().rev() {
        cur = CExpr::let_(var, e, cur, droppable, sp);
    }
    cur
}
