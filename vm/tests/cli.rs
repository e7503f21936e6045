//! The `menai-vm` binary: exit codes, output streams, error rendering.

use menai_bytecode::{Constant, Function, Instr, Module, Op, SrcLoc};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("menai-vm-cli-{}-{name}", std::process::id()))
}

/// main = K[0] + K[1], located at line 2, column 3 of `file`, bytes 8..24.
fn adder(file: &str, a: Constant, b: Constant) -> Module {
    let loc = SrcLoc {
        file: 0,
        line: 2,
        col: 3,
        start: 8,
        end: 24,
    };
    let main = Function {
        name: "main".into(),
        params: vec![],
        rest: None,
        num_captures: 0,
        num_registers: 3,
        constants: vec![a, b],
        closure_sites: vec![],
        code: vec![
            Instr::abc(Op::LoadK, 0, 0, 0),
            Instr::abc(Op::LoadK, 1, 1, 0),
            Instr::abc(Op::AddInt, 2, 0, 1),
            Instr::abc(Op::Return, 2, 0, 0),
        ],
        locs: vec![loc; 4],
        cond_origins: vec![],
        loc,
    };
    Module {
        files: vec![file.into()],
        file_hashes: vec![],
        struct_types: vec![],
        functions: vec![main],
        entry: 0,
    }
}

fn write_bc(name: &str, m: &Module) -> PathBuf {
    let path = tmp(name);
    std::fs::write(&path, menai_bytecode::encode_module(m).unwrap()).unwrap();
    path
}

fn vm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_menai-vm"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn prints_the_result_and_exits_0() {
    let bc = write_bc(
        "ok.bc",
        &adder("none.menai", Constant::Int(40), Constant::Int(2)),
    );
    let out = vm(&[bc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");
    assert_eq!(text(&out.stderr), "");

    let out = vm(&[bc.to_str().unwrap(), "--stats"]);
    assert_eq!(text(&out.stdout), "42\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("4 instructions") && err.contains("allocations"),
        "{err}"
    );

    let out = vm(&[bc.to_str().unwrap(), "--disassemble"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("addi"), "{}", text(&out.stdout));

    // `-` reads standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_menai-vm"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&bc).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "42\n");
    std::fs::remove_file(bc).ok();
}

#[test]
fn runtime_errors_exit_1_with_location_and_snippet() {
    let src = tmp("prog.menai");
    let source = "; add\n  (integer+ 1 \"a\")\n";
    std::fs::write(&src, source).unwrap();
    let mut m = adder(
        src.to_str().unwrap(),
        Constant::Int(1),
        Constant::Str("a".into()),
    );
    m.file_hashes = vec![menai_bytecode::module::source_hash(source.as_bytes())];
    let bc = write_bc("err.bc", &m);
    let out = vm(&[bc.to_str().unwrap(), "--color=never"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    let expected_head = format!(
        "error: integer+: expected integer, got string\n --> {}:2:3\n",
        src.display()
    );
    assert!(err.starts_with(&expected_head), "{err}");
    assert!(err.contains("(integer+ 1 \"a\")"), "no snippet in {err}");
    assert!(err.contains("───┬────"), "no underline in {err}");
    assert!(
        !err.contains("Error:"),
        "ariadne's duplicate header in {err}"
    );
    assert!(!err.contains("panicked"));

    // Without a readable source: just the two lines.
    let m = adder(
        "/nonexistent/prog.menai",
        Constant::Int(1),
        Constant::Str("a".into()),
    );
    let bc2 = write_bc("err2.bc", &m);
    let out = vm(&[bc2.to_str().unwrap()]);
    assert_eq!(
        text(&out.stderr),
        "error: integer+: expected integer, got string\n --> /nonexistent/prog.menai:2:3\n"
    );
    for p in [src, bc, bc2] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn limits_are_clean_errors() {
    let bc = write_bc(
        "limit.bc",
        &adder("x.menai", Constant::Int(1), Constant::Int(2)),
    );
    let out = vm(&[bc.to_str().unwrap(), "--max-steps", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: step limit exceeded"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_file(bc).ok();
}

#[test]
fn invalid_files_exit_2() {
    let path = tmp("garbage.bc");
    std::fs::write(&path, b"this is not bytecode").unwrap();
    let out = vm(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("is not bytecode") && err.contains("menai run"),
        "{err}"
    );

    // Decodes, but fails validation (register out of range).
    let mut m = adder("x.menai", Constant::Int(1), Constant::Int(2));
    m.functions[0].code[2] = Instr::abc(Op::AddInt, 2, 0, 9);
    let bc = write_bc("invalid.bc", &m);
    let out = vm(&[bc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: invalid bytecode: "),
        "{}",
        text(&out.stderr)
    );

    let out = vm(&["/nonexistent/file.bc"]);
    assert_eq!(out.status.code(), Some(2));
    for p in [path, bc] {
        std::fs::remove_file(p).ok();
    }
}

/// A crafted file whose flagged `nullp` is "proven" only by a type test
/// that a jump skips (the jump lands on the conditional jump right after
/// the test): refused at load (exit 2), never run. Before the validator
/// required test and branch to share a block, this file passed validation
/// and `menai-vm` read an integer as a list pointer (a segmentation fault).
#[test]
fn a_type_proof_skipped_by_a_jump_is_refused_at_load() {
    use menai_bytecode::Builtin;
    let mut m = adder("x.menai", Constant::Int(1), Constant::Int(2));
    let f = &mut m.functions[0];
    f.code = vec![
        Instr::abx(Op::LoadInt, 0, 5),
        Instr::abc(Op::LoadBool, 1, 1, 0),
        Instr::abx(Op::Jmp, 0, 4),
        Instr::abc(Op::CallBuiltin, 1, Builtin::ListP as u16, 0),
        Instr::abx(Op::JmpTrue, 1, 6),
        Instr::abc(Op::Return, 0, 0, 0),
        Instr::abc(Op::ListNull, 2, 0, 0).with_types_proven(true),
        Instr::abc(Op::Return, 2, 0, 0),
    ];
    f.locs = vec![f.loc; f.code.len()];
    let bc = write_bc("skipped-proof.bc", &m);
    let out = vm(&[bc.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: invalid bytecode: "), "{err}");
    assert!(err.contains("list"), "{err}");
    std::fs::remove_file(bc).ok();
}

/// A module names the file its snippet comes from, so the VM reads it only
/// if it is a regular file whose contents hash to what the module recorded:
/// another file (of any length), a FIFO (which would block), a device
/// (which would never end) or no recorded hash each give the location
/// without a snippet, promptly.
#[test]
fn a_snippet_comes_only_from_the_recorded_source() {
    let source = "; add\n  (integer+ 1 \"a\")\n";
    let expected =
        |path: &str| format!("error: integer+: expected integer, got string\n --> {path}:2:3\n");
    let hash = menai_bytecode::module::source_hash(source.as_bytes());
    let run = |path: &str, hashes: Vec<u64>| {
        let mut m = adder(path, Constant::Int(1), Constant::Str("a".into()));
        m.file_hashes = hashes;
        let bc = write_bc("snippet.bc", &m);
        let start = std::time::Instant::now();
        let out = vm(&[bc.to_str().unwrap(), "--color=never"]);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{path} blocked"
        );
        std::fs::remove_file(bc).ok();
        assert_eq!(out.status.code(), Some(1));
        text(&out.stderr)
    };
    // Another file with the same line count but other text.
    let other = tmp("other.menai");
    std::fs::write(&other, "; sub\n  (integer- 1 \"b\")\n").unwrap();
    let path = other.to_str().unwrap();
    assert_eq!(run(path, vec![hash]), expected(path));
    // The right file without a recorded hash.
    std::fs::write(&other, source).unwrap();
    assert_eq!(run(path, vec![]), expected(path));
    assert!(run(path, vec![hash]).contains("(integer+ 1"));
    std::fs::remove_file(&other).ok();
    // Not regular files: a device and a FIFO.
    assert_eq!(run("/dev/zero", vec![hash]), expected("/dev/zero"));
    let fifo = tmp("fifo.menai");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let path = fifo.to_str().unwrap();
        assert_eq!(run(path, vec![hash]), expected(path));
        std::fs::remove_file(&fifo).ok();
    }
}

/// Code that falls off the end of a function: refused at load (exit 2)
/// when a path reaches it, and harmless (the module runs) when no path
/// does — it was once accepted by the validator and then reported by the
/// VM as a runtime error (exit 1).
#[test]
fn code_falling_off_its_end_is_a_load_error_only_when_reachable() {
    let mut m = adder("x.menai", Constant::Int(1), Constant::Int(2));
    m.functions[0].code.push(Instr::abx(Op::LoadInt, 0, 7));
    let loc = m.functions[0].loc;
    m.functions[0].locs.push(loc);
    let bc = write_bc("unreachable-tail.bc", &m);
    let out = vm(&[bc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "3\n");
    // Now the tail is reached: the return before it becomes a jump to it.
    m.functions[0].code[3] = Instr::abx(Op::Jmp, 0, 4);
    let bc2 = write_bc("reachable-tail.bc", &m);
    let out = vm(&[bc2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: invalid bytecode: "), "{err}");
    assert!(err.contains("falls off"), "{err}");
    for p in [bc, bc2] {
        std::fs::remove_file(p).ok();
    }
}
