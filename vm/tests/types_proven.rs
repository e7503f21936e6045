//! TYPES_PROVEN in the VM: flagged typed opcodes that the validator's type
//! analysis proves run their unchecked forms with the same results, and a
//! module with a flag that is not provable never reaches the interpreter
//! (the VM runs only a `ValidModule`).

use menai_bytecode::{Constant, Function, Instr, Module, Op, SrcLoc};
use menai_vm::{run_to_string, RunOptions, ValidModule};

fn p(i: Instr) -> Instr {
    i.with_types_proven(true)
}

fn module(code: Vec<Instr>, regs: u16, constants: Vec<Constant>) -> Module {
    let locs = (0..code.len())
        .map(|i| SrcLoc {
            file: 0,
            line: i as u32 + 1,
            col: 1,
            start: 0,
            end: 0,
        })
        .collect();
    Module {
        files: vec!["t.menai".into()],
        file_hashes: vec![],
        struct_types: vec![],
        functions: vec![Function {
            name: "main".into(),
            params: vec![],
            rest: None,
            num_captures: 0,
            num_registers: regs,
            constants,
            closure_sites: vec![],
            code,
            locs,
            cond_origins: vec![],
            loc: SrcLoc::UNKNOWN,
        }],
        entry: 0,
    }
}

fn run(m: &Module) -> String {
    let valid = ValidModule::new(m.clone()).expect("a valid module");
    match run_to_string(&valid, &RunOptions::default()) {
        Ok((s, _)) => s,
        Err(e) => format!("error: {}", e.message),
    }
}

/// `((x*2 + 0.5) < 10.0)`, negated, with every typed op flagged; plus
/// `nullp` of `()` — all proven, validated, and the same results as the
/// unflagged module.
#[test]
fn proven_float_list_and_boolean_ops_compute_the_same() {
    use Op::*;
    let code = |flag: bool| {
        let f = |i: Instr| if flag { p(i) } else { i };
        vec![
            Instr::abc(LoadK, 0, 0, 0),       // 3.0
            Instr::abc(LoadK, 1, 1, 0),       // 2.0
            f(Instr::abc(MulFloat, 2, 0, 1)), // 6.0
            Instr::abc(LoadK, 1, 2, 0),       // 0.5
            f(Instr::abc(AddFloat, 2, 2, 1)), // 6.5
            f(Instr::abc(SubFloat, 2, 2, 1)), // 6.0
            Instr::abc(LoadK, 1, 3, 0),       // 10.0
            f(Instr::abc(LtFloat, 3, 2, 1)),  // #t
            f(Instr::abc(Not, 3, 3, 0)),      // #f
            Instr::abc(LoadNil, 4, 0, 0),
            f(Instr::abc(ListNull, 4, 4, 0)), // #t
            f(Instr::abc(EqFloat, 5, 2, 2)),  // #t
            f(Instr::abc(GeFloat, 5, 2, 1)),  // #f
            Instr::abc(MakeList, 0, 2, 4),    // (6.0 #f #t #f)
            Instr::abc(Return, 0, 0, 0),
        ]
    };
    let k = vec![
        Constant::Float(3.0),
        Constant::Float(2.0),
        Constant::Float(0.5),
        Constant::Float(10.0),
    ];
    let plain = module(code(false), 6, k.clone());
    let flagged = module(code(true), 6, k);
    assert_eq!(menai_bytecode::validate::validate(&flagged), Ok(()));
    assert_eq!(run(&plain), "(6.0 #f #t #f)");
    assert_eq!(run(&flagged), run(&plain));
}

/// A forged flag (the operand is an integer, or not proven a boolean):
/// refused before anything runs; the same code without the flag runs the
/// checked opcode and reports the type error.
#[test]
fn unprovable_flags_never_reach_the_interpreter() {
    use Op::*;
    let add = |flag: bool| {
        module(
            vec![
                Instr::abx(LoadInt, 0, 1),
                Instr::abc(LoadK, 1, 0, 0),
                Instr::abc(AddFloat, 2, 0, 1).with_types_proven(flag),
                Instr::abc(Return, 2, 0, 0),
            ],
            3,
            vec![Constant::Float(1.0)],
        )
    };
    assert!(ValidModule::new(add(true)).is_err());
    assert_eq!(
        run(&add(false)),
        "error: float+: expected float, got integer"
    );
    let not = |flag: bool| {
        module(
            vec![
                Instr::abx(LoadInt, 0, 1),
                Instr::abc(Not, 1, 0, 0).with_types_proven(flag),
                Instr::abc(Return, 1, 0, 0),
            ],
            2,
            vec![],
        )
    };
    assert!(ValidModule::new(not(true)).is_err());
    assert_eq!(
        run(&not(false)),
        "error: boolean-not: expected boolean, got integer"
    );
}

/// Flags "proven" only by a type test that a jump skips (see the
/// validator's soundness rule): the module is refused, so the VM never runs
/// an unchecked form on the wrong type (a garbage float, a wild read of an
/// integer as a list); without the flags the checked opcodes report the
/// type errors.
#[test]
fn a_proof_skipped_by_a_jump_is_refused() {
    use menai_bytecode::Builtin;
    use Op::*;
    for (predicate, op, message) in [
        (
            Builtin::FloatP,
            AddFloat,
            "float+: expected float, got integer",
        ),
        (
            Builtin::BooleanP,
            Not,
            "boolean-not: expected boolean, got integer",
        ),
        (
            Builtin::ListP,
            ListNull,
            "list-null?: expected list, got integer",
        ),
    ] {
        let m = |flag: bool| {
            module(
                vec![
                    Instr::abx(LoadInt, 0, 5),
                    Instr::abc(LoadBool, 1, 1, 0),
                    Instr::abx(Jmp, 0, 4),
                    Instr::abc(CallBuiltin, 1, predicate as u16, 0),
                    Instr::abx(JmpTrue, 1, 6),
                    Instr::abc(Return, 0, 0, 0),
                    Instr::abc(op, 2, 0, 0).with_types_proven(flag),
                    Instr::abc(Return, 2, 0, 0),
                ],
                3,
                vec![],
            )
        };
        assert!(ValidModule::new(m(true)).is_err(), "{op:?}");
        assert_eq!(run(&m(false)), format!("error: {message}"), "{op:?}");
    }
}
