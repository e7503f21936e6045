//! Native builtins: the integer family (to be written).

use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::value::Value;
use menai_bytecode::Builtin;

pub fn call(_ctx: &Ctx, id: Builtin, _args: &mut Args) -> RtResult<Value> {
    Err(RtError::new(format!("{}: not implemented yet", id.name())))
}
