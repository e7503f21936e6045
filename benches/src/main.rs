//! `menai-bench`: times the benchmark programs in `benches/programs/`.
//!
//! For each program it runs `menai run` N times (default 5) and reports the
//! median wall time, checking the printed result against `NAME.out`; if a
//! peer runtime is installed (`lua5.4`, running `benches/lua/NAME.lua`) it
//! times the peer the same way and reports the ratio menai/peer. Missing
//! peers are skipped, never an error. It then builds each program at -O0
//! and -O2 and runs `menai-vm --stats` to report the number of
//! instructions executed, their ratio, the geometric mean of the ratios, and
//! the run time of each build (`menai-vm`, median).
//! Last, it times `menai-opt -O2` on generated programs of size n and 10n
//! (how the optimizer scales).
//!
//! The tools are looked up next to this executable (so `cargo run --release
//! -p menai-benches` uses `target/release/menai`), or in `--bin-dir DIR`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    runs: usize,
    bin_dir: PathBuf,
    filter: Option<String>,
    skip_stats: bool,
}

const USAGE: &str = "usage: menai-bench [--runs N] [--bin-dir DIR] [--filter NAME] [--no-stats]

Times benches/programs/*.menai with `menai run` (median of N runs, default 5),
compares with peers in benches/lua/ when lua5.4 is installed, and reports
instructions executed at -O0 and -O2 (menai-vm --stats).";

fn parse_args() -> Result<Options, String> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut o = Options {
        runs: 5,
        bin_dir: exe_dir,
        filter: None,
        skip_stats: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" | "-n" => {
                let v = args.next().ok_or("--runs needs a number")?;
                o.runs = v
                    .parse()
                    .map_err(|_| format!("--runs: not a number: {v}"))?;
                if o.runs == 0 {
                    return Err("--runs must be at least 1".into());
                }
            }
            "--bin-dir" => {
                o.bin_dir = PathBuf::from(args.next().ok_or("--bin-dir needs a directory")?)
            }
            "--filter" => o.filter = Some(args.next().ok_or("--filter needs a name")?),
            "--no-stats" => o.skip_stats = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// Output of one run.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    time: Duration,
}

fn run_once(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let out = cmd.stdin(Stdio::null()).output();
    let time = start.elapsed();
    match out {
        Ok(o) => Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            time,
        },
        Err(e) => Run {
            ok: false,
            stdout: String::new(),
            stderr: format!("cannot start: {e}"),
            time,
        },
    }
}

/// Runs `make()` `n` times; returns the median time and the last output, or
/// the first failure.
fn time_median(n: usize, make: impl Fn() -> Command) -> Result<(Duration, String), String> {
    let mut times = Vec::with_capacity(n);
    let mut last = String::new();
    for _ in 0..n {
        let r = run_once(&mut make());
        if !r.ok {
            return Err(first_line(&r.stderr));
        }
        times.push(r.time);
        last = r.stdout;
    }
    times.sort();
    Ok((times[times.len() / 2], last.trim_end().to_string()))
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed without a message")
        .to_string()
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Extracts the instruction count from `menai-vm --stats` output: the first
/// number on the first line mentioning "instruction".
fn parse_instructions(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.to_lowercase().contains("instruction"))?;
    line.split(|c: char| !c.is_ascii_digit() && c != '_' && c != ',')
        .map(|w| w.replace(['_', ','], ""))
        .find(|w| !w.is_empty())
        .and_then(|w| w.parse().ok())
}

/// One program built at one level: instructions executed (`menai-vm
/// --stats`) and the median time of running the `.bc` with `menai-vm`.
struct LevelRun {
    instructions: u64,
    time: Duration,
}

fn run_level(o: &Options, program: &Path, level: &str, tmp: &Path) -> Result<LevelRun, String> {
    let bc = tmp.join(format!(
        "{}{level}.bc",
        program
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let r = run_once(
        Command::new(o.bin_dir.join("menai"))
            .arg("build")
            .arg(level)
            .arg(program)
            .arg("-o")
            .arg(&bc),
    );
    if !r.ok {
        return Err(format!("menai build {level}: {}", first_line(&r.stderr)));
    }
    let vm = o.bin_dir.join("menai-vm");
    let r = run_once(Command::new(&vm).arg("--stats").arg(&bc));
    if !r.ok {
        return Err(format!("menai-vm --stats: {}", first_line(&r.stderr)));
    }
    let instructions = parse_instructions(&r.stderr)
        .or_else(|| parse_instructions(&r.stdout))
        .ok_or_else(|| "menai-vm --stats printed no instruction count".to_string())?;
    let (time, _) = time_median(o.runs, || {
        let mut c = Command::new(&vm);
        c.arg(&bc);
        c
    })?;
    Ok(LevelRun { instructions, time })
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("menai-bench: {e}");
            std::process::exit(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let menai = o.bin_dir.join("menai");
    if !menai.is_file() {
        eprintln!(
            "menai-bench: {} not found; build first with `cargo build --release --bins` (or pass --bin-dir)",
            menai.display()
        );
        std::process::exit(2);
    }
    let mut programs: Vec<PathBuf> = std::fs::read_dir(root.join("programs"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    programs.retain(|p| p.extension().is_some_and(|e| e == "menai"));
    if let Some(f) = &o.filter {
        programs.retain(|p| {
            p.file_stem()
                .is_some_and(|s| s.to_string_lossy().contains(f.as_str()))
        });
    }
    programs.sort();
    if programs.is_empty() {
        eprintln!(
            "menai-bench: no programs in {}",
            root.join("programs").display()
        );
        std::process::exit(2);
    }
    let lua = on_path("lua5.4");
    let mut failed = false;
    let mut lua_logs: Vec<f64> = Vec::new();

    println!(
        "menai-bench: {} runs each, median wall time; tools from {}",
        o.runs,
        o.bin_dir.display()
    );
    match &lua {
        Some(p) => println!("peer: {}", p.display()),
        None => println!("peer: lua5.4 not installed, skipped"),
    }
    println!();
    println!(
        "{:<8} {:>16} {:>10} {:>10} {:>10}",
        "program", "result", "menai", "lua5.4", "menai/lua"
    );
    for p in &programs {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected = std::fs::read_to_string(p.with_extension("out"))
            .ok()
            .map(|s| s.trim().to_string());
        let (mtime, result) = match time_median(o.runs, || {
            let mut c = Command::new(&menai);
            c.arg("run").arg(p);
            c
        }) {
            Ok(r) => r,
            Err(e) => {
                println!("{name:<8} menai failed: {e}");
                failed = true;
                continue;
            }
        };
        let mut note = String::new();
        if let Some(exp) = &expected {
            if *exp != result {
                note = format!("  WRONG RESULT (expected {exp})");
                failed = true;
            }
        }
        let lua_file = root.join("lua").join(format!("{name}.lua"));
        let (ltime, ratio) = match (&lua, lua_file.is_file()) {
            (Some(l), true) => match time_median(o.runs, || {
                let mut c = Command::new(l);
                c.arg(&lua_file);
                c
            }) {
                Ok((t, lres)) => {
                    if lres != result {
                        note.push_str(&format!("  (lua printed {lres})"));
                    }
                    let ratio = mtime.as_secs_f64() / t.as_secs_f64().max(1e-9);
                    lua_logs.push(ratio.ln());
                    (secs(t), format!("{ratio:.2}x"))
                }
                Err(e) => (format!("failed: {e}"), "-".into()),
            },
            _ => ("-".into(), "-".into()),
        };
        println!(
            "{name:<8} {result:>16} {:>10} {ltime:>10} {ratio:>10}{note}",
            secs(mtime)
        );
    }

    if !lua_logs.is_empty() {
        let g = (lua_logs.iter().sum::<f64>() / lua_logs.len() as f64).exp();
        println!(
            "{:<8} {:>16} {:>10} {:>10} {:>9.2}x",
            "geomean", "", "", "", g
        );
    }

    if !o.skip_stats {
        println!();
        println!(
            "instructions executed (menai-vm --stats) and run time (menai-vm, median of {})",
            o.runs
        );
        println!(
            "{:<8} {:>14} {:>14} {:>9} {:>10} {:>10}",
            "program", "-O0", "-O2", "-O2/-O0", "time -O0", "time -O2"
        );
        let tmp = std::env::temp_dir().join(format!("menai-bench-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&tmp) {
            eprintln!("menai-bench: cannot create {}: {e}", tmp.display());
            std::process::exit(2);
        }
        let mut log_sum = 0.0;
        let mut count = 0usize;
        for p in &programs {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match (run_level(&o, p, "-O0", &tmp), run_level(&o, p, "-O2", &tmp)) {
                (Ok(a), Ok(b)) => {
                    let ratio = b.instructions as f64 / (a.instructions as f64).max(1.0);
                    if ratio > 0.0 {
                        log_sum += ratio.ln();
                        count += 1;
                    }
                    println!(
                        "{name:<8} {:>14} {:>14} {ratio:>9.3} {:>10} {:>10}",
                        a.instructions,
                        b.instructions,
                        secs(a.time),
                        secs(b.time)
                    );
                }
                (Err(e), _) | (_, Err(e)) => println!("{name:<8} unavailable: {e}"),
            }
        }
        if count > 0 {
            println!(
                "{:<8} {:>14} {:>14} {:>9.3}",
                "geomean",
                "",
                "",
                (log_sum / count as f64).exp()
            );
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if !o.skip_stats {
        if let Err(e) = compile_scaling(&o, &menai) {
            println!("optimizer scaling unavailable: {e}");
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// A generated program of size `n`: one function with `n` sequential
/// `let*` bindings, each an `if` (`branches`); a `letrec` of `n` small
/// functions each calling the previous one (`functions`); or `n`
/// `let*`-bound lambdas each called once, all as the elements of one `list`
/// (`calls`: many inlinings into one block, one very wide instruction).
fn generated(shape: &str, n: usize) -> String {
    let mut s = String::new();
    if shape == "branches" {
        s.push_str("(let ((f (lambda (x) (let* (");
        for i in 0..n {
            let prev = if i == 0 {
                "x".to_string()
            } else {
                format!("v{}", i - 1)
            };
            s.push_str(&format!(
                "(v{i} (if (integer<? x {i}) (integer+ {prev} 1) (integer* {prev} 2)))\n"
            ));
        }
        s.push_str(&format!(") v{})))) (f 5))", n - 1));
    } else if shape == "calls" {
        s.push_str("(let* (");
        for i in 0..n {
            s.push_str(&format!(
                "(f{i} (lambda (x) (if (integer<? x {i}) (integer+ x 1) (integer* x 2))))\n"
            ));
        }
        s.push_str(") (list");
        for i in 0..n {
            s.push_str(&format!(" (f{i} {i})"));
        }
        s.push_str("))");
    } else {
        s.push_str("(letrec (");
        for i in 0..n {
            let body = if i == 0 {
                "x".to_string()
            } else {
                format!("(f{} (integer+ x 1))", i - 1)
            };
            s.push_str(&format!(
                "(f{i} (lambda (x) (if (integer<? x {i}) {body} (integer* x 2))))\n"
            ));
        }
        s.push_str(&format!(") (f{} 0))", n - 1));
    }
    s
}

/// Optimization time (`menai-opt -O2` on the `.mir`, median) of generated
/// programs of size n and 10n: the optimizer should scale linearly (target:
/// 10x the size in at most 15x the time). The frontend (`menaic`) runs once
/// per program, untimed.
fn compile_scaling(o: &Options, menai: &Path) -> Result<(), String> {
    let bin = menai.parent().unwrap_or(Path::new("."));
    let (menaic, opt) = (bin.join("menaic"), bin.join("menai-opt"));
    let tmp = std::env::temp_dir().join(format!("menai-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    println!();
    println!(
        "optimization time, menai-opt -O2 (median of {}), generated programs",
        o.runs
    );
    println!(
        "{:<10} {:>8} {:>10} {:>8} {:>10} {:>7}",
        "shape", "n", "time", "10n", "time", "ratio"
    );
    for (shape, n) in [("branches", 2000), ("functions", 2000), ("calls", 2000)] {
        let mut times = Vec::new();
        for size in [n, 10 * n] {
            let src = tmp.join(format!("{shape}{size}.menai"));
            std::fs::write(&src, generated(shape, size)).map_err(|e| e.to_string())?;
            let mir = tmp.join(format!("{shape}{size}.mir"));
            let r = run_once(Command::new(&menaic).arg(&src).arg("-o").arg(&mir));
            if !r.ok {
                return Err(format!("menaic: {}", first_line(&r.stderr)));
            }
            let out = tmp.join("out.bc");
            let (t, _) = time_median(o.runs, || {
                let mut c = Command::new(&opt);
                c.arg("-O2").arg(&mir).arg("-o").arg(&out);
                c
            })?;
            times.push(t);
        }
        let ratio = times[1].as_secs_f64() / times[0].as_secs_f64().max(1e-9);
        println!(
            "{shape:<10} {n:>8} {:>10} {:>8} {:>10} {ratio:>6.1}x",
            secs(times[0]),
            10 * n,
            secs(times[1])
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
