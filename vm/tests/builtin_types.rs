//! The builtin type table (`menai_bytecode::builtin_types`) against the VM.
//! For every native builtin called on every combination of sample
//! arguments (up to three): a call that returns must return its
//! `result_type`; a type predicate must answer whether its argument has
//! its `predicate_type`; and the operands named by `checked_operands` must
//! have those types. The optimizer folds predicates and proves types from
//! this table, so each entry must hold of the real operations.

use menai_bytecode::builtin_types::{checked_operands, predicate_type, result_type};
use menai_bytecode::builtins::{Impl, MANY};
use menai_bytecode::{Builtin, Module, BUILTINS};
use menai_vm::builtins::{call_builtin, Args, Ctx};
use menai_vm::value::{Str, Value};
use std::rc::Rc;

fn call(ctx: &Ctx, b: Builtin, args: &[Value]) -> Option<Value> {
    let mut vals = args.to_vec();
    call_builtin(ctx, b, &mut Args::borrowed(&mut vals)).ok()
}

/// One or two values of every type but struct (which needs a declaration).
fn pool(ctx: &Ctx) -> Vec<Value> {
    let made = |b, args: &[Value]| call(ctx, b, args).expect("sample value");
    vec![
        Value::None,
        Value::Bool(true),
        Value::Int(0),
        Value::Int(3),
        Value::Int(-2),
        made(Builtin::IntegerMul, &[Value::Int(i64::MAX), Value::Int(4)]),
        Value::Float(2.5),
        Value::Float(-0.0),
        made(Builtin::IntegerToComplex, &[Value::Int(1), Value::Int(2)]),
        Value::str("ab"),
        Value::str("7"),
        Value::Symbol(Rc::new(Str::new("s"))),
        made(Builtin::List, &[Value::Int(1), Value::Int(2)]),
        made(Builtin::List, &[]),
        made(Builtin::Dict, &[Value::str("k"), Value::Int(1)]),
        made(Builtin::Set, &[Value::Int(1)]),
        Value::Builtin(Builtin::IntegerP),
    ]
}

#[test]
fn every_returning_call_agrees_with_the_type_table() {
    let module = Module {
        files: vec![],
        file_hashes: vec![],
        struct_types: vec![],
        functions: vec![],
        entry: 0,
    };
    let ctx = Ctx { module: &module };
    let pool = pool(&ctx);
    let mut returned = 0usize;
    for info in BUILTINS {
        if info.implementation != Impl::Native {
            continue;
        }
        let b = info.id;
        let max = if info.max_args == MANY {
            3
        } else {
            info.max_args.min(3)
        };
        for n in info.min_args..=max {
            let n = n as usize;
            let mut idx = vec![0usize; n];
            loop {
                let args: Vec<Value> = idx.iter().map(|&i| pool[i].clone()).collect();
                if let Some(v) = call(&ctx, b, &args) {
                    returned += 1;
                    let shown = || format!("{}({:?}) = {:?}", info.name, args, v);
                    if let Some(t) = result_type(b) {
                        assert_eq!(v.type_name(), t.name(), "result type of {}", shown());
                    }
                    if let (Some(t), [x]) = (predicate_type(b), args.as_slice()) {
                        let holds = x.type_name() == t.name();
                        assert!(
                            matches!(v, Value::Bool(r) if r == holds),
                            "predicate {}",
                            shown()
                        );
                    }
                    for (a, t) in args.iter().zip(checked_operands(b)) {
                        assert_eq!(a.type_name(), t.name(), "checked operand of {}", shown());
                    }
                }
                // Next combination of pool indices.
                let mut k = 0;
                while k < n {
                    idx[k] += 1;
                    if idx[k] < pool.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == n {
                    break;
                }
            }
        }
    }
    // The pool is rich enough that most builtins return for some arguments.
    assert!(returned > 5_000, "only {returned} calls returned");
}
