//! Robustness: randomly mutated modules either fail validation or run to a
//! value or a clean runtime error; the VM never panics on a module the
//! validator accepted.

use menai_bytecode::{CaptureFrom, ClosureSite, Constant, Function, Instr, Module, Op, SrcLoc};
use menai_vm::{run, RunOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn abc(op: Op, a: u16, b: u16, c: u16) -> Instr {
    Instr::abc(op, a, b, c)
}

fn func(name: &str, nparams: usize, rest: bool, nregs: u16, code: Vec<Instr>) -> Function {
    Function {
        name: name.into(),
        params: (0..nparams).map(|i| format!("p{i}")).collect(),
        rest: rest.then(|| "rest".to_string()),
        num_captures: 0,
        num_registers: nregs,
        constants: vec![
            Constant::Int(3),
            Constant::Str("s".into()),
            Constant::List(vec![Constant::Int(1), Constant::Float(2.0)]),
            Constant::BigInt("99999999999999999999".into()),
        ],
        closure_sites: vec![],
        locs: vec![SrcLoc::UNKNOWN; code.len()],
        cond_origins: vec![],
        code,
        loc: SrcLoc::UNKNOWN,
    }
}

/// A seed module exercising calls, closures, lists and arithmetic.
fn seed() -> Module {
    let mut main = func(
        "main",
        0,
        false,
        6,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            abc(Op::LoadK, 1, 0, 0),
            abc(Op::LoadK, 2, 2, 0),
            abc(Op::Call, 0, 2, 0),
            abc(Op::LoadK, 1, 3, 0),
            abc(Op::AddInt, 2, 1, 1),
            abc(Op::MakeList, 3, 0, 3),
            Instr::abx(Op::Closure, 4, 1),
            abc(Op::Apply, 5, 4, 3),
            abc(Op::Return, 5, 0, 0),
        ],
    );
    main.closure_sites = vec![
        ClosureSite {
            function: 1,
            captures: vec![],
        },
        ClosureSite {
            function: 2,
            captures: vec![CaptureFrom::Reg(1)],
        },
    ];
    let f = func(
        "f",
        1,
        true,
        5,
        vec![
            abc(Op::ListFirst, 2, 1, 0),
            abc(Op::MulInt, 3, 0, 0),
            abc(Op::LtInt, 4, 3, 0),
            Instr::abx(Op::JmpFalse, 4, 5),
            abc(Op::Return, 3, 0, 0),
            abc(Op::ListRest, 1, 1, 0),
            abc(Op::ListPrepend, 1, 1, 0),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    let mut g = func(
        "g",
        0,
        true,
        3,
        vec![
            abc(Op::GetCap, 1, 0, 0),
            abc(Op::ListPrepend, 2, 0, 1),
            abc(Op::Return, 2, 0, 0),
        ],
    );
    g.num_captures = 1;
    Module {
        files: vec![],
        file_hashes: vec![],
        struct_types: vec![],
        functions: vec![main, f, g],
        entry: 0,
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn seed_module_runs() {
    let m = menai_vm::loader::check(seed()).unwrap();
    run(&m, &RunOptions::default()).unwrap();
}

#[test]
fn mutated_modules_never_panic_the_vm() {
    let mut rng = Lcg(0x5eed);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut m = seed();
        for _ in 0..1 + rng.below(3) {
            let fi = rng.below(m.functions.len() as u64) as usize;
            let f = &mut m.functions[fi];
            let pc = rng.below(f.code.len() as u64) as usize;
            let ins = &mut f.code[pc];
            match rng.below(6) {
                0 => {
                    let ops = Op::ALL;
                    ins.op = ops[rng.below(ops.len() as u64) as usize];
                }
                1 => ins.a = rng.below(8) as u16,
                2 => ins.b = rng.below(8) as u16,
                3 => ins.c = rng.below(8) as u16,
                4 => ins.flags = rng.below(256) as u8,
                _ => f.num_registers = rng.below(10) as u16,
            }
        }
        let Ok(m) = menai_vm::loader::check(m) else {
            continue;
        };
        accepted += 1;
        let opts = RunOptions {
            max_depth: 200,
            max_steps: Some(10_000),
            max_memory: Some(64 << 20),
            stats: false,
            profile: false,
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            run(&m, &opts).map(|(v, _)| format!("{v:?}"))
        }));
        assert!(
            r.is_ok(),
            "the VM panicked on a validated module:\n{}",
            menai_bytecode::disasm::disassemble(&m)
        );
    }
    assert!(
        accepted > 100,
        "too few mutants passed validation ({accepted})"
    );
}
