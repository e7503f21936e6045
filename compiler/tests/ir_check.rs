//! The `.mir` checker (`ir_check`): the compiler's own output passes, and
//! each way a hand-made file can break the IR's contract is refused with a
//! message naming it.

use menai_bytecode::Builtin;
use menai_compiler::ir::{Atom, Const, Expr, ExprKind, Program, Span};
use menai_compiler::ir_check::{check, check_nesting};
use menai_compiler::{compile_str, Options};

fn program(src: &str) -> Program {
    match compile_str("t.menai", src, &Options::default()) {
        Ok(c) => c.program,
        Err(f) => panic!("does not compile: {:?}", f.diagnostics),
    }
}

/// Replaces the program's body by `kind` (with the body's span).
fn with_body(mut p: Program, kind: ExprKind) -> Program {
    p.body = Expr::new(kind, p.body.span);
    p
}

#[track_caller]
fn refused(p: &Program, needle: &str) {
    match check(p) {
        Ok(()) => panic!("accepted; expected an error mentioning {needle:?}"),
        Err(e) => assert!(e.contains(needle), "{e:?} does not mention {needle:?}"),
    }
}

#[test]
fn the_compilers_output_passes() {
    for src in [
        "(letrec ((f (lambda (n) (if (integer<? n 2) n (integer+ (f (integer- n 1)) 1))))) (f 10))",
        "(let ((s (struct (a b)))) (match (s 1 2) ((s x y) (list x y 99999999999999999999))))",
        "(dict-get (dict \"a\" '(1 (2 (3)))) \"a\")",
        "(map-list (lambda (x) (apply integer+ (list x 1))) (range 0 5))",
    ] {
        check(&program(src)).unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}

#[test]
fn non_canonical_big_integers_are_refused() {
    for text in ["007", "5", "-0", "12a", "", "-", "+99999999999999999999"] {
        let p = with_body(
            program("1"),
            ExprKind::Atom(Atom::Const(Const::BigInt(text.into()))),
        );
        refused(&p, "canonical");
    }
    let ok = with_body(
        program("1"),
        ExprKind::Atom(Atom::Const(Const::BigInt("-99999999999999999999".into()))),
    );
    check(&ok).expect("a canonical big integer");
}

#[test]
fn prelude_functions_are_not_primitives_or_builtin_values() {
    let prelude = Builtin::by_name("map-list").expect("map-list");
    let p = with_body(
        program("1"),
        ExprKind::Prim {
            op: prelude,
            args: vec![Atom::Const(Const::Int(1)), Atom::Const(Const::Int(2))],
        },
    );
    refused(&p, "prelude function");
    let p = with_body(program("1"), ExprKind::Atom(Atom::Builtin(prelude)));
    refused(&p, "prelude function");
}

#[test]
fn primitives_need_their_arity() {
    let one = Atom::Const(Const::Int(1));
    let p = with_body(
        program("1"),
        ExprKind::Prim {
            op: Builtin::IntegerAdd,
            args: vec![one.clone()],
        },
    );
    refused(&p, "applied to 1 operands");
    let p = with_body(
        program("1"),
        ExprKind::Prim {
            op: Builtin::Dict,
            args: vec![one.clone(), one.clone(), one],
        },
    );
    refused(&p, "dict applied to 3");
}

#[test]
fn spans_variables_and_struct_types_must_exist() {
    let mut p = program("1");
    p.body.span = Span {
        file: 9,
        start: 0,
        end: 1,
    };
    refused(&p, "source file 9 out of range");
    let mut p = program("1");
    p.body.span.end = 10_000;
    refused(&p, "outside t.menai");
    let p = with_body(
        program("1"),
        ExprKind::Atom(Atom::Var(menai_compiler::ir::VarId(1_000_000))),
    );
    refused(&p, "variable 1000000 out of range");
    let p = with_body(
        program("1"),
        ExprKind::MakeStruct {
            ty: 3,
            args: vec![],
        },
    );
    refused(&p, "struct type 3 out of range");
    let p = with_body(
        program("1"),
        ExprKind::Atom(Atom::Const(Const::StructType(7))),
    );
    refused(&p, "struct type 7 out of range");
    // A binder bound twice: the same `let` twice in a row.
    let base = program("(let ((x 1)) x)");
    let twice = Expr::new(
        ExprKind::Let {
            var: match &base.body.kind {
                ExprKind::Let { var, .. } => *var,
                other => panic!("not a let: {other:?}"),
            },
            value: Box::new(Expr::new(
                ExprKind::Atom(Atom::Const(Const::Int(2))),
                base.body.span,
            )),
            body: Box::new(base.body.clone()),
        },
        base.body.span,
    );
    let p = Program {
        body: twice,
        ..base
    };
    refused(&p, "bound twice");
}

#[test]
fn nesting_is_bounded() {
    let mut data = Const::Int(1);
    for _ in 0..1025 {
        data = Const::List(vec![data]);
    }
    let p = with_body(program("1"), ExprKind::Atom(Atom::Const(data)));
    refused(&p, "quoted data nested more than 1024 deep");
    // Expressions: an `if` chain 50 deep against a limit of 40, then 60.
    let base = program("1");
    let mut e = base.body.clone();
    for _ in 0..50 {
        e = Expr::new(
            ExprKind::If {
                cond: Atom::Const(Const::Bool(true)),
                then_branch: Box::new(e.clone()),
                else_branch: Box::new(Expr::new(
                    ExprKind::Atom(Atom::Const(Const::Int(0))),
                    base.body.span,
                )),
                origin: menai_bytecode::CondOrigin::If,
            },
            base.body.span,
        );
    }
    let p = Program { body: e, ..base };
    let err = check_nesting(&p, 40).expect_err("too deep");
    assert!(err.contains("nested more than 40 deep"), "{err}");
    check_nesting(&p, 60).expect("within the limit");
}
