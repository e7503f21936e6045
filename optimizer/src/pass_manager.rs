//! The pass manager: runs a pipeline of passes (per-function and
//! whole-program ones, in one table) until none of them changes anything
//! (a fixed point), or until an iteration cap, which is reported. In debug and test builds, and with
//! `--verify-each`, the CFG verifier runs after every pass; a violation is
//! an error naming the pass. Printing (`--print-after`, `--print-after-all`,
//! `--print-changed`, filtered by `--filter-fn`), timing and rewrite counts
//! go to the log writer.

use crate::cfg::{CfgProgram, Function};
use crate::dump::function_text;
use crate::passes::{self, Changed, Pass, PassKind};
use crate::verify::{self, ProgramInfo};
use crate::{OptError, Options};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// What happened during a run, for `--stats` and `--time-passes`.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Rewrites per pass name.
    pub rewrites: BTreeMap<&'static str, usize>,
    /// Runs per pass name.
    pub runs: BTreeMap<&'static str, usize>,
    pub time: BTreeMap<&'static str, Duration>,
    /// Functions that hit the iteration cap.
    pub capped: Vec<String>,
    /// Total pipeline iterations over all functions.
    pub iterations: usize,
}

/// The passes `opts` selects: `--passes` if given, else the level's pipeline.
pub fn selected_passes(opts: &Options) -> Result<Vec<Pass>, OptError> {
    match &opts.passes {
        Some(names) => names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| passes::by_name(n).ok_or_else(|| OptError::UnknownPass(n.clone())))
            .collect(),
        None => Ok(passes::pipeline(opts.opt_level)),
    }
}

/// Whether to verify after each pass.
pub fn verifying(opts: &Options) -> bool {
    cfg!(debug_assertions) || opts.verify_each
}

fn check(f: &Function, info: ProgramInfo<'_>, after: &str) -> Result<(), OptError> {
    verify::verify_function(f, info).map_err(|errors| OptError::Verify {
        after: after.to_string(),
        listing: crate::dump::function_text_with_errors(f, &errors),
        errors,
    })
}

/// Runs the selected pipeline over every function of `p` to a fixed point.
pub fn run(p: &mut CfgProgram, opts: &Options, log: &mut dyn Write) -> Result<Report, OptError> {
    for name in &opts.print_after {
        if passes::by_name(name).is_none() {
            return Err(OptError::UnknownPass(name.clone()));
        }
    }
    let pipeline = selected_passes(opts)?;
    run_pipeline(p, &pipeline, opts, log)
}

/// Runs `pipeline` over `p` to a fixed point: each iteration runs every
/// pass in order (a function pass over every function still changing, a
/// program pass once), until an iteration changes nothing or the cap is hit.
pub fn run_pipeline(
    p: &mut CfgProgram,
    pipeline: &[Pass],
    opts: &Options,
    log: &mut dyn Write,
) -> Result<Report, OptError> {
    let mut report = Report::default();
    let struct_fields: Vec<usize> = p.structs.iter().map(|s| s.fields.len()).collect();
    let cap = opts.max_iterations.max(1);
    let shown = |f: &Function| opts.filter_fn.as_ref().is_none_or(|n| *n == f.name);
    if opts.print_changed {
        for f in p.functions.iter().filter(|f| shown(f)) {
            let _ = write!(
                log,
                "; *** {} before optimization ***\n{}",
                f.name,
                function_text(f)
            );
        }
    }
    if pipeline.is_empty() {
        return Ok(report);
    }
    // Functions a pass changed during the previous iteration (or not yet
    // run): function passes skip the others, which are at a fixed point.
    let mut dirty = vec![true; p.functions.len()];
    let mut iteration = 0;
    loop {
        iteration += 1;
        report.iterations += 1;
        let mut changed_now = vec![false; p.functions.len()];
        for pass in pipeline {
            let start = Instant::now();
            let mut touched = vec![false; p.functions.len()];
            let mut count = Changed(0);
            let mut per_fn = vec![0usize; p.functions.len()];
            match pass.kind {
                PassKind::Function(run) => {
                    for (i, f) in p.functions.iter_mut().enumerate() {
                        if !dirty[i] && !changed_now[i] {
                            continue;
                        }
                        let c = run(f);
                        touched[i] = c.changed();
                        per_fn[i] = c.0;
                        count += c;
                    }
                }
                PassKind::Program(run) => {
                    count = run(p, &mut touched);
                    touched.resize(p.functions.len(), true);
                    per_fn = vec![count.0; p.functions.len()];
                    dirty.resize(p.functions.len(), true);
                    changed_now.resize(p.functions.len(), true);
                }
            }
            *report.time.entry(pass.name).or_default() += start.elapsed();
            *report.runs.entry(pass.name).or_default() += 1;
            *report.rewrites.entry(pass.name).or_default() += count.0;
            let captures: Vec<u16> = p.functions.iter().map(|f| f.num_captures).collect();
            let info = ProgramInfo {
                captures: &captures,
                struct_fields: &struct_fields,
            };
            let asked = opts.print_after.iter().any(|n| n == pass.name);
            for (i, f) in p.functions.iter().enumerate() {
                let ran = matches!(pass.kind, PassKind::Program(_)) || dirty[i] || changed_now[i];
                if !ran {
                    continue;
                }
                if touched[i] && verifying(opts) {
                    check(f, info, pass.name)?;
                }
                changed_now[i] |= touched[i];
                if !shown(f) {
                    continue;
                }
                if asked || ((opts.print_after_all || opts.print_changed) && touched[i]) {
                    let _ = write!(
                        log,
                        "; *** {} after {} (iteration {iteration}, {} rewrites) ***\n{}",
                        f.name,
                        pass.name,
                        per_fn[i],
                        function_text(f)
                    );
                } else if opts.print_changed {
                    let _ = writeln!(log, "; *** {} after {}: unchanged ***", f.name, pass.name);
                }
            }
        }
        dirty = changed_now;
        if !dirty.iter().any(|&d| d) {
            break;
        }
        if iteration >= cap {
            for (i, f) in p.functions.iter().enumerate() {
                if dirty[i] {
                    report.capped.push(f.name.clone());
                    let _ = writeln!(
                        log,
                        "warning: {}: passes still changing the function after {cap} iterations; stopping",
                        f.name
                    );
                }
            }
            break;
        }
    }
    if opts.time_passes {
        let _ = writeln!(log, "; pass timings");
        for (name, t) in &report.time {
            let _ = writeln!(
                log,
                ";   {name:<14} {:>10.3} ms  ({} runs)",
                t.as_secs_f64() * 1e3,
                report.runs.get(name).copied().unwrap_or(0)
            );
        }
    }
    if opts.stats {
        let _ = writeln!(
            log,
            "; pass statistics ({} pipeline iterations)",
            report.iterations
        );
        for (name, n) in &report.rewrites {
            let _ = writeln!(log, ";   {name:<14} {n:>8} rewrites");
        }
    }
    Ok(report)
}

/// The `--list-passes` text.
pub fn list_passes() -> String {
    let mut s = String::new();
    for p in passes::ALL {
        s.push_str(&format!("{:<14} {}\n", p.name, p.doc));
    }
    for (level, name) in [(0u8, "-O0"), (1, "-O1"), (2, "-O2")] {
        let names: Vec<&str> = passes::pipeline(level).iter().map(|p| p.name).collect();
        s.push_str(&format!(
            "{name}: {}\n",
            if names.is_empty() {
                "(none)".into()
            } else {
                names.join(",")
            }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::{FuncId, InstKind, Terminator};
    use menai_compiler::ir::{Const, Span};

    /// A pass that always claims a change: the manager must stop at the cap.
    fn restless(_: &mut Function) -> Changed {
        Changed(1)
    }

    fn tiny() -> CfgProgram {
        let sp = Span::default();
        let mut f = Function::new(FuncId(0), "main".into(), vec![], None, sp);
        let e = f.entry;
        let c = f.push_inst(e, InstKind::Const(Const::Int(1)), sp);
        let d = f.push_inst(e, InstKind::Copy(c), sp);
        f.push_inst(e, InstKind::Const(Const::Int(2)), sp);
        f.set_term(e, Terminator::Return(d), sp);
        CfgProgram {
            functions: vec![f],
            entry: FuncId(0),
            structs: vec![],
            files: vec![],
            clones: vec![],
        }
    }

    #[test]
    fn reaches_a_fixed_point_and_counts_rewrites() {
        let mut p = tiny();
        let opts = Options {
            passes: Some(vec!["copyprop".into(), "dce".into()]),
            stats: true,
            ..Options::default()
        };
        let mut log = Vec::new();
        let report = run(&mut p, &opts, &mut log).unwrap();
        assert_eq!(report.rewrites["copyprop"], 1);
        assert_eq!(report.rewrites["dce"], 1);
        // One iteration that changed things, one that confirmed the fixed point.
        assert_eq!(report.iterations, 2);
        assert!(report.capped.is_empty());
        assert_eq!(p.functions[0].block(p.functions[0].entry).insts.len(), 1);
        let text = String::from_utf8(log).unwrap();
        assert!(
            text.contains("copyprop") && text.contains("rewrites"),
            "{text}"
        );
    }

    #[test]
    fn reports_the_iteration_cap() {
        let mut p = tiny();
        let opts = Options {
            max_iterations: 3,
            ..Options::default()
        };
        let mut log = Vec::new();
        let pass = Pass {
            name: "restless",
            doc: "",
            kind: PassKind::Function(restless),
        };
        let report = run_pipeline(&mut p, &[pass], &opts, &mut log).unwrap();
        assert_eq!(report.iterations, 3);
        assert_eq!(report.capped, vec!["main".to_string()]);
        let text = String::from_utf8(log.clone()).unwrap();
        assert!(text.contains("after 3 iterations"), "{text}");
        // An unknown pass name is an error, not a panic.
        let bad = Options {
            passes: Some(vec!["nope".into()]),
            ..Options::default()
        };
        assert!(
            matches!(run(&mut p, &bad, &mut log), Err(OptError::UnknownPass(n)) if n == "nope")
        );
    }

    #[test]
    fn print_after_shows_the_function() {
        let mut p = tiny();
        let opts = Options {
            opt_level: 1,
            print_after: vec!["dce".into()],
            ..Options::default()
        };
        let mut log = Vec::new();
        run(&mut p, &opts, &mut log).unwrap();
        let text = String::from_utf8(log).unwrap();
        assert!(text.contains("; *** main after dce"), "{text}");
        assert!(text.contains("return v0"), "{text}");
    }

    #[test]
    fn program_passes_run_in_the_same_fixed_point_loop() {
        let src = "(let ((f (lambda (x) (integer+ x 1)))) (f 41))";
        let program =
            menai_compiler::compile_str("t.menai", src, &menai_compiler::Options::default())
                .unwrap()
                .program;
        let mut p = crate::build_cfgs(&program).unwrap();
        let opts = Options {
            passes: Some(vec!["inline-once".into(), "copyprop".into(), "dce".into()]),
            ..Options::default()
        };
        let report = run(&mut p, &opts, &mut std::io::sink()).unwrap();
        assert!(report.rewrites["inline-once"] >= 1);
        assert!(report.capped.is_empty());
        let main = &p.functions[p.entry.0 as usize];
        for b in main.blocks() {
            for &i in &main.block(b).insts {
                assert!(
                    !matches!(
                        main.inst(i).kind,
                        InstKind::Closure { .. } | InstKind::Call { .. }
                    ),
                    "{}",
                    function_text(main)
                );
            }
        }
    }
}
