//! One test per validator rule: the shared sample module is valid, and each
//! test breaks exactly one rule and checks the reported function, pc and
//! reason.

mod common;

use common::{flagged, sample, single};
use menai_bytecode::builtins::Builtin;
use menai_bytecode::validate::{lint, validate, Field, Reason, ValidationError};
use menai_bytecode::{CaptureFrom, ClosureSite, Constant, Instr, Module, Op};

fn reject(m: &Module) -> ValidationError {
    match validate(m) {
        Ok(()) => panic!("module was accepted"),
        Err(e) => e,
    }
}

/// Rejects a mutation of `fib` (function 1), returning (pc, reason).
fn reject_fib(change: impl FnOnce(&mut menai_bytecode::Function)) -> (Option<u32>, Reason) {
    let mut m = sample();
    change(&mut m.functions[1]);
    let e = reject(&m);
    assert_eq!(e.function, Some(1), "{e}");
    assert_eq!(e.name, "fib");
    (e.pc, e.reason)
}

fn set(f: &mut menai_bytecode::Function, pc: usize, ins: Instr) {
    f.code[pc] = ins;
}

#[test]
fn sample_is_valid() {
    assert_eq!(validate(&sample()), Ok(()));
}

#[test]
fn display_names_function_pc_and_reason() {
    let mut m = sample();
    m.functions[1].num_registers = 8;
    m.functions[1].code[12] = Instr::abc(Op::Return, 40, 0, 0);
    assert_eq!(
        reject(&m).to_string(),
        "function 'fib' pc 12: register 40 out of range (function has 8 registers)"
    );
    let mut m = sample();
    m.entry = 7;
    assert_eq!(
        reject(&m).to_string(),
        "module: entry function 7 out of range (module has 2 functions)"
    );
}

// ---- module ----

#[test]
fn module_needs_functions_and_a_valid_entry() {
    let mut m = sample();
    m.functions.clear();
    assert_eq!(reject(&m).reason, Reason::NoFunctions);
    let mut m = sample();
    m.entry = 2;
    assert_eq!(
        reject(&m).reason,
        Reason::EntryOutOfRange {
            entry: 2,
            functions: 2
        }
    );
}

#[test]
fn entry_has_no_parameters_or_captures() {
    let mut m = sample();
    m.functions[0].params.push("x".into());
    m.functions[0].num_registers = 3;
    assert_eq!(reject(&m).reason, Reason::EntryHasParameters);
    let mut m = sample();
    m.functions[0].rest = Some("r".into());
    assert_eq!(reject(&m).reason, Reason::EntryHasParameters);
    let mut m = sample();
    m.functions[0].num_captures = 1;
    let e = reject(&m);
    assert_eq!(
        (e.function, e.reason),
        (Some(0), Reason::EntryHasCaptures { captures: 1 })
    );
}

// ---- function ----

#[test]
fn registers_hold_the_arguments() {
    let (pc, r) = reject_fib(|f| f.num_registers = 0);
    assert_eq!(
        (pc, r),
        (
            None,
            Reason::TooFewRegisters {
                args: 1,
                registers: 0
            }
        )
    );
    let (_, r) = reject_fib(|f| {
        f.rest = Some("more".into());
        f.num_registers = 1;
    });
    assert_eq!(
        r,
        Reason::TooFewRegisters {
            args: 2,
            registers: 1
        }
    );
}

#[test]
fn code_is_non_empty_and_line_table_matches() {
    let (_, r) = reject_fib(|f| {
        f.code.clear();
        f.locs.clear();
    });
    assert_eq!(r, Reason::EmptyCode);
    let (_, r) = reject_fib(|f| {
        f.locs.pop();
    });
    assert_eq!(r, Reason::LocsLength { locs: 12, code: 13 });
}

#[test]
fn condition_origins_name_conditional_jumps_in_order() {
    use menai_bytecode::{CondOrigin, CondTest};
    let test = |pc, origin| CondTest { pc, origin };
    // fib's pc 2 is a `jmpf`: an origin there is fine.
    let mut m = sample();
    m.functions[1].cond_origins = vec![test(2, CondOrigin::Or)];
    assert_eq!(validate(&m), Ok(()));
    assert_eq!(m.functions[1].cond_origin(2), CondOrigin::Or);
    assert_eq!(m.functions[1].cond_origin(3), CondOrigin::If);
    // Not a conditional jump; past the end; out of order.
    for bad in [
        vec![test(1, CondOrigin::And)],
        vec![test(99, CondOrigin::And)],
        vec![test(2, CondOrigin::And), test(2, CondOrigin::Match)],
    ] {
        let last = bad.last().map_or(0, |t| t.pc);
        let (pc, r) = reject_fib(|f| f.cond_origins = bad);
        assert_eq!((pc, r), (None, Reason::BadCondOrigin { pc: last }));
    }
}

#[test]
fn file_indices_are_in_range() {
    let (pc, r) = reject_fib(|f| f.locs[3].file = 5);
    assert_eq!((pc, r), (Some(3), Reason::BadFile { file: 5, files: 1 }));
    let (pc, r) = reject_fib(|f| f.loc.file = 1);
    assert_eq!((pc, r), (None, Reason::BadFile { file: 1, files: 1 }));
}

#[test]
fn big_integers_are_canonical_and_outside_i64() {
    for bad in [
        "12",
        "-9223372036854775808",
        "abc",
        "",
        "-",
        "0009223372036854775808",
        "+9223372036854775808",
    ] {
        let (_, r) = reject_fib(|f| f.constants.push(Constant::BigInt(bad.into())));
        assert_eq!(
            r,
            Reason::BadBigInt {
                constant: 1,
                text: bad.into()
            },
            "{bad}"
        );
    }
    let mut m = sample();
    m.functions[1]
        .constants
        .push(Constant::BigInt("9223372036854775808".into()));
    m.functions[1]
        .constants
        .push(Constant::BigInt("-9223372036854775809".into()));
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn struct_type_constants_are_in_range_even_nested() {
    let (_, r) = reject_fib(|f| {
        f.constants.push(Constant::List(vec![
            Constant::Int(1),
            Constant::List(vec![Constant::StructType(3)]),
        ]))
    });
    assert_eq!(
        r,
        Reason::ConstantStructType {
            constant: 1,
            index: 3,
            count: 1
        }
    );
}

#[test]
fn deeply_nested_constant_does_not_overflow_the_stack() {
    let mut c = Constant::StructType(9);
    for _ in 0..200_000 {
        c = Constant::List(vec![c]);
    }
    let mut m = sample();
    m.functions[1].constants.push(c);
    let reason = reject(&m).reason;
    // The listing and the JSON dump walk it without recursion too.
    let listing = menai_bytecode::disasm::disassemble(&m);
    let json = menai_bytecode::json::to_json(&m);
    // Dropping such a constant recursively would overflow: leak it instead
    // (before any assertion can fail and unwind).
    std::mem::forget(m);
    assert!(matches!(
        reason,
        Reason::ConstantStructType { index: 9, .. }
    ));
    assert!(listing.contains("'((((((((((") && listing.contains("((((<struct-type T9 ?>))))"));
    assert!(json.contains(r#"{"type":"list","items":[{"type":"struct-type","value":9}]}]}"#));
}

#[test]
fn closure_sites_are_consistent() {
    let mut m = sample();
    m.functions[0].closure_sites[0].function = 5;
    let e = reject(&m);
    assert_eq!(
        (e.function, e.reason),
        (
            Some(0),
            Reason::SiteFunction {
                site: 0,
                function: 5,
                count: 2
            }
        )
    );

    let mut m = sample();
    m.functions[0].closure_sites[0]
        .captures
        .push(CaptureFrom::Reg(0));
    assert_eq!(
        reject(&m).reason,
        Reason::SiteCaptureCount {
            site: 0,
            function: 1,
            expected: 0,
            found: 1
        }
    );

    // fib with one capture: the site must provide it from a valid place.
    let mut m = sample();
    m.functions[1].num_captures = 1;
    m.functions[0].closure_sites[0]
        .captures
        .push(CaptureFrom::Reg(3));
    assert_eq!(
        reject(&m).reason,
        Reason::SiteRegister {
            site: 0,
            register: 3,
            registers: 3
        }
    );
    m.functions[0].closure_sites[0].captures[0] = CaptureFrom::Env(0);
    assert_eq!(
        reject(&m).reason,
        Reason::SiteEnv {
            site: 0,
            slot: 0,
            captures: 0
        }
    );
    m.functions[0].closure_sites[0].captures[0] = CaptureFrom::Reg(1);
    // R1 is not yet written at pc 0, where the closure is built.
    let e = reject(&m);
    assert_eq!(
        (e.function, e.pc, e.reason),
        (Some(0), Some(0), Reason::Uninitialized { register: 1 })
    );
}

// ---- instructions: operands driven by the opcode table ----

#[test]
fn unused_fields_are_zero() {
    let (pc, r) = reject_fib(|f| set(f, 12, Instr::abc(Op::Return, 1, 0, 7)));
    assert_eq!(
        (pc, r),
        (
            Some(12),
            Reason::UnusedNotZero {
                field: Field::C,
                value: 7
            }
        )
    );
    let (_, r) = reject_fib(|f| set(f, 5, Instr::abc(Op::Nop, 0, 1, 0)));
    assert_eq!(
        r,
        Reason::UnusedNotZero {
            field: Field::B,
            value: 1
        }
    );
}

#[test]
fn single_registers_are_in_range() {
    let (pc, r) = reject_fib(|f| set(f, 1, Instr::abc(Op::LtInt, 2, 0, 5)));
    assert_eq!(
        (pc, r),
        (
            Some(1),
            Reason::Register {
                register: 5,
                registers: 5
            }
        )
    );
    let (_, r) = reject_fib(|f| set(f, 1, Instr::abc(Op::LtInt, 9, 0, 1)));
    assert_eq!(
        r,
        Reason::Register {
            register: 9,
            registers: 5
        }
    );
}

#[test]
fn register_ranges_are_in_range() {
    // call R2 3: reads R2..R5, one past the window.
    let (pc, r) = reject_fib(|f| set(f, 7, Instr::abc(Op::Call, 2, 3, 1)));
    assert_eq!(
        (pc, r),
        (
            Some(7),
            Reason::RegisterRange {
                start: 2,
                len: 4,
                registers: 5
            }
        )
    );
    let (_, r) = reject_fib(|f| set(f, 7, Instr::abc(Op::Call, 5, 0, 1)));
    assert_eq!(
        r,
        Reason::Register {
            register: 5,
            registers: 5
        }
    );
    // callb string-replace (3 operands) from R3: R3..R5.
    let (_, r) = reject_fib(|f| {
        set(
            f,
            11,
            Instr::abc(Op::CallBuiltin, 1, Builtin::StringReplace as u16, 3),
        )
    });
    assert_eq!(
        r,
        Reason::RegisterRange {
            start: 3,
            len: 3,
            registers: 5
        }
    );
    let (_, r) = reject_fib(|f| set(f, 11, Instr::abc(Op::MakeList, 1, 2, 4)));
    assert_eq!(
        r,
        Reason::RegisterRange {
            start: 2,
            len: 4,
            registers: 5
        }
    );
    // makestruct point (2 fields) from R4.
    let (_, r) = reject_fib(|f| set(f, 11, Instr::abc(Op::MakeStruct, 1, 0, 4)));
    assert_eq!(
        r,
        Reason::RegisterRange {
            start: 4,
            len: 2,
            registers: 5
        }
    );
    // An empty range may start at the end of the window.
    let mut m = sample();
    m.functions[1].code[12] = Instr::abc(Op::MakeList, 1, 5, 0);
    m.functions[1].code.push(Instr::abc(Op::Return, 1, 0, 0));
    m.functions[1].locs.push(common::loc(99));
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn constants_are_in_range() {
    let (pc, r) = reject_fib(|f| set(f, 0, Instr::abc(Op::LoadK, 1, 1, 0)));
    assert_eq!((pc, r), (Some(0), Reason::Constant { index: 1, count: 1 }));
}

#[test]
fn raiseunbound_names_a_string() {
    let (_, r) = reject_fib(|f| set(f, 12, Instr::abc(Op::RaiseUnbound, 0, 0, 0)));
    assert_eq!(r, Reason::NotAString { index: 0 });
    let mut m = sample();
    m.functions[1].constants.push(Constant::Str("foo".into()));
    m.functions[1]
        .constants
        .push(Constant::Symbol("bar".into()));
    m.functions[1].code[12] = Instr::abc(Op::RaiseUnbound, 0, 1, 0);
    assert_eq!(validate(&m), Ok(()));
    m.functions[1].code[12] = Instr::abc(Op::RaiseUnbound, 0, 2, 0);
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn jump_targets_are_in_range() {
    let (pc, r) = reject_fib(|f| set(f, 2, Instr::abx(Op::JmpFalse, 2, 13)));
    assert_eq!(
        (pc, r),
        (
            Some(2),
            Reason::Jump {
                target: 13,
                len: 13
            }
        )
    );
    // Bx uses C as its high half.
    let (_, r) = reject_fib(|f| set(f, 2, Instr::abx(Op::JmpFalse, 2, 4 | 1 << 16)));
    assert_eq!(
        r,
        Reason::Jump {
            target: 65540,
            len: 13
        }
    );
}

#[test]
fn builtins_are_native_and_callb_has_a_primitive() {
    let (_, r) = reject_fib(|f| set(f, 4, Instr::abc(Op::LoadBuiltin, 2, 19, 0)));
    assert_eq!(r, Reason::UnknownBuiltin { code: 19 });
    let (_, r) = reject_fib(|f| {
        set(
            f,
            4,
            Instr::abc(Op::LoadBuiltin, 2, Builtin::MapList as u16, 0),
        )
    });
    assert_eq!(r, Reason::PreludeBuiltin { name: "map-list" });
    let (_, r) = reject_fib(|f| {
        set(
            f,
            11,
            Instr::abc(Op::CallBuiltin, 1, Builtin::List as u16, 1),
        )
    });
    assert_eq!(r, Reason::NoPrimitive { name: "list" });
    // A correct callb: integer+ on R1, R2... R1 and R3 are not adjacent, so use integer-neg on R3.
    let mut m = sample();
    m.functions[1].code[11] = Instr::abc(Op::CallBuiltin, 1, Builtin::IntegerNeg as u16, 3);
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn function_site_struct_and_capture_indices_are_in_range() {
    let (_, r) = reject_fib(|f| set(f, 4, Instr::abc(Op::Sibling, 2, 2, 0)));
    assert_eq!(r, Reason::Function { index: 2, count: 2 });
    let (_, r) = reject_fib(|f| set(f, 4, Instr::abx(Op::Closure, 2, 0)));
    assert_eq!(r, Reason::Site { index: 0, count: 0 });
    let (_, r) = reject_fib(|f| set(f, 11, Instr::abc(Op::MakeStruct, 1, 1, 0)));
    assert_eq!(r, Reason::StructType { index: 1, count: 1 });
    let (_, r) = reject_fib(|f| set(f, 4, Instr::abc(Op::GetCap, 2, 0, 0)));
    assert_eq!(
        r,
        Reason::Capture {
            index: 0,
            captures: 0
        }
    );
}

#[test]
fn loadbool_and_makedict_immediates() {
    let (_, r) = reject_fib(|f| set(f, 5, Instr::abc(Op::LoadBool, 1, 2, 0)));
    assert_eq!(r, Reason::BadBool { value: 2 });
    let (_, r) = reject_fib(|f| set(f, 11, Instr::abc(Op::MakeDict, 1, 0, 3)));
    assert_eq!(r, Reason::OddDictCount { count: 3 });
}

#[test]
fn sibling_shares_an_environment_of_the_same_size() {
    let mut m = sample();
    let mut other = common::function(
        "other",
        &["x"],
        1,
        vec![Instr::abc(Op::Return, 0, 0, 0)],
        50,
    );
    other.num_captures = 2;
    m.functions.push(other);
    m.functions[1].code[4] = Instr::abc(Op::Sibling, 2, 2, 0);
    let e = reject(&m);
    assert_eq!(
        (e.pc, e.reason),
        (
            Some(4),
            Reason::SiblingCaptures {
                function: 2,
                theirs: 2,
                ours: 0
            }
        )
    );
}

// ---- last-use flags ----

#[test]
fn flags_only_for_registers_read() {
    let (pc, r) = reject_fib(|f| set(f, 12, flagged(Instr::abc(Op::Return, 1, 0, 0), 0b10)));
    assert_eq!(
        (pc, r),
        (Some(12), Reason::FlagBeyondReads { bit: 1, reads: 1 })
    );
}

#[test]
fn flagged_register_is_not_read_again_by_the_same_instruction() {
    let (_, r) = reject_fib(|f| set(f, 11, flagged(Instr::abc(Op::AddInt, 1, 3, 3), 0b01)));
    assert_eq!(r, Reason::FlagReadAgain { register: 3 });
    // Flagging the last of the two reads is fine.
    let mut m = sample();
    m.functions[1].code[11] = flagged(Instr::abc(Op::AddInt, 1, 3, 3), 0b10);
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn flagged_register_is_dead_afterwards() {
    // n (R0) is read again at pc 6 (and 9) on the else branch.
    let (pc, r) = reject_fib(|f| set(f, 1, flagged(Instr::abc(Op::LtInt, 2, 0, 1), 0b01)));
    assert_eq!((pc, r), (Some(1), Reason::FlagStillLive { register: 0 }));
    // In a loop, a read flagged at the bottom is live at the top.
    let code = vec![
        Instr::abx(Op::LoadInt, 0, 0),
        Instr::abc(Op::LoadBool, 1, 1, 0),
        Instr::abc(Op::Move, 2, 0, 0),
        flagged(Instr::abx(Op::JmpTrue, 1, 2), 0b1),
        Instr::abc(Op::Return, 2, 0, 0),
    ];
    let e = reject(&single(code, 3));
    assert_eq!(
        (e.pc, e.reason),
        (Some(3), Reason::FlagStillLive { register: 1 })
    );
}

// ---- control flow and dataflow ----

#[test]
fn no_path_falls_off_the_end() {
    let (pc, r) = reject_fib(|f| set(f, 12, Instr::abc(Op::Move, 1, 1, 0)));
    assert_eq!((pc, r), (Some(12), Reason::FallsOffEnd));
    // A conditional jump as the last instruction falls through past the end.
    let e = reject(&single(
        vec![
            Instr::abc(Op::LoadBool, 0, 1, 0),
            Instr::abx(Op::JmpTrue, 0, 0),
        ],
        1,
    ));
    assert_eq!((e.pc, e.reason), (Some(1), Reason::FallsOffEnd));
    // Unreachable trailing code may do anything that is well-formed.
    let m = single(
        vec![
            Instr::abc(Op::LoadNil, 0, 0, 0),
            Instr::abc(Op::Return, 0, 0, 0),
            Instr::abc(Op::Move, 0, 0, 0),
        ],
        1,
    );
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn registers_are_written_before_read() {
    let (pc, r) = reject_fib(|f| set(f, 8, Instr::abc(Op::Nop, 0, 0, 0)));
    assert_eq!((pc, r), (Some(9), Reason::Uninitialized { register: 4 }));
    // Written on one branch only.
    let code = vec![
        Instr::abc(Op::LoadBool, 0, 1, 0),
        Instr::abx(Op::JmpTrue, 0, 3),
        Instr::abc(Op::LoadNil, 1, 0, 0),
        Instr::abc(Op::Return, 1, 0, 0),
    ];
    let e = reject(&single(code, 2));
    assert_eq!(
        (e.pc, e.reason),
        (Some(3), Reason::Uninitialized { register: 1 })
    );
}

#[test]
fn call_clobbers_registers_above_the_callee_except_the_result() {
    // R3 was written at pc 6 but the call at pc 7 (callee R2) clobbered it.
    let (pc, r) = reject_fib(|f| set(f, 9, Instr::abc(Op::SubInt, 3, 3, 4)));
    assert_eq!((pc, r), (Some(9), Reason::Uninitialized { register: 3 }));
    // The callee register itself and the ones below survive, and so does C
    // (R1 here; R3 after pc 10): the sample reads them all.
    assert_eq!(validate(&sample()), Ok(()));
}

#[test]
fn known_callee_arity_mismatch_is_a_lint_not_an_error() {
    // `(let ((f (lambda (a b) a))) (f 1))` must run and fail at run time, so
    // the module is valid; `lint` reports the call.
    let mut m = sample();
    m.functions[0].code[2] = Instr::abc(Op::Call, 0, 0, 0);
    assert_eq!(validate(&m), Ok(()));
    let lints = lint(&m).unwrap_or_default();
    assert_eq!(lints.len(), 1);
    assert_eq!(
        (lints[0].function, lints[0].pc, &lints[0].reason),
        (
            Some(0),
            Some(2),
            &Reason::Arity {
                callee: "function 1 'fib'".into(),
                args: 0,
                accepts: "1".into()
            }
        )
    );
    assert_eq!(
        lints[0].to_string(),
        "function 'main' pc 2: call of function 1 'fib' with 0 arguments (it accepts 1)"
    );
    assert_eq!(lint(&sample()), Ok(vec![]));
    // lint still rejects invalid modules.
    let mut bad = sample();
    bad.entry = 9;
    assert!(lint(&bad).is_err());
}

/// The single arity lint of `m` (which must be valid).
fn only_lint(m: &Module) -> (Option<u32>, Reason) {
    assert_eq!(validate(m), Ok(()));
    match lint(m) {
        Ok(l) if l.len() == 1 => (l[0].pc, l[0].reason.clone()),
        other => panic!("expected one lint, got {other:?}"),
    }
}

#[test]
fn arity_lints_follow_moves_builtins_struct_types_and_rest() {
    // Through a move.
    let mut m = sample();
    m.functions[1].code[8] = Instr::abc(Op::Move, 4, 2, 0);
    m.functions[1].code[9].flags = 0;
    m.functions[1].code[10] = Instr::abc(Op::Call, 4, 0, 3);
    let (pc, r) = only_lint(&m);
    assert_eq!(pc, Some(10));
    assert!(matches!(r, Reason::Arity { args: 0, .. }), "{r}");
    // A builtin value and a struct type.
    let code = vec![
        Instr::abc(Op::LoadBuiltin, 0, Builtin::IntegerMod as u16, 0),
        Instr::abx(Op::LoadInt, 1, 1),
        Instr::abc(Op::Call, 0, 1, 0),
        Instr::abc(Op::Return, 0, 0, 0),
    ];
    let (_, r) = only_lint(&single(code, 2));
    assert_eq!(
        r,
        Reason::Arity {
            callee: "builtin 'integer%'".into(),
            args: 1,
            accepts: "2".into()
        }
    );
    let mut m = sample();
    m.functions[0].constants.push(Constant::StructType(0));
    m.functions[0].code[3] = Instr::abc(Op::LoadK, 1, 1, 0);
    m.functions[0].code[4] = Instr::abc(Op::TailCall, 1, 0, 0);
    let (_, r) = only_lint(&m);
    assert_eq!(
        r,
        Reason::Arity {
            callee: "struct type 'point'".into(),
            args: 0,
            accepts: "2".into()
        }
    );
    // A rest parameter accepts more.
    let mut m = sample();
    m.functions[1].rest = Some("more".into());
    m.functions[0].code[2] = Instr::abc(Op::Call, 0, 2, 0);
    m.functions[0].code.insert(2, Instr::abx(Op::LoadInt, 2, 3));
    m.functions[0].locs.insert(2, common::loc(3));
    assert_eq!(lint(&m), Ok(vec![]));
}

#[test]
fn callee_unknown_when_paths_disagree() {
    // (no lint: on one path the count is right)
    // R0 holds integer% on one path and integer-neg on the other: no arity error.
    let code = vec![
        Instr::abc(Op::LoadBool, 1, 1, 0),
        Instr::abx(Op::JmpTrue, 1, 4),
        Instr::abc(Op::LoadBuiltin, 0, Builtin::IntegerMod as u16, 0),
        Instr::abx(Op::Jmp, 0, 5),
        Instr::abc(Op::LoadBuiltin, 0, Builtin::IntegerNeg as u16, 0),
        Instr::abx(Op::LoadInt, 1, 1),
        Instr::abc(Op::TailCall, 0, 1, 0),
    ];
    assert_eq!(lint(&single(code, 2)), Ok(vec![]));
}

#[test]
fn closureref_shares_an_environment_of_the_right_size() {
    let mut m = sample();
    let mut g = common::function(
        "g",
        &[],
        1,
        vec![
            Instr::abc(Op::LoadNil, 0, 0, 0),
            Instr::abc(Op::Return, 0, 0, 0),
        ],
        60,
    );
    g.num_captures = 1;
    m.functions.push(g);
    m.functions[0].code[1] = Instr::abc(Op::ClosureRef, 1, 2, 0); // R0 holds fib (0 captures)
    let e = reject(&m);
    assert_eq!(
        e.reason,
        Reason::ClosureRefCaptures {
            function: 2,
            theirs: 1,
            source: 1,
            source_captures: 0
        }
    );
    // Sharing fib's environment with fib itself is fine.
    let mut m = sample();
    m.functions[0].code[1] = Instr::abc(Op::ClosureRef, 1, 1, 0);
    assert_eq!(validate(&m), Ok(()));
    // A builtin has no environment.
    let code = vec![
        Instr::abc(Op::LoadBuiltin, 0, Builtin::IntegerMod as u16, 0),
        Instr::abc(Op::ClosureRef, 0, 0, 0),
        Instr::abc(Op::Return, 0, 0, 0),
    ];
    let e = reject(&single(code, 1));
    assert_eq!(
        e.reason,
        Reason::ClosureRefNotClosure {
            what: "builtin 'integer%'".into()
        }
    );
}

#[test]
fn loops_reach_a_fixed_point() {
    // i := 0; loop: if i < 10 { i := i + 1; goto loop }; return i
    let code = vec![
        Instr::abx(Op::LoadInt, 0, 0),
        Instr::abx(Op::LoadInt, 1, 10),
        Instr::abc(Op::LtInt, 2, 0, 1),
        Instr::abx(Op::JmpFalse, 2, 7),
        Instr::abx(Op::LoadInt, 2, 1),
        Instr::abc(Op::AddInt, 0, 0, 2),
        Instr::abx(Op::Jmp, 0, 2),
        Instr::abc(Op::Return, 0, 0, 0),
    ];
    assert_eq!(validate(&single(code.clone(), 3)), Ok(()));
    // A register first written inside the loop body is not written at its head.
    let mut bad = code;
    bad[2] = Instr::abc(Op::LtInt, 2, 0, 3);
    let e = reject(&single(bad, 4));
    assert_eq!(
        (e.pc, e.reason),
        (Some(2), Reason::Uninitialized { register: 3 })
    );
}

#[test]
fn huge_analyses_are_refused_not_attempted() {
    // 65535 registers (1024 words) x 4200 blocks exceeds the budget.
    let mut code = Vec::new();
    for i in 0..4200u32 {
        code.push(Instr::abx(Op::Jmp, 0, i + 1));
    }
    code.push(Instr::abc(Op::LoadNil, 0, 0, 0));
    code.push(Instr::abc(Op::Return, 0, 0, 0));
    let e = reject(&single(code, u16::MAX));
    assert!(
        matches!(
            e.reason,
            Reason::TooLargeToValidate {
                registers: 65535,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn analysis_work_is_bounded() {
    // 1025 closures over one site of 65535 captures: over 2^26 reads.
    let mut code = vec![Instr::abc(Op::LoadNil, 0, 0, 0)];
    code.extend((0..1025).map(|_| Instr::abx(Op::Closure, 0, 0)));
    code.push(Instr::abc(Op::Return, 0, 0, 0));
    let mut m = single(code, 1);
    let mut g = common::function("g", &[], 1, vec![Instr::abc(Op::Return, 0, 0, 0)], 9);
    g.num_captures = u16::MAX;
    g.params.push("x".into());
    m.functions.push(g);
    m.functions[0].closure_sites.push(ClosureSite {
        function: 1,
        captures: vec![CaptureFrom::Reg(0); u16::MAX as usize],
    });
    let e = reject(&m);
    assert_eq!(
        e.reason,
        Reason::TooManyReads {
            reads: 1025 * 65535 + 1
        }
    );
    // One closure fewer is within the limit (and valid).
    m.functions[0].code.remove(1);
    m.functions[0].locs.pop();
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn every_opcode_validates_or_is_rejected_without_panic() {
    // Each opcode with all fields 0, and with all fields set, in a small frame.
    for &op in Op::ALL {
        for (a, b, c) in [(0, 0, 0), (1, 1, 1), (u16::MAX, u16::MAX, u16::MAX)] {
            let code = vec![
                Instr::abc(Op::LoadNil, 0, 0, 0),
                Instr::abc(Op::LoadNil, 1, 0, 0),
                Instr::abc(op, a, b, c),
                Instr::abc(Op::Return, 0, 0, 0),
            ];
            let mut m = single(code, 4);
            m.functions[0].constants.push(Constant::Str("s".into()));
            m.functions[0].closure_sites.push(ClosureSite {
                function: 0,
                captures: vec![],
            });
            let _ = validate(&m);
        }
    }
}
