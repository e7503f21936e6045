//! The shapes `-O2` gives small programs, as bytecode listings (insta
//! snapshots), plus the run-time behaviour that must survive: `sccp` folds
//! and prunes only what cannot fail, and `simplify-cfg` turns a branch that
//! produces `#t`/`#f` into its condition. Re-bless with
//! `INSTA_UPDATE=always cargo test -p menai-optimizer --test shapes`.

use menai_bytecode::Module;
use menai_optimizer::Options;

fn module(src: &str, level: u8) -> Module {
    let program = menai_compiler::compile_str("shapes.menai", src, &Default::default())
        .expect("compiles")
        .program;
    let opts = Options {
        opt_level: level,
        ..Options::default()
    };
    let m = menai_optimizer::optimize_with_log(&program, &opts, &mut std::io::sink())
        .expect("optimizes");
    assert!(menai_bytecode::validate::validate(&m).is_ok());
    m
}

/// The listing of the user's functions (entry and those of file 0).
fn listing(m: &Module) -> String {
    (0..m.functions.len())
        .filter(|&i| m.functions[i].loc.file == 0 || i == m.entry as usize)
        .filter_map(|i| menai_bytecode::disasm::disassemble_function(m, i))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The instructions of function `i`.
fn code_len(m: &Module, i: usize) -> usize {
    m.functions[i].code.len()
}

fn run(src: &str, level: u8) -> Result<String, String> {
    let m = module(src, level);
    menai_vm::run_to_string(
        &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
        &Default::default(),
    )
    .map(|(s, _)| s)
    .map_err(|e| e.message)
}

#[test]
fn a_string_pattern_returning_booleans_is_the_type_test_itself() {
    let src = "(lambda (c) (match c ((? string? s) #t) (_ #f)))";
    let m = module(src, 2);
    let lambda = (0..m.functions.len())
        .find(|&i| i != m.entry as usize && m.functions[i].loc.file == 0)
        .expect("the lambda");
    assert_eq!(code_len(&m, lambda), 2, "{}", listing(&m));
    insta::assert_snapshot!("string_pattern_o2", listing(&m));
    // Still right, both ways.
    let call = |arg: &str| format!("({src} {arg})");
    assert_eq!(run(&call("\"x\""), 2).as_deref(), Ok("#t"));
    assert_eq!(run(&call("1"), 2).as_deref(), Ok("#f"));
}

#[test]
fn a_constant_let_is_one_load() {
    let src = "(let ((x (integer+ 1 2))) (integer* x x))";
    let m = module(src, 2);
    assert_eq!(code_len(&m, m.entry as usize), 2, "{}", listing(&m));
    insta::assert_snapshot!("constant_let_o2", listing(&m));
    assert_eq!(run(src, 2).as_deref(), Ok("9"));
}

#[test]
fn a_branch_on_a_known_comparison_is_gone() {
    let src = "(let ((a (list 1)) (b (list 2))) (if (integer<? 1 2) a b))";
    let m = module(src, 2);
    let text = listing(&m);
    for op in ["jmp", "jmpf", "jmpt"] {
        assert!(!text.split_whitespace().any(|w| w == op), "{op} in\n{text}");
    }
    insta::assert_snapshot!("known_branch_o2", text);
    assert_eq!(run(src, 2).as_deref(), Ok("(1)"));
}

#[test]
fn a_division_by_zero_still_raises_with_its_location() {
    let src = "(list 1\n  (integer/ 1 0))";
    let m = module(src, 2);
    insta::assert_snapshot!("division_by_zero_o2", listing(&m));
    for level in [0, 2] {
        let m = module(src, level);
        let err = menai_vm::run(
            &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
            &Default::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("-O{level}: expected an error"));
        let text = err.message.clone();
        assert!(text.contains("integer/: division by zero"), "{text}");
        let loc = err.loc.as_ref().expect("a location");
        assert_eq!((loc.line, loc.col), (2, 3), "-O{level}: {text}");
    }
}

#[test]
fn type_tests_on_known_types_are_decided_but_errors_stay() {
    // `integer?` of an `integer+` result, `list?` of a `list-rest` result,
    // and a repeated `string?` under a dominating `string?` test.
    let src = "(lambda (x l s) (list (integer? (integer+ x 1))
                                     (list? (list-rest l))
                                     (if (string? s) (string? s) #f)))";
    let m = module(src, 2);
    let text = listing(&m);
    for name in ["integer?", "list?"] {
        assert!(!text.contains(&format!("{name}(")), "{name} in\n{text}");
    }
    insta::assert_snapshot!("known_types_o2", text);
    let call = |args: &str| format!("({src} {args})");
    for (args, expected) in [
        ("1 (list 1 2) \"a\"", Ok("(#t #t #t)".to_string())),
        ("1 (list 1) 2", Ok("(#t #t #f)".to_string())),
    ] {
        for level in [0, 2] {
            assert_eq!(run(&call(args), level), expected, "-O{level} {args}");
        }
    }
    // The operations whose results were typed still check their operands.
    for (args, message) in [
        ("\"a\" (list 1) 2", "integer+: expected integer"),
        ("1 (list) 2", "list-rest: empty list"),
    ] {
        for level in [0, 2] {
            let err = run(&call(args), level).expect_err("raises");
            assert!(err.contains(message), "-O{level} {args}: {err}");
        }
    }
}

/// A self tail call becomes a jump back to the function's first instruction
/// after argument set-up, and a parameter passed through unchanged (`cal`)
/// is never moved: the loop moves only the registers that change. The
/// helpers it captures are inlined (known-captures makes them capture-free
/// closures, inline-once inlines them).
#[test]
fn a_self_recursive_loop_jumps_back_moving_only_what_changes() {
    let src = "(letrec ((add-one-day (lambda (d) (integer+ d 1)))
         (working-day? (lambda (d cal) (boolean-not (set-member? cal (integer% d 7)))))
         (next (lambda (d cal)
                 (let ((d2 (add-one-day d)))
                   (if (working-day? d2 cal) d2 (next d2 cal))))))
  (next 5 (set 5 6 0)))";
    let m = module(src, 2);
    let next = m
        .functions
        .iter()
        .position(|f| f.name == "next")
        .expect("next");
    let f = &m.functions[next];
    // The back edge is the loop's own test (`jmpt` to the first
    // instruction, `(if (working-day? …) …)` negated, no `not`), and the
    // only jump back.
    let backs: Vec<_> = f
        .code
        .iter()
        .filter(|i| {
            use menai_bytecode::Op::{Jmp, JmpFalse, JmpTrue};
            matches!(i.op, Jmp | JmpTrue | JmpFalse) && i.bx() == 0
        })
        .collect();
    assert_eq!(backs.len(), 1, "{}", listing(&m));
    assert_eq!(backs[0].op, menai_bytecode::Op::JmpTrue, "{}", listing(&m));
    assert!(
        f.code
            .iter()
            .all(|i| !matches!(i.op, menai_bytecode::Op::Not | menai_bytecode::Op::Jmp)),
        "{}",
        listing(&m)
    );
    // `cal` lives in the last parameter register and is never written.
    let cal = (f.params.len() - 1) as u16;
    let writes_cal = f.code.iter().any(|i| {
        matches!(i.op, menai_bytecode::Op::Move) && i.a == cal
            || matches!(
                i.op,
                menai_bytecode::Op::Call
                    | menai_bytecode::Op::CallF
                    | menai_bytecode::Op::CallBuiltin
            ) && {
                // a call's result register
                let dest = if i.op == menai_bytecode::Op::CallBuiltin {
                    i.a
                } else {
                    i.c
                };
                dest == cal
            }
    });
    assert!(!writes_cal, "cal is moved in the loop:\n{}", listing(&m));
    // The helpers are known (capture-free) and called once: inlined, so the
    // loop calls nothing and builds no closure.
    assert!(
        !f.code.iter().any(|i| matches!(
            i.op,
            menai_bytecode::Op::Call
                | menai_bytecode::Op::CallF
                | menai_bytecode::Op::Closure
                | menai_bytecode::Op::GetCap
        )),
        "{}",
        listing(&m)
    );
    insta::assert_snapshot!("self_loop_o2", listing(&m));
    assert_eq!(run(src, 2).as_deref(), Ok("8"));
    assert_eq!(run(src, 0).as_deref(), Ok("8"));
}

/// Calls in the code of every function of `m` (`call`, `tailcall`,
/// `callf`, `tailcallf`), as (function name, mnemonic).
fn calls(m: &Module) -> Vec<(String, &'static str)> {
    use menai_bytecode::Op;
    let mut out = Vec::new();
    for f in &m.functions {
        for i in &f.code {
            if matches!(i.op, Op::Call | Op::TailCall | Op::CallF | Op::TailCallF) {
                out.push((f.name.clone(), i.op.mnemonic()));
            }
        }
    }
    out
}

/// `specialize`: a loop that calls its function argument, given a lambda
/// written at the call (here through the prelude's `map-list` and
/// `fold-list`, and a user's own loop), runs with the lambda's body inline:
/// no call is left in any loop, and the lambdas are gone.
#[test]
fn a_loop_calling_a_known_function_argument_has_it_inline() {
    let src = "(let ((k (list-length (list 1 2 3))))
                 (letrec ((each (lambda (f xs acc)
                                  (if (list-null? xs) acc
                                      (each f (list-rest xs) (integer+ acc (f (list-first xs))))))))
                   (list (map-list (lambda (x) (integer* x k)) (list 1 2 3))
                         (fold-list (lambda (a x) (integer+ a x)) 0 (list 4 5))
                         (each (lambda (x) (integer- x k)) (list 10 20) 0))))";
    let m = module(src, 2);
    let left: Vec<_> = calls(&m)
        .into_iter()
        .filter(|(name, _)| name != "main")
        .collect();
    assert!(left.is_empty(), "calls left in loops: {left:?}");
    assert!(
        !m.functions.iter().any(|f| f.name.starts_with("lambda@")),
        "{:?}",
        m.functions.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    assert_eq!(run(src, 2), run(src, 0));
    assert_eq!(run(src, 2).as_deref(), Ok("((3 6 9) 9 24)"));
}

/// A function argument that the callee lets escape (returns it, compares
/// it) is not specialized: the callee sees the caller's very closure.
#[test]
fn an_escaping_function_argument_is_not_specialized() {
    let src = "(letrec ((keep (lambda (f x) (if (integer=? (f x) 0) f f))))
                 (let ((g (lambda (x) (integer- x 1))))
                   (list (function=? (keep g 1) g) (function=? (keep g 5) g))))";
    let m = module(src, 2);
    assert!(
        !m.functions.iter().any(|f| f.name.contains('<')),
        "{:?}",
        m.functions.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    assert_eq!(run(src, 2).as_deref(), Ok("(#t #t)"));
}

/// `inline-small`: a tiny helper called from several places (here from a
/// loop and twice from `main`) leaves no call behind, and an error raised
/// inside the copied body names the same operation at the same place as
/// without optimization.
#[test]
fn tiny_helpers_are_inlined_at_every_call_and_keep_their_error_location() {
    let src = "(letrec ((sq (lambda (x) (integer* x x)))
                        (first-of (lambda (l) (list-first l)))
                        (sum-sq (lambda (i acc) (if (integer=? i 0) acc (sum-sq (integer- i 1) (integer+ acc (sq i)))))))
                 (list (sq 3) (sq 4) (sum-sq 3 0) (first-of (list 7))))";
    let m = module(src, 2);
    // The helpers are gone; the one call left is main's call of the loop.
    let names: Vec<&str> = m.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        !names.contains(&"sq") && !names.contains(&"first-of"),
        "{names:?}\n{}",
        listing(&m)
    );
    assert_eq!(
        calls(&m),
        vec![("main".to_string(), "callf")],
        "{}",
        listing(&m)
    );
    assert_eq!(run(src, 2).as_deref(), Ok("(9 16 14 7)"));
    assert_eq!(run(src, 2), run(src, 0));
    let bad = "(letrec ((first-of (lambda (l)\n  (list-first l))))\n  (list (first-of (list 1)) (first-of (list))))";
    for level in [0, 2] {
        let m = module(bad, level);
        let err = menai_vm::run(
            &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
            &Default::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("-O{level}: expected an error"));
        assert!(err.message.contains("list-first"), "{}", err.message);
        let loc = err.loc.as_ref().expect("a location");
        assert_eq!((loc.line, loc.col), (2, 3), "-O{level}: {}", err.message);
    }
}
