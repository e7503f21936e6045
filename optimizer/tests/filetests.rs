//! File tests of the passes, as Cranelift writes them: each
//! `filetests/NAME.cfg` starts with a header naming the passes
//! (`; passes: sccp, dce`), then CFG text as `menai-opt --emit cfg` prints
//! it. The passes run on it to a fixed point (as `menai-opt --passes`
//! does, verifying after each), and the CFG text that results is the insta
//! snapshot `snapshots/filetests__NAME.snap`.
//!
//! A CFG seen in a dump becomes a test by pasting it into a new file under
//! a `; passes:` line and accepting the snapshot after reading it.

use menai_optimizer::parse::parse_program;
use menai_optimizer::{dump_cfg, pass_manager, Options};
use std::path::Path;

/// The passes named by the `; passes: a, b` header line.
fn passes(text: &str, name: &str) -> Vec<String> {
    let header = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("; passes:"))
        .unwrap_or_else(|| panic!("{name}: no `; passes:` header"));
    header
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn run(path: &Path) -> String {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).expect("readable file test");
    let opts = Options {
        passes: Some(passes(&text, &name)),
        verify_each: true,
        ..Options::default()
    };
    let mut cfgs = parse_program(&text, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
    // The pass manager alone: functions nothing calls stay (a file test
    // often holds one function beside a trivial `main`).
    pass_manager::run(&mut cfgs, &opts, &mut std::io::sink())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    dump_cfg(&cfgs, None)
}

#[test]
fn filetests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/filetests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("filetests directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 8,
        "expected the file tests in {}",
        dir.display()
    );
    for path in paths {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        insta::assert_snapshot!(stem, run(&path));
    }
}
