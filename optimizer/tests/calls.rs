//! Snapshots and checks of the call optimizations: `inline-once` (a lambda
//! called from one site, whose closure does not escape, is inlined and its
//! closure disappears) and known calls (`callf`/`tailcallf` for recursive
//! functions called through `sibling` or a capture-free `closure`). Each
//! program is also run at -O0 and -O2, which must agree. Re-bless with
//! `INSTA_UPDATE=always cargo test -p menai-optimizer --test calls`.

use menai_bytecode::{Module, Op};
use menai_optimizer::{optimize_with_log, Options};

fn module(src: &str, level: u8) -> Module {
    let program = match menai_compiler::compile_str(
        "calls.menai",
        src,
        &menai_compiler::Options::default(),
    ) {
        Ok(c) => c.program,
        Err(e) => panic!("compile error in test source: {:?}", e.diagnostics),
    };
    let opts = Options {
        opt_level: level,
        verify_each: true,
        ..Options::default()
    };
    let m = optimize_with_log(&program, &opts, &mut std::io::sink()).expect("optimizes");
    if let Err(e) = menai_bytecode::validate::validate(&m) {
        panic!(
            "invalid bytecode at -O{level}: {e}\n{}",
            menai_bytecode::disasm::disassemble(&m)
        );
    }
    m
}

/// The printed result at -O0 and -O2 (which must agree).
fn run(src: &str) -> String {
    let mut out = Vec::new();
    for level in [0, 2] {
        let m = module(src, level);
        out.push(
            match menai_vm::run_to_string(
                &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
                &menai_vm::RunOptions::default(),
            ) {
                Ok((s, _)) => s,
                Err(e) => format!("error: {}", e.message),
            },
        );
    }
    assert_eq!(out[0], out[1], "-O0 and -O2 disagree");
    out.swap_remove(0)
}

/// The listing of the user's functions (not the prelude's) at -O2.
fn listing(m: &Module) -> String {
    (0..m.functions.len())
        .filter(|&i| m.functions[i].loc.file == 0 || i == m.entry as usize)
        .filter_map(|i| menai_bytecode::disasm::disassemble_function(m, i))
        .collect::<Vec<_>>()
        .join("\n")
}

fn entry_ops(m: &Module) -> Vec<Op> {
    m.functions[m.entry as usize]
        .code
        .iter()
        .map(|i| i.op)
        .collect()
}

#[test]
fn a_let_bound_lambda_called_once_leaves_no_closure_and_no_call() {
    let src = "(let ((f (lambda (x) (integer+ x 1)))) (f 41))";
    assert_eq!(run(src), "42");
    let m = module(src, 2);
    let ops = entry_ops(&m);
    assert!(
        !ops.iter().any(|o| matches!(
            o,
            Op::Closure | Op::Call | Op::TailCall | Op::Sibling | Op::ClosureRef
        )),
        "{ops:?}"
    );
    insta::assert_snapshot!("let_lambda_once_o2", listing(&m));
}

#[test]
fn captures_map_to_the_values_at_the_closure_site() {
    // The inner lambda captures k and y; both are inlined, in a non-tail
    // position, so the continuation receives the inlined body's value.
    let src = "(let ((k (integer* 6 7)))
                 (let ((g (lambda (y) (let ((h (lambda (z) (integer+ z (integer+ k y))))) (h 1)))))
                   (list (g 100) 5)))";
    assert_eq!(run(src), "(143 5)");
    let m = module(src, 2);
    let ops = entry_ops(&m);
    assert!(
        !ops.iter().any(|o| matches!(o, Op::Closure | Op::Call)),
        "{ops:?}"
    );
    insta::assert_snapshot!("nested_captures_o2", listing(&m));
}

#[test]
fn tail_calls_inside_an_inlined_body_become_calls() {
    // `f`'s body tail-calls a builtin value and a closure passed as an
    // argument; inlined in a non-tail position, both become ordinary calls.
    let src = "(let ((id (lambda (v) v)))
                 (let ((f (lambda (x fun) (if (integer<? x 0) (fun x) (integer- 0 x)))))
                   (list (f 3 id) (f -4 id))))";
    assert_eq!(run(src), "(-3 -4)");
    let src = "(let ((f (lambda (x p) (p x))))
                 (list (f 3 (lambda (v) (integer+ v 1))) 0))";
    assert_eq!(run(src), "(4 0)");
    let m = module(src, 2);
    assert!(!entry_ops(&m).contains(&Op::TailCall), "{}", listing(&m));
}

#[test]
fn escaping_and_recursive_lambdas_are_not_inlined() {
    // Returned as a value: it escapes.
    let src = "(let ((f (lambda (x) (integer+ x 1)))) (list f))";
    let m = module(src, 2);
    assert!(entry_ops(&m).contains(&Op::Closure));
    // Self-recursive: stays a function, called.
    let src =
        "(letrec ((f (lambda (n) (if (integer<? n 1) 0 (integer+ 1 (f (integer- n 1))))))) (f 10))";
    assert_eq!(run(src), "10");
    let m = module(src, 2);
    assert!(m.functions.iter().any(|f| f.name == "f"));
    // Known calls: the recursive call and the entry's tail call name the
    // function directly; no closure or sibling is built.
    let f = m.functions.iter().find(|f| f.name == "f").unwrap();
    assert!(f.code.iter().any(|i| i.op == Op::CallF), "{}", listing(&m));
    assert!(!f
        .code
        .iter()
        .any(|i| matches!(i.op, Op::Sibling | Op::Call)));
    assert!(entry_ops(&m).contains(&Op::TailCallF), "{}", listing(&m));
    assert!(!entry_ops(&m).contains(&Op::Closure));
    insta::assert_snapshot!("letrec_recursive_o2", listing(&m));
    // A self tail loop stays a loop.
    let src = "(letrec ((loop (lambda (n acc) (if (integer=? n 0) acc (loop (integer- n 1) (integer+ acc n)))))) (loop 10 0))";
    assert_eq!(run(src), "55");
    let m = module(src, 2);
    assert!(m.functions.iter().any(|f| f.name == "loop"));
}

#[test]
fn errors_inside_an_inlined_body_keep_their_message() {
    let src = "(let ((f (lambda (x) (integer+ x 1)))) (f \"a\"))";
    assert_eq!(run(src), "error: integer+: expected integer, got string");
}

#[test]
fn a_lambda_with_captures_called_twice_is_lifted_to_a_known_call() {
    // `add` captures k and is called twice: not inlined (it branches, so
    // inline-small leaves it too), but its capture becomes an extra
    // leading argument and no closure is built.
    let src = "(let ((k (integer* 6 7)))
                 (let ((add (lambda (x) (if (integer>? x 0) (integer+ x k) k))))
                   (list (add 1) (add 2))))";
    assert_eq!(run(src), "(43 44)");
    let m = module(src, 2);
    let ops = entry_ops(&m);
    assert!(!ops.contains(&Op::Closure), "{}", listing(&m));
    assert_eq!(
        ops.iter().filter(|o| **o == Op::CallF).count(),
        2,
        "{}",
        listing(&m)
    );
    let add = m.functions.iter().find(|f| f.name == "add").unwrap();
    assert_eq!((add.params.len(), add.num_captures), (2, 0));
    insta::assert_snapshot!("lifted_lambda_o2", listing(&m));
    // A captured environment value (a capture of the enclosing function)
    // is read with getcap at the site and passed along.
    let src = "(let ((outer (lambda (k) (let ((add (lambda (x) (integer+ x k)))) (list (add 1) (add 2))))))
                 (list (outer 10) (outer 20)))";
    assert_eq!(run(src), "((11 12) (21 22))");
}
