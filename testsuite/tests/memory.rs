//! Memory of whole runs, measured on the child process: its peak resident
//! set (`ru_maxrss` from `wait4` on that one child, so other tests running
//! in parallel do not count). Speed and memory *goals* live in `make
//! bench`; these are correctness bounds: a run that must not leak stays
//! far below what leaking would cost, and a control program that really
//! holds the same number of values shows the bound can fail.

use menai_testsuite::tool;
use std::process::{Command, Stdio};

/// Runs `menai run OPT FILE` on `source`; returns its stdout and peak RSS in MiB.
// The child is reaped by `wait4` (which also reads its resource usage), not
// by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(source: &str, opt: &str) -> (String, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("prog.menai");
    let out = dir.path().join("out.txt");
    std::fs::write(&src, source).expect("write source");
    let menai = tool("menai").unwrap_or_else(|e| panic!("{e}"));
    let child = Command::new(menai)
        .args(["run", opt])
        .arg(&src)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("create output"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start menai");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (`child` is never
    // waited on through std); `status` and `usage` are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "menai run {opt} failed (status {status})"
    );
    let stdout = std::fs::read_to_string(&out).expect("read output");
    // Linux reports ru_maxrss in KiB.
    (stdout.trim().to_string(), usage.ru_maxrss as f64 / 1024.0)
}

const ITERATIONS: &str = "1000000";

/// A loop that, a million times, builds a recursive group whose member is
/// data holding a lambda that refers back (`x` below), and uses it.
fn letrec_data_loop() -> String {
    format!(
        "(letrec ((loop (lambda (i acc)
                   (if (integer=? i {ITERATIONS}) acc
                       (loop (integer+ i 1)
                             (letrec ((x (list (lambda () x) i)))
                               (integer+ acc (list-ref ((list-first x)) 1))))))))
           (loop 0 0))"
    )
}

#[test]
fn a_million_recursive_data_groups_run_in_flat_memory() {
    let expected = (0..1_000_000u64).sum::<u64>().to_string();
    for opt in ["-O0", "-O2"] {
        let (out, mib) = run_measured(&letrec_data_loop(), opt);
        assert_eq!(out, expected, "{opt}");
        assert!(mib < 60.0, "{opt}: peak RSS {mib:.1} MiB (limit 60)");
    }
}

/// The control: the same million closures and lists, all kept alive in one
/// list, need far more than the bound — so a leak of them would fail it.
#[test]
fn the_bound_is_below_a_million_live_closures() {
    let source = format!(
        "(letrec ((loop (lambda (i acc)
                   (if (integer=? i {ITERATIONS}) (list-length acc)
                       (loop (integer+ i 1)
                             (list-prepend acc (list (lambda () i) i)))))))
           (loop 0 (list)))"
    );
    let (out, mib) = run_measured(&source, "-O0");
    assert_eq!(out, ITERATIONS);
    assert!(
        mib > 60.0,
        "peak RSS {mib:.1} MiB: the bound would not catch a leak"
    );
}
