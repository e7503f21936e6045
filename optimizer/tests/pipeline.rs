//! End-to-end tests of the optimizer: source (through the real frontend)
//! → IR → CFG → passes → bytecode, checked by the bytecode validator and
//! run by the VM at -O0 and -O2; plus checks of the emitted code itself.

use menai_bytecode::{Module, Op};
use menai_optimizer::{build_cfgs, dump_cfg, optimize_with_log, Options};

fn ir(src: &str) -> menai_compiler::ir::Program {
    match menai_compiler::compile_str("test.menai", src, &menai_compiler::Options::default()) {
        Ok(c) => c.program,
        Err(e) => panic!("compile error in test source: {:?}", e.diagnostics),
    }
}

fn module(src: &str, level: u8) -> Module {
    let opts = Options {
        opt_level: level,
        verify_each: true,
        ..Options::default()
    };
    let m = optimize_with_log(&ir(src), &opts, &mut std::io::sink()).expect("optimizes");
    if let Err(e) = menai_bytecode::validate::validate(&m) {
        panic!(
            "invalid bytecode at -O{level}: {e}\n{}",
            menai_bytecode::disasm::disassemble(&m)
        );
    }
    m
}

/// Runs at -O0 and -O2; both must agree. Errors come back as `error: MSG`.
fn run(src: &str) -> String {
    let mut results = Vec::new();
    for level in [0, 2] {
        let m = module(src, level);
        let out = match menai_vm::run_to_string(
            &menai_vm::ValidModule::new(m.clone()).expect("valid bytecode"),
            &menai_vm::RunOptions::default(),
        ) {
            Ok((s, _)) => s,
            Err(e) => format!("error: {}", e.message),
        };
        results.push(out);
    }
    assert_eq!(results[0], results[1], "-O0 and -O2 disagree on {src}");
    results.remove(0)
}

fn function<'m>(m: &'m Module, name: &str) -> &'m menai_bytecode::Function {
    m.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

#[test]
fn arithmetic_closures_and_higher_order_functions() {
    assert_eq!(run("(integer+ 1 2 3)"), "6");
    assert_eq!(
        run("(let ((k 10)) (let ((f (lambda (x) (integer* x k)))) (f 4)))"),
        "40"
    );
    assert_eq!(
        run("(map-list (lambda (x) (integer+ x 1)) (list 1 2 3))"),
        "(2 3 4)"
    );
    assert_eq!(run("(fold-list integer+ 0 (range 0 10))"), "45");
    assert_eq!(run("(apply integer+ (list 1 2 3))"), "6");
    assert_eq!(run("(if (integer<? 1 2) \"yes\" \"no\")"), "\"yes\"");
    assert_eq!(
        run("(let ((P (struct (x y)))) (struct-get (P 3 4) 'y))"),
        "4"
    );
}

#[test]
fn mutual_recursion_shares_one_environment() {
    let src = "(let ((k 1))
                 (letrec ((ev? (lambda (n) (if (integer=? n 0) #t (od? (integer- n k)))))
                          (od? (lambda (n) (if (integer=? n 0) #f (ev? (integer- n k))))))
                   (list (ev? 10) (od? 7) (ev? 100001))))";
    assert_eq!(run(src), "(#t #t #f)");
    let m = module(src, 2);
    let main = &m.functions[m.entry as usize];
    // One closure site for the group (holding k), the sibling built from it.
    assert_eq!(main.closure_sites.len(), 1);
    assert_eq!(main.closure_sites[0].captures.len(), 1);
    assert!(main.code.iter().any(|i| i.op == Op::ClosureRef));
    // Inside a member, the other member is rebuilt on demand, never captured.
    let ev = function(&m, "ev?");
    assert!(ev
        .code
        .iter()
        .any(|i| matches!(i.op, Op::Sibling | Op::CallF | Op::TailCallF)));
    assert_eq!(ev.num_captures, 1);
}

#[test]
fn self_tail_call_is_a_jump_that_moves_only_changed_arguments() {
    let src = "(letrec ((loop (lambda (n acc) (if (integer=? n 0) acc (loop (integer- n 1) acc))))) (loop 100000 7))";
    assert_eq!(run(src), "7");
    let m = module(src, 2);
    let f = function(&m, "loop");
    assert!(
        !f.code
            .iter()
            .any(|i| i.op == Op::TailCall || i.op == Op::Call),
        "{f:?}"
    );
    // 0 and 1 are immediates (`eqik`, `subik`), so no constant is loaded,
    // let alone hoisted; the back edge is rotated: it repeats the loop
    // test (`eqik`, `jmpf` back to the body) instead of jumping to it.
    assert!(!f.code.iter().any(|i| i.op == Op::LoadInt), "{f:?}");
    let ops: Vec<Op> = f.code.iter().map(|i| i.op).collect();
    assert_eq!(
        ops,
        vec![
            Op::EqIntK,
            Op::JmpFalse,
            Op::Return,
            Op::SubIntK,
            Op::EqIntK,
            Op::JmpFalse,
            Op::Jmp
        ],
        "{f:?}"
    );
    assert_eq!((f.code[1].bx(), f.code[5].bx(), f.code[6].bx()), (3, 3, 2));
    // n-1 is computed straight into n's register; acc does not move.
    assert!(
        !f.code.iter().any(|i| i.op == Op::Move),
        "{}",
        menai_bytecode::disasm::disassemble(&m)
    );
    let sub = f.code[3];
    assert_eq!((sub.a, sub.b, sub.c), (0, 0, 1));
}

#[test]
fn deep_non_tail_recursion_and_accumulators() {
    let src =
        "(letrec ((count (lambda (n) (if (integer=? n 0) 0 (integer+ 1 (count (integer- n 1)))))))
                 (count 100000))";
    assert_eq!(run(src), "100000");
    let src = "(letrec ((build (lambda (i d) (if (integer=? i 1000) d (build (integer+ i 1) (dict-set d i i))))))
                 (dict-length (build 0 (dict))))";
    assert_eq!(run(src), "1000");
    // The accumulator's last read before dict-set is flagged as its last use.
    let m = module(src, 2);
    let f = function(&m, "build");
    let set = f.code.iter().find(|i| i.op == Op::CallBuiltin).unwrap();
    assert_eq!(
        set.flags & 1,
        1,
        "dict-set's dict operand must be flagged as last use"
    );
}

#[test]
fn runtime_errors_keep_their_source_location() {
    let src = "(let ((x 5))\n  (integer+ x \"a\"))";
    assert_eq!(run(src), "error: integer+: expected integer, got string");
    let m = module(src, 0);
    let main = &m.functions[m.entry as usize];
    let pc = main.code.iter().position(|i| i.op == Op::AddInt).unwrap();
    assert_eq!((main.locs[pc].line, main.locs[pc].col), (2, 3));
    assert_eq!(m.files[0], "test.menai");
}

#[test]
fn errors_and_known_wrong_arity() {
    assert_eq!(run("(error \"boom\")"), "error: boom");
    assert_eq!(
        run("(let ((f (lambda (a b) a))) (f 1))"),
        "error: call: expected 2 arguments, got 1"
    );
    assert_eq!(
        run("(let ((f (lambda (a b) a))) (f 1 2 3))"),
        "error: call: expected 2 arguments, got 3"
    );
    assert_eq!(
        run("(let ((f list-first)) (f))"),
        "error: call: expected 1 argument, got 0"
    );
    assert_eq!(run("(if #t \"safe\" undefined-name)"), "\"safe\"");
    assert!(run("(integer/ 1 0)").contains("division by zero"));
    assert!(run("(match 5 (1 'one))").starts_with("error: "));
}

#[test]
fn folding_never_hides_a_failure() {
    assert_eq!(
        run("(integer+ 9223372036854775807 1)"),
        "9223372036854775808"
    );
    assert!(run("(let ((x (integer/ 4 0))) (list x))").contains("division by zero"));
    assert_eq!(
        run("(if (integer<? 1 2) (integer* 6 7) (error \"no\"))"),
        "42"
    );
    // At -O2 the branch is folded away and the multiplication is a constant.
    let m = module("(if (integer<? 1 2) (integer* 6 7) (error \"no\"))", 2);
    let main = &m.functions[m.entry as usize];
    assert!(
        !main
            .code
            .iter()
            .any(|i| matches!(i.op, Op::JmpFalse | Op::JmpTrue | Op::MulInt)),
        "{main:?}"
    );
}

#[test]
fn cfg_dump_is_readable() {
    let cfgs = build_cfgs(&ir(
        "(letrec ((f (lambda (n) (if (integer<? n 1) 0 (f (integer- n 1)))))) (f 3))",
    ))
    .expect("builds");
    let text = dump_cfg(&cfgs, Some("f"));
    assert!(text.starts_with("function fn"), "{text}");
    assert!(text.contains("f(n: v0) captures 0"), "{text}");
    // The entry jumps to the loop header, which the self tail call jumps back to.
    assert!(
        text.contains("block0(v0):\n    jump block1(v0)\nblock1(v1):"),
        "{text}"
    );
    assert!(text.contains("prim integer<? v1, v"), "{text}");
    assert!(text.contains("branch v"), "{text}");
    assert!(text.contains("jump block1(v"), "{text}");
}

#[test]
fn long_lists_are_built_in_chunks() {
    let elems: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    let src = format!(
        "(let ((xs (list {}))) (list (list-length xs) (list-ref xs 4321)))",
        elems.join(" ")
    );
    assert_eq!(run(&src), "(5000 4321)");
    let m = module(&src, 2);
    let main = &m.functions[m.entry as usize];
    assert!(main.num_registers <= 1100, "{}", main.num_registers);
}
