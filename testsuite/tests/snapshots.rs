//! Snapshot tests of the compiler's dumps: for each small program
//! `testsuite/snapshots/NAME.menai`, the output of
//! `menai dump --stage ast|ir|cfg|bytecode NAME.menai` (run from that
//! directory, so paths in the dumps are stable) is compared with
//! `testsuite/snapshots/NAME@STAGE.snap` (insta).
//!
//! After an intended change to a dump, review and accept the new snapshots
//! with `cargo insta review` (or rerun with `INSTA_UPDATE=always` and read
//! the diff in git). Each program is its own test, so all programs are
//! checked even when one differs.

use menai_testsuite::{run, tool, workspace_root};
use std::process::Command;
use std::time::Duration;

const STAGES: [&str; 4] = ["ast", "ir", "cfg", "bytecode"];

fn check(name: &str) {
    let menai = tool("menai").unwrap_or_else(|e| panic!("{e}"));
    let dir = workspace_root().join("testsuite/snapshots");
    let file = format!("{name}.menai");
    assert!(dir.join(&file).is_file(), "missing snapshot program {file}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(dir.join(&file));
    settings.bind(|| {
        for stage in STAGES {
            let mut c = Command::new(&menai);
            c.args(["dump", "--stage", stage, &file]).current_dir(&dir);
            let o = run(&mut c, None, Duration::from_secs(60));
            assert!(
                o.code == Some(0) && !o.panicked(),
                "menai dump --stage {stage} {file} failed:\n{}",
                o.describe("  ")
            );
            insta::assert_snapshot!(format!("{name}@{stage}"), o.stdout);
        }
    });
}

macro_rules! snapshot_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check(stringify!($name)); } )*

        /// Every program in the directory has a test above.
        #[test]
        fn every_program_is_listed() {
            let listed = [$(stringify!($name)),*];
            let dir = workspace_root().join("testsuite/snapshots");
            let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for entry in rd.flatten() {
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "menai") {
                    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    assert!(listed.contains(&stem.as_str()), "{stem}.menai has no test in snapshots.rs");
                }
            }
        }
    };
}

snapshot_tests!(
    literal, arith, bindings, lambda, closure, branch, tailloop, mutual, patterns, point, rest,
    andor, quote, error,
);
