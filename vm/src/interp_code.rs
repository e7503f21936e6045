//! The interpreter's internal form of a function's code: the file's
//! instructions, one for one, plus fused "superinstructions" that replace
//! the first instruction of a few hot sequences the optimizer emits:
//!
//! - `loadint Rk i; addi/subi Ra Rb Rk` (Rk dead after) → `addii/subii Ra Rb i`;
//! - `<int compare> Ra Rb Rc; jmpf Ra T` → one compare-and-branch;
//! - `loadint Rk i; <int compare> Ra Rb Rk; jmpf Ra T` (Rk dead after) →
//!   one compare-with-immediate-and-branch;
//! - `<int compare with immediate> Ra Rb sC; jmpf Ra T` → the same.
//!
//! A fused instruction keeps the original instructions after it in place
//! (the handler reads the jump target from them and skips them), so pcs,
//! jump targets and the line table are unchanged. A sequence is fused only
//! when no control transfer lands inside it (no jump target, no return
//! address), and only when stats and step limits are off, so instruction
//! counts stay exact when they are asked for. Fused handlers have the exact
//! semantics of the sequence, except that a dead immediate register is not
//! written.
//!
//! Typed float opcodes, `nullp` and `not` flagged TYPES_PROVEN (and proven
//! again here, see [`mark_proven`]) become unchecked forms (`AddFloatP`…).

use menai_bytecode::opcodes::Flow;
use menai_bytecode::{Function, Instr, Module, Op};

macro_rules! xops {
    ([$($plain:ident),* $(,)?], [$($fused:ident),* $(,)?]) => {
        /// An internal opcode: every file opcode, plus the fused ones.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum XOp {
            $($plain,)*
            $($fused,)*
        }

        impl XOp {
            fn from_op(op: Op) -> XOp {
                match op {
                    $(Op::$plain => XOp::$plain,)*
                }
            }
        }
    };
}

xops!(
    [
        Nop,
        Move,
        LoadK,
        LoadInt,
        LoadBool,
        LoadNone,
        LoadNil,
        LoadBuiltin,
        GetCap,
        Closure,
        Sibling,
        ClosureRef,
        Jmp,
        JmpTrue,
        JmpFalse,
        Call,
        TailCall,
        CallF,
        TailCallF,
        CallBuiltin,
        Return,
        Apply,
        TailApply,
        Raise,
        RaiseUnbound,
        RaiseNoMatch,
        MakeList,
        MakeDict,
        MakeSet,
        MakeStruct,
        AddInt,
        SubInt,
        MulInt,
        LtInt,
        LeInt,
        GtInt,
        GeInt,
        EqInt,
        NeInt,
        AddIntK,
        SubIntK,
        LtIntK,
        LeIntK,
        GtIntK,
        GeIntK,
        EqIntK,
        NeIntK,
        AddFloat,
        SubFloat,
        MulFloat,
        DivFloat,
        LtFloat,
        LeFloat,
        GtFloat,
        GeFloat,
        EqFloat,
        NeFloat,
        ListFirst,
        ListRest,
        ListNull,
        ListPrepend,
        Not,
    ],
    [
        // R[a] := R[b] + c as i16 (the `addi` follows).
        AddIntImm, // R[a] := R[b] - c as i16 (the `subi` follows).
        SubIntImm,
        // R[a] := R[b] <op> R[c]; if not R[a], pc := bx of the `jmpf` that follows.
        LtIntJf, LeIntJf, GtIntJf, GeIntJf, EqIntJf, NeIntJf,
        // R[a] := R[b] <op> (c as i16); if not R[a], jump (the compare and
        // the `jmpf` follow the `loadint` this replaces).
        LtIntImmJf, LeIntImmJf, GtIntImmJf, GeIntImmJf, EqIntImmJf, NeIntImmJf,
        // R[a] := R[b] <op> sC; if not R[a], pc := bx of the `jmpf` that follows
        // (a file `ltik`…`neik` followed by a `jmpf` on its result).
        LtIntKJf, LeIntKJf, GtIntKJf, GeIntKJf, EqIntKJf, NeIntKJf,
        // Typed opcodes whose operand types are proven (see `mark_proven`):
        // the same operation without the tag checks.
        AddFloatP, SubFloatP, MulFloatP, LtFloatP, LeFloatP, GtFloatP, GeFloatP, EqFloatP, NeFloatP,
        ListNullP, NotP,
    ]
);

/// One internal instruction: the same fields as a file instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XInstr {
    pub op: XOp,
    pub flags: u8,
    pub a: u16,
    pub b: u16,
    pub c: u16,
}

impl XInstr {
    fn plain(i: Instr) -> XInstr {
        XInstr {
            op: XOp::from_op(i.op),
            flags: i.flags,
            a: i.a,
            b: i.b,
            c: i.c,
        }
    }

    /// The 32-bit Bx field (B low, C high).
    #[inline(always)]
    pub fn bx(self) -> u32 {
        self.b as u32 | (self.c as u32) << 16
    }

    /// The Bx field as a signed immediate.
    #[inline(always)]
    pub fn sbx(self) -> i32 {
        self.bx() as i32
    }

    /// Whether the `i`-th register read by this instruction is its last use.
    #[inline(always)]
    pub fn is_last_use(self, i: u32) -> bool {
        i < Instr::LAST_USE_BITS && self.flags & (1 << i) != 0
    }
}

/// The unchecked form of a typed opcode, for those that have one.
fn proven_form(op: Op) -> Option<XOp> {
    Some(match op {
        Op::AddFloat => XOp::AddFloatP,
        Op::SubFloat => XOp::SubFloatP,
        Op::MulFloat => XOp::MulFloatP,
        Op::LtFloat => XOp::LtFloatP,
        Op::LeFloat => XOp::LeFloatP,
        Op::GtFloat => XOp::GtFloatP,
        Op::GeFloat => XOp::GeFloatP,
        Op::EqFloat => XOp::EqFloatP,
        Op::NeFloat => XOp::NeFloatP,
        Op::ListNull => XOp::ListNullP,
        Op::Not => XOp::NotP,
        _ => return None,
    })
}

/// Replaces the typed instructions of `f` (already translated into `out`,
/// not fused) that carry TYPES_PROVEN by their unchecked forms — only where
/// the validator's own type analysis (`validate::types::provable`,
/// invariant T1) proves the operand types, so the unchecked handlers are
/// sound even for a module that bypassed validation. Returns how many.
pub fn mark_proven(m: &Module, f: &Function, out: &mut [XInstr]) -> usize {
    if !f.code.iter().any(|i| i.types_proven()) {
        return 0;
    }
    let Ok(proven) = menai_bytecode::validate::types::provable(m, f) else {
        return 0;
    };
    let mut n = 0;
    for ((ins, x), ok) in f.code.iter().zip(out.iter_mut()).zip(proven) {
        if !(ok && ins.types_proven() && x.op == XOp::from_op(ins.op)) {
            continue;
        }
        if let Some(p) = proven_form(ins.op) {
            x.op = p;
            n += 1;
        }
    }
    n
}

/// The compare-and-branch opcode for an integer comparison.
fn cmp_jf(op: Op) -> Option<(XOp, XOp)> {
    Some(match op {
        Op::LtInt => (XOp::LtIntJf, XOp::LtIntImmJf),
        Op::LeInt => (XOp::LeIntJf, XOp::LeIntImmJf),
        Op::GtInt => (XOp::GtIntJf, XOp::GtIntImmJf),
        Op::GeInt => (XOp::GeIntJf, XOp::GeIntImmJf),
        Op::EqInt => (XOp::EqIntJf, XOp::EqIntImmJf),
        Op::NeInt => (XOp::NeIntJf, XOp::NeIntImmJf),
        _ => return None,
    })
}

/// The compare-and-branch opcode for an integer comparison with an immediate.
fn cmp_k_jf(op: Op) -> Option<XOp> {
    Some(match op {
        Op::LtIntK => XOp::LtIntKJf,
        Op::LeIntK => XOp::LeIntKJf,
        Op::GtIntK => XOp::GtIntKJf,
        Op::GeIntK => XOp::GeIntKJf,
        Op::EqIntK => XOp::EqIntKJf,
        Op::NeIntK => XOp::NeIntKJf,
        _ => return None,
    })
}

/// `loadint Rk i` whose immediate fits in 16 bits, as `(k, i)`.
fn small_loadint(i: Instr) -> Option<(u16, i16)> {
    if i.op != Op::LoadInt {
        return None;
    }
    i16::try_from(i.sbx()).ok().map(|v| (i.a, v))
}

/// Translates a function's code, fusing hot sequences when `fuse`.
pub fn translate(f: &Function, fuse: bool) -> Vec<XInstr> {
    let code = &f.code;
    let mut out: Vec<XInstr> = code.iter().map(|&i| XInstr::plain(i)).collect();
    if !fuse {
        return out;
    }
    // Indices where control may arrive other than by falling through.
    let mut landing = vec![false; code.len() + 1];
    landing[0] = true;
    for (pc, i) in code.iter().enumerate() {
        match i.op.flow() {
            Flow::Goto | Flow::Branch => {
                if let Some(l) = landing.get_mut(i.bx() as usize) {
                    *l = true;
                }
            }
            Flow::Call => landing[pc + 1] = true,
            Flow::Next | Flow::Exit => {}
        }
    }
    let at = |pc: usize| code.get(pc).copied();
    for pc in 0..code.len() {
        let (Some(first), second) = (at(pc), at(pc + 1)) else {
            continue;
        };
        let Some(second) = second else { continue };
        if landing[pc + 1] {
            continue;
        }
        // compare with an immediate; jmpf on its result
        if let Some(jf) = cmp_k_jf(first.op) {
            if second.op == Op::JmpFalse && second.a == first.a {
                out[pc] = XInstr {
                    op: jf,
                    ..XInstr::plain(first)
                };
                continue;
            }
        }
        // compare; jmpf on the compare's result
        if let Some((jf, _)) = cmp_jf(first.op) {
            if second.op == Op::JmpFalse && second.a == first.a {
                out[pc] = XInstr {
                    op: jf,
                    ..XInstr::plain(first)
                };
                continue;
            }
        }
        let Some((k, imm)) = small_loadint(first) else {
            continue;
        };
        // The immediate's register must be the arithmetic's right operand,
        // not its left one, and dead afterwards (flag bit 1 = R[c]).
        let uses_k_as_c = second.c == k && second.b != k && second.is_last_use(1);
        if !uses_k_as_c {
            continue;
        }
        let imm = imm as u16;
        match second.op {
            Op::AddInt | Op::SubInt => {
                let op = if second.op == Op::AddInt {
                    XOp::AddIntImm
                } else {
                    XOp::SubIntImm
                };
                out[pc] = XInstr {
                    op,
                    flags: second.flags,
                    a: second.a,
                    b: second.b,
                    c: imm,
                };
            }
            _ => {
                if let (Some((_, jf_imm)), Some(third)) = (cmp_jf(second.op), at(pc + 2)) {
                    if third.op == Op::JmpFalse && third.a == second.a && !landing[pc + 2] {
                        out[pc] = XInstr {
                            op: jf_imm,
                            flags: second.flags,
                            a: second.a,
                            b: second.b,
                            c: imm,
                        };
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use menai_bytecode::SrcLoc;

    fn f(code: Vec<Instr>) -> Function {
        Function {
            name: "f".into(),
            params: vec!["n".into()],
            rest: None,
            num_captures: 0,
            num_registers: 4,
            constants: vec![],
            closure_sites: vec![],
            locs: vec![SrcLoc::UNKNOWN; code.len()],
            cond_origins: vec![],
            code,
            loc: SrcLoc::UNKNOWN,
        }
    }

    fn last_c(mut i: Instr) -> Instr {
        i.flags = 0b10;
        i
    }

    #[test]
    fn fuses_only_safe_sequences() {
        let code = vec![
            Instr::abx(Op::LoadInt, 1, 2),
            last_c(Instr::abc(Op::LtInt, 1, 0, 1)),
            Instr::abx(Op::JmpFalse, 1, 4),
            Instr::abc(Op::Return, 0, 0, 0),
            Instr::abx(Op::LoadInt, 1, 1),
            last_c(Instr::abc(Op::SubInt, 2, 0, 1)),
            // not fused: the immediate register stays live
            Instr::abx(Op::LoadInt, 1, 1),
            Instr::abc(Op::SubInt, 2, 0, 1),
            Instr::abc(Op::Return, 2, 0, 0),
        ];
        let x = translate(&f(code.clone()), true);
        assert_eq!(x[0].op, XOp::LtIntImmJf);
        assert_eq!((x[0].a, x[0].b, x[0].c), (1, 0, 2));
        assert_eq!(x[1].op, XOp::LtIntJf);
        assert_eq!(x[4].op, XOp::SubIntImm);
        assert_eq!((x[4].a, x[4].b, x[4].c), (2, 0, 1));
        assert_eq!(x[6].op, XOp::LoadInt);
        let plain = translate(&f(code), false);
        assert!(plain
            .iter()
            .all(|i| !matches!(i.op, XOp::LtIntImmJf | XOp::LtIntJf | XOp::SubIntImm)));
    }

    #[test]
    fn fuses_an_immediate_compare_with_its_jmpf() {
        let code = vec![
            Instr::abc(Op::LtIntK, 1, 0, (-3i16) as u16),
            Instr::abx(Op::JmpFalse, 1, 3),
            Instr::abc(Op::AddIntK, 0, 0, 1),
            Instr::abc(Op::Return, 0, 0, 0),
        ];
        let x = translate(&f(code), true);
        assert_eq!(x[0].op, XOp::LtIntKJf);
        assert_eq!(x[0].c as i16, -3);
        assert_eq!(x[2].op, XOp::AddIntK);
    }

    #[test]
    fn does_not_fuse_across_a_landing_point() {
        let code = vec![
            Instr::abx(Op::LoadInt, 1, 1),
            last_c(Instr::abc(Op::SubInt, 2, 0, 1)),
            Instr::abx(Op::Jmp, 0, 1),
        ];
        assert_eq!(translate(&f(code), true)[0].op, XOp::LoadInt);
    }
}
