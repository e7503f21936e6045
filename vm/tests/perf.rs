//! Timing runs of call-heavy programs (ignored by default; run with
//! `cargo test --release -p menai-vm --test perf -- --ignored --nocapture`).
//! The modules are written by hand the way the optimizer emits them.

use menai_bytecode::{ClosureSite, Function, Instr, Module, Op, SrcLoc};
use menai_vm::value::Value;
use menai_vm::{run, RunOptions};
use std::time::Instant;

fn abc(op: Op, a: u16, b: u16, c: u16) -> Instr {
    Instr::abc(op, a, b, c)
}

fn ldi(a: u16, v: i32) -> Instr {
    Instr::abx(Op::LoadInt, a, v as u32)
}

fn func(name: &str, nparams: usize, nregs: u16, code: Vec<Instr>) -> Function {
    Function {
        name: name.to_string(),
        params: (0..nparams).map(|i| format!("p{i}")).collect(),
        rest: None,
        num_captures: 0,
        num_registers: nregs,
        constants: Vec::new(),
        closure_sites: Vec::new(),
        locs: vec![SrcLoc::UNKNOWN; code.len()],
        cond_origins: vec![],
        code,
        loc: SrcLoc::UNKNOWN,
    }
}

fn program(args: &[i32], f: Function) -> Module {
    let n = args.len() as u16;
    let mut code = vec![Instr::abx(Op::Closure, 0, 0)];
    for (i, &v) in args.iter().enumerate() {
        code.push(ldi(i as u16 + 1, v));
    }
    code.push(abc(Op::Call, 0, n, 0));
    code.push(abc(Op::Return, 0, 0, 0));
    let mut main = func("main", 0, n + 1, code);
    main.closure_sites = vec![ClosureSite {
        function: 1,
        captures: vec![],
    }];
    let m = Module {
        files: vec![],
        struct_types: vec![],
        functions: vec![main, f],
        entry: 0,
    };
    if let Err(e) = menai_vm::loader::check(&m) {
        panic!("invalid module: {e}");
    }
    m
}

pub fn fib(n: i32) -> Module {
    let f = func(
        "fib",
        1,
        5,
        vec![
            ldi(1, 2),
            abc(Op::LtInt, 1, 0, 1),
            Instr::abx(Op::JmpFalse, 1, 4),
            abc(Op::Return, 0, 0, 0),
            abc(Op::Sibling, 1, 1, 0),
            ldi(3, 1),
            abc(Op::SubInt, 2, 0, 3),
            abc(Op::Call, 1, 1, 1),
            abc(Op::Sibling, 2, 1, 0),
            ldi(4, 2),
            abc(Op::SubInt, 3, 0, 4),
            abc(Op::Call, 2, 1, 2),
            abc(Op::AddInt, 1, 1, 2),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    program(&[n], f)
}

pub fn tak(x: i32, y: i32, z: i32) -> Module {
    let f = func(
        "tak",
        3,
        10,
        vec![
            abc(Op::LtInt, 3, 1, 0),
            Instr::abx(Op::JmpFalse, 3, 22),
            abc(Op::Sibling, 3, 1, 0),
            abc(Op::Sibling, 4, 1, 0),
            ldi(5, 1),
            abc(Op::SubInt, 5, 0, 5),
            abc(Op::Move, 6, 1, 0),
            abc(Op::Move, 7, 2, 0),
            abc(Op::Call, 4, 3, 4),
            abc(Op::Sibling, 5, 1, 0),
            ldi(6, 1),
            abc(Op::SubInt, 6, 1, 6),
            abc(Op::Move, 7, 2, 0),
            abc(Op::Move, 8, 0, 0),
            abc(Op::Call, 5, 3, 5),
            abc(Op::Sibling, 6, 1, 0),
            ldi(7, 1),
            abc(Op::SubInt, 7, 2, 7),
            abc(Op::Move, 8, 0, 0),
            abc(Op::Move, 9, 1, 0),
            abc(Op::Call, 6, 3, 6),
            abc(Op::TailCall, 3, 3, 0),
            abc(Op::Return, 2, 0, 0),
        ],
    );
    program(&[x, y, z], f)
}

fn time(name: &str, m: &Module, expected: i64) {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let (v, _) = run(m, &RunOptions::default()).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert!(matches!(v, Value::Int(i) if i == expected), "{v:?}");
    }
    let (_, stats) = run(
        m,
        &RunOptions {
            stats: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    println!(
        "{name}: {:.3} s ({} instructions, {} calls)",
        best, stats.instructions, stats.calls
    );
}

#[test]
#[ignore]
fn perf_fib_30() {
    time("fib(30)", &fib(30), 832040);
}

#[test]
#[ignore]
fn perf_tak_24_16_8() {
    time("tak(24,16,8)", &tak(24, 16, 8), 9);
}

#[test]
fn perf_programs_are_right() {
    assert!(matches!(
        run(&fib(15), &RunOptions::default()).unwrap().0,
        Value::Int(610)
    ));
    assert!(matches!(
        run(&tak(18, 12, 6), &RunOptions::default()).unwrap().0,
        Value::Int(7)
    ));
}

/// Writes the benchmark modules as `.bc` files into `$MENAI_BENCH_DIR`, for
/// timing the `menai-vm` binary against peers.
#[test]
#[ignore]
fn write_bench_files() {
    let Ok(dir) = std::env::var("MENAI_BENCH_DIR") else {
        return;
    };
    for (name, m) in [("fib30", fib(30)), ("tak24", tak(24, 16, 8))] {
        let bytes = menai_bytecode::encode_module(&m).unwrap();
        std::fs::write(format!("{dir}/{name}.bc"), bytes).unwrap();
    }
}
