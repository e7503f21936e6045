//! Malformed or extreme IR must give clean errors (or work), never panics;
//! the CLI rejects bad `.mir` files with exit status 2.

use menai_bytecode::Builtin;
use menai_compiler::ir::{
    encode_program, Atom, Const, Expr, ExprKind, Lambda, Program, RaiseKind, SourceFile, Span,
    VarId, VarInfo,
};
use menai_optimizer::{optimize_with_log, OptError, Options};
use std::process::Command;

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn program(body: Expr, nvars: u32) -> Program {
    Program {
        files: vec![SourceFile {
            path: "t.menai".into(),
            text: "(x)\n".into(),
        }],
        vars: (0..nvars)
            .map(|i| VarInfo {
                name: format!("x{i}"),
                span: Span::default(),
            })
            .collect(),
        structs: vec![],
        body,
    }
}

fn opt(p: &Program) -> Result<menai_bytecode::Module, OptError> {
    optimize_with_log(p, &Options::default(), &mut std::io::sink())
}

fn prim(op: Builtin, args: Vec<Atom>) -> Expr {
    e(ExprKind::Prim { op, args })
}

#[test]
fn malformed_ir_is_an_error_not_a_panic() {
    // An unbound variable.
    let p = program(e(ExprKind::Atom(Atom::Var(VarId(7)))), 1);
    assert!(matches!(opt(&p), Err(OptError::Malformed(_))));
    // A primitive with the wrong operand count.
    let p = program(
        prim(Builtin::IntegerAdd, vec![Atom::Const(Const::Int(1))]),
        0,
    );
    let err = opt(&p).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("integer+ takes 2 operands, given 1"),
        "{text}"
    );
    // The listing shows the error under the instruction.
    assert!(
        text.contains("= prim integer+ v0\n    ; error: integer+ takes 2 operands, given 1"),
        "{text}"
    );
    // A prelude builtin as a primitive.
    let p = program(prim(Builtin::MapList, vec![]), 0);
    assert!(matches!(opt(&p), Err(OptError::Verify { .. })));
    // Struct types that do not exist.
    let p = program(
        e(ExprKind::MakeStruct {
            ty: 3,
            args: vec![],
        }),
        0,
    );
    assert!(matches!(opt(&p), Err(OptError::Verify { .. })));
    let p = program(e(ExprKind::Atom(Atom::Const(Const::StructType(9)))), 0);
    assert!(matches!(opt(&p), Err(OptError::Verify { .. })));
    // A lambda whose free list misses a variable it uses.
    let lam = Lambda {
        name: "f".into(),
        params: vec![],
        rest: None,
        free: vec![],
        body: Box::new(e(ExprKind::Atom(Atom::Var(VarId(0))))),
        span: Span::default(),
    };
    let body = e(ExprKind::Let {
        var: VarId(0),
        value: Box::new(e(ExprKind::Atom(Atom::Const(Const::Int(1))))),
        body: Box::new(e(ExprKind::Lambda(lam))),
    });
    assert!(matches!(
        opt(&program(body, 1)),
        Err(OptError::Malformed(_))
    ));
}

#[test]
fn deep_programs_compile() {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(|| {
            // 100,000 nested lets and 5,000 nested ifs.
            let n = 100_000u32;
            let mut body = e(ExprKind::Atom(Atom::Var(VarId(n - 1))));
            for i in (1..n).rev() {
                body = e(ExprKind::Let {
                    var: VarId(i),
                    value: Box::new(prim(
                        Builtin::IntegerAdd,
                        vec![Atom::Var(VarId(i - 1)), Atom::Const(Const::Int(1))],
                    )),
                    body: Box::new(body),
                });
            }
            body = e(ExprKind::Let {
                var: VarId(0),
                value: Box::new(e(ExprKind::Atom(Atom::Const(Const::Int(0))))),
                body: Box::new(body),
            });
            let m = opt(&program(body, n)).expect("long let chain");
            assert!(
                m.functions[0].num_registers <= 3,
                "{}",
                m.functions[0].num_registers
            );
            let mut body = e(ExprKind::Raise(RaiseKind::Unbound("deep".into())));
            for _ in 0..5_000 {
                body = e(ExprKind::If {
                    cond: Atom::Const(Const::Bool(false)),
                    then_branch: Box::new(e(ExprKind::Atom(Atom::Const(Const::Int(1))))),
                    else_branch: Box::new(body),
                    origin: menai_bytecode::CondOrigin::If,
                });
            }
            let p = program(body, 0);
            assert!(opt(&p).is_ok());
            let o0 = Options {
                opt_level: 0,
                ..Options::default()
            };
            let m = optimize_with_log(&p, &o0, &mut std::io::sink()).expect("deep ifs at -O0");
            assert!(menai_bytecode::validate::validate(&m).is_ok());
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn cli_rejects_bad_files_with_status_2() {
    let dir = std::env::temp_dir().join(format!("menai-opt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = env!("CARGO_BIN_EXE_menai-opt");
    let good = encode_program(&program(e(ExprKind::Atom(Atom::Const(Const::Int(42)))), 0)).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "junk.mir",
            b"not a mir file at all".to_vec(),
            "not a MIR file",
        ),
        ("binary.mir", vec![0xff; 40], "bad magic"),
        ("trunc.mir", good[..good.len() / 2].to_vec(), "truncated"),
        (
            "version.mir",
            {
                let mut v = good.clone();
                v[8] = v[8].wrapping_add(1);
                v
            },
            "version",
        ),
    ];
    for (name, bytes, msg) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = Command::new(exe).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A good file: x.mir → x.bc next to it, and a listing on stdout.
    let path = dir.join("x.mir");
    std::fs::write(&path, &good).unwrap();
    let out = Command::new(exe).arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bc = std::fs::read(dir.join("x.bc")).unwrap();
    assert!(menai_bytecode::decode_module(&bc).is_ok());
    let out = Command::new(exe)
        .arg(&path)
        .args(["--emit", "bytecode", "-O0"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("loadint"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new(exe)
        .arg(&path)
        .args(["--emit", "cfg-dot", "-o"])
        .arg(dir.join("dots"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.join("dots").join("cfg.main.dot").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
