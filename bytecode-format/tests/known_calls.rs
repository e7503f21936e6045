//! Validator rules of the known-call opcodes `callf A B C` and
//! `tailcallf A B`: the callee window R[A .. A+n-1] (n = B's parameter
//! count) must be in range and written, B has no rest parameter, B's
//! environment is empty or of the current function's layout, `callf`
//! clobbers R[A] and above, and `tailcallf` ends a block.

mod common;

use common::{flagged, function, sample};
use menai_bytecode::validate::{validate, Reason};
use menai_bytecode::{Instr, Module, Op};

/// The sample module with `fib` calling itself through `callf` (no
/// `sibling`, no closure register) and the entry tail-calling it with
/// `tailcallf`.
fn known() -> Module {
    use Op::*;
    let mut m = sample();
    let fib = &mut m.functions[1];
    fib.code[4] = Instr::abc(Nop, 0, 0, 0);
    fib.code[7] = Instr::abc(CallF, 3, 1, 1); // R1 := fib(R3)
    fib.code[10] = Instr::abc(CallF, 3, 1, 3); // R3 := fib(R3)
    let main = &mut m.functions[0];
    main.code = vec![
        Instr::abx(LoadInt, 1, 10),
        flagged(Instr::abc(TailCallF, 1, 1, 0), 1), // return fib(R1)
    ];
    main.locs.truncate(2);
    main.closure_sites.clear();
    m
}

fn reason(m: &Module) -> (Option<u32>, Option<u32>, Reason) {
    match validate(m) {
        Ok(()) => panic!("module was accepted"),
        Err(e) => (e.function, e.pc, e.reason),
    }
}

#[test]
fn known_calls_validate() {
    assert_eq!(validate(&known()), Ok(()));
    let text = menai_bytecode::disasm::disassemble(&known());
    assert!(text.contains("callf        R3 F1 R1"), "{text}");
    assert!(text.contains("R1 := F1 'fib'(R3)"), "{text}");
    assert!(text.contains("return F1 'fib'(R1)"), "{text}");
}

#[test]
fn the_argument_window_must_be_in_range() {
    let mut m = known();
    m.functions[1].code[7] = Instr::abc(Op::CallF, 5, 1, 1);
    assert_eq!(
        reason(&m),
        (
            Some(1),
            Some(7),
            Reason::RegisterRange {
                start: 5,
                len: 1,
                registers: 5
            }
        )
    );
    // An unknown function is rejected before its parameter count is used.
    let mut m = known();
    m.functions[1].code[7] = Instr::abc(Op::CallF, 3, 9, 1);
    assert_eq!(reason(&m).2, Reason::Function { index: 9, count: 2 });
}

#[test]
fn arguments_must_be_written_and_callf_clobbers_the_window() {
    // R4 is never written before the call.
    let mut m = known();
    m.functions[1].code[7] = Instr::abc(Op::CallF, 4, 1, 1);
    assert_eq!(
        reason(&m),
        (Some(1), Some(7), Reason::Uninitialized { register: 4 })
    );
    // After `callf 3 ...` R3 and above are clobbered (R3 was the argument):
    // reading R3 again is a read of an unwritten register.
    let mut m = known();
    m.functions[1].code[9] = Instr::abc(Op::Move, 4, 3, 0);
    assert_eq!(
        reason(&m),
        (Some(1), Some(9), Reason::Uninitialized { register: 3 })
    );
}

#[test]
fn the_callee_environment_must_be_empty_or_the_same_layout() {
    // fib with one capture, called from main (no captures): rejected.
    let mut m = known();
    m.functions[1].num_captures = 1;
    assert_eq!(
        reason(&m),
        (
            Some(0),
            Some(1),
            Reason::KnownCallCaptures {
                function: 1,
                theirs: 1,
                ours: 0
            }
        )
    );
    // A function with captures calling a capture-free one: fine.
    let mut m = known();
    let mut g = function("g", &[], 2, vec![], 30);
    g.num_captures = 2;
    g.code = vec![
        Instr::abc(Op::GetCap, 0, 1, 0),
        Instr::abc(Op::TailCallF, 0, 1, 0),
    ];
    g.locs = vec![common::loc(30), common::loc(31)];
    m.functions.push(g);
    assert_eq!(validate(&m), Ok(()));
}

#[test]
fn the_callee_has_no_rest_parameter() {
    let mut m = known();
    m.functions[1].rest = Some("more".into());
    m.functions[1].num_registers = 5;
    assert_eq!(
        reason(&m),
        (Some(0), Some(1), Reason::KnownCallRest { function: 1 })
    );
}
