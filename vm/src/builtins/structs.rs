//! Native builtins of the struct family (codes 220-239). Struct types are
//! indices into `Module::struct_types`; an instance is a type index and its
//! fields. Updates return a new instance (in place when the instance was
//! moved in and is unshared).

use super::misc::{expect_symbol, index_arg, type_error};
use super::{Args, Ctx};
use crate::equality::equal;
use crate::error::{RtError, RtResult};
use crate::value::{StructObj, Value};
use menai_bytecode::{Builtin, StructTypeDef};
use std::rc::Rc;

pub fn call(ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let op = id.name();
    let v = match id {
        Builtin::StructGetImm => {
            let s = expect_struct(args.get(0), op)?;
            let i = index_arg(args.get(1), s.fields.len(), false, op, "struct")?;
            s.fields[i].clone()
        }
        Builtin::StructSetImm => {
            let n = expect_struct(args.get(0), op)?.fields.len();
            let i = index_arg(args.get(1), n, false, op, "struct")?;
            set_field(args, op, i)?
        }
        Builtin::StructP => Value::Bool(matches!(args.get(0), Value::Struct(_))),
        Builtin::StructTypeP => {
            let t = expect_type(args.get(0), op)?;
            Value::Bool(matches!(args.get(1), Value::Struct(s) if s.ty == t))
        }
        Builtin::StructGet => {
            let s = expect_struct(args.get(0), op)?;
            let i = field_index(ctx, s, args.get(1), op)?;
            s.fields[i].clone()
        }
        Builtin::StructSet => {
            let s = expect_struct(args.get(0), op)?;
            let i = field_index(ctx, s, args.get(1), op)?;
            set_field(args, op, i)?
        }
        Builtin::StructEq | Builtin::StructNe => {
            expect_struct(args.get(0), op)?;
            expect_struct(args.get(1), op)?;
            let eq = equal(args.get(0), args.get(1));
            Value::Bool(eq == (id == Builtin::StructEq))
        }
        Builtin::StructType => Value::StructType(expect_struct(args.get(0), op)?.ty),
        Builtin::StructTypeName => {
            let t = expect_type(args.get(0), op)?;
            Value::str(type_def(ctx, t, op)?.name.as_str())
        }
        Builtin::StructFields => {
            let t = expect_type(args.get(0), op)?;
            let def = type_def(ctx, t, op)?;
            Value::list_from(
                def.fields
                    .iter()
                    .map(|f| Value::Symbol(Rc::new(crate::value::Str::new(f.clone()))))
                    .collect(),
            )
        }
        _ => return Err(RtError::new(format!("{op}: not a struct builtin"))),
    };
    Ok(v)
}

fn expect_struct<'a>(v: &'a Value, op: &str) -> RtResult<&'a StructObj> {
    match v {
        Value::Struct(s) => Ok(s),
        other => Err(type_error(op, "struct", other)),
    }
}

fn expect_type(v: &Value, op: &str) -> RtResult<u32> {
    match v {
        Value::StructType(t) => Ok(*t),
        other => Err(type_error(op, "struct-type", other)),
    }
}

fn type_def<'m>(ctx: &'m Ctx, t: u32, op: &str) -> RtResult<&'m StructTypeDef> {
    ctx.module
        .struct_types
        .get(t as usize)
        .ok_or_else(|| RtError::new(format!("{op}: invalid struct type {t}")))
}

/// The position of the field named by symbol `field` in `s`'s type.
fn field_index(ctx: &Ctx, s: &StructObj, field: &Value, op: &str) -> RtResult<usize> {
    let name = expect_symbol(field, op)?;
    let def = type_def(ctx, s.ty, op)?;
    match def.fields.iter().position(|f| *f == name.text) {
        Some(i) if i < s.fields.len() => Ok(i),
        _ => Err(RtError::new(format!(
            "{op}: struct {} has no field '{}'",
            def.name, name.text
        ))),
    }
}

/// A copy of the struct argument 0 with field `i` replaced by argument 2.
fn set_field(args: &mut Args, op: &str, i: usize) -> RtResult<Value> {
    let x = args.take(2);
    let mut rc = args
        .take(0)
        .into_struct()
        .map_err(|other| type_error(op, "struct", &other))?;
    let obj = Rc::make_mut(&mut rc);
    match obj.fields.get_mut(i) {
        Some(slot) => *slot = x,
        None => return Err(RtError::new(format!("{op}: field {i} out of range"))),
    }
    Ok(Value::Struct(rc))
}
