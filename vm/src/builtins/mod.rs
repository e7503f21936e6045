//! Native builtins: one function per `Native` row of the builtin table,
//! grouped by family in the submodules, dispatched by `call_builtin`.
//!
//! A builtin receives its arguments as `Args`: it may borrow any argument,
//! and `take` one to own it. Taking moves the value out of its register
//! only when the instruction marked that register as a last use, so a
//! builtin that takes an unshared list, dict or set can update it in place.

use crate::error::RtResult;
use crate::value::Value;
use menai_bytecode::{Builtin, Module};

/// What a builtin may consult besides its arguments.
pub struct Ctx<'a> {
    pub module: &'a Module,
}

/// The arguments of one builtin call.
pub struct Args<'a> {
    vals: &'a mut [Value],
    /// Bit i set: argument i's register is dead after the call.
    owned: u32,
}

impl<'a> Args<'a> {
    /// Arguments whose registers stay live: `take` clones.
    pub fn borrowed(vals: &'a mut [Value]) -> Args<'a> {
        Args { vals, owned: 0 }
    }

    /// Arguments whose registers are dead after the call: `take` moves.
    pub fn owned(vals: &'a mut [Value]) -> Args<'a> {
        Args {
            vals,
            owned: u32::MAX,
        }
    }

    /// Arguments where bit i of `owned` marks argument i as movable.
    pub fn with_flags(vals: &'a mut [Value], owned: u8) -> Args<'a> {
        Args {
            vals,
            owned: owned as u32,
        }
    }

    pub fn len(&self) -> usize {
        self.vals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    pub fn get(&self, i: usize) -> &Value {
        &self.vals[i]
    }

    pub fn all(&self) -> &[Value] {
        self.vals
    }

    /// The argument by value: moved out when its register is dead, else cloned.
    pub fn take(&mut self, i: usize) -> Value {
        if i < 32 && self.owned & (1 << i) != 0 {
            std::mem::take(&mut self.vals[i])
        } else {
            self.vals[i].clone()
        }
    }
}

pub mod complex;
mod dict;
pub mod float;
pub mod integer;
mod list;
mod misc;
mod set;
mod string;
mod structs;

/// Fails with a memory-limit error (naming `op`) unless the run may
/// allocate `bytes` more: asked before building a value whose size follows
/// from its inputs in one step (string and list builders).
pub fn room_for(bytes: usize, op: &str) -> RtResult<()> {
    if crate::alloc::room_for(bytes) {
        Ok(())
    } else {
        Err(crate::interp_ops::memory_error(Some(op)))
    }
}

/// Bytes a list of `n` elements takes (its buffer).
pub fn list_bytes(n: usize) -> usize {
    n.saturating_mul(std::mem::size_of::<Value>())
}

pub use dict::make_dict;
pub use list::make_list;
pub use set::make_set;

/// Calls a native builtin with any argument count its table row accepts
/// (the caller has checked the count). `Prelude` builtins never get here.
/// Dispatches on the code ranges of the builtin table's families.
pub fn call_builtin(ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    match id as u16 {
        0..=19 => misc::call(ctx, id, args),
        20..=49 => integer::call(ctx, id, args),
        50..=89 => float::call(ctx, id, args),
        90..=119 => complex::call(ctx, id, args),
        120..=149 => string::call(ctx, id, args),
        150..=179 => list::call(ctx, id, args),
        180..=199 => dict::call(ctx, id, args),
        200..=219 => set::call(ctx, id, args),
        220..=239 => structs::call(ctx, id, args),
        // range (240); the rest are prelude builtins, compiled from Menai.
        _ => list::call(ctx, id, args),
    }
}
