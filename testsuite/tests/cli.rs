//! Command-line tests: every tool given bad input — a syntax error, a
//! wrong-shape special form, a truncated `.mir`, a `.bc` with one byte
//! flipped, a truncated `.bc`, a `.bc` from a future format version, a file
//! of the wrong kind, a nonexistent file, a bad flag — must print a clear
//! message, exit with the documented code (0 ok, 1 runtime error, 2
//! compile/usage/input error), and never show a Rust panic or backtrace.
//! Also covers the happy paths of each command (`run`, `eval -e`, `eval -`,
//! `build`, `dump`) and unbound names (evaluated → exit 1 naming the name;
//! never evaluated → the program runs).

use menai_testsuite::{run, tool, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

fn bin(name: &str) -> PathBuf {
    tool(name).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs tool `name` with `args` (and optional stdin) in directory `dir`.
fn exec(name: &str, args: &[&str], stdin: Option<&str>, dir: &Path) -> Outcome {
    let mut c = Command::new(bin(name));
    c.args(args)
        .current_dir(dir)
        .env_remove("MENAI_MODULE_PATH");
    run(&mut c, stdin.map(str::as_bytes), TIMEOUT)
}

/// Asserts the exit code, that stderr mentions every `needles` entry
/// (case-insensitively), and that nothing panicked.
#[track_caller]
fn expect(o: &Outcome, code: i32, needles: &[&str], what: &str) {
    assert!(
        !o.panicked(),
        "{what}: shows a Rust panic or backtrace hint:\n{}",
        o.describe("  ")
    );
    assert_eq!(
        o.code,
        Some(code),
        "{what}: wrong exit status\n{}",
        o.describe("  ")
    );
    let lower = o.stderr.to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "{what}: stderr does not mention {n:?}\n{}",
            o.describe("  ")
        );
    }
    if code != 0 {
        assert!(
            !o.stderr.trim().is_empty(),
            "{what}: failed without a message"
        );
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"))
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
    p
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Compiles `source` to `name.mir` and `name.bc` in `dir` with the stage tools.
fn build_stages(dir: &Path, name: &str, source: &str) -> (PathBuf, PathBuf) {
    let src = write(dir, &format!("{name}.menai"), source);
    let mir = dir.join(format!("{name}.mir"));
    let bc = dir.join(format!("{name}.bc"));
    let o = exec("menaic", &[s(&src), "-o", s(&mir)], None, dir);
    expect(&o, 0, &[], "menaic on a valid program");
    let o = exec("menai-opt", &[s(&mir), "-o", s(&bc)], None, dir);
    expect(&o, 0, &[], "menai-opt on a valid .mir");
    (mir, bc)
}

fn s(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 temporary path {}", p.display()))
}

const GOOD: &str = "(let ((sq (lambda (x) (integer* x x)))) (map-list sq (list 1 2 3)))\n";
const GOOD_OUT: &str = "(1 4 9)\n";

// ---------------------------------------------------------------- happy paths

#[test]
fn run_eval_build_and_stage_tools_agree() {
    let d = tmp();
    let src = write(d.path(), "good.menai", GOOD);
    let o = exec("menai", &["run", s(&src)], None, d.path());
    expect(&o, 0, &[], "menai run");
    assert_eq!(o.stdout, GOOD_OUT);

    let o = exec("menai", &["eval", "-e", "(integer+ 1 2)"], None, d.path());
    expect(&o, 0, &[], "menai eval -e");
    assert_eq!(o.stdout, "3\n");

    let o = exec("menai", &["eval", "-"], Some("(list \"a\" 'b)"), d.path());
    expect(&o, 0, &[], "menai eval -");
    assert_eq!(o.stdout, "(\"a\" b)\n");

    let out = d.path().join("built.bc");
    let o = exec("menai", &["build", s(&src), "-o", s(&out)], None, d.path());
    expect(&o, 0, &[], "menai build");
    let o = exec("menai-vm", &[s(&out)], None, d.path());
    expect(&o, 0, &[], "menai-vm on menai build output");
    assert_eq!(o.stdout, GOOD_OUT);

    let (_, bc) = build_stages(d.path(), "staged", GOOD);
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(&o, 0, &[], "menai-vm on the stage tools' output");
    assert_eq!(o.stdout, GOOD_OUT);
}

#[test]
fn optimization_levels_are_accepted() {
    let d = tmp();
    let src = write(d.path(), "good.menai", GOOD);
    for level in ["-O0", "-O1", "-O2"] {
        let o = exec("menai", &["run", level, s(&src)], None, d.path());
        expect(&o, 0, &[], &format!("menai run {level}"));
        assert_eq!(o.stdout, GOOD_OUT, "menai run {level}");
    }
}

#[test]
fn dump_every_stage() {
    let d = tmp();
    let src = write(d.path(), "good.menai", GOOD);
    for stage in ["ast", "ir", "cfg", "bytecode"] {
        let o = exec(
            "menai",
            &["dump", "--stage", stage, s(&src)],
            None,
            d.path(),
        );
        expect(&o, 0, &[], &format!("menai dump --stage {stage}"));
        assert!(
            !o.stdout.trim().is_empty(),
            "menai dump --stage {stage} printed nothing"
        );
    }
    // cfg-dot writes one Graphviz file per function, cfg.NAME.dot, into -o DIR.
    let dots = d.path().join("dots");
    std::fs::create_dir_all(&dots)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dots.display()));
    let o = exec(
        "menai",
        &["dump", "--stage", "cfg-dot", s(&src), "-o", s(&dots)],
        None,
        d.path(),
    );
    expect(&o, 0, &[], "menai dump --stage cfg-dot");
    let files: Vec<PathBuf> = std::fs::read_dir(&dots)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    assert!(
        !files.is_empty(),
        "cfg-dot wrote no files into {}",
        dots.display()
    );
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            name.starts_with("cfg.") && name.ends_with(".dot"),
            "unexpected cfg-dot file {name}"
        );
        let text = String::from_utf8_lossy(&read(f)).into_owned();
        assert!(text.contains("digraph"), "{name} is not Graphviz:\n{text}");
    }
    let o = exec(
        "menai",
        &["dump", "--stage", "no-such-stage", s(&src)],
        None,
        d.path(),
    );
    expect(&o, 2, &[], "menai dump with an unknown stage");
}

#[test]
fn help_works_for_every_tool() {
    let d = tmp();
    for t in ["menai", "menaic", "menai-opt", "menai-vm"] {
        let o = exec(t, &["--help"], None, d.path());
        expect(&o, 0, &[], &format!("{t} --help"));
        assert!(
            o.stdout.to_lowercase().contains("usage"),
            "{t} --help shows no usage:\n{}",
            o.stdout
        );
    }
}

// ---------------------------------------------------------------- source errors

#[test]
fn syntax_error_exits_2_everywhere() {
    let d = tmp();
    let src = write(d.path(), "bad.menai", "(integer+ 1\n  (list 2 3)\n");
    let out = d.path().join("bad.mir");
    for (t, args) in [
        ("menai", vec!["run", s(&src)]),
        ("menai", vec!["build", s(&src), "-o", "out.bc"]),
        ("menai", vec!["dump", "--stage", "ast", s(&src)]),
        ("menaic", vec![s(&src), "-o", s(&out)]),
    ] {
        let o = exec(t, &args, None, d.path());
        expect(
            &o,
            2,
            &["bad.menai"],
            &format!("{t} {args:?} on a syntax error"),
        );
    }
    let o = exec("menai", &["eval", "-e", "(integer+ 1"], None, d.path());
    expect(&o, 2, &[], "menai eval -e on a syntax error");
    let o = exec("menai", &["eval", "-"], Some("\"unterminated"), d.path());
    expect(&o, 2, &[], "menai eval - on a syntax error");
    let empty = write(d.path(), "empty.menai", "");
    let o = exec("menai", &["run", s(&empty)], None, d.path());
    expect(&o, 2, &[], "menai run on an empty file");
    let two = write(d.path(), "two.menai", "1 2\n");
    let o = exec("menai", &["run", s(&two)], None, d.path());
    expect(&o, 2, &[], "menai run on two expressions");
}

#[test]
fn wrong_shape_special_form_exits_2_with_location() {
    let d = tmp();
    let src = write(d.path(), "shape.menai", "(let ((x 1))\n  (if x))\n");
    let out = d.path().join("shape.mir");
    for (t, args) in [
        ("menai", vec!["run", s(&src)]),
        ("menaic", vec![s(&src), "-o", s(&out)]),
    ] {
        let o = exec(t, &args, None, d.path());
        expect(&o, 2, &["if", "shape.menai"], &format!("{t} on (if x)"));
        assert!(
            o.stderr.contains(":2:"),
            "{t}: the error does not point at line 2:\n{}",
            o.stderr
        );
    }
    assert!(
        !out.exists(),
        "menaic wrote an output file despite a compile error"
    );
}

#[test]
fn evaluated_unbound_name_is_a_runtime_error_naming_it() {
    let d = tmp();
    let src = write(
        d.path(),
        "unbound.menai",
        "(integer+ 1\n   undefined-thing)\n",
    );
    let o = exec("menai", &["run", s(&src)], None, d.path());
    expect(
        &o,
        1,
        &["unbound name 'undefined-thing'", "unbound.menai:2:"],
        "menai run",
    );
    let (_, bc) = build_stages(d.path(), "unbound2", "(integer+ 1\n   undefined-thing)\n");
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(&o, 1, &["unbound name 'undefined-thing'"], "menai-vm");
}

#[test]
fn unevaluated_unbound_name_runs() {
    let d = tmp();
    let src = write(d.path(), "lazy.menai", "(if #t \"safe\" undefined-name)\n");
    let o = exec("menai", &["run", s(&src)], None, d.path());
    // The compiler warns about the name on stderr, but the program runs.
    expect(&o, 0, &["undefined-name"], "menai run");
    assert_eq!(o.stdout, "\"safe\"\n");
    let (_, bc) = build_stages(d.path(), "lazy2", "(lambda (x) nope)\n");
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(&o, 0, &[], "menai-vm");
    assert_eq!(o.stdout, "<lambda (x)>\n");
}

#[test]
fn runtime_error_exits_1_with_message_and_location() {
    let d = tmp();
    let src = write(d.path(), "div.menai", "(let ((x 0))\n  (integer/ 10 x))\n");
    let o = exec("menai", &["run", s(&src)], None, d.path());
    expect(
        &o,
        1,
        &["integer/: division by zero", "div.menai:2:"],
        "menai run",
    );
    assert!(
        o.stdout.is_empty(),
        "a failing program printed a result: {:?}",
        o.stdout
    );
    let o = exec("menai", &["eval", "-e", "(error \"boom\")"], None, d.path());
    expect(&o, 1, &["boom"], "menai eval");
}

#[test]
fn a_non_boolean_test_names_its_form_and_points_at_the_operand() {
    let d = tmp();
    // The failing operand `n` is at line 2, column 23, at every level and
    // through the three stage tools.
    let src = write(
        d.path(),
        "and.menai",
        "(let ((n (integer+ 1 2)))\n  (and (list? (list)) n #t))\n",
    );
    for level in ["-O0", "-O2"] {
        let o = exec("menai", &["run", level, s(&src)], None, d.path());
        expect(
            &o,
            1,
            &[
                "and: operand must be a boolean, got integer",
                "and.menai:2:23",
            ],
            level,
        );
    }
    let (_, bc) = build_stages(d.path(), "and", &std::fs::read_to_string(&src).unwrap());
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(
        &o,
        1,
        &["and: operand must be a boolean, got integer"],
        "menai-vm",
    );
}

// ---------------------------------------------------------------- missing files and usage

#[test]
fn nonexistent_file_exits_2_naming_it() {
    let d = tmp();
    let missing = "does-not-exist.menai";
    for (t, args) in [
        ("menai", vec!["run", missing]),
        ("menai", vec!["build", missing, "-o", "x.bc"]),
        ("menai", vec!["dump", "--stage", "ir", missing]),
        ("menaic", vec![missing, "-o", "x.mir"]),
        ("menai-opt", vec!["does-not-exist.mir", "-o", "x.bc"]),
        ("menai-vm", vec!["does-not-exist.bc"]),
    ] {
        let o = exec(t, &args, None, d.path());
        expect(&o, 2, &["does-not-exist"], &format!("{t} {args:?}"));
    }
}

#[test]
fn bad_usage_exits_2() {
    let d = tmp();
    for (t, args) in [
        ("menai", vec!["--no-such-flag"]),
        ("menai", vec!["no-such-command"]),
        ("menai", vec!["run"]),
        ("menai", vec!["eval"]),
        ("menaic", vec!["--no-such-flag"]),
        ("menai-opt", vec!["--no-such-flag"]),
        ("menai-vm", vec!["--no-such-flag"]),
        ("menai-vm", vec![]),
    ] {
        let o = exec(t, &args, None, d.path());
        expect(&o, 2, &[], &format!("{t} {args:?}"));
    }
}

// ---------------------------------------------------------------- corrupt intermediate files

#[test]
fn truncated_mir_is_rejected() {
    let d = tmp();
    let (mir, _) = build_stages(d.path(), "t", GOOD);
    let bytes = read(&mir);
    for keep in [bytes.len() / 2, 10, 3, 0] {
        let cut = write(d.path(), "cut.mir", &bytes[..keep]);
        let o = exec("menai-opt", &[s(&cut), "-o", "out.bc"], None, d.path());
        expect(
            &o,
            2,
            &[],
            &format!("menai-opt on a .mir truncated to {keep} bytes"),
        );
        assert!(
            !d.path().join("out.bc").exists(),
            "menai-opt wrote output for a truncated .mir"
        );
    }
    let cut = write(d.path(), "cut.mir", &bytes[..bytes.len() / 2]);
    let o = exec("menai-opt", &[s(&cut), "-o", "out.bc"], None, d.path());
    expect(&o, 2, &["truncated"], "menai-opt on a half .mir");
}

#[test]
fn bc_with_a_flipped_byte_is_rejected() {
    let d = tmp();
    let (_, bc) = build_stages(d.path(), "f", GOOD);
    let bytes = read(&bc);
    // A byte of the payload (the end of the file): the checksum catches it.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x5a;
    let p = write(d.path(), "flipped.bc", &flipped);
    let o = exec("menai-vm", &[s(&p)], None, d.path());
    expect(
        &o,
        2,
        &["checksum"],
        "menai-vm on a .bc with a payload byte flipped",
    );
    assert!(
        o.stdout.is_empty(),
        "a corrupt file was executed: {:?}",
        o.stdout
    );
    // A byte of the magic number.
    let mut flipped = bytes.clone();
    flipped[0] ^= 0xff;
    let p = write(d.path(), "badmagic.bc", &flipped);
    let o = exec("menai-vm", &[s(&p)], None, d.path());
    expect(
        &o,
        2,
        &["bytecode"],
        "menai-vm on a .bc with a bad magic number",
    );
    // Every single byte flip must give a clean rejection, never a crash.
    let step = (bytes.len() / 40).max(1);
    for i in (0..bytes.len()).step_by(step) {
        let mut f = bytes.clone();
        f[i] ^= 0x01;
        let p = write(d.path(), "each.bc", &f);
        let o = exec("menai-vm", &[s(&p)], None, d.path());
        assert!(
            !o.panicked(),
            "flipping byte {i} crashed menai-vm:\n{}",
            o.describe("  ")
        );
        assert!(
            o.code == Some(2) || o.code == Some(0) || o.code == Some(1),
            "flipping byte {i}: unexpected status\n{}",
            o.describe("  ")
        );
    }
}

#[test]
fn truncated_bc_is_rejected() {
    let d = tmp();
    let (_, bc) = build_stages(d.path(), "t", GOOD);
    let bytes = read(&bc);
    for keep in [bytes.len() - 1, bytes.len() / 2, 12, 5, 0] {
        let p = write(d.path(), "cut.bc", &bytes[..keep]);
        let o = exec("menai-vm", &[s(&p)], None, d.path());
        expect(
            &o,
            2,
            &[],
            &format!("menai-vm on a .bc truncated to {keep} bytes"),
        );
    }
    let p = write(d.path(), "cut.bc", &bytes[..bytes.len() - 1]);
    let o = exec("menai-vm", &[s(&p)], None, d.path());
    expect(
        &o,
        2,
        &["truncated"],
        "menai-vm on a .bc missing its last byte",
    );
}

#[test]
fn bc_from_a_future_version_is_rejected() {
    let d = tmp();
    let (_, bc) = build_stages(d.path(), "v", GOOD);
    let mut bytes = read(&bc);
    assert!(bytes.len() > 12, "a .bc file is shorter than its header");
    // Bytes 8..12: the format version, little-endian u32, after the 8-byte magic.
    let current = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let future = current + 1;
    bytes[8..12].copy_from_slice(&future.to_le_bytes());
    let p = write(d.path(), "future.bc", &bytes);
    let o = exec("menai-vm", &[s(&p)], None, d.path());
    expect(
        &o,
        2,
        &["version", &future.to_string()],
        "menai-vm on a future-version .bc",
    );
    assert!(o.stdout.is_empty(), "a future-version file was executed");
}

#[test]
fn mir_from_a_future_version_is_rejected() {
    let d = tmp();
    let (mir, _) = build_stages(d.path(), "v", GOOD);
    let mut bytes = read(&mir);
    let current = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    bytes[8..12].copy_from_slice(&(current + 7).to_le_bytes());
    let p = write(d.path(), "future.mir", &bytes);
    let o = exec("menai-opt", &[s(&p), "-o", "out.bc"], None, d.path());
    expect(&o, 2, &["version"], "menai-opt on a future-version .mir");
}

/// A file of the wrong kind names the tool it belongs to; `menai run`
/// runs a `.bc` or a `.mir` as `menai-vm` or `menai-opt` would.
#[test]
fn files_of_the_wrong_kind_are_rejected() {
    let d = tmp();
    let (mir, bc) = build_stages(d.path(), "k", GOOD);
    let o = exec("menai-vm", &[s(&mir)], None, d.path());
    expect(
        &o,
        2,
        &["is a MIR file", "menai-opt"],
        "menai-vm given a .mir",
    );
    let o = exec("menai-opt", &[s(&bc), "-o", "out.bc"], None, d.path());
    expect(
        &o,
        2,
        &["already bytecode", "menai-vm"],
        "menai-opt given a .bc",
    );
    let src = write(d.path(), "src.menai", GOOD);
    let o = exec("menai-vm", &[s(&src)], None, d.path());
    expect(
        &o,
        2,
        &["not bytecode", "menai run"],
        "menai-vm given source text",
    );
    let o = exec("menai-opt", &[s(&src), "-o", "out.bc"], None, d.path());
    expect(
        &o,
        2,
        &["not a MIR file", "menaic"],
        "menai-opt given source text",
    );
    let garbage = write(d.path(), "garbage.bc", [0xffu8; 64]);
    let o = exec("menai-vm", &[s(&garbage)], None, d.path());
    expect(&o, 2, &["invalid bytecode"], "menai-vm given garbage");
    // menai run takes every stage's file.
    let expected = exec("menai", &["run", s(&src)], None, d.path());
    expect(&expected, 0, &[], "menai run on source");
    for file in [&bc, &mir] {
        let o = exec("menai", &["run", s(file)], None, d.path());
        expect(&o, 0, &[], &format!("menai run {}", s(file)));
        assert_eq!(o.stdout, expected.stdout, "menai run {}", s(file));
    }
    let mut truncated = read(&bc);
    truncated.truncate(truncated.len() / 2);
    let cut = write(d.path(), "cut.bc", truncated);
    let o = exec("menai", &["run", s(&cut)], None, d.path());
    expect(
        &o,
        2,
        &["invalid bytecode", "truncated"],
        "menai run on a truncated .bc",
    );
}

// ---------------------------------------------------------------- flags of the stage tools

#[test]
fn stage_tool_dumps_and_listings() {
    let d = tmp();
    let src = write(d.path(), "good.menai", GOOD);
    for emit in ["ast", "ir"] {
        let o = exec("menaic", &[s(&src), "--emit", emit], None, d.path());
        expect(&o, 0, &[], &format!("menaic --emit {emit}"));
        assert!(
            !o.stdout.trim().is_empty(),
            "menaic --emit {emit} printed nothing"
        );
    }
    let (mir, bc) = build_stages(d.path(), "g", GOOD);
    for emit in ["cfg", "bytecode"] {
        let o = exec("menai-opt", &[s(&mir), "--emit", emit], None, d.path());
        expect(&o, 0, &[], &format!("menai-opt --emit {emit}"));
        assert!(
            !o.stdout.trim().is_empty(),
            "menai-opt --emit {emit} printed nothing"
        );
    }
    let o = exec("menai-opt", &["--list-passes"], None, d.path());
    expect(&o, 0, &[], "menai-opt --list-passes");
    assert!(
        o.stdout.contains("-O2"),
        "--list-passes shows no pipelines:\n{}",
        o.stdout
    );
    let o = exec("menai-vm", &[s(&bc), "--disassemble"], None, d.path());
    expect(&o, 0, &[], "menai-vm --disassemble");
    assert!(
        o.stdout.contains("main"),
        "the listing names no entry function:\n{}",
        o.stdout
    );
    let o = exec("menai-vm", &[s(&bc), "--stats"], None, d.path());
    expect(&o, 0, &["instructions"], "menai-vm --stats");
    assert_eq!(o.stdout, GOOD_OUT, "--stats changed the program's output");
}

#[test]
fn stage_tools_pipe_through_stdin_and_stdout() {
    let d = tmp();
    let mut c = Command::new(bin("menaic"));
    c.args(["-", "-o", "-"]).current_dir(d.path());
    let mir = run_bytes(&mut c, GOOD.as_bytes());
    let mut c = Command::new(bin("menai-opt"));
    c.args(["-", "-o", "-"]).current_dir(d.path());
    let bc = run_bytes(&mut c, &mir);
    let mut c = Command::new(bin("menai-vm"));
    c.arg("-").current_dir(d.path());
    let out = run_bytes(&mut c, &bc);
    assert_eq!(String::from_utf8_lossy(&out), GOOD_OUT);
}

/// Runs `cmd` with binary stdin, returning its binary stdout; exit 0 required.
fn run_bytes(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let mut stdin = child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("no stdin pipe"));
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait failed: {e}"));
    let _ = writer.join();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("panicked"),
        "{:?} failed ({}):\n{err}",
        cmd.get_program(),
        out.status
    );
    out.stdout
}

#[test]
fn vm_limits_give_clean_runtime_errors() {
    let d = tmp();
    let deep = "(letrec ((f (lambda (n) (if (integer=? n 0) 0 (integer+ 1 (f (integer- n 1))))))) (f 5000))\n";
    let (_, bc) = build_stages(d.path(), "deep", deep);
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(&o, 0, &[], "menai-vm within the default depth");
    assert_eq!(o.stdout, "5000\n");
    let o = exec("menai-vm", &[s(&bc), "--max-depth", "100"], None, d.path());
    expect(&o, 1, &["depth"], "menai-vm --max-depth 100");
    let src = write(d.path(), "deep.menai", deep);
    let o = exec(
        "menai",
        &["run", "--max-depth", "100", s(&src)],
        None,
        d.path(),
    );
    expect(&o, 1, &["depth"], "menai run --max-depth 100");
    let spin = "(letrec ((f (lambda (n) (f (integer+ n 1))))) (f 0))\n";
    let (_, bc) = build_stages(d.path(), "spin", spin);
    let o = exec(
        "menai-vm",
        &[s(&bc), "--max-steps", "100000"],
        None,
        d.path(),
    );
    expect(&o, 1, &[], "menai-vm --max-steps on an endless loop");
}

#[test]
fn module_search_path() {
    let d = tmp();
    let libdir = d.path().join("lib");
    std::fs::create_dir_all(&libdir).unwrap_or_else(|e| panic!("{e}"));
    write(&libdir, "answer.menai", "42\n");
    let main = write(d.path(), "main.menai", "(integer+ 1 (import \"answer\"))\n");
    // Not found by default (the main file's directory, then `.`) ...
    let o = exec("menai", &["run", s(&main)], None, d.path());
    expect(&o, 2, &["answer"], "import without a search path");
    // ... found with --module-path or MENAI_MODULE_PATH ...
    let o = exec(
        "menai",
        &["run", "--module-path", s(&libdir), s(&main)],
        None,
        d.path(),
    );
    expect(&o, 0, &[], "menai run --module-path");
    assert_eq!(o.stdout, "43\n");
    let mir = d.path().join("main.mir");
    let o = exec(
        "menaic",
        &["--module-path", s(&libdir), s(&main), "-o", s(&mir)],
        None,
        d.path(),
    );
    expect(&o, 0, &[], "menaic --module-path");
    let mut c = Command::new(bin("menai"));
    c.args(["run", s(&main)])
        .current_dir(d.path())
        .env("MENAI_MODULE_PATH", &libdir);
    let o = run(&mut c, None, TIMEOUT);
    expect(&o, 0, &[], "menai run with MENAI_MODULE_PATH");
    assert_eq!(o.stdout, "43\n");
    // ... and next to the main file by default.
    write(d.path(), "answer.menai", "41\n");
    let o = exec("menai", &["run", s(&main)], None, d.path());
    expect(&o, 0, &[], "import next to the main file");
    assert_eq!(o.stdout, "42\n");
}

#[test]
fn colour_can_be_forced_on_and_off() {
    let d = tmp();
    let src = write(d.path(), "bad.menai", "(if #t)\n");
    let mut c = Command::new(bin("menai"));
    c.args(["run", "--color", "never", s(&src)])
        .current_dir(d.path());
    let raw = run_raw_stderr(&mut c);
    assert!(
        !raw.contains('\u{1b}'),
        "--color never still printed escape codes:\n{raw}"
    );
    let mut c = Command::new(bin("menai"));
    c.args(["run", "--color", "always", s(&src)])
        .current_dir(d.path());
    let raw = run_raw_stderr(&mut c);
    assert!(
        raw.contains('\u{1b}'),
        "--color always printed no escape codes:\n{raw}"
    );
}

/// Stderr of `cmd` exactly as printed (the shared runner strips colour).
fn run_raw_stderr(cmd: &mut Command) -> String {
    let out = cmd
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `--profile` prints one row per Menai function with its calls and
/// instructions, and `--profile-folded` writes one `path count` line per
/// call path; both tools agree, and the program's output is unchanged.
#[test]
fn profile_reports_functions_and_folded_stacks() {
    let d = tmp();
    let src = "(letrec ((f (lambda (n) (if (integer=? n 0) 0 (integer+ 1 (g (integer- n 1))))))
                (g (lambda (n) (f n))))
                (integer+ (f 10) (f 5)))";
    let (_, bc) = build_stages(d.path(), "prof", src);
    let folded = d.path().join("stacks.txt");
    let run = exec(
        "menai",
        &[
            "run",
            "-O0",
            "--profile",
            "--profile-folded",
            s(&folded),
            s(&d.path().join("prof.menai")),
        ],
        None,
        d.path(),
    );
    expect(&run, 0, &["profile:", "calls"], "menai run --profile");
    assert_eq!(run.stdout.trim(), "15");
    // f runs 10 + 1 and 5 + 1 times; g 10 and 5 times (-O0: no inlining).
    let row = |o: &str, name: &str| -> Option<u64> {
        o.lines()
            .find(|l| l.contains(&format!("  {name} (")))
            .and_then(|l| l.split_whitespace().nth(5))
            .and_then(|c| c.parse().ok())
    };
    assert_eq!(row(&run.stderr, "f"), Some(17), "{}", run.stderr);
    assert_eq!(row(&run.stderr, "g"), Some(15), "{}", run.stderr);
    let text = String::from_utf8(read(&folded)).expect("utf-8");
    // g runs 2 instructions (per call: twice at this depth), then its
    // tail call puts f in its place.
    assert!(text.lines().any(|l| l == "main;f;g 4"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("main;f;f ")), "{text}");
    for line in text.lines() {
        let (path, n) = line.rsplit_once(' ').expect("path count");
        assert!(!path.is_empty() && n.parse::<u64>().is_ok(), "{line}");
    }
    let vm = exec("menai-vm", &["--profile", s(&bc)], None, d.path());
    expect(&vm, 0, &["profile:"], "menai-vm --profile");
    assert_eq!(vm.stdout.trim(), "15");
    // Without the flags there is no profile.
    let plain = exec("menai-vm", &[s(&bc)], None, d.path());
    assert!(!plain.stderr.contains("profile"), "{}", plain.stderr);
}

/// Exhausting memory is a clean runtime error, not an abort: a string
/// doubled without end stops at the `--max-memory` cap (exit 1, the
/// builtin named), on `menai run` and on `menai-vm`; a value over the cap
/// is a bad flag (exit 2).
#[test]
fn running_out_of_memory_is_a_runtime_error() {
    let dir = tmp();
    let src = "(letrec ((grow (lambda (s) (grow (string-concat s s))))) (grow \"ab\"))";
    let file = write(dir.path(), "grow.menai", src);
    let o = exec(
        "menai",
        &["run", "--max-memory", "64M", s(&file)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["string-concat", "memory limit"],
        "menai run string doubling",
    );
    let (_, bc) = build_stages(dir.path(), "grow", src);
    let o = exec(
        "menai-vm",
        &["--max-memory", "64M", s(&bc)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["string-concat", "memory limit"],
        "menai-vm string doubling",
    );
    // A list built one pair at a time hits the limit in the loop, not in a builtin.
    let src = "(letrec ((go (lambda (xs n) (go (list-prepend xs (list n n n)) (integer+ n 1))))) (go (list) 0))";
    let file = write(dir.path(), "cons.menai", src);
    let o = exec(
        "menai",
        &["run", "--max-memory", "32M", s(&file)],
        None,
        dir.path(),
    );
    expect(&o, 1, &["memory limit"], "menai run list growth");
    // Joining 10,000 references to one 1 MiB string would take 10 GiB.
    let src = "(letrec ((grow (lambda (s n) (if (integer=? n 0) s (grow (string-concat s s) (integer- n 1)))))) \
               (let ((s (grow \"ab\" 19))) (list->string (map-list (lambda (i) s) (range 0 10000)))))";
    let file = write(dir.path(), "join.menai", src);
    let o = exec(
        "menai",
        &["run", "--max-memory", "256M", s(&file)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["list->string", "memory limit"],
        "menai run joining a huge string",
    );
    // Every character of a 1 MiB string replaced by that string: 1 TiB.
    let src = "(letrec ((grow (lambda (s n) (if (integer=? n 0) s (grow (string-concat s s) (integer- n 1)))))) \
               (let ((s (grow \"ab\" 19))) (string-replace s \"\" s)))";
    let file = write(dir.path(), "replace.menai", src);
    let o = exec(
        "menai",
        &["run", "--max-memory", "256M", s(&file)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["string-replace", "memory limit"],
        "menai run replacing into a huge string",
    );
    for bad in ["lots", "12X", "0", "99999999999G"] {
        let o = exec(
            "menai",
            &["run", "--max-memory", bad, s(&file)],
            None,
            dir.path(),
        );
        expect(&o, 2, &["--max-memory"], &format!("--max-memory {bad}"));
    }
}

/// `integer*` has a result-size cap like `integer-expn`: repeated squaring
/// stops with an error within a few steps instead of running for minutes.
#[test]
fn repeated_squaring_stops_at_the_result_size_cap() {
    let dir = tmp();
    let src = "(letrec ((sq (lambda (n) (sq (integer* n n))))) (sq 3))";
    let file = write(dir.path(), "sq.menai", src);
    let o = exec(
        "menai",
        &["run", "--max-steps", "1000", s(&file)],
        None,
        dir.path(),
    );
    expect(&o, 1, &["integer*", "too large"], "repeated squaring");
}

/// One limit on quoted-data nesting, enforced where a `.bc` is written:
/// data the optimizer emits, `menai-vm` loads (1,024 levels of lists), and
/// one level more is a compile-time limit error on `menai run` and
/// `menai-opt` alike — never a `.bc` the VM refuses.
#[test]
fn quoted_data_nesting_has_one_limit() {
    let dir = tmp();
    let nested = |lists: usize| format!("'{}{}", "(".repeat(lists + 1), ")".repeat(lists + 1));
    let at = write(dir.path(), "at.menai", nested(1024));
    let bc = dir.path().join("at.bc");
    let o = exec("menai", &["build", s(&at), "-o", s(&bc)], None, dir.path());
    expect(&o, 0, &[], "menai build at the limit");
    let o = exec("menai-vm", &[s(&bc)], None, dir.path());
    expect(&o, 0, &[], "menai-vm at the limit");
    assert_eq!(
        o.stdout.trim(),
        format!("{}{}", "(".repeat(1025), ")".repeat(1025))
    );
    let over = write(dir.path(), "over.menai", nested(1025));
    let o = exec("menai", &["run", s(&over)], None, dir.path());
    expect(
        &o,
        2,
        &["limit exceeded", "nested 1025 deep", "1024"],
        "menai run over the limit",
    );
    let mir = dir.path().join("over.mir");
    let o = exec("menaic", &[s(&over), "-o", s(&mir)], None, dir.path());
    expect(&o, 0, &[], "menaic over the limit");
    let o = exec(
        "menai-opt",
        &[s(&mir), "-o", s(&dir.path().join("over.bc"))],
        None,
        dir.path(),
    );
    expect(
        &o,
        2,
        &["limit exceeded", "1024"],
        "menai-opt over the limit",
    );
}

/// `menai-opt` checks a `.mir` as strictly as `menai-vm` checks a `.bc`: a
/// hand-made file with a non-canonical big integer or a prelude function
/// used as a primitive is refused at load (exit 2, "invalid IR"), not
/// turned into a `.bc` the VM rejects.
#[test]
fn menai_opt_refuses_a_mir_that_breaks_the_ir_contract() {
    use menai_compiler::ir::{encode_program, Atom, Const, Expr, ExprKind};
    let dir = tmp();
    let compiled = menai_compiler::compile_str("x.menai", "(integer+ 1 2)", &Default::default())
        .expect("compiles");
    let span = compiled.program.body.span;
    let map_list = menai_bytecode::Builtin::by_name("map-list").expect("map-list");
    let bad_bodies = [
        (
            ExprKind::Atom(Atom::Const(Const::BigInt("0012".into()))),
            "canonical",
        ),
        (
            ExprKind::Prim {
                op: map_list,
                args: vec![Atom::Const(Const::Int(1)), Atom::Const(Const::Int(2))],
            },
            "prelude function",
        ),
    ];
    for (i, (kind, needle)) in bad_bodies.into_iter().enumerate() {
        let mut p = compiled.program.clone();
        p.body = Expr::new(kind, span);
        let mir = write(
            dir.path(),
            &format!("bad{i}.mir"),
            encode_program(&p).expect("encodes"),
        );
        let bc = dir.path().join(format!("bad{i}.bc"));
        let o = exec("menai-opt", &[s(&mir), "-o", s(&bc)], None, dir.path());
        expect(
            &o,
            2,
            &["invalid IR", needle],
            "menai-opt on a hand-made .mir",
        );
        assert!(!bc.exists(), "a .bc was written for an invalid .mir");
    }
}

/// An operation with more operands than a register window holds (a
/// 65,540-element `set` literal) is a clean limit error, at -O0 and -O2;
/// it once sent register allocation into an endless search.
#[test]
fn an_operation_too_wide_for_a_register_window_is_a_limit_error() {
    let dir = tmp();
    let elements: Vec<String> = (0..65_540).map(|i| i.to_string()).collect();
    let src = format!("(set-length (set {}))", elements.join(" "));
    let file = write(dir.path(), "wide.menai", src);
    for level in ["-O0", "-O2"] {
        let o = exec("menai", &["run", level, s(&file)], None, dir.path());
        expect(
            &o,
            2,
            &["limit exceeded", "65540 operands", "at most 65532"],
            &format!("menai run {level} on a 65,540-element set"),
        );
    }
}

/// `--stats` still prints when a limit stops the run (steps, depth), on
/// `menai run` and `menai-vm`, and the depth error says how to raise it.
#[test]
fn stats_print_when_a_limit_stops_the_run() {
    let dir = tmp();
    let spin = "(letrec ((f (lambda (n) (f n)))) (f 1))";
    let file = write(dir.path(), "spin.menai", spin);
    let o = exec(
        "menai",
        &["run", "--stats", "--max-steps", "100", s(&file)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["step limit exceeded", "stats:"],
        "menai run --stats at the step limit",
    );
    let (_, bc) = build_stages(dir.path(), "spin", spin);
    let o = exec(
        "menai-vm",
        &["--stats", "--max-steps", "100", s(&bc)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["step limit exceeded", "stats:"],
        "menai-vm --stats at the step limit",
    );
    let deep = "(letrec ((f (lambda (n) (integer+ 1 (f n))))) (f 1))";
    let file = write(dir.path(), "deep.menai", deep);
    let o = exec(
        "menai",
        &["run", "--stats", "--max-depth", "50", s(&file)],
        None,
        dir.path(),
    );
    expect(
        &o,
        1,
        &["call depth exhausted (limit 50", "--max-depth", "stats:"],
        "menai run --stats at the depth limit",
    );
}

/// `menai-opt` reads back the CFG text it prints: `--passes` on a `.cfg`
/// prints the optimized CFG, `-o X.bc` writes bytecode that runs, and a
/// malformed `.cfg` is an error naming its line (exit 2).
#[test]
fn menai_opt_reads_cfg_text() {
    let d = tmp();
    let (mir, _) = build_stages(
        d.path(),
        "c",
        "(letrec ((sum (lambda (n acc) (if (integer=? n 0) acc (sum (integer- n 1) (integer+ acc n)))))) (sum (integer* 10 10) 0))",
    );
    let cfg = d.path().join("c.cfg");
    let o = exec(
        "menai-opt",
        &[s(&mir), "-O0", "--emit", "cfg", "-o", s(&cfg)],
        None,
        d.path(),
    );
    expect(&o, 0, &[], "menai-opt --emit cfg -o c.cfg");
    let o0 = String::from_utf8_lossy(&read(&cfg)).to_string();
    assert!(o0.contains("prim integer* "), "{o0}");
    let o = exec(
        "menai-opt",
        &["--passes", "sccp,dce", s(&cfg)],
        None,
        d.path(),
    );
    expect(&o, 0, &[], "menai-opt --passes on a .cfg");
    assert!(o.stdout.starts_with("function fn0 main()"), "{}", o.stdout);
    assert!(
        o.stdout.contains("const 100") && !o.stdout.contains("prim integer* "),
        "sccp did not fold (integer* 10 10):\n{}",
        o.stdout
    );
    let bc = d.path().join("c.bc");
    let o = exec("menai-opt", &[s(&cfg), "-o", s(&bc)], None, d.path());
    expect(&o, 0, &[], "menai-opt c.cfg -o c.bc");
    let o = exec("menai-vm", &[s(&bc)], None, d.path());
    expect(&o, 0, &[], "menai-vm on bytecode made from CFG text");
    assert_eq!(o.stdout.trim(), "5050");
    let bad = write(
        d.path(),
        "bad.cfg",
        "function fn0 main() captures 0\nblock0:\n    v0 = const 1\n    v1 = frob v0\n    return v1\n",
    );
    let o = exec("menai-opt", &[s(&bad)], None, d.path());
    expect(
        &o,
        2,
        &["bad.cfg", "line 4", "frob"],
        "menai-opt on a malformed .cfg",
    );
}

/// Two documented limits (README, Limits): a file whose header declares a
/// payload over 256 MiB is refused before anything is allocated for it
/// (`.bc` by menai-vm, `.mir` by menai-opt; exit 2), and a function with
/// more than 65,535 constants is a compile-time limit error (exit 2).
#[test]
fn payload_and_constant_limits() {
    let d = tmp();
    let (mir, bc) = build_stages(d.path(), "p", GOOD);
    for (tool, file, out) in [
        ("menai-vm", &bc, &[][..]),
        ("menai-opt", &mir, &["-o", "out.bc"][..]),
    ] {
        let mut bytes = read(file);
        // magic (8), version (4), producer length (2), producer, then the
        // declared payload length (8).
        let producer = u16::from_le_bytes([bytes[12], bytes[13]]) as usize;
        let at = 14 + producer;
        bytes[at..at + 8].copy_from_slice(&(300u64 << 20).to_le_bytes());
        let big = write(d.path(), &format!("big-{tool}"), &bytes);
        let mut args = vec![s(&big)];
        args.extend_from_slice(out);
        let o = exec(tool, &args, None, d.path());
        expect(
            &o,
            2,
            &["314572800 bytes exceeds the limit"],
            &format!("{tool} on a header declaring 300 MiB"),
        );
    }
    let many: Vec<String> = (0..70_000).map(|i| format!("\"s{i}\"")).collect();
    let src = write(
        d.path(),
        "consts.menai",
        format!("(list {})\n", many.join(" ")),
    );
    let o = exec("menai", &["build", s(&src), "-o", "c.bc"], None, d.path());
    expect(
        &o,
        2,
        &["limit exceeded", "too many constants"],
        "a function with 70,000 constants",
    );
    assert!(
        !d.path().join("c.bc").exists(),
        "wrote a .bc past the limit"
    );
}
