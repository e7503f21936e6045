//! Instructions that build values: `callb`, `closure`, `makelist`,
//! `makestruct` (each out of line: they allocate). Each releases the
//! registers it reads with a last-use flag (the release discipline of
//! `code`): moved into the value built, or dropped.

use super::{clean, Vm};
use crate::builtins::{call_builtin, Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::interp_ops as ops;
use crate::value::{Env, StructObj, Value};
use code::XInstr;
use menai_bytecode::{Builtin, CaptureFrom, Instr};
use std::rc::Rc;

use super::code;

/// Releases the registers of `window` whose read is flagged a last use
/// (bit i of `flags` for the i-th).
pub(super) fn release_flagged(window: &mut [Value], flags: u8) {
    let n = window.len().min(Instr::LAST_USE_BITS as usize);
    for (i, slot) in window[..n].iter_mut().enumerate() {
        if flags & (1 << i) != 0 {
            clean(slot);
        }
    }
}

impl Vm<'_> {
    /// `callb A B C`.
    #[inline(never)]
    pub(super) fn call_builtin_op(
        &mut self,
        ctx: &Ctx,
        ins: &XInstr,
        base: usize,
    ) -> RtResult<Value> {
        let id = Builtin::from_code(ins.b)
            .ok_or_else(|| RtError::new(format!("invalid builtin code {}", ins.b)))?;
        let n = id.info().prim_arity as usize;
        let at = base + ins.c as usize;
        let window = &mut self.stack[at..at + n];
        let r = call_builtin(ctx, id, &mut Args::with_flags(window, ins.flags));
        release_flagged(window, ins.flags);
        r
    }

    /// `closure A Bx`: a fresh environment from closure site Bx.
    #[inline(never)]
    pub(super) fn make_closure(
        &mut self,
        ins: &XInstr,
        fi: u32,
        base: usize,
        env: &Rc<Env>,
    ) -> RtResult<Value> {
        let module: &menai_bytecode::Module = self.module;
        let site = module.functions[fi as usize]
            .closure_sites
            .get(ins.bx() as usize)
            .ok_or_else(|| RtError::new("invalid closure site"))?;
        let mut values = Vec::with_capacity(site.captures.len());
        // Flag bit i: the i-th register capture is the register's last use.
        let mut nth_reg = 0u32;
        for c in &site.captures {
            values.push(match *c {
                CaptureFrom::Reg(r) => {
                    let slot = &mut self.stack[base + r as usize];
                    nth_reg += 1;
                    if ins.is_last_use(nth_reg - 1) {
                        std::mem::take(slot)
                    } else {
                        slot.clone()
                    }
                }
                CaptureFrom::Env(i) => env
                    .values
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(ops::bad_capture)?,
            });
        }
        Ok(Value::Closure(
            site.function,
            Rc::new(Env {
                values: values.into_boxed_slice(),
            }),
        ))
    }

    /// `makelist A B C`.
    #[inline(never)]
    pub(super) fn make_list(&mut self, ins: &XInstr, base: usize) -> Value {
        let at = base + ins.b as usize;
        let n = ins.c as usize;
        let mut buf = crate::value::ListBuf::with_capacity(n);
        for i in 0..n {
            let slot = &mut self.stack[at + i];
            buf.push_back(if ins.is_last_use(i as u32) {
                std::mem::take(slot)
            } else {
                slot.clone()
            });
        }
        Value::list_from(buf)
    }

    /// `makestruct A B C`.
    #[inline(never)]
    pub(super) fn make_struct(&mut self, ins: &XInstr, base: usize) -> RtResult<Value> {
        let n = self
            .module
            .struct_types
            .get(ins.b as usize)
            .map(|d| d.fields.len())
            .ok_or_else(|| RtError::new("invalid struct type"))?;
        let at = base + ins.c as usize;
        let fields: Box<[Value]> = (0..n)
            .map(|i| {
                let slot = &mut self.stack[at + i];
                if ins.is_last_use(i as u32) {
                    std::mem::take(slot)
                } else {
                    slot.clone()
                }
            })
            .collect();
        Ok(Value::Struct(Rc::new(StructObj {
            ty: ins.b as u32,
            fields,
        })))
    }
}
