//! The Menai profiler (`--profile`, `--profile-folded FILE`): a call tree
//! of the run, built by the interpreter's counting loop (the loop that
//! runs without profiling has no trace of it).
//!
//! Each node is a function reached through a path of calls from the entry
//! (a tail call replaces its caller's node by a sibling: the caller's frame
//! is gone). Per node: how many times it was entered, the VM instructions
//! it executed itself, and the time spent in it (the clock is read at every
//! call and return, so very short functions carry some of the clock's own
//! cost). [`Profile::report`] folds the nodes into one row per function:
//! self counts, and total time counted once per function even through
//! recursion; [`Profile::folded`] writes one line per path, `main;f;g N`
//! with N the instructions executed there, the format flame-graph tools read.

use menai_bytecode::Module;
use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// The node every root call hangs from (no function).
const ROOT: u32 = 0;

/// One node of the call tree.
#[derive(Clone, Debug)]
struct Node {
    func: u32,
    parent: u32,
    calls: u64,
    instructions: u64,
    self_time: Duration,
}

/// The call tree of a run (see the module documentation).
#[derive(Clone, Debug)]
pub struct Profile {
    nodes: Vec<Node>,
    children: HashMap<(u32, u32), u32>,
    /// The nodes of the suspended callers.
    stack: Vec<u32>,
    current: u32,
    last: Instant,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::new()
    }
}

impl Profile {
    pub fn new() -> Profile {
        Profile {
            nodes: vec![Node {
                func: u32::MAX,
                parent: ROOT,
                calls: 0,
                instructions: 0,
                self_time: Duration::ZERO,
            }],
            children: HashMap::default(),
            stack: Vec::new(),
            current: ROOT,
            last: Instant::now(),
        }
    }

    /// Charges the time since the last event to the current node.
    fn clock(&mut self) {
        let now = Instant::now();
        let node = &mut self.nodes[self.current as usize];
        node.self_time += now - self.last;
        self.last = now;
    }

    /// One instruction executed by the current function.
    #[inline]
    pub fn tick(&mut self) {
        self.nodes[self.current as usize].instructions += 1;
    }

    /// A non-tail call: the current node becomes a suspended caller (the
    /// callee is entered next).
    pub fn call(&mut self) {
        self.stack.push(self.current);
    }

    /// Function `func` starts running: called, tail-called, or the entry.
    pub fn enter(&mut self, func: u32) {
        self.clock();
        let parent = self.stack.last().copied().unwrap_or(ROOT);
        let next = self.nodes.len() as u32;
        let node = *self.children.entry((parent, func)).or_insert(next);
        if node == next {
            self.nodes.push(Node {
                func,
                parent,
                calls: 0,
                instructions: 0,
                self_time: Duration::ZERO,
            });
        }
        self.nodes[node as usize].calls += 1;
        self.current = node;
    }

    /// The running function returned to its caller.
    pub fn ret(&mut self) {
        self.clock();
        self.current = self.stack.pop().unwrap_or(ROOT);
    }

    /// The run ended (a value or an error): the last interval is charged.
    pub fn finish(&mut self) {
        self.clock();
    }

    /// The nodes' inclusive times, children before parents.
    fn inclusive(&self) -> Vec<Duration> {
        let mut total: Vec<Duration> = self.nodes.iter().map(|n| n.self_time).collect();
        // A child is always created after its parent: summing from the last
        // node back adds every subtree once.
        for i in (1..self.nodes.len()).rev() {
            let p = self.nodes[i].parent as usize;
            let t = total[i];
            total[p] += t;
        }
        total
    }

    /// The table: per function (name and source location) calls, VM
    /// instructions, self time and total time, sorted by self time.
    pub fn report(&self, module: &Module) -> String {
        #[derive(Default)]
        struct Row {
            calls: u64,
            instructions: u64,
            self_time: Duration,
            total: Duration,
        }
        let inclusive = self.inclusive();
        let mut rows: HashMap<u32, Row> = HashMap::default();
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            let row = rows.entry(n.func).or_default();
            row.calls += n.calls;
            row.instructions += n.instructions;
            row.self_time += n.self_time;
            // Total time once per function: only nodes with no ancestor
            // running the same function (recursion is inside them).
            let mut a = n.parent;
            let mut nested = false;
            while a != ROOT {
                if self.nodes[a as usize].func == n.func {
                    nested = true;
                    break;
                }
                a = self.nodes[a as usize].parent;
            }
            if !nested {
                row.total += inclusive[i];
            }
        }
        let all_time = inclusive[ROOT as usize].max(Duration::from_nanos(1));
        let all_instr: u64 = self
            .nodes
            .iter()
            .map(|n| n.instructions)
            .sum::<u64>()
            .max(1);
        let mut rows: Vec<(u32, Row)> = rows.into_iter().collect();
        rows.sort_by(|a, b| {
            b.1.self_time
                .cmp(&a.1.self_time)
                .then(b.1.instructions.cmp(&a.1.instructions))
                .then(a.0.cmp(&b.0))
        });
        let mut out = String::new();
        let _ = writeln!(
            out,
            "profile: {} instructions, {:.3} ms",
            all_instr,
            all_time.as_secs_f64() * 1e3
        );
        let _ = writeln!(
            out,
            "{:>8} {:>7} {:>10} {:>14} {:>7} {:>10}  function",
            "self ms", "self %", "total ms", "instructions", "instr %", "calls"
        );
        for (f, r) in rows {
            let _ = writeln!(
                out,
                "{:>8.3} {:>6.1}% {:>10.3} {:>14} {:>6.1}% {:>10}  {}",
                r.self_time.as_secs_f64() * 1e3,
                100.0 * r.self_time.as_secs_f64() / all_time.as_secs_f64(),
                r.total.as_secs_f64() * 1e3,
                r.instructions,
                100.0 * r.instructions as f64 / all_instr as f64,
                r.calls,
                describe(module, f)
            );
        }
        out
    }

    /// Folded stacks: `main;f;g N` per call path, N the VM instructions
    /// executed in the last function of the path; lines sorted.
    pub fn folded(&self, module: &Module) -> String {
        let mut lines: Vec<String> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if n.instructions == 0 {
                continue;
            }
            let mut path = Vec::new();
            let mut at = i as u32;
            while at != ROOT {
                path.push(name(module, self.nodes[at as usize].func));
                at = self.nodes[at as usize].parent;
            }
            path.reverse();
            lines.push(format!("{} {}", path.join(";"), n.instructions));
        }
        lines.sort();
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }
}

/// A function's name, safe for a folded-stack frame (no `;` or space).
fn name(module: &Module, f: u32) -> String {
    let raw = module
        .functions
        .get(f as usize)
        .map_or("?", |g| g.name.as_str());
    raw.replace([';', ' '], "_")
}

/// `name (file:line)`.
fn describe(module: &Module, f: u32) -> String {
    let Some(g) = module.functions.get(f as usize) else {
        return format!("function {f}");
    };
    match module.files.get(g.loc.file as usize) {
        Some(file) => format!("{} ({}:{})", g.name, file, g.loc.line),
        None => g.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// main calls f twice; f calls g once per call; g tail-calls h.
    #[test]
    fn the_tree_counts_calls_and_instructions_per_path() {
        let mut p = Profile::new();
        p.enter(0); // main
        p.tick();
        for _ in 0..2 {
            p.call();
            p.enter(1); // f
            p.tick();
            p.tick();
            p.call();
            p.enter(2); // g
            p.tick();
            p.enter(3); // h, by a tail call from g
            p.tick();
            p.ret(); // back in f
            p.ret(); // back in main
        }
        p.finish();
        let module = Module {
            files: vec!["t.menai".into()],
            file_hashes: vec![],
            struct_types: vec![],
            functions: ["main", "f", "g", "h"]
                .iter()
                .map(|n| menai_bytecode::Function {
                    name: n.to_string(),
                    params: vec![],
                    rest: None,
                    num_captures: 0,
                    num_registers: 1,
                    constants: vec![],
                    closure_sites: vec![],
                    code: vec![],
                    locs: vec![],
                    cond_origins: vec![],
                    loc: menai_bytecode::SrcLoc::UNKNOWN,
                })
                .collect(),
            entry: 0,
        };
        assert_eq!(
            p.folded(&module),
            "main 1\nmain;f 4\nmain;f;g 2\nmain;f;h 2\n"
        );
        let report = p.report(&module);
        assert!(report.starts_with("profile: 9 instructions"), "{report}");
        let calls = |name: &str| {
            report
                .lines()
                .find(|l| l.ends_with(&format!("  {name}")))
                .and_then(|l| l.split_whitespace().nth(5))
                .map(str::to_string)
        };
        assert_eq!(calls("f").as_deref(), Some("2"));
        assert_eq!(calls("h").as_deref(), Some("2"));
        assert_eq!(calls("main").as_deref(), Some("1"));
    }
}
