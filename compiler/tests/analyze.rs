//! Frontend tests: compile errors for every wrong shape, arity errors,
//! name resolution, unused-binding dropping, letrec ordering, and IR
//! snapshots (insta) of the lowering.

use menai_compiler::diagnostic::Severity;
use menai_compiler::ir::{Const, ExprKind};
use menai_compiler::{compile_str, ir_print::print_ir, Options};

fn ir(src: &str) -> String {
    match compile_str("test.menai", src, &Options::default()) {
        Ok(c) => print_ir(&c.program),
        Err(f) => panic!("unexpected compile error for {src}: {:?}", f.diagnostics),
    }
}

/// The error messages of a program that must fail to compile.
fn errors(src: &str) -> Vec<String> {
    match compile_str("test.menai", src, &Options::default()) {
        Ok(c) => panic!(
            "expected a compile error for {src}, got:\n{}",
            print_ir(&c.program)
        ),
        Err(f) => f
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message.clone())
            .collect(),
    }
}

fn assert_error(src: &str, want: &str) {
    let errs = errors(src);
    assert!(
        errs.iter().any(|e| e.contains(want)),
        "{src}: wanted an error containing {want:?}, got {errs:?}"
    );
}

#[test]
fn special_form_shapes_are_compile_errors() {
    let cases: &[(&str, &str)] = &[
        ("(quote)", "quote"),
        ("(quote a b)", "quote"),
        ("(if #t)", "if: expected exactly 3 operands"),
        ("(if #t 1)", "if: expected exactly 3 operands"),
        ("(if #t 1 2 3)", "if: expected exactly 3 operands"),
        ("(lambda x x)", "lambda: the parameters must be a list"),
        ("(lambda (x))", "lambda: expected"),
        (
            "(lambda (x) 1 2)",
            "lambda: the body must be exactly one expression",
        ),
        ("(lambda (1) 1)", "lambda: a parameter must be a symbol"),
        ("(lambda (x x) 1)", "lambda: duplicate parameter 'x'"),
        ("(lambda (x . x) 1)", "lambda: duplicate parameter 'x'"),
        (
            "(lambda (x .) 1)",
            "lambda: '.' must be followed by exactly one rest parameter",
        ),
        (
            "(lambda (x . y z) 1)",
            "lambda: '.' must be followed by exactly one rest parameter",
        ),
        ("(let (x) 1)", "let: a binding must be (name init)"),
        ("(let ((x)) 1)", "let: a binding must be (name init)"),
        ("(let ((1 2)) 1)", "let: a binding name must be a symbol"),
        ("(let x 1)", "let: expected a list of bindings"),
        ("(let ((x 1)))", "let: expected (let"),
        (
            "(let ((x 1)) x x)",
            "let: the body must be exactly one expression",
        ),
        ("(let ((x 1) (x 2)) x)", "let: duplicate binding 'x'"),
        ("(letrec ((f 1) (f 2)) f)", "letrec: duplicate binding 'f'"),
        ("(let* ((x 1)) )", "let*: expected"),
        ("(let* (x) 1)", "let*: a binding must be (name init)"),
        ("(error)", "error: expected exactly one operand"),
        ("(error \"a\" \"b\")", "error: expected exactly one operand"),
        ("(apply +)", "apply: expected exactly 2 operands"),
        (
            "(struct (x y))",
            "struct: a struct declaration must be the init",
        ),
        (
            "(list (struct (x)))",
            "struct: a struct declaration must be the init",
        ),
        (
            "(let ((P (struct x))) 1)",
            "struct: expected (struct (field ...))",
        ),
        (
            "(let ((P (struct (x x)))) 1)",
            "struct: duplicate field name 'x'",
        ),
        (
            "(let ((P (struct (1)))) 1)",
            "struct: a field name must be a symbol",
        ),
        ("(match)", "match: expected"),
        ("(match 1 (x))", "match: a clause must be (pattern result)"),
        ("(match 1 x)", "match: a clause must be (pattern result)"),
        ("(match 1 ((. r) 1))", "match: '.' in a pattern"),
        ("(match 1 ((a .) 1))", "match: '.' in a pattern"),
        ("(match 1 ((a . b c) 1))", "match: '.' in a pattern"),
        (
            "(match 1 ((? integer?) 1))",
            "match: a predicate pattern is (? pred name)",
        ),
        (
            "(match 1 ((? integer? 5) 1))",
            "match: the name in (? pred name) must be a symbol",
        ),
        ("(import)", "import: expected"),
        (
            "(import x)",
            "import: the module name must be a string literal",
        ),
        ("(import \"\")", "import: invalid module name"),
        ("(import \"/etc/passwd\")", "import: invalid module name"),
        ("(import \"a/../b\")", "import: invalid module name"),
        ("(import \"./b\")", "import: invalid module name"),
        ("(import \"surely-not-a-module-anywhere\")", "not found"),
    ];
    for (src, want) in cases {
        assert_error(src, want);
    }
}

#[test]
fn shape_errors_are_reported_in_dead_code() {
    assert_error("(if #t 1 (if #f))", "if: expected exactly 3 operands");
    assert_error("(let ((unused (lambda (x x) 1))) 2)", "duplicate parameter");
    assert_error(
        "(lambda () (integer- 1))",
        "'integer-' expects at least 2 arguments, got 1",
    );
}

#[test]
fn every_error_is_reported() {
    let errs = errors("(list (if 1) (let (x) 1) (string-length))");
    assert_eq!(errs.len(), 3, "{errs:?}");
}

#[test]
fn program_must_be_one_expression() {
    assert_error("1 2", "a program is exactly one expression");
    assert_error("", "empty program");
    assert_error("; only a comment\n", "empty program");
}

#[test]
fn builtin_arity_errors() {
    assert_error(
        "(integer-)",
        "'integer-' expects at least 2 arguments, got 0",
    );
    assert_error(
        "(string-length \"a\" \"b\")",
        "'string-length' expects exactly 1 argument, got 2",
    );
    assert_error(
        "(dict-get (dict))",
        "'dict-get' expects 2 to 3 arguments, got 1",
    );
    assert_error(
        "(map-list integer-abs)",
        "'map-list' expects exactly 2 arguments, got 1",
    );
    assert_error(
        "(integer-min)",
        "'integer-min' expects at least 1 argument, got 0",
    );
    assert_error(
        "(symbol=? 'a 'b 'c)",
        "'symbol=?' expects exactly 2 arguments, got 3",
    );
    assert_error("(dict 1 2 3)", "'dict' expects an even number of arguments");
    // Shadowed builtins are ordinary variables: no arity check.
    ir("(let ((string-length (lambda (a b) a))) (string-length 1 2))");
}

#[test]
fn primitive_calls() {
    assert_error(
        "($integer+ 1 2 3)",
        "primitive '$integer+' expects exactly 2 arguments, got 3",
    );
    assert_error(
        "($dict-get (dict) 1)",
        "primitive '$dict-get' expects exactly 3 arguments, got 2",
    );
    assert_error("($no-such 1)", "unknown primitive '$no-such'");
    assert_error(
        "($map-list integer-abs (list))",
        "unknown primitive '$map-list'",
    );
    assert_error("($list 1 2)", "unknown primitive '$list'");
    assert_eq!(ir("($integer+ 3 4)"), "prim integer+ 3 4\n");
    assert_eq!(
        ir("($string-slice \"abc\" 0 1)"),
        "prim string-slice \"abc\" 0 1\n"
    );
    // Outside call position, `$name` is an ordinary (here unbound) name.
    assert_eq!(ir("(let (($x 1)) $x)"), "let $x.0 = 1\n$x.0\n");
}

#[test]
fn struct_constructor_arity_is_checked() {
    assert_error(
        "(let ((P (struct (x y)))) (P 1))",
        "struct constructor 'P' expects 2 arguments, got 1",
    );
    // Siblings of the declaration see the constructor.
    ir("(let ((p (P 3 4)) (P (struct (x y)))) p)");
}

#[test]
fn unused_bindings_are_dropped() {
    assert_eq!(ir("(let ((x (error \"boom\"))) 1)"), "1\n");
    assert_eq!(ir("(let* ((a (integer/ 1 0)) (b a)) 2)"), "2\n");
    assert_eq!(
        ir("(letrec ((f (lambda () (g))) (g (lambda () (f)))) 3)"),
        "3\n"
    );
    // Unused prelude functions are not included; used ones are.
    assert!(!ir("(list 1)").contains("map-list"));
    let text = ir("(map-list integer-abs (list 1))");
    assert!(
        text.contains("lambda map-list (f.") && text.contains("%type-name"),
        "{text}"
    );
    assert!(
        !text.contains("sort-list") && !text.contains("filter-list"),
        "{text}"
    );
    // Pattern variables that are not used are not extracted.
    let text = ir("(match (list 1 2) ((a b) a))");
    assert!(
        text.contains("let a.") && !text.contains("let b."),
        "{text}"
    );
}

#[test]
fn letrec_bindings_are_ordered_by_dependency() {
    let text = ir("(letrec ((z (integer+ x y)) (y (integer+ x 1)) (x 5)) z)");
    let pos = |pat: &str| {
        text.find(pat)
            .unwrap_or_else(|| panic!("{pat} not in {text}"))
    };
    assert!(pos("let x.") < pos("let y."));
    assert!(pos("let y.") < pos("let z."));
    // Independent bindings keep their textual order.
    let text = ir("(letrec ((a (integer+ 1 2)) (b (integer+ 3 4))) (list b a))");
    assert!(
        text.find("let a.").unwrap_or(usize::MAX) < text.find("let b.").unwrap_or(0),
        "{text}"
    );
}

#[test]
fn letrec_cycles_through_values_are_errors() {
    assert_error(
        "(letrec ((x (list x))) x)",
        "'x' is defined in terms of itself",
    );
    assert_error("(letrec ((a (list b)) (b (list a))) a)", "a -> b -> a");
    // A cycle through lambdas is a Letrec group.
    let text = ir(
        "(letrec ((even? (lambda (n) (if (integer=? n 0) #t (odd? (integer- n 1))))) \
                   (odd? (lambda (n) (if (integer=? n 0) #f (even? (integer- n 1)))))) (even? 10))",
    );
    assert!(text.starts_with("letrec\n  even?."), "{text}");
}

/// A data member of a recursive group (LANGUAGE.md §4) becomes a thunk of
/// the group that rebuilds it; its lambda is lifted into the group (so a
/// rebuilt value holds the same closure), every reference inside the group
/// calls the thunk, and the body binds the value once. No member's value is
/// stored in the group, so reference counting sees no cycle.
#[test]
fn letrec_data_members_are_rebuilt_on_demand() {
    let text = ir("(letrec ((x (list (lambda () x) 1))) ((list-first x)))");
    assert_eq!(
        text,
        "letrec\n  lambda.0 = lambda lambda () free (x.1)\n    call x.1\n  \
         x.1 = lambda x () free (lambda.0)\n    prim list lambda.0 1\n\
         let x.2 = call x.1\nlet %t.3 = prim list-first x.2\ncall %t.3\n"
    );
    // Two data siblings and a direct read: y's thunk calls x's; the body
    // builds x before y (dependency order).
    let text = ir("(letrec ((y (list x 2)) (x (list (lambda () y) 1))) y)");
    let (bx, by) = (
        text.find("= call x").unwrap(),
        text.find("= call y").unwrap(),
    );
    assert!(bx < by, "{text}");
    // A lambda that captures something bound inside the init stays inside
    // the thunk (it is rebuilt), the others are lifted.
    let text = ir("(letrec ((x (let ((g (lambda () x))) (list (lambda () (g)))))) x)");
    assert!(
        text.starts_with("letrec\n  g.0 = lambda g () free (x.1)\n"),
        "{text}"
    );
    assert!(
        text.contains("  x.1 = lambda x () free (g.0)\n    let g.2 = g.0\n    let %t.3 =\n      lambda lambda () free (g.2)\n"),
        "{text}"
    );
}

#[test]
fn names_resolve_lexically() {
    // A local binding shadows a builtin.
    let text = ir("(let ((integer+ (lambda (a b) a))) (integer+ 1 2))");
    assert!(text.contains("call integer+."), "{text}");
    // Special forms are recognized by name even when shadowed; the binding is still a value.
    assert_eq!(ir("(let ((if 1)) if)"), "let if.0 = 1\nif.0\n");
    // pi and e are float constants.
    assert_eq!(ir("pi"), "3.141592653589793\n");
    assert_eq!(ir("e"), "2.718281828459045\n");
    // Builtins as values.
    assert_eq!(ir("integer+"), "@integer+\n");
}

#[test]
fn unbound_names_warn_and_raise() {
    let c =
        compile_str("t", "(if #t \"safe\" undefined-name)", &Options::default()).expect("compiles");
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].message.contains("undefined-name"));
    let text = print_ir(&c.program);
    assert!(text.contains("raise unbound \"undefined-name\""), "{text}");
}

#[test]
fn variadic_calls_expand_to_binary_primitives() {
    assert_eq!(ir("(integer+)"), "0\n");
    assert_eq!(ir("(float+)"), "0.0\n");
    assert_eq!(
        ir("(lambda (x) (integer+ x))"),
        "lambda lambda (x.0) free ()\n  prim integer+ x.0 0\n"
    );
    assert_eq!(
        ir("(lambda (x) (float+ x))"),
        "lambda lambda (x.0) free ()\n  prim float+ x.0 -0.0\n"
    );
    assert_eq!(
        ir("(lambda (x) (integer-max x))"),
        "lambda lambda (x.0) free ()\n  prim integer-max x.0 x.0\n"
    );
    let text = ir("(lambda (a b c) (integer- a b c))");
    assert!(
        text.contains("prim integer- a.0 b.1\n") && text.contains("prim integer- %t.3 c.2\n"),
        "{text}"
    );
    // Optional arguments get their defaults.
    assert_eq!(
        ir("(lambda (d) (dict-get d 1))"),
        "lambda lambda (d.0) free ()\n  prim dict-get d.0 1 #none\n"
    );
    assert_eq!(ir("(range 0 3)"), "prim range 0 3 1\n");
    assert_eq!(ir("(integer->string 5)"), "prim integer->string 5 10\n");
}

#[test]
fn comparison_chains() {
    assert_eq!(ir("(integer<? 1 2)"), "prim integer<? 1 2\n");
    assert_eq!(
        ir("(integer=? 1 2 3.0)"),
        "let %t.0 = prim integer=? 1 2\nif %t.0\nthen\n  prim integer=? 2 3.0\nelse\n  #f\n"
    );
    let text = ir("(integer!=? 5 5 6)");
    assert!(
        text.contains("prim integer=? 5 5") && text.ends_with("prim boolean-not %t.1\n"),
        "{text}"
    );
    // All arguments are evaluated before the first comparison.
    let text = ir("(lambda (f) (integer<? (f 1) (f 2) (f 3)))");
    let last_call = text.rfind("call f.0 3").unwrap_or(usize::MAX);
    let first_cmp = text.find("prim integer<?").unwrap_or(0);
    assert!(last_call < first_cmp, "{text}");
}

#[test]
fn and_or_are_short_circuit_ifs() {
    assert_eq!(ir("(and)"), "#t\n");
    assert_eq!(ir("(or)"), "#f\n");
    assert_eq!(ir("(and 1)"), "1\n");
    // The tests say which form they come from (their error names it).
    assert_eq!(ir("(and #t 1)"), "if #t (and)\nthen\n  1\nelse\n  #f\n");
    assert_eq!(ir("(or #f 5)"), "if #f (or)\nthen\n  #t\nelse\n  5\n");
    assert_eq!(ir("(if #t 1 2)"), "if #t\nthen\n  1\nelse\n  2\n");
}

#[test]
fn quote_makes_constants() {
    let c = compile_str("t", "'(a (1 \"s\") ())", &Options::default()).expect("compiles");
    let ExprKind::Atom(menai_compiler::ir::Atom::Const(k)) = &c.program.body.kind else {
        panic!("not a constant: {:?}", c.program.body)
    };
    assert_eq!(
        *k,
        Const::List(vec![
            Const::Symbol("a".into()),
            Const::List(vec![Const::Int(1), Const::Str("s".into())]),
            Const::EmptyList
        ])
    );
    assert_eq!(ir("'x"), "'x\n");
    assert_eq!(ir("()"), "()\n");
    assert_eq!(
        ir("123456789012345678901234567890"),
        "123456789012345678901234567890\n"
    );
}

#[test]
fn lambdas_list_free_variables_and_take_binding_names() {
    let text = ir("(let ((a 1)) (let ((f (lambda (x . r) (list a x r)))) f))");
    assert!(text.contains("lambda f (x.2 . r.3) free (a.0)"), "{text}");
}

#[test]
fn vars_are_unique_and_spans_are_in_range() {
    let c = compile_str(
        "t",
        "(let ((x 1)) (let ((x (integer+ x 1))) (match (list x) ((y) (map-list (lambda (x) x) (list y))))))",
        &Options::default(),
    )
    .expect("compiles");
    let p = &c.program;
    // Every binder once.
    fn walk(e: &menai_compiler::ir::Expr, seen: &mut Vec<u32>, files: usize) {
        assert!((e.span.file as usize) < files);
        match &e.kind {
            ExprKind::Let { var, value, body } => {
                seen.push(var.0);
                walk(value, seen, files);
                walk(body, seen, files);
            }
            ExprKind::Letrec { bindings, body } => {
                for (v, l) in bindings {
                    seen.push(v.0);
                    seen.extend(l.params.iter().map(|p| p.0));
                    seen.extend(l.rest.iter().map(|p| p.0));
                    walk(&l.body, seen, files);
                }
                walk(body, seen, files);
            }
            ExprKind::Lambda(l) => {
                seen.extend(l.params.iter().map(|p| p.0));
                seen.extend(l.rest.iter().map(|p| p.0));
                walk(&l.body, seen, files);
            }
            ExprKind::If {
                then_branch,
                else_branch,
                ..
            } => {
                walk(then_branch, seen, files);
                walk(else_branch, seen, files);
            }
            _ => {}
        }
    }
    let mut seen = Vec::new();
    walk(&p.body, &mut seen, p.files.len());
    let n = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), n, "a binder is bound twice");
    assert!(seen.iter().all(|v| (*v as usize) < p.vars.len()));
}

#[test]
fn mir_round_trips() {
    let c = compile_str(
        "t",
        "(let ((P (struct (x y)))) (match (P 1 2) ((P a b) (integer+ a b))))",
        &Options::default(),
    )
    .expect("compiles");
    let bytes = menai_compiler::ir::encode_program(&c.program).expect("encodes");
    let back = menai_compiler::ir::decode_program(&bytes).expect("decodes");
    assert_eq!(back, c.program);
}

#[test]
fn ir_snapshots() {
    let programs: &[(&str, &str)] = &[
        ("letrec_order", "(letrec ((z (integer+ x y)) (y (integer+ x 1)) (x 5)) z)"),
        ("fact", "(letrec ((fact (lambda (n acc) (if (integer<=? n 1) acc (fact (integer- n 1) (integer* n acc)))))) (fact 10 1))"),
        ("match_list", "(match (list 1 2 3) (() 0) ((x) x) ((x y . rest) (integer+ x y)) (_ -1))"),
        ("match_literals", "(lambda (v) (match v (1 \"one\") (\"s\" \"str\") (#none \"none\") ((? string? s) s) (_ \"other\")))"),
        ("struct", "(let ((Point (struct (x y)))) (match (Point 1 2) ((Point a b) (integer+ a b)) (_ 0)))"),
        ("chain", "(lambda (a b c) (list (integer<? a b c) (string!=? a b c) (float* a b c)))"),
        ("apply_error", "(lambda (f xs) (if (list-null? xs) (error \"empty\") (apply f xs)))"),
        ("prelude_sort", "(sort-list integer<? (list 3 1 2))"),
        ("struct_fields", "(let ((P (struct (x y)))) (lambda (v w) (list (match v ((P a b) (struct-get v 'y)) (_ (struct-get v 'y))) (struct-get (P 1 2) 'x) (let ((q (P 3 4))) (struct-set q 'y 0)) (struct-get w 'x))))"),
    ];
    for (name, src) in programs {
        insta::assert_snapshot!(format!("ir_{name}"), ir(src), src);
    }
}
