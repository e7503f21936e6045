//! Interpreter tests on hand-built modules (the compiler is not needed):
//! calls, tail calls in constant space, deep recursion, limits, closures,
//! letrec groups, rest parameters, apply, and error locations.

use menai_bytecode::{
    Builtin, CaptureFrom, ClosureSite, Constant, Function, Instr, Module, Op, SrcLoc, StructTypeDef,
};
use menai_vm::value::Value;
use menai_vm::{run, RunOptions, ValidModule};

fn abc(op: Op, a: u16, b: u16, c: u16) -> Instr {
    Instr::abc(op, a, b, c)
}

fn ldi(a: u16, v: i32) -> Instr {
    Instr::abx(Op::LoadInt, a, v as u32)
}

fn jmp(op: Op, a: u16, target: u32) -> Instr {
    Instr::abx(op, a, target)
}

/// A function whose instruction `i` is located at line `i + 1`, column 1.
fn func(name: &str, params: &[&str], rest: Option<&str>, nregs: u16, code: Vec<Instr>) -> Function {
    let locs = (0..code.len())
        .map(|i| SrcLoc {
            file: 0,
            line: i as u32 + 1,
            col: 1,
            start: 0,
            end: 0,
        })
        .collect();
    Function {
        name: name.to_string(),
        params: params.iter().map(|s| s.to_string()).collect(),
        rest: rest.map(str::to_string),
        num_captures: 0,
        num_registers: nregs,
        constants: Vec::new(),
        closure_sites: Vec::new(),
        code,
        locs,
        cond_origins: vec![],
        loc: SrcLoc::UNKNOWN,
    }
}

/// Replaces a function's code (and its line table, one line per instruction).
fn set_code(f: &mut Function, code: Vec<Instr>) {
    *f = func(&f.name.clone(), &[], None, f.num_registers, code);
}

fn site(function: u32, captures: Vec<CaptureFrom>) -> ClosureSite {
    ClosureSite { function, captures }
}

fn module(functions: Vec<Function>) -> Module {
    Module {
        files: vec!["test.menai".to_string()],
        file_hashes: vec![],
        struct_types: Vec::new(),
        functions,
        entry: 0,
    }
}

/// An entry function that builds a closure of function 1 (site 0), calls it
/// with the given integer arguments and returns the result. The closure
/// goes through a list first, so the validator does not know the callee and
/// argument counts are checked at run time.
fn entry_calling(args: &[i32]) -> Function {
    let n = args.len() as u16;
    let mut code = vec![
        Instr::abx(Op::Closure, 0, 0),
        abc(Op::MakeList, 0, 0, 1),
        abc(Op::ListFirst, 0, 0, 0),
    ];
    for (i, &v) in args.iter().enumerate() {
        code.push(ldi(i as u16 + 1, v));
    }
    code.push(abc(Op::Call, 0, n, 0));
    code.push(abc(Op::Return, 0, 0, 0));
    let mut f = func("main", &[], None, n + 1, code);
    f.closure_sites = vec![site(1, vec![])];
    f
}

/// Every hand-built module must pass the validator, like a loaded file
/// (the VM runs only validated modules).
fn valid(m: &Module) -> ValidModule {
    match menai_vm::loader::check(m.clone()) {
        Ok(v) => v,
        Err(e) => panic!("module rejected by the validator: {e}"),
    }
}

fn run_ok(m: &Module) -> Value {
    match run(&valid(m), &RunOptions::default()) {
        Ok((v, _)) => v,
        Err(e) => panic!("unexpected runtime error: {e:?}"),
    }
}

fn run_err(m: &Module, opts: &RunOptions) -> menai_vm::RtError {
    match run(&valid(m), opts) {
        Ok((v, _)) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn fib_module(n: i32) -> Module {
    // fib(n) = if n < 2 then n else fib(n-1) + fib(n-2)
    let fib = func(
        "fib",
        &["n"],
        None,
        5,
        vec![
            ldi(1, 2),
            abc(Op::LtInt, 1, 0, 1),
            jmp(Op::JmpFalse, 1, 4),
            abc(Op::Return, 0, 0, 0),
            abc(Op::Sibling, 1, 1, 0),
            ldi(3, 1),
            abc(Op::SubInt, 2, 0, 3),
            abc(Op::Call, 1, 1, 1),
            abc(Op::Sibling, 2, 1, 0),
            ldi(4, 2),
            abc(Op::SubInt, 3, 0, 4),
            abc(Op::Call, 2, 1, 2),
            abc(Op::AddInt, 1, 1, 2),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    module(vec![entry_calling(&[n]), fib])
}

#[test]
fn fib_recursive() {
    assert_eq!(int(&run_ok(&fib_module(20))), 6765);
    let (v, stats) = run(
        &valid(&fib_module(15)),
        &RunOptions {
            stats: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(int(&v), 610);
    // 1973 calls of fib plus the entry's call.
    assert_eq!(stats.calls, 1973);
    assert!(stats.instructions > 1973 * 5);
    assert_eq!(stats.max_depth, 15);
}

/// loop(n, acc) = if n == 0 then acc else loop(n - 1, acc + 1), as a tail call.
fn counting_loop() -> Function {
    func(
        "loop",
        &["n", "acc"],
        None,
        6,
        vec![
            ldi(2, 0),
            abc(Op::EqInt, 2, 0, 2),
            jmp(Op::JmpFalse, 2, 4),
            abc(Op::Return, 1, 0, 0),
            abc(Op::Sibling, 2, 1, 0),
            ldi(5, 1),
            abc(Op::SubInt, 3, 0, 5),
            abc(Op::AddInt, 4, 1, 5),
            abc(Op::TailCall, 2, 2, 0),
        ],
    )
}

#[test]
fn tail_loop_ten_million_in_constant_space() {
    let m = module(vec![entry_calling(&[10_000_000, 0]), counting_loop()]);
    let (v, stats) = run(
        &valid(&m),
        &RunOptions {
            max_depth: 10,
            stats: true,
            max_steps: None,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(int(&v), 10_000_000);
    assert_eq!(stats.max_depth, 1);
}

/// sum(n) = if n == 0 then 0 else n + sum(n - 1), not a tail call.
fn sum_module(n: i32) -> Module {
    let sum = func(
        "sum",
        &["n"],
        None,
        4,
        vec![
            ldi(1, 0),
            abc(Op::EqInt, 1, 0, 1),
            jmp(Op::JmpFalse, 1, 4),
            abc(Op::Return, 0, 0, 0),
            abc(Op::Sibling, 1, 1, 0),
            ldi(3, 1),
            abc(Op::SubInt, 2, 0, 3),
            abc(Op::Call, 1, 1, 1),
            abc(Op::AddInt, 1, 0, 1),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    module(vec![entry_calling(&[n]), sum])
}

#[test]
fn deep_non_tail_recursion() {
    assert_eq!(int(&run_ok(&sum_module(100_000))), 5_000_050_000);
    assert_eq!(int(&run_ok(&sum_module(500_000))), 125_000_250_000);
}

#[test]
fn depth_limit_is_a_clean_error() {
    let e = run_err(
        &sum_module(5000),
        &RunOptions {
            max_depth: 1000,
            ..RunOptions::default()
        },
    );
    assert_eq!(
        e.message,
        "call depth exhausted (limit 1000; a deeper recursion needs --max-depth N)"
    );
    // The failing call is instruction 7 of `sum` (line 8).
    assert_eq!(e.loc.map(|l| l.line), Some(8));
}

#[test]
fn step_limit_is_a_clean_error() {
    let forever = func("main", &[], None, 1, vec![Instr::abx(Op::Jmp, 0, 0)]);
    let e = run_err(
        &module(vec![forever]),
        &RunOptions {
            max_steps: Some(1000),
            ..RunOptions::default()
        },
    );
    assert!(e.message.contains("step limit exceeded"), "{}", e.message);
    let ok = run(
        &valid(&fib_module(10)),
        &RunOptions {
            max_steps: Some(100_000),
            ..RunOptions::default()
        },
    );
    assert_eq!(int(&ok.unwrap().0), 55);
}

#[test]
fn closures_capture_registers_and_environments() {
    // make_adder(x) = lambda(y) x + y ; ((make_adder 40) 2)
    let mut main = func(
        "main",
        &[],
        None,
        4,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            ldi(1, 40),
            abc(Op::Call, 0, 1, 0),
            ldi(1, 2),
            abc(Op::Call, 0, 1, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    main.closure_sites = vec![site(1, vec![])];
    // make_adder builds a closure of `adder` capturing x (R0); `adder`'s
    // environment then gets a second slot copied from the first one by a
    // nested site using `CaptureFrom::Env`.
    let mut make_adder = func(
        "make_adder",
        &["x"],
        None,
        2,
        vec![Instr::abx(Op::Closure, 1, 0), abc(Op::Return, 1, 0, 0)],
    );
    make_adder.closure_sites = vec![site(2, vec![CaptureFrom::Reg(0)])];
    let mut adder = func(
        "adder",
        &["y"],
        None,
        3,
        vec![
            abc(Op::GetCap, 1, 0, 0),
            Instr::abx(Op::Closure, 2, 0),
            abc(Op::Call, 2, 0, 2),
            abc(Op::AddInt, 0, 2, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    adder.num_captures = 1;
    adder.closure_sites = vec![site(3, vec![CaptureFrom::Env(0)])];
    // get_x() = Env[0]
    let mut get_x = func(
        "get_x",
        &[],
        None,
        1,
        vec![abc(Op::GetCap, 0, 0, 0), abc(Op::Return, 0, 0, 0)],
    );
    get_x.num_captures = 1;
    let m = module(vec![main, make_adder, adder, get_x]);
    assert_eq!(int(&run_ok(&m)), 42);
}

#[test]
fn letrec_group_mutual_recursion_in_tail_position() {
    // even?(n) = n == 0 or odd?(n-1); odd?(n) = n != 0 and even?(n-1).
    // Both share one environment; main reaches `odd?` through `closureref`.
    let even = func(
        "even?",
        &["n"],
        None,
        4,
        vec![
            ldi(1, 0),
            abc(Op::EqInt, 1, 0, 1),
            jmp(Op::JmpFalse, 1, 5),
            Instr::abc(Op::LoadBool, 1, 1, 0),
            abc(Op::Return, 1, 0, 0),
            abc(Op::Sibling, 1, 2, 0),
            ldi(3, 1),
            abc(Op::SubInt, 2, 0, 3),
            abc(Op::TailCall, 1, 1, 0),
        ],
    );
    let odd = func(
        "odd?",
        &["n"],
        None,
        4,
        vec![
            ldi(1, 0),
            abc(Op::EqInt, 1, 0, 1),
            jmp(Op::JmpFalse, 1, 5),
            Instr::abc(Op::LoadBool, 1, 0, 0),
            abc(Op::Return, 1, 0, 0),
            abc(Op::Sibling, 1, 1, 0),
            ldi(3, 1),
            abc(Op::SubInt, 2, 0, 3),
            abc(Op::TailCall, 1, 1, 0),
        ],
    );
    let mut main = func(
        "main",
        &[],
        None,
        4,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            abc(Op::ClosureRef, 1, 2, 0),
            Instr::abx(Op::LoadInt, 2, 1_000_001),
            abc(Op::Call, 1, 1, 1),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    main.closure_sites = vec![site(1, vec![])];
    let m = module(vec![main, even, odd]);
    let (v, stats) = run(
        &valid(&m),
        &RunOptions {
            max_depth: 5,
            stats: true,
            max_steps: None,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert!(matches!(v, Value::Bool(true)), "{v:?}");
    assert_eq!(stats.max_depth, 1);
}

fn list_ints(v: &Value) -> Vec<i64> {
    match v {
        Value::List(start, buf) => buf.iter().skip(*start as usize).map(int).collect(),
        other => panic!("expected a list, got {other:?}"),
    }
}

#[test]
fn rest_parameters_collect_extra_arguments() {
    // f(a . rest) = rest
    let f = func("f", &["a"], Some("rest"), 2, vec![abc(Op::Return, 1, 0, 0)]);
    let m = module(vec![entry_calling(&[1, 2, 3]), f.clone()]);
    assert_eq!(list_ints(&run_ok(&m)), vec![2, 3]);
    let m = module(vec![entry_calling(&[1]), f.clone()]);
    assert_eq!(list_ints(&run_ok(&m)), Vec::<i64>::new());
    let m = module(vec![entry_calling(&[]), f]);
    let e = run_err(&m, &RunOptions::default());
    assert_eq!(e.message, "call: expected at least 1 argument, got 0");
}

#[test]
fn wrong_arity_and_non_functions() {
    let m = module(vec![entry_calling(&[1, 2, 3]), counting_loop()]);
    let e = run_err(&m, &RunOptions::default());
    assert_eq!(e.message, "call: expected 2 arguments, got 3");
    assert_eq!(e.loc.map(|l| l.line), Some(7));
    let main = func(
        "main",
        &[],
        None,
        2,
        vec![
            ldi(0, 7),
            ldi(1, 1),
            abc(Op::Call, 0, 1, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    let e = run_err(&module(vec![main]), &RunOptions::default());
    assert_eq!(e.message, "call: cannot call a integer");
}

#[test]
fn apply_spreads_a_list() {
    // (apply loop (list 5 10)) and (tail-apply loop (list 3 4))
    let mut main = func(
        "main",
        &[],
        None,
        4,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            ldi(1, 5),
            ldi(2, 10),
            abc(Op::MakeList, 1, 1, 2),
            abc(Op::Apply, 2, 0, 1),
            abc(Op::Return, 2, 0, 0),
        ],
    );
    main.closure_sites = vec![site(1, vec![])];
    let m = module(vec![main.clone(), counting_loop()]);
    assert_eq!(int(&run_ok(&m)), 15);

    main.code[4] = abc(Op::TailApply, 0, 1, 0);
    let m = module(vec![main.clone(), counting_loop()]);
    assert_eq!(int(&run_ok(&m)), 15);

    // apply with a wrong count, and on a non-list
    main.code[3] = abc(Op::MakeList, 1, 1, 1);
    main.code[4] = abc(Op::Apply, 2, 0, 1);
    let e = run_err(
        &module(vec![main.clone(), counting_loop()]),
        &RunOptions::default(),
    );
    assert_eq!(e.message, "call: expected 2 arguments, got 1");
    main.code[3] = Instr::abc(Op::Nop, 0, 0, 0);
    let e = run_err(&module(vec![main, counting_loop()]), &RunOptions::default());
    assert_eq!(e.message, "apply: expected list, got integer");
}

#[test]
fn builtins_and_struct_types_as_values() {
    // ((loadbuiltin integer+) 1 2 3) through `call`, then through `apply`.
    let main = func(
        "main",
        &[],
        None,
        5,
        vec![
            abc(Op::LoadBuiltin, 0, Builtin::IntegerAdd as u16, 0),
            ldi(1, 1),
            ldi(2, 2),
            ldi(3, 3),
            abc(Op::Call, 0, 3, 4),
            abc(Op::Return, 4, 0, 0),
        ],
    );
    assert_eq!(int(&run_ok(&module(vec![main]))), 6);

    let main = func(
        "main",
        &[],
        None,
        3,
        vec![
            abc(Op::LoadBuiltin, 0, Builtin::IntegerNeg as u16, 0),
            abc(Op::MakeList, 0, 0, 1),
            abc(Op::ListFirst, 0, 0, 0),
            ldi(1, 1),
            ldi(2, 2),
            abc(Op::Call, 0, 2, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    let e = run_err(&module(vec![main]), &RunOptions::default());
    assert_eq!(e.message, "call: expected 1 argument, got 2");

    // A struct type called as a value constructs an instance.
    let mut main = func(
        "main",
        &[],
        None,
        3,
        vec![
            abc(Op::LoadK, 0, 0, 0),
            ldi(1, 3),
            ldi(2, 4),
            abc(Op::Call, 0, 2, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    main.constants = vec![Constant::StructType(0)];
    let mut m = module(vec![main]);
    m.struct_types = vec![StructTypeDef {
        name: "point".into(),
        fields: vec!["x".into(), "y".into()],
    }];
    match &run_ok(&m) {
        Value::Struct(s) => {
            assert_eq!(s.ty, 0);
            assert_eq!(s.fields.iter().map(int).collect::<Vec<_>>(), vec![3, 4]);
        }
        other => panic!("expected a struct, got {other:?}"),
    }
}

#[test]
fn integer_overflow_promotes_and_type_errors_name_the_operation() {
    let mut main = func(
        "main",
        &[],
        None,
        3,
        vec![
            abc(Op::LoadK, 0, 0, 0),
            ldi(1, 1),
            abc(Op::AddInt, 2, 0, 1),
            abc(Op::Return, 2, 0, 0),
        ],
    );
    main.constants = vec![Constant::Int(i64::MAX)];
    match &run_ok(&module(vec![main.clone()])) {
        Value::BigInt(b) => assert_eq!(b.to_string(), "9223372036854775808"),
        other => panic!("expected a big integer, got {other:?}"),
    }
    // Back to a small integer: (i64::MAX + 1) - 1.
    main.code[3] = abc(Op::SubInt, 2, 2, 1);
    main.code.push(abc(Op::Return, 2, 0, 0));
    main.locs.push(SrcLoc::UNKNOWN);
    assert_eq!(int(&run_ok(&module(vec![main.clone()]))), i64::MAX);

    main.constants = vec![Constant::Str("a".into())];
    let e = run_err(&module(vec![main]), &RunOptions::default());
    assert_eq!(e.message, "integer+: expected integer, got string");
    assert_eq!(e.loc.map(|l| (l.file, l.line, l.col)), Some((0, 3, 1)));
}

#[test]
fn errors_carry_the_failing_instruction_location() {
    let mut main = func(
        "main",
        &[],
        None,
        2,
        vec![ldi(0, 1), jmp(Op::JmpFalse, 0, 0), abc(Op::Raise, 0, 0, 0)],
    );
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "if: condition must be a boolean, got integer");
    assert_eq!(e.loc.map(|l| l.line), Some(2));
    // The same jump recorded as an `and` operand's test names `and`.
    let mut and = main.clone();
    and.cond_origins = vec![menai_bytecode::CondTest {
        pc: 1,
        origin: menai_bytecode::CondOrigin::And,
    }];
    let e = run_err(&module(vec![and]), &RunOptions::default());
    assert_eq!(e.message, "and: operand must be a boolean, got integer");
    assert_eq!(e.loc.map(|l| l.line), Some(2));

    main.constants = vec![Constant::Str("boom".into())];
    set_code(
        &mut main,
        vec![abc(Op::LoadK, 0, 0, 0), abc(Op::Raise, 0, 0, 0)],
    );
    main.constants = vec![Constant::Str("boom".into())];
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "boom");
    assert_eq!(e.loc.map(|l| l.line), Some(2));

    main.constants = vec![Constant::Str("foo".into())];
    set_code(
        &mut main,
        vec![abc(Op::Nop, 0, 0, 0), abc(Op::RaiseUnbound, 0, 0, 0)],
    );
    main.constants = vec![Constant::Str("foo".into())];
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "unbound name 'foo'");

    set_code(
        &mut main,
        vec![
            abc(Op::LoadNil, 0, 0, 0),
            abc(Op::ListFirst, 1, 0, 0),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "list-first: empty list");
    assert_eq!(e.loc.map(|l| l.line), Some(2));

    // An error deep inside a callee is located in the callee.
    let m = module(vec![
        entry_calling(&[5]),
        func("f", &["n"], None, 2, vec![abc(Op::Raise, 0, 0, 0)]),
    ]);
    let e = run_err(&m, &RunOptions::default());
    assert_eq!(e.message, "error: expected string, got integer");
    assert_eq!(e.loc.map(|l| l.line), Some(1));
}

#[test]
fn floats_and_lists() {
    let mut main = func(
        "main",
        &[],
        None,
        4,
        vec![
            abc(Op::LoadK, 0, 0, 0),
            abc(Op::LoadK, 1, 1, 0),
            abc(Op::DivFloat, 2, 0, 1),
            abc(Op::LoadNil, 3, 0, 0),
            abc(Op::ListPrepend, 3, 3, 2),
            abc(Op::ListPrepend, 3, 3, 0),
            abc(Op::ListRest, 0, 3, 0),
            abc(Op::ListFirst, 0, 0, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    main.constants = vec![Constant::Float(1.0), Constant::Float(4.0)];
    match run_ok(&module(vec![main.clone()])) {
        Value::Float(x) => assert_eq!(x, 0.25),
        other => panic!("expected a float, got {other:?}"),
    }
    main.constants[1] = Constant::Float(0.0);
    let e = run_err(&module(vec![main]), &RunOptions::default());
    assert_eq!(e.message, "float/: division by zero");
}

#[test]
fn call_result_register_inside_the_callee_window() {
    // R0 = closure; R1 = 5; call R0 1 R3 (R3 lies in the callee's window);
    // the callee `id` leaves a heap value in its registers, which the
    // return clears before the result lands in R3.
    let id = func(
        "id",
        &["x"],
        None,
        3,
        vec![
            abc(Op::LoadNil, 1, 0, 0),
            abc(Op::ListPrepend, 2, 1, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    let mut main = func(
        "main",
        &[],
        None,
        4,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            ldi(1, 5),
            abc(Op::Call, 0, 1, 3),
            abc(Op::Return, 3, 0, 0),
        ],
    );
    main.closure_sites = vec![site(1, vec![])];
    assert_eq!(int(&run_ok(&module(vec![main.clone(), id.clone()]))), 5);
    // A heap result (a list) travels the same way.
    let mut id_list = id;
    id_list.code[2] = abc(Op::Return, 2, 0, 0);
    assert_eq!(list_ints(&run_ok(&module(vec![main, id_list]))), vec![5]);
}

#[test]
fn flagged_moves_and_captures_keep_values_intact() {
    // R0 = (7); R1 = move R0 (last use); R2 = closure capturing R1 (last
    // use): the list is moved, not lost, along the way. (Reference counts
    // are not observable after the run, when every register is released.)
    let mut mv = abc(Op::Move, 1, 0, 0);
    mv.flags = 1;
    let mut cl = Instr::abx(Op::Closure, 2, 0);
    cl.flags = 1;
    let mut main = func(
        "main",
        &[],
        None,
        3,
        vec![
            ldi(0, 7),
            abc(Op::MakeList, 0, 0, 1),
            mv,
            cl,
            abc(Op::Return, 2, 0, 0),
        ],
    );
    main.closure_sites = vec![site(1, vec![CaptureFrom::Reg(1)])];
    let mut get = func(
        "get",
        &[],
        None,
        1,
        vec![abc(Op::GetCap, 0, 0, 0), abc(Op::Return, 0, 0, 0)],
    );
    get.num_captures = 1;
    match &run_ok(&module(vec![main.clone(), get.clone()])) {
        Value::Closure(1, env) => match &env.values[0] {
            Value::List(0, _) => assert_eq!(list_ints(&env.values[0]), vec![7]),
            other => panic!("expected a list, got {other:?}"),
        },
        other => panic!("expected a closure, got {other:?}"),
    }
}

#[test]
fn modules_the_interpreter_cannot_run_safely_never_reach_it() {
    // `run` takes a `ValidModule`, which only the validator makes: each of
    // these (a register outside the window, code that falls off its end, a
    // jump out of the code) is refused there.
    let bad_reg = func(
        "main",
        &[],
        None,
        2,
        vec![abc(Op::AddInt, 0, 0, 9), abc(Op::Return, 0, 0, 0)],
    );
    let falls_off = func("main", &[], None, 2, vec![ldi(0, 1)]);
    let bad_jump = func("main", &[], None, 2, vec![Instr::abx(Op::Jmp, 0, 7)]);
    for (f, why) in [
        (bad_reg, "register 9"),
        (falls_off, "falls off"),
        (bad_jump, "jump target 7"),
    ] {
        match ValidModule::new(module(vec![f])) {
            Ok(_) => panic!("accepted a module with a {why}"),
            Err(e) => assert!(e.to_string().contains(why), "{e}"),
        }
    }
}

/// `i` with flag bit 1 set: its right operand register is dead afterwards
/// (the pattern the optimizer emits, which the VM fuses with a `loadint`).
fn dead_c(mut i: Instr) -> Instr {
    i.flags = 0b10;
    i
}

#[test]
fn fused_sequences_keep_semantics_and_error_locations() {
    // R0 = K0; R1 = R0 - 1 (fused loadint+subi); if R1 < 5 (fused
    // loadint+lti+jmpf) return R1 else return R0.
    let mut main = func(
        "main",
        &[],
        None,
        3,
        vec![
            abc(Op::LoadK, 0, 0, 0),
            ldi(2, 1),
            dead_c(abc(Op::SubInt, 1, 0, 2)),
            ldi(2, 5),
            dead_c(abc(Op::LtInt, 2, 1, 2)),
            jmp(Op::JmpFalse, 2, 7),
            abc(Op::Return, 1, 0, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    main.constants = vec![Constant::Int(3)];
    assert_eq!(int(&run_ok(&module(vec![main.clone()]))), 2);
    main.constants = vec![Constant::Int(30)];
    assert_eq!(int(&run_ok(&module(vec![main.clone()]))), 30);
    // Overflow in the fused subtraction promotes to a big integer.
    main.constants = vec![Constant::Int(i64::MIN)];
    match &run_ok(&module(vec![main.clone()])) {
        Value::BigInt(b) => assert_eq!(b.to_string(), "-9223372036854775809"),
        other => panic!("expected a big integer, got {other:?}"),
    }
    // Type errors are located at the arithmetic / comparison (lines 3, 5).
    main.constants = vec![Constant::Str("x".into())];
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "integer-: expected integer, got string");
    assert_eq!(e.loc.map(|l| l.line), Some(3));
    main.code[2] = abc(Op::Move, 1, 0, 0);
    let e = run_err(&module(vec![main.clone()]), &RunOptions::default());
    assert_eq!(e.message, "integer<?: expected integer, got string");
    assert_eq!(e.loc.map(|l| l.line), Some(5));
    // The same program with counting on (no fusion) agrees.
    main.constants = vec![Constant::Int(3)];
    main.code[2] = dead_c(abc(Op::SubInt, 1, 0, 2));
    let (v, stats) = run(
        &valid(&module(vec![main])),
        &RunOptions {
            stats: true,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(int(&v), 2);
    assert_eq!(stats.instructions, 7);
}

/// `addik`…`neik`: integer operations with a signed 16-bit immediate, with
/// and without fusing (stats off/on), overflow promotion and type errors.
#[test]
fn immediate_integer_opcodes() {
    let imm = |v: i16| v as u16;
    // f(n) = if n <= -2 then n + 32767 - (-32768) else #f; g(n) = n > 5
    let f = func(
        "f",
        &["n"],
        None,
        3,
        vec![
            abc(Op::LeIntK, 1, 0, imm(-2)),
            jmp(Op::JmpFalse, 1, 5),
            abc(Op::AddIntK, 2, 0, imm(32767)),
            abc(Op::SubIntK, 2, 2, imm(-32768)),
            abc(Op::Return, 2, 0, 0),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    let g = func(
        "g",
        &["n"],
        None,
        2,
        vec![abc(Op::GtIntK, 1, 0, 5), abc(Op::Return, 1, 0, 0)],
    );
    for stats in [false, true] {
        let opts = RunOptions {
            stats,
            ..RunOptions::default()
        };
        let m = module(vec![entry_calling(&[-10]), f.clone()]);
        let (v, _) = run(&valid(&m), &opts).expect("runs");
        assert_eq!(int(&v), -10 + 32767 + 32768);
        let m = module(vec![entry_calling(&[6]), g.clone()]);
        let (v, _) = run(&valid(&m), &opts).expect("runs");
        assert!(matches!(v, Value::Bool(true)));
    }
    // Overflow promotes to a big integer.
    let big = func(
        "big",
        &["n"],
        None,
        2,
        vec![abc(Op::AddIntK, 1, 0, 1), abc(Op::Return, 1, 0, 0)],
    );
    let mut entry = func(
        "main",
        &[],
        None,
        2,
        vec![
            Instr::abx(Op::Closure, 0, 0),
            abc(Op::LoadK, 1, 0, 0),
            abc(Op::Call, 0, 1, 0),
            abc(Op::Return, 0, 0, 0),
        ],
    );
    entry.constants = vec![menai_bytecode::Constant::Int(i64::MAX)];
    entry.closure_sites = vec![site(1, vec![])];
    let m = module(vec![entry, big]);
    let (s, _) = menai_vm::run_to_string(&valid(&m), &RunOptions::default()).expect("runs");
    assert_eq!(s, "9223372036854775808");
    // A non-integer operand is the register form's type error.
    let mut entry = func(
        "main",
        &[],
        None,
        2,
        vec![
            abc(Op::LoadBool, 0, 1, 0),
            abc(Op::EqIntK, 1, 0, 3),
            abc(Op::Return, 1, 0, 0),
        ],
    );
    entry.params.clear();
    let e = run_err(&module(vec![entry]), &RunOptions::default());
    assert!(
        format!("{e:?}").contains("integer=?: expected integer, got boolean"),
        "{e:?}"
    );
}

/// `listref A B C`: the element at an in-range index (the list kept or
/// released as its last-use flag says); out of range, a negative index, a
/// non-integer index or a non-list is the builtin's error.
#[test]
fn listref_reads_an_element_or_raises_the_builtins_error() {
    let program = |index: Instr, last_use: u8| {
        let mut listref = abc(Op::ListRef, 3, 0, 1);
        listref.flags = last_use;
        func(
            "main",
            &[],
            None,
            4,
            vec![
                abc(Op::LoadNil, 0, 0, 0),
                ldi(2, 10),
                abc(Op::ListPrepend, 0, 0, 2),
                ldi(2, 20),
                abc(Op::ListPrepend, 0, 0, 2), // R0 = (20 10)
                index,                         // R1 = the index
                listref,
                abc(Op::Return, 3, 0, 0),
            ],
        )
    };
    for flags in [0, 1, 3] {
        assert_eq!(int(&run_ok(&module(vec![program(ldi(1, 0), flags)]))), 20);
        assert_eq!(int(&run_ok(&module(vec![program(ldi(1, 1), flags)]))), 10);
    }
    let err = |index: Instr| run_err(&module(vec![program(index, 0)]), &RunOptions::default());
    assert!(
        err(ldi(1, 2)).message.contains("list-ref"),
        "{}",
        err(ldi(1, 2)).message
    );
    assert!(
        err(ldi(1, 2)).message.contains("out of range"),
        "{}",
        err(ldi(1, 2)).message
    );
    assert!(err(ldi(1, -1)).message.contains("list-ref"));
    let e = err(abc(Op::LoadNil, 1, 0, 0));
    assert!(
        e.message.contains("list-ref") && e.message.contains("integer"),
        "{}",
        e.message
    );
    // A non-list: R0 overwritten with an integer before the read.
    let mut m = program(ldi(1, 0), 0);
    m.code[5] = ldi(0, 3);
    m.code.insert(5, ldi(1, 0));
    m.locs.push(m.loc);
    let e = run_err(&module(vec![m]), &RunOptions::default());
    assert!(
        e.message.contains("list-ref") && e.message.contains("list"),
        "{}",
        e.message
    );
}

/// `setmember A B C`: membership of a flat key inline, anything else
/// (an unhashable key, a non-set) through the builtin and its errors.
#[test]
fn setmember_tests_membership_or_raises_the_builtins_error() {
    let program = |probe: Instr, set_reg: u16| {
        let mut f = func(
            "main",
            &[],
            None,
            4,
            vec![
                ldi(0, 5),
                abc(Op::LoadK, 1, 0, 0),
                abc(Op::MakeSet, 2, 0, 2), // R2 = {5 "a"}
                probe,                     // R3 = the probe
                abc(Op::SetMember, 3, set_reg, 3),
                abc(Op::Return, 3, 0, 0),
            ],
        );
        f.constants = vec![Constant::Str("a".into())];
        module(vec![f])
    };
    let truth = |m: &Module| match run_ok(m) {
        Value::Bool(b) => b,
        other => panic!("not a boolean: {other:?}"),
    };
    assert!(truth(&program(ldi(3, 5), 2)));
    assert!(!truth(&program(ldi(3, 6), 2)));
    assert!(truth(&program(abc(Op::LoadK, 3, 0, 0), 2)));
    let e = run_err(
        &program(abc(Op::LoadNil, 3, 0, 0), 2),
        &RunOptions::default(),
    );
    assert!(
        e.message.contains("set-member?") && e.message.contains("unhashable"),
        "{}",
        e.message
    );
    let e = run_err(&program(ldi(3, 5), 0), &RunOptions::default());
    assert!(
        e.message.contains("set-member?") && e.message.contains("set"),
        "{}",
        e.message
    );
}
