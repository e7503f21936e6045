//! A small valid module shared by the bytecode-format tests: an entry
//! function that builds a `fib` closure, calls it and wraps the result in a
//! struct, and `fib` itself (a branch, a self-reference through `sibling`,
//! two calls, last-use flags).

#![allow(dead_code)]

use menai_bytecode::module::NO_FILE;
use menai_bytecode::{ClosureSite, Constant, Function, Instr, Module, Op, SrcLoc, StructTypeDef};

pub fn loc(line: u32) -> SrcLoc {
    SrcLoc {
        file: 0,
        line,
        col: 1,
        start: 0,
        end: 0,
    }
}

/// Builds a function whose instruction i is on line `first_line + i`.
pub fn function(
    name: &str,
    params: &[&str],
    regs: u16,
    code: Vec<Instr>,
    first_line: u32,
) -> Function {
    let locs = (0..code.len() as u32)
        .map(|i| loc(first_line + i))
        .collect();
    Function {
        name: name.to_string(),
        params: params.iter().map(|p| p.to_string()).collect(),
        rest: None,
        num_captures: 0,
        num_registers: regs,
        constants: Vec::new(),
        closure_sites: Vec::new(),
        code,
        locs,
        cond_origins: vec![],
        loc: loc(first_line),
    }
}

pub fn flagged(mut i: Instr, flags: u8) -> Instr {
    i.flags = flags;
    i
}

/// Entry (F0): `(point (fib 10) "x")`.
pub fn main_fn() -> Function {
    use Op::*;
    let code = vec![
        Instr::abx(Closure, 0, 0),               // 0 R0 := fib
        Instr::abx(LoadInt, 1, 10),              // 1
        Instr::abc(Call, 0, 1, 0),               // 2 R0 := fib(10)
        Instr::abc(LoadK, 1, 0, 0),              // 3 R1 := "x"
        Instr::abc(MakeStruct, 2, 0, 0),         // 4 R2 := point(R0, R1)
        flagged(Instr::abc(Return, 2, 0, 0), 1), // 5
    ];
    let mut f = function("main", &[], 3, code, 1);
    f.constants = vec![Constant::Str("x".into())];
    f.closure_sites = vec![ClosureSite {
        function: 1,
        captures: vec![],
    }];
    f.loc = SrcLoc::UNKNOWN;
    f
}

/// F1: `(lambda (n) (if (integer<? n 2) n (integer+ (fib (- n 1)) (fib (- n 2)))))`.
pub fn fib_fn() -> Function {
    use Op::*;
    let code = vec![
        Instr::abc(LoadK, 1, 0, 0),                 // 0  R1 := 2
        Instr::abc(LtInt, 2, 0, 1),                 // 1  R2 := n < 2
        Instr::abx(JmpFalse, 2, 4),                 // 2
        flagged(Instr::abc(Return, 0, 0, 0), 1),    // 3
        Instr::abc(Sibling, 2, 1, 0),               // 4  R2 := fib
        Instr::abx(LoadInt, 1, 1),                  // 5
        Instr::abc(SubInt, 3, 0, 1),                // 6  R3 := n - 1
        Instr::abc(Call, 2, 1, 1),                  // 7  R1 := fib(R3)
        Instr::abx(LoadInt, 4, 2),                  // 8
        flagged(Instr::abc(SubInt, 3, 0, 4), 0b11), // 9  R3 := n - 2
        Instr::abc(Call, 2, 1, 3),                  // 10 R3 := fib(R3)
        flagged(Instr::abc(AddInt, 1, 1, 3), 0b11), // 11
        Instr::abc(Return, 1, 0, 0),                // 12
    ];
    let mut f = function("fib", &["n"], 5, code, 10);
    f.constants = vec![Constant::Int(2)];
    f
}

pub fn sample() -> Module {
    Module {
        files: vec!["prog.menai".to_string()],
        file_hashes: vec![],
        struct_types: vec![StructTypeDef {
            name: "point".into(),
            fields: vec!["x".into(), "y".into()],
        }],
        functions: vec![main_fn(), fib_fn()],
        entry: 0,
    }
}

/// A module with one entry function holding `code` in `regs` registers.
pub fn single(code: Vec<Instr>, regs: u16) -> Module {
    let mut f = function("main", &[], regs, code, 1);
    f.loc.file = NO_FILE;
    Module {
        files: vec!["prog.menai".into()],
        file_hashes: vec![],
        struct_types: vec![],
        functions: vec![f],
        entry: 0,
    }
}
