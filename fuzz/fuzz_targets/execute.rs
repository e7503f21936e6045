//! Fuzz target: validated bytecode runs without ever crashing the VM.
//!
//! Structure-aware: the input (through `arbitrary`) picks one of a few
//! seed modules compiled from real Menai programs at -O0 or -O2 and a list
//! of edits — an instruction's opcode, operand or flags, a function's
//! register count, a constant, an instruction inserted or deleted, a
//! closure site's function or captures. Mutants the validator refuses are
//! dropped; every accepted one runs with a step, depth and memory limit
//! and must end in a value or a clean runtime error. Because the seeds
//! are real compiler output, mutants reach the typed, fused and unchecked
//! (`TYPES_PROVEN`) paths that byte-level fuzzing rarely validates.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use menai_bytecode::{CaptureFrom, Constant, Instr, Module, Op};
use menai_vm::{run, RunOptions};
use std::sync::OnceLock;

#[global_allocator]
static ALLOC: menai_vm::alloc::VmAlloc = menai_vm::alloc::VmAlloc;

/// Seed programs: calls, closures, loops, floats, lists, dicts, sets,
/// structs, match, strings, apply.
const SEEDS: &[&str] = &[
    "(letrec ((fib (lambda (n) (if (integer<? n 2) n (integer+ (fib (integer- n 1)) (fib (integer- n 2))))))) (fib 12))",
    "(letrec ((loop (lambda (i acc) (if (integer>=? i 50) (list-reverse acc) (loop (integer+ i 1) (list-prepend acc (integer* i i))))))) (fold-list integer+ 0 (loop 0 ())))",
    "(letrec ((go (lambda (x k) (if (float>? x 100.0) k (go (float* x 1.5) (integer+ k 1)))))) (go 1.0 0))",
    "(let ((d (fold-list (lambda (d w) (dict-set d w (integer+ (dict-get d w 0) 1))) (dict) (string->list \"a b a c b a\" \" \")))) (list (dict-keys d) (set-member? (list->set (dict-values d)) 3)))",
    "(let ((P (struct (x y)))) (match (P 1 (list 2 3)) ((P a (list b c)) (integer+ a (integer+ b c))) (_ 0)))",
    "(let ((make (lambda (n) (lambda (x) (integer+ x n))))) (map-list (make 10) (filter-list (lambda (x) (integer>? x 2)) (range 0 8))))",
    "(apply string-concat (map-list integer->string (list 1 22 333)))",
    "(letrec ((even? (lambda (n) (if (integer=? n 0) #t (odd? (integer- n 1))))) (odd? (lambda (n) (if (integer=? n 0) #f (even? (integer- n 1)))))) (list (even? 10) (list-ref (list 1 2 3) 1) (sort-list (list 3 1 2) integer<?)))",
];

fn seeds() -> &'static [Module] {
    static MODULES: OnceLock<Vec<Module>> = OnceLock::new();
    MODULES.get_or_init(|| {
        let mut out = Vec::new();
        for src in SEEDS {
            let compiled = menai_compiler::compile_str("seed.menai", src, &Default::default())
                .expect("seed programs compile");
            for opt_level in [0, 2] {
                let opts = menai_optimizer::Options {
                    opt_level,
                    ..Default::default()
                };
                out.push(
                    menai_optimizer::optimize(&compiled.program, &opts)
                        .expect("seed programs optimize"),
                );
            }
        }
        out
    })
}

#[derive(Arbitrary, Debug)]
enum ConstEdit {
    Int(i64),
    Float(f64),
    Str(String),
    BigInt(String),
    EmptyList,
    List(Vec<i64>),
    StructType(u32),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Op {
        f: u8,
        pc: u16,
        op: u8,
    },
    A {
        f: u8,
        pc: u16,
        v: u16,
    },
    B {
        f: u8,
        pc: u16,
        v: u16,
    },
    C {
        f: u8,
        pc: u16,
        v: u16,
    },
    Flags {
        f: u8,
        pc: u16,
        v: u8,
    },
    Registers {
        f: u8,
        v: u16,
    },
    Insert {
        f: u8,
        pc: u16,
        raw: u64,
    },
    Delete {
        f: u8,
        pc: u16,
    },
    Constant {
        f: u8,
        k: u8,
        c: ConstEdit,
    },
    SiteFunction {
        f: u8,
        site: u8,
        function: u32,
    },
    SiteCapture {
        f: u8,
        site: u8,
        from_env: bool,
        slot: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Case {
    seed: u8,
    edits: Vec<Edit>,
}

fn apply(m: &mut Module, edit: &Edit) {
    let nf = m.functions.len();
    let pick = |f: u8| f as usize % nf;
    let at = |len: usize, pc: u16| (len > 0).then(|| pc as usize % len);
    match *edit {
        Edit::Op { f, pc, op } => {
            let func = &mut m.functions[pick(f)];
            if let Some(pc) = at(func.code.len(), pc) {
                let ops = Op::ALL;
                func.code[pc].op = ops[op as usize % ops.len()];
            }
        }
        Edit::A { f, pc, v } | Edit::B { f, pc, v } | Edit::C { f, pc, v } => {
            let func = &mut m.functions[pick(f)];
            if let Some(pc) = at(func.code.len(), pc) {
                let ins = &mut func.code[pc];
                match edit {
                    Edit::A { .. } => ins.a = v,
                    Edit::B { .. } => ins.b = v,
                    _ => ins.c = v,
                }
            }
        }
        Edit::Flags { f, pc, v } => {
            let func = &mut m.functions[pick(f)];
            if let Some(pc) = at(func.code.len(), pc) {
                func.code[pc].flags = v;
            }
        }
        Edit::Registers { f, v } => m.functions[pick(f)].num_registers = v,
        Edit::Insert { f, pc, raw } => {
            let func = &mut m.functions[pick(f)];
            if let Ok(ins) = Instr::try_from(raw) {
                let pc = pc as usize % (func.code.len() + 1);
                func.code.insert(pc, ins);
                let loc = func.loc;
                func.locs.insert(pc.min(func.locs.len()), loc);
            }
        }
        Edit::Delete { f, pc } => {
            let func = &mut m.functions[pick(f)];
            if let Some(pc) = at(func.code.len(), pc) {
                func.code.remove(pc);
                if pc < func.locs.len() {
                    func.locs.remove(pc);
                }
            }
        }
        Edit::Constant { f, k, ref c } => {
            let func = &mut m.functions[pick(f)];
            let c = match c {
                ConstEdit::Int(i) => Constant::Int(*i),
                ConstEdit::Float(x) => Constant::Float(*x),
                ConstEdit::Str(s) => Constant::Str(s.clone()),
                ConstEdit::BigInt(s) => Constant::BigInt(s.clone()),
                ConstEdit::EmptyList => Constant::EmptyList,
                ConstEdit::List(xs) => {
                    Constant::List(xs.iter().map(|&i| Constant::Int(i)).collect())
                }
                ConstEdit::StructType(t) => Constant::StructType(*t),
            };
            match at(func.constants.len(), u16::from(k)) {
                Some(k) => func.constants[k] = c,
                None => func.constants.push(c),
            }
        }
        Edit::SiteFunction { f, site, function } => {
            let func = &mut m.functions[pick(f)];
            if let Some(s) = at(func.closure_sites.len(), u16::from(site)) {
                func.closure_sites[s].function = function;
            }
        }
        Edit::SiteCapture {
            f,
            site,
            from_env,
            slot,
        } => {
            let func = &mut m.functions[pick(f)];
            if let Some(s) = at(func.closure_sites.len(), u16::from(site)) {
                let from = if from_env {
                    CaptureFrom::Env(slot)
                } else {
                    CaptureFrom::Reg(slot)
                };
                func.closure_sites[s].captures.push(from);
            }
        }
    }
}

fuzz_target!(|case: Case| {
    let seeds = seeds();
    let mut m = seeds[case.seed as usize % seeds.len()].clone();
    for edit in case.edits.iter().take(8) {
        apply(&mut m, edit);
    }
    let Ok(valid) = menai_vm::loader::check(m) else {
        return;
    };
    let opts = RunOptions {
        max_depth: 500,
        max_steps: Some(20_000),
        max_memory: Some(64 << 20),
        ..RunOptions::default()
    };
    // A value or a runtime error: both fine. A panic or a crash is a bug.
    let _ = run(&valid, &opts);
});
