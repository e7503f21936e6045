//! Spec tests: every case of `testsuite/spec/*.cases` and every program
//! `testsuite/programs/NAME.menai` or `examples/NAME.menai` (expected stdout
//! in `NAME.out`) is run
//! three ways —
//!
//! 1. `menai run -O0 FILE`,
//! 2. `menai run -O2 FILE`,
//! 3. the stage tools through files: `menaic FILE -o x.mir`,
//!    `menai-opt x.mir -o x.bc`, `menai-vm x.bc` —
//!
//! and each way must meet the expectation (stdout and exit code, or a
//! stderr substring for errors) and all three must agree. Every failing
//! case is reported at the end, with its `file:line`, not just the first.
//!
//! Environment: `MENAI_SPEC_FILTER=substring` runs only the cases whose
//! label (`core.cases:12`, `programs/closures.menai`) or source contains it;
//! `MENAI_TEST_JOBS` sets the worker threads; `MENAI_TEST_TIMEOUT` the
//! per-process limit in seconds; `MENAI_BIN_DIR` where the tools are.
//!
//! Spec cases run with `MENAI_MODULE_PATH=testsuite/programs/modules`, so
//! they can import the modules kept there; whole programs run with the
//! default search path (their own directory, then `.`).

use menai_testsuite::{
    default_timeout, jobs, parallel_map, parse_cases, run, tool, workspace_root, Expect, Outcome,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where a test's source lives.
enum Source {
    /// Inline case text, written to a temporary file before running.
    Text(String),
    /// An existing program file, run in place.
    File(PathBuf),
}

struct Test {
    label: String,
    source: Source,
    expect: Expect,
}

struct Tools {
    menai: PathBuf,
    menaic: PathBuf,
    opt: PathBuf,
    vm: PathBuf,
    timeout: Duration,
    module_path: PathBuf,
}

/// The outcome of each of the three ways, labelled.
type Ways = Vec<(&'static str, Outcome)>;

fn collect() -> (Vec<Test>, Vec<String>) {
    let root = workspace_root().join("testsuite");
    let mut tests = Vec::new();
    let mut problems = Vec::new();

    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("spec"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "cases"));
    files.sort();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{}: cannot read: {e}", file.display()));
                continue;
            }
        };
        let (cases, errors) = parse_cases(&text, &file);
        for e in errors {
            let name = e
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            problems.push(format!("{name}:{}: malformed case: {}", e.line, e.message));
        }
        for c in cases {
            tests.push(Test {
                label: c.label(),
                source: Source::Text(c.source),
                expect: c.expect,
            });
        }
    }

    let mut programs: Vec<PathBuf> = Vec::new();
    for dir in [root.join("programs"), workspace_root().join("examples")] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            programs.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
        }
    }
    programs.retain(|p| p.extension().is_some_and(|e| e == "menai"));
    programs.sort();
    for prog in programs {
        let name = prog
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = prog.with_extension("out");
        match std::fs::read_to_string(&out) {
            Ok(expected) => tests.push(Test {
                label: format!(
                    "{}/{name}",
                    if prog.starts_with(&root) {
                        "programs"
                    } else {
                        "examples"
                    }
                ),
                source: Source::File(prog.clone()),
                expect: Expect::Value(expected.trim_end_matches('\n').to_string()),
            }),
            Err(e) => problems.push(format!(
                "programs/{name}: cannot read {}: {e}",
                out.display()
            )),
        }
    }
    (tests, problems)
}

fn run_pipeline(tools: &Tools, file: &Path, dir: &Path, env_module_path: bool) -> Outcome {
    let mir = dir.join("x.mir");
    let bc = dir.join("x.bc");
    let with_env = |mut c: Command| {
        if env_module_path {
            c.env("MENAI_MODULE_PATH", &tools.module_path);
        } else {
            c.env_remove("MENAI_MODULE_PATH");
        }
        c
    };
    let mut c = with_env(Command::new(&tools.menaic));
    c.arg(file).arg("-o").arg(&mir);
    let o = run(&mut c, None, tools.timeout);
    if o.code != Some(0) {
        return o;
    }
    let mut c = with_env(Command::new(&tools.opt));
    c.arg(&mir).arg("-o").arg(&bc);
    let o = run(&mut c, None, tools.timeout);
    if o.code != Some(0) {
        return o;
    }
    let mut c = with_env(Command::new(&tools.vm));
    c.arg(&bc);
    run(&mut c, None, tools.timeout)
}

fn run_test(tools: &Tools, test: &Test) -> Result<Ways, String> {
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let (file, env_module_path) = match &test.source {
        Source::File(p) => (p.clone(), false),
        Source::Text(t) => {
            let stem: String = test
                .label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let p = dir.path().join(format!("{stem}.menai"));
            std::fs::write(&p, t).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            (p, true)
        }
    };
    let driver = |level: &str| {
        let mut c = Command::new(&tools.menai);
        c.arg("run").arg(level).arg(&file);
        if env_module_path {
            c.env("MENAI_MODULE_PATH", &tools.module_path);
        } else {
            c.env_remove("MENAI_MODULE_PATH");
        }
        run(&mut c, None, tools.timeout)
    };
    Ok(vec![
        ("menai run -O0", driver("-O0")),
        ("menai run -O2", driver("-O2")),
        (
            "menaic|menai-opt|menai-vm",
            run_pipeline(tools, &file, dir.path(), env_module_path),
        ),
    ])
}

/// What must be equal across the three ways.
fn signature(o: &Outcome) -> (Option<i32>, String, Option<String>) {
    let err = if o.code == Some(0) {
        None
    } else {
        o.error_line().map(str::to_string)
    };
    (o.code, o.stdout.clone(), err)
}

/// Checks one test's outcomes; returns the failure report, if any.
fn judge(test: &Test, ways: &Ways) -> Option<String> {
    let mut report = String::new();
    let mut failed = false;
    let verdicts: Vec<Result<(), String>> =
        ways.iter().map(|(_, o)| test.expect.check(o)).collect();
    let identical = ways.iter().all(|(_, o)| *o == ways[0].1);
    if identical {
        // The usual case: say it once.
        if let Err(why) = &verdicts[0] {
            failed = true;
            report.push_str(&format!(
                "  all three ways: {why}\n{}",
                ways[0].1.describe("      ")
            ));
        }
    } else {
        for ((name, o), verdict) in ways.iter().zip(&verdicts) {
            match verdict {
                Ok(()) => report.push_str(&format!("  {name}: ok\n")),
                Err(why) => {
                    failed = true;
                    report.push_str(&format!("  {name}: {why}\n{}", o.describe("      ")));
                }
            }
        }
    }
    let first = signature(&ways[0].1);
    if ways.iter().any(|(_, o)| signature(o) != first) {
        failed = true;
        report.push_str("  the three ways disagree (exit code, stdout or error headline):\n");
        for (name, o) in ways {
            let (code, out, err) = signature(o);
            report.push_str(&format!(
                "      {name}: {} stdout={} error={:?}\n",
                code.map_or("no exit code".to_string(), |c| format!("exit {c}")),
                menai_testsuite::abbreviate(&out, 200),
                err.unwrap_or_default()
            ));
        }
    }
    if !failed {
        return None;
    }
    let src = match &test.source {
        Source::Text(t) => t.trim_end().replace('\n', "\n          "),
        Source::File(p) => p.display().to_string(),
    };
    Some(format!(
        "FAIL {}\n  source: {src}\n  expect: {}\n{report}",
        test.label,
        test.expect.render()
    ))
}

#[test]
fn spec_cases_and_programs() {
    let tools = match (
        tool("menai"),
        tool("menaic"),
        tool("menai-opt"),
        tool("menai-vm"),
    ) {
        (Ok(menai), Ok(menaic), Ok(opt), Ok(vm)) => Tools {
            menai,
            menaic,
            opt,
            vm,
            timeout: default_timeout(),
            module_path: workspace_root().join("testsuite/programs/modules"),
        },
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => panic!("{e}"),
    };
    let (mut tests, mut problems) = collect();
    if let Ok(filter) = std::env::var("MENAI_SPEC_FILTER") {
        problems.retain(|p| p.contains(&filter));
        tests.retain(|t| {
            t.label.contains(&filter) || matches!(&t.source, Source::Text(s) if s.contains(&filter))
        });
        eprintln!(
            "MENAI_SPEC_FILTER={filter:?}: {} tests selected",
            tests.len()
        );
    }
    let timed = parallel_map(&tests, jobs(), |t| {
        let start = std::time::Instant::now();
        let verdict = match run_test(&tools, t) {
            Ok(ways) => judge(t, &ways),
            Err(e) => Some(format!("FAIL {}\n  could not run: {e}\n", t.label)),
        };
        (verdict, start.elapsed())
    });
    let mut slowest: Vec<(Duration, &str)> = timed
        .iter()
        .zip(&tests)
        .map(|((_, d), t)| (*d, t.label.as_str()))
        .collect();
    slowest.sort_by_key(|&(d, _)| std::cmp::Reverse(d));
    let results: Vec<Option<String>> = timed.into_iter().map(|(v, _)| v).collect();

    // Per-file tallies, then every failure.
    let mut tally: Vec<(String, usize, usize)> = Vec::new();
    for (t, r) in tests.iter().zip(&results) {
        let group = t
            .label
            .rsplit_once(':')
            .map_or("programs", |(f, _)| f)
            .to_string();
        let group = if let Some((dir, _)) = t.label.split_once('/') {
            dir.to_string()
        } else {
            group
        };
        match tally.iter_mut().find(|(g, ..)| *g == group) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += usize::from(r.is_some());
            }
            None => tally.push((group, 1, usize::from(r.is_some()))),
        }
    }
    let failures: Vec<&String> = results.iter().flatten().collect();
    let mut summary = String::from("\nspec summary (file: passed/total)\n");
    for (g, total, failed) in &tally {
        summary.push_str(&format!("  {g}: {}/{total}\n", total - failed));
    }
    summary.push_str("slowest (all three ways):");
    for (d, label) in slowest.iter().take(5) {
        summary.push_str(&format!(" {label} {:.1}s;", d.as_secs_f64()));
    }
    summary.push('\n');
    for p in &problems {
        summary.push_str(&format!("PROBLEM {p}\n"));
    }
    if failures.is_empty() && problems.is_empty() {
        eprintln!("{summary}all {} spec tests pass three ways", tests.len());
        return;
    }
    let mut report = String::new();
    for f in &failures {
        report.push_str(f);
        report.push('\n');
    }
    eprintln!("{report}{summary}");
    panic!(
        "{} of {} spec tests failed, {} malformed inputs (details above; rerun one with MENAI_SPEC_FILTER=label)",
        failures.len(),
        tests.len(),
        problems.len()
    );
}
