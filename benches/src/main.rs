//! `menai-bench`: times the benchmark programs in `benches/programs/` and
//! compares them with peer language implementations.
//!
//! What is measured, and how:
//!
//! * **Run time and memory.** Every measured command is a child process
//!   reaped with `wait4(2)`, which returns that child's resource usage: the
//!   time is its CPU time (user + system), the memory its peak resident set
//!   (`ru_maxrss`, KiB on Linux). CPU time ignores time spent waiting for
//!   the CPU, so it is less noisy than wall time on a shared machine.
//! * **Runners.** Each `NAME.menai` is run with `menai run`. Peers run the
//!   same program when installed (looked up on `PATH`) and when their file
//!   exists: `lua5.4 benches/lua/NAME.lua`, `luajit -joff
//!   benches/lua/NAME.lua` (LuaJIT's interpreter) and Chez Scheme
//!   (`chezscheme` or `scheme`) `--script benches/scheme/NAME.ss`. With
//!   `--baseline-bin-dir DIR`, `DIR/menai run NAME.menai` (an older build)
//!   is a runner too.
//! * **Interleaving.** A program gets N rounds (`--runs`, default 5); each
//!   round runs every runner once, so machine noise hits all of them alike.
//!   A runner's time is its minimum CPU time over the rounds, its memory
//!   the maximum peak RSS. Every printed result is checked against
//!   `NAME.out` (trimmed); a wrong menai result is an error, a wrong peer
//!   result is reported.
//! * **Ratios.** menai/runner CPU time per program, and their geometric
//!   mean over the programs.
//! * **Start-up.** `menai run` of a program that is just `1`, minimum CPU
//!   time over max(N, 10) runs (target: under 2 ms; reported, not checked).
//! * **Instructions** (unless `--no-stats`): each program is built at -O0
//!   and -O2; `menai-vm --stats` gives the number of VM instructions
//!   executed, and `menai-vm` the CPU time of each build.
//! * **Optimizer scaling** (unless `--no-stats`): CPU time of `menai-opt
//!   -O2` on generated programs of size n and 10n.
//! * **Machine instructions per call** (`--callgrind`, needs `valgrind`):
//!   `fib.menai` is rebuilt for `fib 18` and `fib 22` and run under
//!   `valgrind --tool=callgrind`; the difference of the instruction totals
//!   divided by the difference of the Menai call counts (from `menai-vm
//!   --stats`) is the cost of one fib call (call + return + body), with the
//!   fixed start-up cost cancelled out.
//!
//! The report is printed and also written as `bench.md` and `bench.json` to
//! `--out-dir` (default `target/bench`). The tools are looked up next to
//! this executable (so `cargo run --release -p menai-benches` uses
//! `target/release/menai`), or in `--bin-dir DIR`. Unix only (`wait4`).

use serde_json::{json, Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "usage: menai-bench [OPTIONS]

Times each benches/programs/NAME.menai with `menai run` and, when installed
and when the file exists, its peers: `lua5.4` and `luajit -joff` on
benches/lua/NAME.lua, Chez Scheme (`chezscheme` or `scheme`) `--script` on
benches/scheme/NAME.ss. Each of N rounds runs every runner once; a runner's
time is its minimum CPU time (user+sys), its memory its peak RSS. Results are
checked against NAME.out. Also reports start-up time, VM instructions
executed at -O0 and -O2 and optimizer scaling, and writes bench.md and
bench.json.

options:
  -n, --runs N                 rounds per program (default 5)
      --bin-dir DIR            where menai, menai-vm, menaic and menai-opt are
                               (default: the directory of this executable)
      --baseline-bin-dir DIR   also time DIR/menai (an older build) and report
                               menai/baseline
      --filter NAME            only programs whose name contains NAME
      --no-stats               skip the instruction and optimizer-scaling tables
      --callgrind              measure machine instructions per fib call with
                               valgrind --tool=callgrind
      --out-dir DIR            where to write bench.md and bench.json
                               (default: target/bench)
  -h, --help                   print this help

exit status: 0 success; 1 menai failed or printed a wrong result, or the
report could not be written; 2 usage or setup error.";

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let parsed = args
        .map_err(|a| format!("argument is not valid UTF-8: {a:?}"))
        .and_then(|args| parse_args(args.into_iter()));
    let options = match parsed {
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(o)) => o,
        Err(e) => {
            eprintln!("menai-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(f) => {
            eprintln!("menai-bench: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

// ---------------------------------------------------------------------------
// Options

struct Options {
    runs: usize,
    bin_dir: PathBuf,
    baseline_dir: Option<PathBuf>,
    out_dir: PathBuf,
    filter: Option<String>,
    skip_stats: bool,
    callgrind: bool,
}

enum Parsed {
    Help,
    Run(Options),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut o = Options {
        runs: 5,
        bin_dir: exe_dir,
        baseline_dir: None,
        out_dir: PathBuf::from("target/bench"),
        filter: None,
        skip_stats: false,
        callgrind: false,
    };
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{a} needs {what}"));
        match a.as_str() {
            "--runs" | "-n" => {
                let v = value("a number")?;
                o.runs = v.parse().map_err(|_| format!("{a}: not a number: {v}"))?;
                if o.runs == 0 {
                    return Err(format!("{a} must be at least 1"));
                }
            }
            "--bin-dir" => o.bin_dir = PathBuf::from(value("a directory")?),
            "--baseline-bin-dir" => o.baseline_dir = Some(PathBuf::from(value("a directory")?)),
            "--out-dir" => o.out_dir = PathBuf::from(value("a directory")?),
            "--filter" => o.filter = Some(value("a name")?),
            "--no-stats" => o.skip_stats = true,
            "--callgrind" => o.callgrind = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Parsed::Run(o))
}

/// Why the benchmark stopped early: a message and the exit status.
struct Failure {
    code: u8,
    message: String,
}

/// A usage or setup error (exit status 2).
fn setup_error(message: String) -> Failure {
    Failure { code: 2, message }
}

// ---------------------------------------------------------------------------
// Measuring one child process

/// One finished child process.
struct Sample {
    /// Its standard output.
    stdout: String,
    /// CPU time, user + system, in seconds.
    cpu: f64,
    /// Peak resident set size in KiB.
    rss_kib: u64,
}

/// Runs `cmd` to completion with stdin closed and stdout and stderr
/// captured, and reaps it with `wait4` to get its resource usage. Fails when
/// the command cannot start or does not exit with status 0 (the message is
/// the first line of its stderr, or its exit status).
fn measure(cmd: &mut Command) -> Result<Sample, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{program}: process id out of range"));
    };
    // Read stderr on a thread so that neither pipe can fill up and block
    // the child while we wait on the other.
    let stderr_pipe = child.stderr.take();
    let stderr_reader = match std::thread::Builder::new().spawn(move || read_all(stderr_pipe)) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = child.kill();
            let _ = wait4(pid);
            return Err(format!("cannot start a thread to read stderr: {e}"));
        }
    };
    let stdout = read_all(child.stdout.take());
    let stderr = stderr_reader.join().unwrap_or_default();
    // `child` is only dropped, which neither waits nor kills: the process is
    // reaped by `wait4` alone.
    let (status, usage) = wait4(pid)?;
    drop(child);
    if let Some(failure) = exit_failure(status) {
        let first = first_line(&stderr);
        return Err(if first.is_empty() {
            format!("{program}: {failure}")
        } else {
            first
        });
    }
    Ok(Sample {
        stdout,
        cpu: (micros(usage.ru_utime) + micros(usage.ru_stime)) / 1e6,
        rss_kib: max_rss_kib(usage.ru_maxrss),
    })
}

fn read_all(pipe: Option<impl Read>) -> String {
    let mut bytes = Vec::new();
    if let Some(mut p) = pipe {
        // A read error leaves what was read so far; the exit status and the
        // output check report the problem.
        let _ = p.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits for the child `pid` and returns its wait status and resource usage.
fn wait4(pid: libc::pid_t) -> Result<(libc::c_int, libc::rusage), String> {
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers (and `timeval`s of
    // integers), for which the all-zero bit pattern is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is a child this process spawned and has not reaped
        // yet (std's `Child::wait`/`try_wait` are never called on it), so the
        // id still names that child and cannot have been reused; `status`
        // and `usage` are live, aligned, writable locals of the types wait4
        // expects, and it writes only within them during the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
}

/// Describes a wait status that is not "exited with 0", or `None`.
fn exit_failure(status: libc::c_int) -> Option<String> {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            code => Some(format!("exit status {code}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Some(format!("wait status {status:#x}"))
    }
}

/// A `timeval` in whole microseconds (exact in an `f64`), so that the
/// seconds computed from it print without rounding noise.
fn micros(t: libc::timeval) -> f64 {
    t.tv_sec as f64 * 1e6 + t.tv_usec as f64
}

/// `ru_maxrss` is in KiB on Linux and the BSDs, in bytes on Apple systems.
fn max_rss_kib(raw: libc::c_long) -> u64 {
    let raw = u64::try_from(raw).unwrap_or(0);
    if cfg!(target_vendor = "apple") {
        raw / 1024
    } else {
        raw
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The count before `word` on a `menai-vm --stats` line (`stats: 14808953
/// instructions, 2692537 calls, ...`), or after it (`calls: 2692537`).
fn stat_count(text: &str, word: &str) -> Option<u64> {
    let number = |t: &str| -> Option<u64> {
        let digits: String = t.chars().filter(|c| !matches!(c, '_' | ',')).collect();
        digits.parse().ok()
    };
    text.lines().find_map(|line| {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let i = tokens
            .iter()
            .position(|t| t.trim_matches(|c: char| !c.is_alphabetic()) == word)?;
        let before = i.checked_sub(1).and_then(|j| number(tokens[j]));
        before.or_else(|| tokens.get(i + 1).and_then(|t| number(t)))
    })
}

/// Runs `menai-vm --stats BC` and returns the given count from its report.
fn vm_stat(vm: &Path, bc: &Path, word: &str) -> Result<u64, String> {
    let out = Command::new(vm)
        .arg("--stats")
        .arg(bc)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", vm.display()))?;
    if !out.status.success() {
        return Err(format!(
            "menai-vm --stats: {}",
            first_line(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let std = String::from_utf8_lossy(&out.stdout);
    stat_count(&err, word)
        .or_else(|| stat_count(&std, word))
        .ok_or_else(|| format!("menai-vm --stats printed no {word} count"))
}

/// Builds `src` with `menai build LEVEL src -o bc`.
fn build(menai: &Path, level: &str, src: &Path, bc: &Path) -> Result<(), String> {
    measure(
        Command::new(menai)
            .arg("build")
            .arg(level)
            .arg(src)
            .arg("-o")
            .arg(bc),
    )
    .map(drop)
    .map_err(|e| format!("menai build {level}: {e}"))
}

/// Minimum CPU time of `runs` runs of `make()`.
fn min_cpu(runs: usize, make: impl Fn() -> Command) -> Result<f64, String> {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        best = best.min(measure(&mut make())?.cpu);
    }
    Ok(best)
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let dir = std::env::temp_dir().join(format!("menai-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Runners and the timing table

/// Something that runs one benchmark file: menai, a peer, or the baseline.
struct Runner {
    /// Short name: table columns and JSON keys.
    key: &'static str,
    exe: PathBuf,
    /// Arguments before the file.
    args: &'static [&'static str],
    /// Where its files are, and their extension.
    dir: PathBuf,
    ext: &'static str,
    /// Whether the table shows its RSS (menai and lua; JSON has all).
    show_rss: bool,
}

impl Runner {
    fn file(&self, program: &str) -> PathBuf {
        self.dir.join(format!("{program}.{}", self.ext))
    }

    fn command(&self, file: &Path) -> Command {
        let mut c = Command::new(&self.exe);
        c.args(self.args).arg(file);
        c
    }
}

/// The runners: menai first, then the installed peers and the baseline.
/// Also returns a note for each peer that is not installed.
fn runners(root: &Path, o: &Options) -> Result<(Vec<Runner>, Vec<String>), Failure> {
    let menai = o.bin_dir.join("menai");
    if !menai.is_file() {
        return Err(setup_error(format!(
            "{} not found; build first with `cargo build --release --bins` (or pass --bin-dir)",
            menai.display()
        )));
    }
    // A runner of `root/DIR/NAME.EXT` with `exe` still to be filled in.
    let runner = |key, args, dir: &str, ext, show_rss| Runner {
        key,
        exe: PathBuf::new(),
        args,
        dir: root.join(dir),
        ext,
        show_rss,
    };
    let mut list = vec![Runner {
        exe: menai,
        ..runner("menai", &["run"], "programs", "menai", true)
    }];
    let mut notes = Vec::new();
    // Each peer with the executable names to look for, in order.
    let peers: [(&[&str], Runner); 3] = [
        (&["lua5.4"], runner("lua", &[], "lua", "lua", true)),
        (
            &["luajit"],
            runner("luajit", &["-joff"], "lua", "lua", false),
        ),
        (
            &["chezscheme", "scheme"],
            runner("chez", &["--script"], "scheme", "ss", false),
        ),
    ];
    for (names, peer) in peers {
        match names.iter().find_map(|n| on_path(n)) {
            Some(exe) => list.push(Runner { exe, ..peer }),
            None => notes.push(format!(
                "{}: {} not on PATH, skipped",
                peer.key,
                names.join(" or ")
            )),
        }
    }
    if let Some(dir) = &o.baseline_dir {
        let exe = dir.join("menai");
        if !exe.is_file() {
            return Err(setup_error(format!(
                "--baseline-bin-dir: {} not found",
                exe.display()
            )));
        }
        list.push(Runner {
            exe,
            ..runner("baseline", &["run"], "programs", "menai", false)
        });
    }
    Ok((list, notes))
}

/// The names of `benches/programs/*.menai` matching the filter, sorted.
fn discover(root: &Path, filter: Option<&str>) -> Result<Vec<String>, Failure> {
    let dir = root.join("programs");
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| setup_error(format!("cannot list {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "menai"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|n| filter.is_none_or(|f| n.contains(f)))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(setup_error(format!(
            "no programs{} in {}",
            filter.map_or(String::new(), |f| format!(" matching {f:?}")),
            dir.display()
        )));
    }
    Ok(names)
}

/// What one runner did on one program over all rounds.
#[derive(Default)]
struct Measured {
    /// Minimum CPU time in seconds over the successful rounds.
    cpu: Option<f64>,
    /// Maximum peak RSS in KiB.
    rss_kib: u64,
    /// The trimmed output of the first round.
    output: Option<String>,
    /// A trimmed output that differed from the reference.
    mismatch: Option<String>,
    /// The first failure; a failed runner is not run again.
    error: Option<String>,
}

impl Measured {
    fn record(&mut self, run: Result<Sample, String>, reference: Option<&str>) {
        match run {
            Err(e) => self.error = Some(e),
            Ok(s) => {
                self.cpu = Some(self.cpu.map_or(s.cpu, |c| c.min(s.cpu)));
                self.rss_kib = self.rss_kib.max(s.rss_kib);
                let out = s.stdout.trim().to_string();
                if self.mismatch.is_none() && reference.is_some_and(|r| r != out) {
                    self.mismatch = Some(out.clone());
                }
                self.output.get_or_insert(out);
            }
        }
    }

    /// The CPU time, unless the runner failed.
    fn time(&self) -> Option<f64> {
        self.cpu.filter(|_| self.error.is_none())
    }
}

/// One program's results: `measured[i]` belongs to `runners[i]`, `None`
/// when that runner has no file for the program.
struct ProgramResult {
    name: String,
    expected: Option<String>,
    measured: Vec<Option<Measured>>,
}

impl ProgramResult {
    fn menai(&self) -> Option<&Measured> {
        self.measured.first().and_then(Option::as_ref)
    }

    /// Menai ran and printed the expected result (or there is no `.out`).
    fn ok(&self) -> bool {
        self.menai()
            .is_some_and(|m| m.error.is_none() && m.mismatch.is_none() && m.output.is_some())
    }

    /// menai CPU time / runner `i`'s CPU time, when both ran and printed
    /// the expected result.
    fn ratio(&self, i: usize) -> Option<f64> {
        let checked = |m: &Measured| m.time().filter(|_| m.mismatch.is_none());
        let menai = checked(self.menai()?)?;
        let other = checked(self.measured.get(i)?.as_ref()?)?;
        (other > 0.0).then(|| menai / other)
    }

    fn result_cell(&self) -> String {
        match self.menai() {
            Some(m) if m.error.is_some() => "FAILED".into(),
            Some(m) if m.mismatch.is_some() => "WRONG".into(),
            Some(m) => shorten(m.output.as_deref().unwrap_or("-"), 24),
            None => "-".into(),
        }
    }
}

/// Runs `rounds` rounds of every runner on program `name`.
fn bench_program(runners: &[Runner], name: &str, rounds: usize) -> ProgramResult {
    let expected = std::fs::read_to_string(runners[0].dir.join(format!("{name}.out")))
        .ok()
        .map(|s| s.trim().to_string());
    let files: Vec<Option<PathBuf>> = runners
        .iter()
        .map(|r| Some(r.file(name)).filter(|f| f.is_file()))
        .collect();
    let mut measured: Vec<Option<Measured>> = files
        .iter()
        .map(|f| f.as_ref().map(|_| Measured::default()))
        .collect();
    for _ in 0..rounds {
        for (i, runner) in runners.iter().enumerate() {
            // Without a .out file, peers are checked against menai.
            let reference = expected.clone().or_else(|| {
                let menai = measured.first().and_then(Option::as_ref)?;
                menai.output.clone().filter(|_| i > 0)
            });
            let (Some(file), Some(Some(m))) = (&files[i], measured.get_mut(i)) else {
                continue;
            };
            if m.error.is_none() {
                m.record(measure(&mut runner.command(file)), reference.as_deref());
            }
        }
    }
    ProgramResult {
        name: name.to_string(),
        expected,
        measured,
    }
}

/// Geometric mean of the positive, finite values, if any.
fn geomean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let logs: Vec<f64> = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(f64::ln)
        .collect();
    (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// Geometric mean of menai/runner `i` over the programs, for each runner
/// (`None` for menai itself).
fn ratio_geomeans(runners: &[Runner], results: &[ProgramResult]) -> Vec<Option<f64>> {
    (0..runners.len())
        .map(|i| {
            if i == 0 {
                None
            } else {
                geomean(results.iter().filter_map(|r| r.ratio(i)))
            }
        })
        .collect()
}

fn timing_table(runners: &[Runner], results: &[ProgramResult], geo: &[Option<f64>]) -> Table {
    let mut header = vec!["program".to_string(), "result".to_string()];
    for (i, r) in runners.iter().enumerate() {
        header.push(format!("{} CPU ms", r.key));
        if r.show_rss {
            header.push(format!("{} RSS KiB", r.key));
        }
        if i > 0 {
            header.push(format!("menai/{}", r.key));
        }
    }
    let mut rows: Vec<Vec<String>> = results
        .iter()
        .map(|p| {
            let mut row = vec![p.name.clone(), p.result_cell()];
            for (i, r) in runners.iter().enumerate() {
                let m = p.measured.get(i).and_then(Option::as_ref);
                row.push(match m {
                    Some(m) if m.error.is_some() => "failed".into(),
                    Some(m) => opt_cell(m.cpu, ms),
                    None => "-".into(),
                });
                if r.show_rss {
                    row.push(opt_cell(m.and_then(|m| m.time().map(|_| m.rss_kib)), |k| {
                        k.to_string()
                    }));
                }
                if i > 0 {
                    row.push(opt_cell(p.ratio(i), ratio));
                }
            }
            row
        })
        .collect();
    if geo.iter().any(Option::is_some) {
        let mut row = vec!["geomean".to_string(), String::new()];
        for (r, g) in runners.iter().zip(geo) {
            row.push(String::new());
            if r.show_rss {
                row.push(String::new());
            }
            if r.key != "menai" {
                row.push(opt_cell(*g, ratio));
            }
        }
        rows.push(row);
    }
    Table { header, rows }
}

/// Failures, wrong outputs and unchecked results, one line each.
fn result_notes(runners: &[Runner], results: &[ProgramResult]) -> Vec<String> {
    let mut notes = Vec::new();
    for p in results {
        if p.expected.is_none() {
            notes.push(format!("{}: no {}.out, result unchecked", p.name, p.name));
        }
        for (r, m) in runners.iter().zip(&p.measured) {
            let Some(m) = m else { continue };
            if let Some(e) = &m.error {
                notes.push(format!("{}: {} failed: {e}", p.name, r.key));
            }
            if let Some(out) = &m.mismatch {
                let expected = p.expected.as_deref().unwrap_or("menai's result");
                notes.push(format!(
                    "{}: {} printed {:?}, expected {:?}",
                    p.name,
                    r.key,
                    shorten(out, 60),
                    shorten(expected, 60)
                ));
            }
        }
    }
    notes
}

// ---------------------------------------------------------------------------
// Start-up, instruction counts, optimizer scaling, callgrind

/// Start-up cost: `menai run` of the program `1`.
struct Startup {
    runs: usize,
    cpu: f64,
    rss_kib: u64,
}

fn startup(o: &Options, menai: &Path, tmp: &TempDir) -> Result<Startup, String> {
    let src = tmp.path("one.menai");
    write_file(&src, "1\n")?;
    let runs = o.runs.max(10);
    let mut best = Startup {
        runs,
        cpu: f64::INFINITY,
        rss_kib: 0,
    };
    for _ in 0..runs {
        let s = measure(Command::new(menai).arg("run").arg(&src))?;
        if s.stdout.trim() != "1" {
            return Err(format!("menai run printed {:?}", s.stdout.trim()));
        }
        best.cpu = best.cpu.min(s.cpu);
        best.rss_kib = best.rss_kib.max(s.rss_kib);
    }
    Ok(best)
}

/// One program at -O0 and -O2: VM instructions executed and CPU time.
struct Levels {
    instructions: [u64; 2],
    cpu: [f64; 2],
}

const LEVELS: [&str; 2] = ["-O0", "-O2"];

fn levels(o: &Options, name: &str, root: &Path, tmp: &TempDir) -> Result<Levels, String> {
    let src = root.join("programs").join(format!("{name}.menai"));
    let vm = o.bin_dir.join("menai-vm");
    let mut bcs = Vec::new();
    let mut instructions = [0; 2];
    for (i, level) in LEVELS.iter().enumerate() {
        let bc = tmp.path(&format!("{name}{level}.bc"));
        build(&o.bin_dir.join("menai"), level, &src, &bc)?;
        instructions[i] = vm_stat(&vm, &bc, "instructions")?;
        bcs.push(bc);
    }
    // Interleaved like the timing table: each round runs both builds.
    let mut cpu = [f64::INFINITY; 2];
    for _ in 0..o.runs {
        for (c, bc) in cpu.iter_mut().zip(&bcs) {
            *c = c.min(measure(Command::new(&vm).arg(bc))?.cpu);
        }
    }
    Ok(Levels { instructions, cpu })
}

fn levels_table(results: &[(String, Result<Levels, String>)]) -> (Table, Option<f64>) {
    let header = [
        "program",
        "-O0",
        "-O2",
        "-O2/-O0",
        "-O0 CPU ms",
        "-O2 CPU ms",
    ];
    let mut rows: Vec<Vec<String>> = results
        .iter()
        .map(|(name, r)| match r {
            Ok(l) => vec![
                name.clone(),
                l.instructions[0].to_string(),
                l.instructions[1].to_string(),
                format!("{:.3}", level_ratio(l)),
                ms(l.cpu[0]),
                ms(l.cpu[1]),
            ],
            Err(e) => vec![name.clone(), format!("unavailable: {e}")],
        })
        .collect();
    let geo = geomean(
        results
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().map(level_ratio)),
    );
    if let Some(g) = geo {
        rows.push(vec![
            "geomean".into(),
            String::new(),
            String::new(),
            format!("{g:.3}"),
            String::new(),
            String::new(),
        ]);
    }
    let header = header.iter().map(|h| h.to_string()).collect();
    (Table { header, rows }, geo)
}

fn level_ratio(l: &Levels) -> f64 {
    l.instructions[1] as f64 / (l.instructions[0] as f64).max(1.0)
}

/// Optimizer CPU time on one generated program shape at sizes n and 10n.
struct Scaling {
    shape: &'static str,
    n: usize,
    cpu: [f64; 2],
}

/// CPU time of `menai-opt -O2` on the `.mir` of generated programs of size
/// n and 10n: the optimizer should scale linearly (target: 10x the size in
/// at most 15x the time). The frontend (`menaic`) runs once per program,
/// untimed.
fn compile_scaling(o: &Options, tmp: &TempDir) -> Result<Vec<Scaling>, String> {
    let (menaic, opt) = (o.bin_dir.join("menaic"), o.bin_dir.join("menai-opt"));
    let mut rows = Vec::new();
    for (shape, n) in [("branches", 2000), ("functions", 2000), ("calls", 2000)] {
        let mut cpu = [0.0; 2];
        for (c, size) in cpu.iter_mut().zip([n, 10 * n]) {
            let src = tmp.path(&format!("{shape}{size}.menai"));
            write_file(&src, &generated(shape, size))?;
            let mir = tmp.path(&format!("{shape}{size}.mir"));
            measure(Command::new(&menaic).arg(&src).arg("-o").arg(&mir))
                .map_err(|e| format!("menaic: {e}"))?;
            let out = tmp.path("scaled.bc");
            *c = min_cpu(o.runs, || {
                let mut c = Command::new(&opt);
                c.arg("-O2").arg(&mir).arg("-o").arg(&out);
                c
            })?;
        }
        rows.push(Scaling { shape, n, cpu });
    }
    Ok(rows)
}

fn scaling_table(rows: &[Scaling]) -> Table {
    let header = ["shape", "n", "CPU ms", "10n", "CPU ms", "ratio"];
    Table {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows: rows
            .iter()
            .map(|s| {
                vec![
                    s.shape.to_string(),
                    s.n.to_string(),
                    ms(s.cpu[0]),
                    (10 * s.n).to_string(),
                    ms(s.cpu[1]),
                    format!("{:.1}x", s.cpu[1] / s.cpu[0].max(1e-9)),
                ]
            })
            .collect(),
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
        s.push_str(&format!(") v{})))) (f 5))", n.saturating_sub(1)));
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
        s.push_str(&format!(") (f{} 0))", n.saturating_sub(1)));
    }
    s
}

/// One callgrind run of `fib N` built at -O2.
struct CallgrindPoint {
    n: u32,
    /// Machine instructions executed (callgrind's total `Ir`).
    ir: u64,
    /// Menai calls and VM instructions (`menai-vm --stats`).
    calls: u64,
    vm_instructions: u64,
}

struct Callgrind {
    points: [CallgrindPoint; 2],
    per_call: f64,
    per_vm_instruction: f64,
}

const CALLGRIND_ARGS: [u32; 2] = [18, 22];

/// Machine instructions per fib call: (Ir(fib 22) - Ir(fib 18)) /
/// (calls(fib 22) - calls(fib 18)).
fn callgrind(o: &Options, root: &Path, tmp: &TempDir) -> Result<Callgrind, String> {
    let valgrind = on_path("valgrind").ok_or("valgrind not installed (not on PATH), skipped")?;
    let fib = root.join("programs").join("fib.menai");
    let source =
        std::fs::read_to_string(&fib).map_err(|e| format!("cannot read {}: {e}", fib.display()))?;
    let mut points = Vec::new();
    for n in CALLGRIND_ARGS {
        points.push(callgrind_point(o, &valgrind, &source, n, tmp)?);
    }
    let [a, b]: [CallgrindPoint; 2] = points
        .try_into()
        .map_err(|_| "expected two callgrind runs".to_string())?;
    if b.calls <= a.calls || b.vm_instructions <= a.vm_instructions || b.ir < a.ir {
        return Err(format!(
            "fib {} does not do more work than fib {} (calls {} vs {}, Ir {} vs {})",
            b.n, a.n, b.calls, a.calls, b.ir, a.ir
        ));
    }
    let ir = (b.ir - a.ir) as f64;
    Ok(Callgrind {
        per_call: ir / (b.calls - a.calls) as f64,
        per_vm_instruction: ir / (b.vm_instructions - a.vm_instructions) as f64,
        points: [a, b],
    })
}

fn callgrind_point(
    o: &Options,
    valgrind: &Path,
    source: &str,
    n: u32,
    tmp: &TempDir,
) -> Result<CallgrindPoint, String> {
    let src = tmp.path(&format!("fib{n}.menai"));
    write_file(&src, &fib_variant(source, n)?)?;
    let bc = tmp.path(&format!("fib{n}.bc"));
    build(&o.bin_dir.join("menai"), "-O2", &src, &bc)?;
    let vm = o.bin_dir.join("menai-vm");
    let calls = vm_stat(&vm, &bc, "calls")?;
    let vm_instructions = vm_stat(&vm, &bc, "instructions")?;
    let out = tmp.path(&format!("callgrind.fib{n}.out"));
    let mut flag = std::ffi::OsString::from("--callgrind-out-file=");
    flag.push(&out);
    measure(
        Command::new(valgrind)
            .arg("--tool=callgrind")
            .arg(flag)
            .arg(&vm)
            .arg(&bc),
    )
    .map_err(|e| format!("valgrind: {e}"))?;
    let text =
        std::fs::read_to_string(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    let ir = callgrind_total(&text)
        .ok_or_else(|| format!("no totals: or summary: line in {}", out.display()))?;
    Ok(CallgrindPoint {
        n,
        ir,
        calls,
        vm_instructions,
    })
}

/// The first event count (`Ir`) on the `totals:` line of a callgrind out
/// file, or on its `summary:` line.
fn callgrind_total(text: &str) -> Option<u64> {
    let count = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|w| w.parse().ok())
    };
    count("totals:").or_else(|| count("summary:"))
}

/// `source` with the argument of its last `(fib N)` call replaced by `n`.
fn fib_variant(source: &str, n: u32) -> Result<String, String> {
    const CALL: &str = "(fib ";
    let start = source
        .match_indices(CALL)
        .map(|(i, _)| i + CALL.len())
        .filter(|&i| {
            let digits = source[i..].bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && source[i + digits..].starts_with(')')
        })
        .last()
        .ok_or("fib.menai has no `(fib N)` call with a literal N")?;
    let digits = source[start..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    Ok(format!(
        "{}{n}{}",
        &source[..start],
        &source[start + digits..]
    ))
}

// ---------------------------------------------------------------------------
// The report: text, Markdown and JSON

/// A table rendered as aligned text or as Markdown. The first column is
/// left-aligned, the others right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn text(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row.iter().take(columns)) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                match i {
                    0 => s.push_str(&format!("{cell:<w$}")),
                    // In a short row the last cell is free text (an error).
                    _ if i >= columns || (cells.len() < columns && i + 1 == cells.len()) => {
                        s.push_str(&format!("  {cell}"))
                    }
                    _ => s.push_str(&format!("  {cell:>w$}")),
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    fn markdown(&self) -> String {
        let cell = |c: &str| c.replace('|', "\\|");
        let mut out = format!(
            "| {} |\n|{}\n",
            self.header
                .iter()
                .map(|h| cell(h))
                .collect::<Vec<_>>()
                .join(" | "),
            (0..self.header.len())
                .map(|i| if i == 0 { ":---|" } else { "---:|" })
                .collect::<String>()
        );
        for row in &self.rows {
            let mut cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            cells.resize(self.header.len().max(cells.len()), String::new());
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

/// A part of the report.
enum Block {
    Heading(String),
    Lines(Vec<String>),
    Table(Table),
}

fn render_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(h) => out.push_str(&format!("\n{h}\n")),
            Block::Lines(lines) => lines.iter().for_each(|l| out.push_str(&format!("{l}\n"))),
            Block::Table(t) => out.push_str(&t.text()),
        }
    }
    out
}

fn render_markdown(blocks: &[Block]) -> String {
    let mut out = String::from("# menai-bench\n");
    for b in blocks {
        match b {
            Block::Heading(h) => out.push_str(&format!("\n## {h}\n")),
            Block::Lines(lines) => {
                out.push('\n');
                lines.iter().for_each(|l| out.push_str(&format!("- {l}\n")));
            }
            Block::Table(t) => out.push_str(&format!("\n{}", t.markdown())),
        }
    }
    out
}

/// Everything measured.
struct Report<'a> {
    options: &'a Options,
    runners: &'a [Runner],
    peer_notes: Vec<String>,
    results: Vec<ProgramResult>,
    geomeans: Vec<Option<f64>>,
    startup: Result<Startup, String>,
    levels: Option<Vec<(String, Result<Levels, String>)>>,
    scaling: Option<Result<Vec<Scaling>, String>>,
    callgrind: Option<Result<Callgrind, String>>,
}

impl Report<'_> {
    fn blocks(&self) -> Vec<Block> {
        let o = self.options;
        let mut tools: Vec<String> = self
            .runners
            .iter()
            .map(|r| format!("{}: {}", r.key, r.exe.display()))
            .collect();
        tools.extend(self.peer_notes.iter().cloned());
        let mut blocks = vec![
            Block::Lines(vec![format!(
                "{} interleaved rounds per program; CPU time (user+sys) is the minimum, RSS the maximum",
                o.runs
            )]),
            Block::Lines(tools),
            Block::Heading("run time".into()),
            Block::Table(timing_table(self.runners, &self.results, &self.geomeans)),
        ];
        let notes = result_notes(self.runners, &self.results);
        if !notes.is_empty() {
            blocks.push(Block::Lines(notes));
        }
        blocks.push(Block::Heading("start-up".into()));
        blocks.push(Block::Lines(vec![match &self.startup {
            Ok(s) => format!(
                "menai run of `1`: {} ms CPU (min of {}, target < 2 ms), {} KiB RSS",
                ms(s.cpu),
                s.runs,
                s.rss_kib
            ),
            Err(e) => format!("unavailable: {e}"),
        }]));
        if let Some(levels) = &self.levels {
            blocks.push(Block::Heading(format!(
                "VM instructions executed (menai-vm --stats) and CPU time (menai-vm, min of {})",
                o.runs
            )));
            blocks.push(Block::Table(levels_table(levels).0));
        }
        if let Some(scaling) = &self.scaling {
            blocks.push(Block::Heading(format!(
                "optimization CPU time, menai-opt -O2 (min of {}), generated programs",
                o.runs
            )));
            blocks.push(match scaling {
                Ok(rows) => Block::Table(scaling_table(rows)),
                Err(e) => Block::Lines(vec![format!("unavailable: {e}")]),
            });
        }
        if let Some(cg) = &self.callgrind {
            blocks.push(Block::Heading("callgrind (fib, -O2, menai-vm)".into()));
            blocks.push(Block::Lines(match cg {
                Ok(c) => callgrind_lines(c),
                Err(e) => vec![e.clone()],
            }));
        }
        blocks
    }

    fn json(&self) -> Value {
        let o = self.options;
        let mut tools = Map::new();
        tools.insert("bin_dir".into(), json!(o.bin_dir.display().to_string()));
        let vm = o.bin_dir.join("menai-vm");
        tools.insert("menai_vm".into(), json!(vm.display().to_string()));
        if o.callgrind {
            let valgrind = on_path("valgrind").map(|p| p.display().to_string());
            tools.insert("valgrind".into(), json!(valgrind));
        }
        for r in self.runners {
            tools.insert(r.key.into(), json!(r.exe.display().to_string()));
        }
        let programs: Vec<Value> = self.results.iter().map(|p| self.program_json(p)).collect();
        let mut geomeans = Map::new();
        for (r, g) in self.runners.iter().zip(&self.geomeans) {
            if let Some(g) = g {
                geomeans.insert(format!("menai/{}", r.key), json!(g));
            }
        }
        json!({
            "runs": o.runs,
            "units": "cpu_s: minimum CPU seconds (user+sys) over the runs; rss_kib: maximum peak RSS in KiB",
            "tools": tools,
            "notes": self.peer_notes.iter().cloned()
                .chain(result_notes(self.runners, &self.results))
                .collect::<Vec<_>>(),
            "programs": programs,
            "geomeans": geomeans,
            "startup": match &self.startup {
                Ok(s) => json!({"runs": s.runs, "cpu_ms": s.cpu * 1e3, "rss_kib": s.rss_kib}),
                Err(e) => json!({"error": e}),
            },
            "instructions": self.levels.as_ref().map(|l| levels_json(l)),
            "compile_scaling": self.scaling.as_ref().map(|s| match s {
                Ok(rows) => json!(rows.iter().map(|s| json!({
                    "shape": s.shape,
                    "n": s.n,
                    "cpu_s": s.cpu[0],
                    "n10": 10 * s.n,
                    "cpu_s_10n": s.cpu[1],
                    "ratio": s.cpu[1] / s.cpu[0].max(1e-9),
                })).collect::<Vec<_>>()),
                Err(e) => json!({"error": e}),
            }),
            "callgrind": self.callgrind.as_ref().map(|c| match c {
                Ok(c) => callgrind_json(c),
                Err(e) => json!({"error": e}),
            }),
        })
    }

    fn program_json(&self, p: &ProgramResult) -> Value {
        let mut runners = Map::new();
        let mut ratios = Map::new();
        for (i, (r, m)) in self.runners.iter().zip(&p.measured).enumerate() {
            let Some(m) = m else { continue };
            runners.insert(
                r.key.into(),
                json!({
                    "file": r.file(&p.name).display().to_string(),
                    "cpu_s": m.time(),
                    "rss_kib": m.time().map(|_| m.rss_kib),
                    "output": m.output,
                    "output_ok": m.error.is_none() && m.mismatch.is_none(),
                    "error": m.error,
                }),
            );
            if let Some(x) = p.ratio(i).filter(|_| i > 0) {
                ratios.insert(format!("menai/{}", r.key), json!(x));
            }
        }
        json!({
            "name": p.name,
            "expected": p.expected,
            "result": p.menai().and_then(|m| m.output.clone()),
            "ok": p.ok(),
            "runners": runners,
            "ratios": ratios,
        })
    }
}

fn levels_json(levels: &[(String, Result<Levels, String>)]) -> Value {
    let programs: Vec<Value> = levels
        .iter()
        .map(|(name, r)| match r {
            Ok(l) => json!({
                "name": name,
                "instructions_O0": l.instructions[0],
                "instructions_O2": l.instructions[1],
                "ratio": level_ratio(l),
                "cpu_s_O0": l.cpu[0],
                "cpu_s_O2": l.cpu[1],
            }),
            Err(e) => json!({"name": name, "error": e}),
        })
        .collect();
    json!({"programs": programs, "geomean_ratio": levels_table(levels).1})
}

fn callgrind_lines(c: &Callgrind) -> Vec<String> {
    let mut lines: Vec<String> = c
        .points
        .iter()
        .map(|p| {
            format!(
                "fib {}: {} machine instructions (Ir), {} Menai calls, {} VM instructions",
                p.n, p.ir, p.calls, p.vm_instructions
            )
        })
        .collect();
    lines.push(format!(
        "machine instructions per fib call (call + return + body): {:.1}",
        c.per_call
    ));
    lines.push(format!(
        "machine instructions per VM instruction: {:.1}",
        c.per_vm_instruction
    ));
    lines
}

fn callgrind_json(c: &Callgrind) -> Value {
    json!({
        "runs": c.points.iter().map(|p| json!({
            "n": p.n,
            "ir": p.ir,
            "calls": p.calls,
            "vm_instructions": p.vm_instructions,
        })).collect::<Vec<_>>(),
        "machine_instructions_per_call": c.per_call,
        "machine_instructions_per_vm_instruction": c.per_vm_instruction,
    })
}

fn ms(seconds: f64) -> String {
    format!("{:.2}", seconds * 1e3)
}

fn ratio(x: f64) -> String {
    format!("{x:.2}x")
}

fn opt_cell<T>(v: Option<T>, show: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "-".to_string(), show)
}

/// `s` on one line, cut to at most `max` characters.
fn shorten(s: &str, max: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        one_line
            .chars()
            .take(max.saturating_sub(1))
            .collect::<String>()
            + "…"
    }
}

fn write_reports(dir: &Path, markdown: &str, json: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(json).map_err(|e| format!("JSON: {e}"))?;
    write_file(&dir.join("bench.md"), markdown)?;
    write_file(&dir.join("bench.json"), &(text + "\n"))
}

// ---------------------------------------------------------------------------
// Main flow

/// Runs everything; `Ok(false)` when a menai run failed or was wrong.
fn run(o: &Options) -> Result<bool, Failure> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (runners, peer_notes) = runners(root, o)?;
    let programs = discover(root, o.filter.as_deref())?;
    std::fs::create_dir_all(&o.out_dir)
        .map_err(|e| setup_error(format!("cannot create {}: {e}", o.out_dir.display())))?;
    let tmp = TempDir::new().map_err(setup_error)?;

    let results: Vec<ProgramResult> = programs
        .iter()
        .map(|name| {
            eprintln!("menai-bench: {name} ({} rounds)", o.runs);
            bench_program(&runners, name, o.runs)
        })
        .collect();
    eprintln!("menai-bench: start-up");
    let startup = startup(o, &runners[0].exe, &tmp);
    let levels = (!o.skip_stats).then(|| {
        eprintln!("menai-bench: instruction counts");
        programs
            .iter()
            .map(|name| (name.clone(), levels(o, name, root, &tmp)))
            .collect()
    });
    let scaling = (!o.skip_stats).then(|| {
        eprintln!("menai-bench: optimizer scaling");
        compile_scaling(o, &tmp)
    });
    let callgrind = o.callgrind.then(|| {
        eprintln!("menai-bench: callgrind");
        callgrind(o, root, &tmp)
    });

    let report = Report {
        options: o,
        geomeans: ratio_geomeans(&runners, &results),
        runners: &runners,
        peer_notes,
        results,
        startup,
        levels,
        scaling,
        callgrind,
    };
    let blocks = report.blocks();
    print!("{}", render_text(&blocks));
    let all_ok = report.results.iter().all(ProgramResult::ok);
    match write_reports(&o.out_dir, &render_markdown(&blocks), &report.json()) {
        Ok(()) => println!(
            "\nwrote {} and bench.json",
            o.out_dir.join("bench.md").display()
        ),
        Err(e) => {
            return Err(Failure {
                code: 1,
                message: e,
            })
        }
    }
    Ok(all_ok)
}
