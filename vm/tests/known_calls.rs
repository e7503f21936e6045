//! Interpreter tests of the known-call opcodes on hand-built modules:
//! `callf` (window at R[A], result to R[C], frame pushed), `tailcallf`
//! (constant space), and the callee's environment (the current one when
//! the layouts match, else empty).

use menai_bytecode::{CaptureFrom, ClosureSite, Function, Instr, Module, Op, SrcLoc};
use menai_vm::{run_to_string, RunOptions, ValidModule};

fn abc(op: Op, a: u16, b: u16, c: u16) -> Instr {
    Instr::abc(op, a, b, c)
}

fn ldi(a: u16, v: i32) -> Instr {
    Instr::abx(Op::LoadInt, a, v as u32)
}

fn func(name: &str, params: &[&str], nregs: u16, code: Vec<Instr>) -> Function {
    let locs = (0..code.len())
        .map(|i| SrcLoc {
            file: 0,
            line: i as u32 + 1,
            col: 1,
            start: 0,
            end: 0,
        })
        .collect();
    Function {
        name: name.to_string(),
        params: params.iter().map(|s| s.to_string()).collect(),
        rest: None,
        num_captures: 0,
        num_registers: nregs,
        constants: Vec::new(),
        closure_sites: Vec::new(),
        code,
        locs,
        cond_origins: vec![],
        loc: SrcLoc::UNKNOWN,
    }
}

fn module(functions: Vec<Function>) -> Module {
    Module {
        files: vec!["t.menai".into()],
        file_hashes: vec![],
        struct_types: vec![],
        functions,
        entry: 0,
    }
}

fn valid(m: &Module) -> ValidModule {
    match ValidModule::new(m.clone()) {
        Ok(v) => v,
        Err(e) => panic!("invalid: {e}\n{}", menai_bytecode::disasm::disassemble(m)),
    }
}

fn run(m: &Module) -> String {
    match run_to_string(&valid(m), &RunOptions::default()) {
        Ok((s, _)) => s,
        Err(e) => format!("error: {}", e.message),
    }
}

/// fib(n) with both recursive calls as `callf`.
fn fib() -> Function {
    use Op::*;
    func(
        "fib",
        &["n"],
        5,
        vec![
            ldi(1, 2),                  // 0
            abc(LtInt, 2, 0, 1),        // 1
            Instr::abx(JmpFalse, 2, 4), // 2
            abc(Return, 0, 0, 0),       // 3
            ldi(1, 1),                  // 4
            abc(SubInt, 3, 0, 1),       // 5 R3 := n-1
            abc(CallF, 3, 1, 1),        // 6 R1 := fib(R3)
            ldi(4, 2),                  // 7
            abc(SubInt, 3, 0, 4),       // 8 R3 := n-2
            abc(CallF, 3, 1, 3),        // 9 R3 := fib(R3)
            abc(AddInt, 1, 1, 3),       // 10
            abc(Return, 1, 0, 0),       // 11
        ],
    )
}

#[test]
fn callf_calls_and_returns_into_c() {
    // R0 is below the window (R2) and survives the call; the result goes
    // to R1.
    let main = func(
        "main",
        &[],
        4,
        vec![
            ldi(0, 7),
            ldi(2, 20),
            abc(Op::CallF, 2, 1, 1), // R1 := fib(20)
            abc(Op::MakeList, 0, 0, 2),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    assert_eq!(run(&module(vec![main, fib()])), "(7 6765)");
}

#[test]
fn tailcallf_runs_in_constant_space() {
    use Op::*;
    // count(n, acc): if n = 0 then acc else count(n-1, acc+1), the tail
    // call through tailcallf with the arguments built above the window.
    let count = func(
        "count",
        &["n", "acc"],
        5,
        vec![
            ldi(2, 0),
            abc(EqInt, 3, 0, 2),
            Instr::abx(JmpFalse, 3, 4),
            abc(Return, 1, 0, 0),
            ldi(2, 1),
            abc(SubInt, 3, 0, 2),
            abc(AddInt, 4, 1, 2),
            abc(TailCallF, 3, 1, 0),
        ],
    );
    let main = func(
        "main",
        &[],
        2,
        vec![ldi(0, 1_000_000), ldi(1, 0), abc(TailCallF, 0, 1, 0)],
    );
    let m = module(vec![main, count]);
    let opts = RunOptions {
        max_depth: 100,
        ..RunOptions::default()
    };
    let (s, _) = run_to_string(&valid(&m), &opts).expect("runs in constant frames");
    assert_eq!(s, "1000000");
}

#[test]
fn the_callee_environment_is_the_current_one_or_empty() {
    use Op::*;
    // main builds a closure of g capturing 40 and 2, and calls it.
    // g (2 captures) callf's h (2 captures: the same environment), which
    // reads capture 0 and adds its argument; then callf's k (no captures),
    // which builds a sibling-free list of its argument.
    let main = {
        let mut f = func(
            "main",
            &[],
            3,
            vec![
                ldi(0, 40),
                ldi(1, 2),
                Instr::abx(Closure, 2, 0),
                abc(Call, 2, 0, 0),
                abc(Return, 0, 0, 0),
            ],
        );
        f.closure_sites = vec![ClosureSite {
            function: 1,
            captures: vec![CaptureFrom::Reg(0), CaptureFrom::Reg(1)],
        }];
        f
    };
    let g = {
        let mut f = func(
            "g",
            &[],
            2,
            vec![
                abc(GetCap, 0, 1, 0),    // R0 := 2
                abc(CallF, 0, 2, 0),     // R0 := h(R0) = 40 + 2
                abc(TailCallF, 0, 3, 0), // return k(R0)
            ],
        );
        f.num_captures = 2;
        f
    };
    let h = {
        let mut f = func(
            "h",
            &["x"],
            2,
            vec![
                abc(GetCap, 1, 0, 0),
                abc(AddInt, 0, 0, 1),
                abc(Return, 0, 0, 0),
            ],
        );
        f.num_captures = 2;
        f
    };
    let k = func(
        "k",
        &["y"],
        1,
        vec![abc(MakeList, 0, 0, 1), abc(Return, 0, 0, 0)],
    );
    assert_eq!(run(&module(vec![main, g, h, k])), "(42)");
}

/// A known call that keeps the caller's environment saves none in its
/// frame; when the callee then tail-calls a closure with another
/// environment, that closure's return must still give the caller its own
/// environment back (saved into the frame at the tail call).
#[test]
fn the_caller_gets_its_environment_back_after_a_tail_call_switched_it() {
    use Op::*;
    // main: g := closure(g, [7]); o := closure(other, [100]); R0 := g(o).
    let main = {
        let mut f = func(
            "main",
            &[],
            3,
            vec![
                ldi(0, 7),
                Instr::abx(Closure, 1, 0), // g, capturing R0 = 7
                ldi(0, 100),
                Instr::abx(Closure, 2, 1), // other, capturing R0 = 100
                abc(Call, 1, 1, 0),        // R0 := g(other)
                abc(Return, 0, 0, 0),
            ],
        );
        f.closure_sites = vec![
            ClosureSite {
                function: 1,
                captures: vec![CaptureFrom::Reg(0)],
            },
            ClosureSite {
                function: 3,
                captures: vec![CaptureFrom::Reg(0)],
            },
        ];
        f
    };
    // g(o): R1 := h(o) by callf (same environment, one capture); then
    // R2 := capture 0 (must be g's 7, not other's 100); return R1 + R2.
    let g = {
        let mut f = func(
            "g",
            &["o"],
            3,
            vec![
                abc(Move, 1, 0, 0),
                abc(CallF, 1, 2, 1), // R1 := h(R1)
                abc(GetCap, 2, 0, 0),
                abc(AddInt, 0, 1, 2),
                abc(Return, 0, 0, 0),
            ],
        );
        f.num_captures = 1;
        f
    };
    // h(o): return o() (a tail call into another environment).
    let h = {
        let mut f = func("h", &["o"], 1, vec![abc(TailCall, 0, 0, 0)]);
        f.num_captures = 1;
        f
    };
    // other(): return its capture 0 (100).
    let other = {
        let mut f = func(
            "other",
            &[],
            1,
            vec![abc(GetCap, 0, 0, 0), abc(Return, 0, 0, 0)],
        );
        f.num_captures = 1;
        f
    };
    assert_eq!(run(&module(vec![main, g, h, other])), "107");
}
