//! Calls of the interpreter outside the hot path: binding arguments
//! (rest parameters), arity and depth errors, calling builtins and struct
//! types as values, and spreading a list for `apply`.

use super::code::FnCode;
use super::Vm;
use crate::builtins::{call_builtin, Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::interp_ops as ops;
use crate::value::{StructObj, Value};
use std::rc::Rc;

impl Vm<'_> {
    /// Checks the argument count of a call of function `f` with `nargs`
    /// arguments at `at..`, building the rest-parameter list if it has one.
    #[inline(always)]
    pub(super) fn bind_args(&mut self, callee: &FnCode, at: usize, nargs: usize) -> RtResult<()> {
        let nparams = callee.num_params as usize;
        if !callee.has_rest {
            if nargs != nparams {
                return Err(ops::arity_error(nparams, Some(nparams), nargs));
            }
            Ok(())
        } else {
            self.pack_rest(nparams, at, nargs)
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn pack_rest(&mut self, nparams: usize, at: usize, nargs: usize) -> RtResult<()> {
        if nargs < nparams {
            return Err(ops::arity_error(nparams, None, nargs));
        }
        self.ensure(at + nparams + 1)?;
        let rest: crate::value::ListBuf = self.stack[at + nparams..at + nargs]
            .iter_mut()
            .map(std::mem::take)
            .collect();
        self.stack[at + nparams] = Value::list_from(rest);
        Ok(())
    }

    #[cold]
    #[inline(never)]
    pub(super) fn depth_error(&self) -> RtError {
        RtError::new(format!(
            "call depth exhausted (limit {}; a deeper recursion needs --max-depth N)",
            self.max_depth
        ))
    }

    /// Calls a value that is not a closure (a builtin or a struct type) with
    /// the `nargs` arguments at `at..`; the argument registers are cleared.
    #[cold]
    #[inline(never)]
    pub(super) fn call_other(
        &mut self,
        callee: &Value,
        at: usize,
        nargs: usize,
    ) -> RtResult<Value> {
        self.ensure(at + nargs)?;
        let result = match callee {
            Value::Builtin(id) => {
                let info = id.info();
                if !info.accepts(nargs) {
                    let max = if info.max_args == menai_bytecode::builtins::MANY {
                        None
                    } else {
                        Some(info.max_args as usize)
                    };
                    Err(ops::arity_error(info.min_args as usize, max, nargs))
                } else {
                    let ctx = Ctx {
                        module: self.module,
                    };
                    call_builtin(&ctx, *id, &mut Args::owned(&mut self.stack[at..at + nargs]))
                }
            }
            Value::StructType(t) => {
                let nfields = self
                    .module
                    .struct_types
                    .get(*t as usize)
                    .map_or(0, |d| d.fields.len());
                if nargs != nfields {
                    Err(ops::arity_error(nfields, Some(nfields), nargs))
                } else {
                    let fields: Box<[Value]> = self.stack[at..at + nargs]
                        .iter_mut()
                        .map(std::mem::take)
                        .collect();
                    Ok(Value::Struct(Rc::new(StructObj { ty: *t, fields })))
                }
            }
            other => Err(RtError::new(format!(
                "call: cannot call a {}",
                other.type_name()
            ))),
        };
        self.clear(at, at + nargs);
        result
    }

    /// Spreads the elements of `list` into `stack[at..]`; returns their count.
    #[cold]
    #[inline(never)]
    pub(super) fn spread(&mut self, list: Value, at: usize) -> RtResult<usize> {
        match list.into_list() {
            Ok((start, buf)) => {
                let start = start as usize;
                let n = buf.len().saturating_sub(start);
                self.ensure(at + n)?;
                match Rc::try_unwrap(buf) {
                    Ok(mut owned) => {
                        for (i, v) in owned.drain(start.min(owned.len())..).enumerate() {
                            self.stack[at + i] = v;
                        }
                    }
                    Err(shared) => {
                        for (i, v) in shared.iter().skip(start).enumerate() {
                            self.stack[at + i] = v.clone();
                        }
                    }
                }
                Ok(n)
            }
            Err(other) => Err(RtError::new(format!(
                "apply: expected list, got {}",
                other.type_name()
            ))),
        }
    }
}
