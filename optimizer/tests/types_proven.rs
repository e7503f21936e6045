//! The optimizer's type analysis (`types`) sets TYPES_PROVEN on typed
//! opcodes whose operand types are proven, and the output validates.

use menai_bytecode::{Function, Module, Op};
use menai_optimizer::{optimize_with_log, Options};

fn module(src: &str, level: u8) -> Module {
    let ir = match menai_compiler::compile_str("t.menai", src, &menai_compiler::Options::default())
    {
        Ok(c) => c.program,
        Err(e) => panic!("compile error: {:?}", e.diagnostics),
    };
    let opts = Options {
        opt_level: level,
        verify_each: true,
        ..Options::default()
    };
    let m = optimize_with_log(&ir, &opts, &mut std::io::sink()).expect("optimizes");
    if let Err(e) = menai_bytecode::validate::validate(&m) {
        panic!("invalid: {e}\n{}", menai_bytecode::disasm::disassemble(&m));
    }
    m
}

fn func<'m>(m: &'m Module, name: &str) -> &'m Function {
    match m.functions.iter().find(|f| f.name == name) {
        Some(f) => f,
        None => panic!("no function {name}"),
    }
}

/// (opcode, flagged) of every typed instruction of `f`, in code order.
fn typed(f: &Function) -> Vec<(Op, bool)> {
    f.code
        .iter()
        .filter(|i| i.op.has_type_proof())
        .map(|i| (i.op, i.types_proven()))
        .collect()
}

const LOOP: &str = "(letrec ((loop (lambda (i acc) (if (integer>? i 10) acc (loop (integer+ i 1) (integer+ acc i)))))) (loop 1 0))";

#[test]
fn loop_at_o0_proves_what_the_comparison_checked() {
    // `i` is a parameter: unknown at `integer>?`, proven after it, so
    // `(integer+ i 1)` is flagged; `acc` is never checked before its `+`.
    let m = module(LOOP, 0);
    assert_eq!(
        typed(func(&m, "loop")),
        vec![(Op::GtInt, false), (Op::AddInt, true), (Op::AddInt, false)]
    );
}

#[test]
fn loop_at_o2_keeps_the_proof() {
    // Whether or not -O2 inlines the loop, `(integer+ i 1)` (now the
    // immediate form `addik`) stays proven.
    let m = module(LOOP, 2);
    let all: Vec<(Op, bool)> = m.functions.iter().flat_map(typed).collect();
    assert!(all.len() >= 3, "{all:?}");
    assert!(
        all.contains(&(Op::AddIntK, true)),
        "{all:?}\n{}",
        menai_bytecode::disasm::disassemble(&m)
    );
}

#[test]
fn floats_booleans_and_lists() {
    let m = module(
        "(let ((f (lambda (x)
           (let* ((y (float* x 2.0)) (z (float+ y 1.5)))
             (if (boolean-not (float<? z 0.0))
                 (list-first (list-rest (list z y)))
                 (float- z x))))))
         (f 3.0))",
        0,
    );
    let f = func(&m, "f");
    assert_eq!(
        typed(f),
        vec![
            (Op::MulFloat, false), // x unknown
            (Op::AddFloat, true),  // float* result, constant
            (Op::LtFloat, true),
            (Op::Not, true),       // comparison result
            (Op::ListRest, true),  // list constructor
            (Op::ListFirst, true), // list-rest result
            (Op::SubFloat, true),  // x proven by float*
        ],
        "{}",
        menai_bytecode::disasm::disassemble(&m)
    );
}

#[test]
fn join_of_types_is_not_proven() {
    let m = module(
        "(let ((g (lambda (b) (let ((x (if b 1 2.5))) (integer+ x 1))))) (g #t))",
        0,
    );
    assert_eq!(typed(func(&m, "g")), vec![(Op::AddInt, false)]);
}

#[test]
fn type_predicate_branch_proves_the_then_arm() {
    let m = module(
        "(let ((g (lambda (x) (if (integer? x) (integer+ x 1) (float+ x 1.0))))) (g 5))",
        0,
    );
    assert_eq!(
        typed(func(&m, "g")),
        vec![(Op::AddInt, true), (Op::AddFloat, false)],
        "{}",
        menai_bytecode::disasm::disassemble(&m)
    );
}

fn run(m: &Module) -> String {
    match menai_vm::run_to_string(
        &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
        &menai_vm::RunOptions::default(),
    ) {
        Ok((s, _)) => s,
        Err(e) => format!("error: {}", e.message),
    }
}

/// Mutation test: on compiled programs, set TYPES_PROVEN on each typed
/// instruction in turn (and on all of them). Whenever the validator
/// accepts, the VM (whose unchecked handlers assert their precondition in
/// debug builds) computes the same result as with no flags at all.
#[test]
fn accepted_flags_never_change_results() {
    let programs = [
        LOOP,
        "(letrec ((f (lambda (x acc n) (if (integer=? n 0) acc (f (float* x 1.5) (float+ acc x) (integer- n 1)))))) (f 1.0 0.0 20))",
        "(letrec ((len (lambda (l n) (if (list-null? l) n (len (list-rest l) (integer+ n 1)))))) (len (list 1 2 3 4) 0))",
        "(let ((g (lambda (x) (if (integer? x) (integer* x x) (if (float? x) (float- x 0.5) (boolean-not (list? x))))))) (list (g 3) (g 2.0) (g \"s\") (g (list 1))))",
        "(letrec ((h (lambda (b n) (if (integer>? n 5) b (h (boolean-not b) (integer+ n 1)))))) (h #t 0))",
        "(float<? (list-first (list 1.0 2.0)) 3.0)",
        "(integer+ (list-first (list 1 2)) 1)",
        "(let ((f (lambda (x) (integer+ x 1)))) (f 2.5))",
    ];
    let mut accepted = 0;
    for src in programs {
        for level in [0, 2] {
            let mut m = module(src, level);
            for f in &mut m.functions {
                for i in &mut f.code {
                    *i = i.with_types_proven(false);
                }
            }
            let baseline = run(&m);
            let mut all = m.clone();
            for fi in 0..m.functions.len() {
                for pc in 0..m.functions[fi].code.len() {
                    if !m.functions[fi].code[pc].op.has_type_proof() {
                        continue;
                    }
                    let mut m2 = m.clone();
                    let i = &mut m2.functions[fi].code[pc];
                    *i = i.with_types_proven(true);
                    if menai_bytecode::validate::validate(&m2).is_ok() {
                        accepted += 1;
                        assert_eq!(run(&m2), baseline, "{src} -O{level} fn {fi} pc {pc}");
                        let a = &mut all.functions[fi].code[pc];
                        *a = a.with_types_proven(true);
                    }
                }
            }
            assert_eq!(menai_bytecode::validate::validate(&all), Ok(()));
            assert_eq!(run(&all), baseline, "{src} -O{level} (all flags)");
        }
    }
    assert!(accepted >= 15, "only {accepted} flags accepted");
}
