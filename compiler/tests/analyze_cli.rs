//! `menaic` command-line behaviour: output naming, dumps, stdin/stdout,
//! module path, exit codes, warnings.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn menaic(args: &[&str], stdin: Option<&str>, dir: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_menaic"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("MENAI_MODULE_PATH");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("menaic runs");
    if let Some(mut pipe) = child.stdin.take() {
        use std::io::Write;
        let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    }
    child.wait_with_output().expect("menaic finishes")
}

fn tmp(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("menaic-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn writes_mir_next_to_the_input_by_default() {
    let d = tmp("default");
    std::fs::write(d.join("prog.menai"), "(integer+ 1 2)").expect("write");
    let o = menaic(&["prog.menai"], None, &d);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(d.join("prog.mir")).expect("prog.mir written");
    let p = menai_compiler::ir::decode_program(&bytes).expect("valid .mir");
    assert_eq!(
        menai_compiler::ir_print::print_ir(&p),
        "prim integer+ 1 2\n"
    );
}

#[test]
fn stdin_and_dumps() {
    let d = tmp("dumps");
    let o = menaic(&["-", "--emit", "ir"], Some("(let ((x 1)) x)"), &d);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "let x.0 = 1\nx.0\n");
    let o = menaic(&["-", "--emit", "ast"], Some("(a 1)"), &d);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Symbol a"));
    let o = menaic(&["-", "-o", "-"], Some("1"), &d);
    assert_eq!(o.status.code(), Some(0));
    assert!(menai_compiler::ir::decode_program(&o.stdout).is_ok());
}

#[test]
fn errors_exit_2_and_warnings_do_not_fail() {
    let d = tmp("errors");
    let o = menaic(
        &["-", "-o", "out.mir", "--color", "never"],
        Some("(if 1)"),
        &d,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("if: expected exactly 3 operands"));
    assert!(!d.join("out.mir").exists());
    let o = menaic(
        &["-", "-o", "out.mir", "--color", "never"],
        Some("(if #t 1 nope)"),
        &d,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unbound name 'nope'"));
    assert!(d.join("out.mir").exists());
    let o = menaic(&["--bogus"], None, &d);
    assert_eq!(o.status.code(), Some(2));
    let o = menaic(&["missing.menai"], None, &d);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.menai"));
}

#[test]
fn module_path_option_and_default() {
    let d = tmp("modules");
    std::fs::create_dir_all(d.join("libs")).expect("dir");
    std::fs::write(d.join("libs/answer.menai"), "42").expect("write");
    std::fs::write(d.join("near.menai"), "7").expect("write");
    std::fs::write(d.join("main.menai"), "(list (import \"near\"))").expect("write");
    let o = menaic(
        &["-", "--emit", "ir", "--module-path", "libs"],
        Some("(import \"answer\")"),
        &d,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("= 42"));
    // Without a path: the main file's directory.
    let elsewhere = tmp("modules-cwd");
    let main = d.join("main.menai");
    let o = menaic(
        &[main.to_str().unwrap_or_default(), "--emit", "ir"],
        None,
        &elsewhere,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = menaic(&["-", "--color", "never"], Some("(import \"answer\")"), &d);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("answer.menai"));
}
