//! The TYPES_PROVEN flag (bit 7 of `Instr::flags`) and the validator's
//! invariant T1: a flagged typed instruction validates only when its operand
//! types are proven on every path. Rule tests, then mutation tests that set
//! the flag on arbitrary instructions of sample modules.

mod common;

use common::{flagged, sample, single};
use menai_bytecode::builtins::Builtin;
use menai_bytecode::validate::types::provable;
use menai_bytecode::validate::{validate, Reason};
use menai_bytecode::{Constant, Instr, Module, Op};

const P: u8 = Instr::TYPES_PROVEN;

fn proven(i: Instr) -> Instr {
    i.with_types_proven(true)
}

fn reason(m: &Module) -> (Option<u32>, Reason) {
    match validate(m) {
        Ok(()) => panic!("module was accepted"),
        Err(e) => (e.pc, e.reason),
    }
}

fn not_proven(register: u32, expected: &'static str, found: &'static str) -> Reason {
    Reason::TypesNotProven {
        register,
        expected,
        found,
    }
}

#[test]
fn flag_bit_layout() {
    let i = proven(flagged(Instr::abc(Op::AddInt, 0, 1, 2), 0b11));
    assert_eq!(i.flags, 0b1000_0011);
    assert!(i.types_proven());
    assert!(i.is_last_use(0) && i.is_last_use(1) && !i.is_last_use(2));
    assert!(!i.is_last_use(7), "bit 7 is not a last-use bit");
    assert_eq!(i.with_types_proven(false).flags, 0b11);
    assert_eq!(Instr::try_from(u64::from(i)), Ok(i));
    let typed: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|o| o.has_type_proof())
        .collect();
    assert_eq!(typed.len(), 9 + 8 + 10 + 3 + 1);
    assert!(!Op::ListPrepend.has_type_proof() && !Op::CallBuiltin.has_type_proof());
}

#[test]
fn fib_operands_proven_by_an_earlier_check_and_loadint() {
    // pc 1 `lti R2 R0 R1` checks n; pc 6 `subi R3 R0 R1` and pc 9
    // `subi R3 R0 R4` read n (proven by pc 1) and loadint results.
    let mut m = sample();
    let f = &mut m.functions[1];
    f.code[6] = proven(f.code[6]);
    f.code[9] = proven(f.code[9]);
    assert_eq!(validate(&m), Ok(()));
    assert_eq!(
        provable(&m, &m.functions[1]).unwrap(),
        vec![
            false, false, false, false, false, false, true, false, false, true, false, false, false
        ]
    );
}

#[test]
fn parameter_is_unknown() {
    let mut m = sample();
    m.functions[1].code[1] = proven(m.functions[1].code[1]);
    assert_eq!(reason(&m), (Some(1), not_proven(0, "integer", "unknown")));
}

#[test]
fn call_results_are_unknown() {
    let mut m = sample();
    m.functions[1].code[11] = proven(m.functions[1].code[11]);
    assert_eq!(reason(&m), (Some(11), not_proven(1, "integer", "unknown")));
}

#[test]
fn flag_on_an_untyped_opcode_is_rejected() {
    for ins in [
        Instr::abc(Op::Move, 1, 0, 0),
        Instr::abc(Op::ListPrepend, 1, 0, 0),
        Instr::abc(Op::Return, 0, 0, 0),
    ] {
        let mut code = vec![Instr::abx(Op::LoadInt, 0, 1)];
        if ins.op != Op::Return {
            code.push(proven(ins));
            code.push(Instr::abc(Op::Return, 1, 0, 0));
        } else {
            code.push(proven(ins));
        }
        assert_eq!(
            reason(&single(code, 2)),
            (Some(1), Reason::TypesProvenOnUntyped),
            "{ins:?}"
        );
    }
}

#[test]
fn last_use_bits_stop_at_six() {
    // A flag on the 8th read of a 9-register makelist is now a type flag
    // (rejected: makelist checks no types), not a last-use flag.
    let mut code: Vec<Instr> = (0..9)
        .map(|r| Instr::abx(Op::LoadInt, r, r as u32))
        .collect();
    code.push(flagged(Instr::abc(Op::MakeList, 9, 0, 9), 0b0100_0000));
    code.push(Instr::abc(Op::Return, 9, 0, 0));
    assert_eq!(validate(&single(code.clone(), 10)), Ok(()));
    code[9].flags = P;
    assert_eq!(
        reason(&single(code, 10)),
        (Some(9), Reason::TypesProvenOnUntyped)
    );
}

#[test]
fn constants_and_immediates_have_types() {
    use Op::*;
    let mut m = single(
        vec![
            Instr::abc(LoadK, 0, 0, 0), // 1.5
            Instr::abc(LoadK, 1, 1, 0), // 2.5
            proven(Instr::abc(AddFloat, 2, 0, 1)),
            proven(Instr::abc(LtFloat, 3, 2, 0)),
            proven(Instr::abc(Not, 3, 3, 0)),
            Instr::abc(LoadNil, 4, 0, 0),
            proven(Instr::abc(ListNull, 5, 4, 0)),
            Instr::abc(LoadK, 4, 2, 0), // (1 2)
            proven(Instr::abc(ListRest, 4, 4, 0)),
            proven(Instr::abc(ListFirst, 6, 4, 0)),
            Instr::abc(LoadK, 0, 3, 0), // big integer
            Instr::abx(LoadInt, 1, 3),
            proven(Instr::abc(MulInt, 0, 0, 1)),
            Instr::abc(LoadBool, 1, 1, 0),
            proven(Instr::abc(Not, 1, 1, 0)),
            Instr::abc(Return, 0, 0, 0),
        ],
        7,
    );
    m.functions[0].constants = vec![
        Constant::Float(1.5),
        Constant::Float(2.5),
        Constant::List(vec![Constant::Int(1), Constant::Int(2)]),
        Constant::BigInt("99999999999999999999".into()),
    ];
    assert_eq!(validate(&m), Ok(()));
    // first's result is unknown: using it as a list is not proven.
    m.functions[0].code[9] = Instr::abc(ListFirst, 4, 4, 0);
    m.functions[0].code[10] = proven(Instr::abc(ListNull, 0, 4, 0));
    assert_eq!(reason(&m), (Some(10), not_proven(4, "list", "unknown")));
}

#[test]
fn callb_results_with_known_types() {
    use Op::*;
    let m = single(
        vec![
            Instr::abc(LoadNil, 0, 0, 0),
            Instr::abc(CallBuiltin, 1, Builtin::ListLength as u16, 0),
            proven(Instr::abc(AddInt, 1, 1, 1)),
            Instr::abc(CallBuiltin, 2, Builtin::ListNullP as u16, 0),
            proven(Instr::abc(Not, 2, 2, 0)),
            Instr::abc(Return, 1, 0, 0),
        ],
        3,
    );
    assert_eq!(validate(&m), Ok(()));
}

/// `R0 := 1; loop: if R1 then R0 := <float> ...; R0 + R0` — the join of an
/// integer and a float is unknown.
#[test]
fn join_of_different_types_is_unknown() {
    use Op::*;
    let code = |second: Instr| {
        vec![
            Instr::abx(LoadInt, 0, 1),           // 0
            Instr::abc(LoadBool, 1, 1, 0),       // 1
            Instr::abx(JmpFalse, 1, 4),          // 2
            second,                              // 3
            proven(Instr::abc(AddInt, 2, 0, 0)), // 4
            Instr::abc(Return, 2, 0, 0),         // 5
        ]
    };
    // Same type on both paths: proven.
    assert_eq!(
        validate(&single(code(Instr::abx(LoadInt, 0, 7)), 3)),
        Ok(())
    );
    let mut m = single(code(Instr::abc(LoadK, 0, 0, 0)), 3);
    m.functions[0].constants = vec![Constant::Float(1.0)];
    assert_eq!(reason(&m), (Some(4), not_proven(0, "integer", "unknown")));
}

/// A loop: the back edge carries an integer accumulator (`addi` result).
#[test]
fn loop_carried_integers_are_proven() {
    use Op::*;
    let m = single(
        vec![
            Instr::abx(LoadInt, 0, 0),           // 0 i := 0
            Instr::abx(LoadInt, 1, 10),          // 1 n := 10
            proven(Instr::abc(LtInt, 2, 0, 1)),  // 2 loop: i < n
            Instr::abx(JmpFalse, 2, 6),          // 3
            proven(Instr::abc(AddInt, 0, 0, 1)), // 4 i := i + n
            Instr::abx(Jmp, 0, 2),               // 5
            Instr::abc(Return, 0, 0, 0),         // 6
        ],
        3,
    );
    assert_eq!(validate(&m), Ok(()));
    // If the back edge brings an unknown value (a call result), it is not.
    let mut m2 = m.clone();
    m2.functions[0].code[4] = Instr::abc(LoadBuiltin, 0, Builtin::ListLength as u16, 0);
    assert_eq!(reason(&m2), (Some(2), not_proven(0, "integer", "unknown")));
}

#[test]
fn calls_clobber_registers_above_the_window() {
    use Op::*;
    let m = |after_call_reads: u16| {
        single(
            vec![
                Instr::abx(LoadInt, 0, 1),                                 // 0
                Instr::abx(LoadInt, 3, 1),                                 // 1
                Instr::abc(LoadBuiltin, 1, Builtin::IntegerAbs as u16, 0), // 2
                Instr::abx(LoadInt, 2, 5),                                 // 3
                Instr::abc(Call, 1, 1, 1), // 4 R1 := abs(R2); clobbers R2..
                Instr::abx(LoadInt, 2, 1), // 5
                proven(Instr::abc(AddInt, 2, 0, after_call_reads)), // 6
                Instr::abc(Return, 2, 0, 0), // 7
            ],
            4,
        )
    };
    assert_eq!(validate(&m(2)), Ok(()), "R0 below the window survives");
    assert_eq!(
        reason(&m(1)),
        (Some(6), not_proven(1, "integer", "unknown"))
    );
    // (R3, clobbered too, is even uninitialized for C2.)
    assert_eq!(
        reason(&m(3)),
        (Some(6), Reason::Uninitialized { register: 3 })
    );
}

/// `callf` (a known callee, window at R[A]) clobbers only from its window
/// up: a type proven below it survives the call; its result is unknown.
#[test]
fn known_calls_keep_the_types_below_their_window() {
    use Op::*;
    let m = |reads: u16| {
        let mut m = single(
            vec![
                Instr::abx(LoadInt, 0, 1),               // 0
                Instr::abx(LoadInt, 1, 5),               // 1
                Instr::abc(CallF, 1, 1, 2),              // 2 R2 := F1(R1)
                proven(Instr::abc(AddInt, 3, 0, reads)), // 3
                Instr::abc(Return, 3, 0, 0),             // 4
            ],
            4,
        );
        m.functions.push(common::function(
            "id",
            &["x"],
            1,
            vec![Instr::abc(Return, 0, 0, 0)],
            10,
        ));
        m
    };
    assert_eq!(validate(&m(0)), Ok(()), "R0 below the window survives");
    assert_eq!(
        reason(&m(2)),
        (Some(3), not_proven(2, "integer", "unknown"))
    );
}

/// A tiny deterministic generator for the mutation tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn corpus() -> Vec<Module> {
    use Op::*;
    let mut floats = single(
        vec![
            Instr::abc(LoadK, 0, 0, 0),
            Instr::abx(LoadInt, 1, 2),
            Instr::abc(LoadBool, 2, 0, 0),
            Instr::abx(JmpTrue, 2, 6),
            Instr::abc(AddFloat, 0, 0, 0),
            Instr::abc(LtInt, 2, 1, 1),
            Instr::abc(MulFloat, 3, 0, 0),
            Instr::abc(Not, 2, 2, 0),
            Instr::abc(SubInt, 1, 1, 1),
            Instr::abc(LoadNil, 4, 0, 0),
            Instr::abc(ListPrepend, 4, 4, 1),
            Instr::abc(ListRest, 5, 4, 0),
            Instr::abc(ListNull, 2, 5, 0),
            Instr::abc(ListFirst, 3, 4, 0),
            Instr::abc(EqInt, 2, 3, 1),
            Instr::abc(Return, 3, 0, 0),
        ],
        6,
    );
    floats.functions[0].constants = vec![Constant::Float(0.5)];
    vec![sample(), floats]
}

/// Setting the flag on any single instruction either validates, exactly
/// when `provable` says so, or is rejected for T1 and nothing else.
#[test]
fn mutation_single_flags() {
    for m in corpus() {
        assert_eq!(validate(&m), Ok(()));
        for (fi, f) in m.functions.iter().enumerate() {
            let can = provable(&m, f).unwrap();
            for (pc, &can_pc) in can.iter().enumerate() {
                let mut m2 = m.clone();
                let ins = &mut m2.functions[fi].code[pc];
                *ins = ins.with_types_proven(true);
                match validate(&m2) {
                    Ok(()) => assert!(can_pc, "fn {fi} pc {pc} accepted but not provable"),
                    Err(e) => {
                        assert!(!can_pc, "fn {fi} pc {pc} provable but rejected: {e}");
                        assert_eq!(e.pc, Some(pc as u32));
                        assert!(
                            matches!(
                                e.reason,
                                Reason::TypesNotProven { .. } | Reason::TypesProvenOnUntyped
                            ),
                            "{e}"
                        );
                    }
                }
            }
        }
    }
}

/// Random sets of flags: valid iff every flagged instruction is provable
/// (the proof of one instruction never depends on another's flag).
#[test]
fn mutation_random_flag_sets() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for m in corpus() {
        for (fi, f) in m.functions.iter().enumerate() {
            let can = provable(&m, f).unwrap();
            for _ in 0..300 {
                let mut m2 = m.clone();
                let mut all = true;
                for (pc, ins) in m2.functions[fi].code.iter_mut().enumerate() {
                    if rng.next().is_multiple_of(3) {
                        *ins = ins.with_types_proven(true);
                        all &= can[pc];
                    }
                }
                assert_eq!(validate(&m2).is_ok(), all, "fn {fi}");
            }
        }
    }
    // The float corpus has provable instructions (the analysis is not vacuous).
    let floats = &corpus()[1];
    let can = provable(floats, &floats.functions[0]).unwrap();
    assert!(can.iter().filter(|&&c| c).count() >= 5, "{can:?}");
}

/// `(if (integer? x) (integer+ x x) ...)`: proven on the true edge only.
#[test]
fn type_predicate_branches_refine_the_true_edge() {
    use Op::*;
    let code = |jump: Op, then_flag: bool, else_flag: bool| {
        let (t, e) = if jump == JmpFalse { (3, 5) } else { (5, 3) };
        let add = |flag: bool| Instr::abc(AddInt, 2, 0, 0).with_types_proven(flag);
        let mut c = vec![
            Instr::abc(LoadNone, 0, 0, 0),
            Instr::abc(CallBuiltin, 1, Builtin::IntegerP as u16, 0),
            Instr::abx(jump, 1, 5),
            Instr::abc(Nop, 0, 0, 0),
            Instr::abc(Return, 2, 0, 0),
            Instr::abc(Nop, 0, 0, 0),
            Instr::abc(Return, 2, 0, 0),
        ];
        c[t] = add(then_flag);
        c[e] = add(else_flag);
        single(c, 3)
    };
    for jump in [JmpFalse, JmpTrue] {
        assert_eq!(validate(&code(jump, true, false)), Ok(()), "{jump:?}");
        let e = if jump == JmpFalse { 5 } else { 3 };
        assert_eq!(
            reason(&code(jump, false, true)),
            (Some(e), not_proven(0, "integer", "unknown")),
            "{jump:?}"
        );
    }
    // The predicate's result in its own operand register: no refinement.
    let mut m = code(JmpFalse, true, false);
    m.functions[0].code[1] = Instr::abc(CallBuiltin, 0, Builtin::IntegerP as u16, 0);
    m.functions[0].code[2] = Instr::abx(JmpFalse, 0, 5);
    assert_eq!(reason(&m), (Some(3), not_proven(0, "integer", "boolean")));
}

#[test]
fn immediate_opcodes_accept_any_c_and_have_types() {
    use Op::*;
    let code = vec![
        Instr::abx(LoadInt, 0, 5),
        proven(Instr::abc(AddIntK, 1, 0, (-32768i16) as u16)),
        proven(Instr::abc(SubIntK, 1, 1, u16::MAX)),
        proven(Instr::abc(LtIntK, 2, 1, 7)),
        proven(Instr::abc(Not, 2, 2, 0)),
        Instr::abc(Return, 2, 0, 0),
    ];
    let m = single(code, 3);
    assert_eq!(validate(&m), Ok(()));
    let text = menai_bytecode::disasm::disassemble_function(&m, 0).unwrap_or_default();
    assert!(text.contains("addik        R1 R0 -32768"), "{text}");
    assert!(text.contains("subik        R1 R1 -1"), "{text}");
    // The register operand must be proven an integer…
    let m = single(
        vec![
            Instr::abc(LoadBool, 0, 1, 0),
            proven(Instr::abc(GeIntK, 1, 0, 1)),
            Instr::abc(Return, 1, 0, 0),
        ],
        2,
    );
    assert_eq!(reason(&m), (Some(1), not_proven(0, "integer", "boolean")));
    // …and an immediate opcode that completed proves it.
    let m = single(
        vec![
            Instr::abc(LoadBuiltin, 0, Builtin::IntegerAdd as u16, 0),
            Instr::abc(EqIntK, 1, 0, 3),
            proven(Instr::abc(NeIntK, 1, 0, 3)),
            Instr::abc(Return, 1, 0, 0),
        ],
        2,
    );
    assert_eq!(validate(&m), Ok(()));
}

/// The soundness rule (validator module doc): a type predicate right before
/// a conditional jump refines the branch only when both are in one block.
/// Here the jump is a jump target reached by a path that skips the test, so
/// each flagged instruction on the "predicate held" edge must be refused —
/// a VM trusting them would run `addf` on integers (a garbage float),
/// `not` on an integer, or `nullp` on an integer (a wild read).
#[test]
fn a_test_before_a_jump_target_proves_nothing_on_its_branch() {
    use Op::*;
    for (predicate, flagged_op, expected) in [
        (Builtin::FloatP, AddFloat, "float"),
        (Builtin::BooleanP, Not, "boolean"),
        (Builtin::ListP, ListNull, "list"),
    ] {
        let use_x = Instr::abc(flagged_op, 2, 0, 0);
        let code = |skip_test: bool| {
            vec![
                Instr::abx(LoadInt, 0, 5),                         // 0 R0 := 5
                Instr::abc(LoadBool, 1, 1, 0),                     // 1 R1 := #t
                Instr::abx(Jmp, 0, if skip_test { 4 } else { 3 }), // 2
                Instr::abc(CallBuiltin, 1, predicate as u16, 0),   // 3 R1 := pred?(R0)
                Instr::abx(JmpTrue, 1, 6),                         // 4 (a jump target)
                Instr::abc(Return, 0, 0, 0),                       // 5
                proven(use_x),                                     // 6
                Instr::abc(Return, 2, 0, 0),                       // 7
            ]
        };
        let m = single(code(true), 3);
        assert_eq!(
            reason(&m),
            (Some(6), not_proven(0, expected, "integer")),
            "{predicate:?}"
        );
        assert!(!provable(&m, &m.functions[0]).unwrap()[6]);
        // When the jump lands on the test instead, test and branch share a
        // block and the refinement holds on every path: accepted.
        let m = single(code(false), 3);
        assert_eq!(validate(&m), Ok(()), "{predicate:?}");
        assert!(provable(&m, &m.functions[0]).unwrap()[6]);
    }
}
