//! Shared helpers for the Menai test suite (the tests themselves live in
//! `tests/`): locating the tool binaries built by `cargo build --bins`,
//! running a process with a time limit while capturing its output, and
//! reading `.cases` spec files.
//!
//! The tests drive the *binaries* (`menai`, `menaic`, `menai-opt`,
//! `menai-vm`), never the libraries, so they test exactly what users run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The names of the four tool binaries.
pub const TOOLS: [&str; 4] = ["menai", "menaic", "menai-opt", "menai-vm"];

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// The directory holding the tool binaries: `$MENAI_BIN_DIR` if set, else
/// the profile directory of the running test executable
/// (`target/debug/deps/spec-xxxx` → `target/debug`).
pub fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MENAI_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the test executable: {e}"))?;
    let mut dir = exe
        .parent()
        .map(Path::to_path_buf)
        .ok_or("test executable has no directory")?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of tool `name`, after checking that all four tools exist.
///
/// Fails with a message telling the user to build the binaries first.
pub fn tool(name: &str) -> Result<PathBuf, String> {
    let dir = bin_dir()?;
    let mut missing = Vec::new();
    for t in TOOLS {
        let p = dir.join(format!("{t}{}", std::env::consts::EXE_SUFFIX));
        if !p.is_file() {
            missing.push(p.display().to_string());
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "tool binaries not found: {}\nrun `cargo build --bins` first (with the same CARGO_TARGET_DIR), \
             or point MENAI_BIN_DIR at the directory holding them",
            missing.join(", ")
        ));
    }
    Ok(dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// What a finished (or killed) process produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Exit code; `None` if killed by a signal or by the time limit.
    pub code: Option<i32>,
    pub stdout: String,
    /// Standard error with ANSI colour sequences removed.
    pub stderr: String,
    pub timed_out: bool,
}

impl Outcome {
    /// A one-line description of the exit status.
    pub fn status(&self) -> String {
        match (self.timed_out, self.code) {
            (true, _) => "timed out".to_string(),
            (false, Some(c)) => format!("exit {c}"),
            (false, None) => "killed by a signal".to_string(),
        }
    }

    /// The first line of stderr that starts with `error`/`Error` or with an
    /// ariadne `[code]` (the headline of a diagnostic), if any.
    pub fn error_line(&self) -> Option<&str> {
        self.stderr.lines().map(str::trim).find(|l| {
            let lower = l.to_ascii_lowercase();
            lower.starts_with("error") || l.starts_with('[')
        })
    }

    /// Whether the output shows a Rust panic or a backtrace hint.
    pub fn panicked(&self) -> bool {
        let s = format!("{}{}", self.stdout, self.stderr);
        s.contains("panicked") || s.contains("RUST_BACKTRACE")
    }

    /// Multi-line report of this outcome, indented by `indent`.
    pub fn describe(&self, indent: &str) -> String {
        let mut s = format!("{indent}status: {}\n", self.status());
        s.push_str(&format!(
            "{indent}stdout: {}\n",
            abbreviate(&self.stdout, 400)
        ));
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        for (i, l) in lines.iter().take(8).enumerate() {
            let label = if i == 0 { "stderr: " } else { "        " };
            let l: String = l.chars().take(200).collect();
            s.push_str(&format!("{indent}{label}{l}\n"));
        }
        if lines.len() > 8 {
            s.push_str(&format!(
                "{indent}        … ({} more lines)\n",
                lines.len() - 8
            ));
        }
        s
    }
}

/// Shortens `s` to at most `max` bytes (on a char boundary), marking the cut.
pub fn abbreviate(s: &str, max: usize) -> String {
    let t = s.trim_end_matches('\n');
    if t.len() <= max {
        return format!("{t:?}");
    }
    let mut end = max;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &t[..end], t.len())
}

/// Removes ANSI escape sequences (`ESC [ ... letter`) from `s`.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The per-process time limit: `$MENAI_TEST_TIMEOUT` seconds, default 120.
pub fn default_timeout() -> Duration {
    let secs = std::env::var("MENAI_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

/// Runs `cmd` to completion with `stdin` as its input, killing it after
/// `timeout`. Colour is disabled through `NO_COLOR`. Never panics: a spawn
/// failure is reported as an outcome with no exit code and the reason in
/// `stderr`.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Outcome {
    cmd.env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot start {:?}: {e}", cmd.get_program()),
                timed_out: false,
            }
        }
    };
    let writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || {
                // The child may exit without reading everything; ignore EPIPE.
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let out_reader = child.stdout.take().map(|mut p| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            buf
        })
    });
    let err_reader = child.stderr.take().map(|mut p| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            buf
        })
    });
    let start = Instant::now();
    let mut nap = Duration::from_micros(500);
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    Outcome {
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: strip_ansi(&String::from_utf8_lossy(&stderr)),
        timed_out,
    }
}

/// What a spec case expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// `=> text`: exit 0 and stdout is exactly `text` and a newline.
    Value(String),
    /// `=! text`: exit 1, stderr contains `text`, and the error is reported
    /// as `error: MESSAGE` followed by a ` --> file:line:col` line.
    RuntimeError(String),
    /// `=? text`: exit 2 and stderr contains `text`.
    CompileError(String),
}

impl Expect {
    /// The exit code this expectation requires.
    pub fn exit_code(&self) -> i32 {
        match self {
            Expect::Value(_) => 0,
            Expect::RuntimeError(_) => 1,
            Expect::CompileError(_) => 2,
        }
    }

    /// The expectation as written in a `.cases` file.
    pub fn render(&self) -> String {
        match self {
            Expect::Value(t) => format!("=> {t}"),
            Expect::RuntimeError(t) => format!("=! {t}"),
            Expect::CompileError(t) => format!("=? {t}"),
        }
    }

    /// Checks one outcome against this expectation; `Err` says what is wrong.
    pub fn check(&self, o: &Outcome) -> Result<(), String> {
        if o.panicked() {
            return Err("output shows a Rust panic".to_string());
        }
        if o.code != Some(self.exit_code()) {
            return Err(format!(
                "expected exit {}, got {}",
                self.exit_code(),
                o.status()
            ));
        }
        match self {
            Expect::Value(v) => {
                let got = o.stdout.strip_suffix('\n').unwrap_or(&o.stdout);
                if got != v {
                    return Err(format!("expected stdout {v:?}, got {got:?}"));
                }
            }
            Expect::RuntimeError(t) | Expect::CompileError(t) => {
                if !o.stderr.contains(t.as_str()) {
                    return Err(format!("stderr does not contain {t:?}"));
                }
                // Runtime errors are reported as `error: MESSAGE` and ` --> file:line:col`.
                let located = o.stderr.lines().any(|l| l.trim_start().starts_with("--> "));
                if matches!(self, Expect::RuntimeError(_))
                    && !(o.stderr.contains("error: ") && located)
                {
                    return Err(
                        "runtime error without `error: MESSAGE` and ` --> file:line:col`"
                            .to_string(),
                    );
                }
            }
        }
        Ok(())
    }
}

/// One case of a `.cases` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The `.cases` file it came from.
    pub file: PathBuf,
    /// 1-based line of the case's first source line.
    pub line: usize,
    pub source: String,
    pub expect: Expect,
}

impl Case {
    /// `name.cases:line`.
    pub fn label(&self) -> String {
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{name}:{}", self.line)
    }
}

/// A malformed block in a `.cases` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

fn expectation(line: &str) -> Option<Expect> {
    let (kind, rest) = (line.get(..2)?, line.get(2..)?);
    let text = rest
        .strip_prefix(' ')
        .unwrap_or(rest)
        .trim_end()
        .to_string();
    match kind {
        "=>" => Some(Expect::Value(text)),
        "=!" => Some(Expect::RuntimeError(text)),
        "=?" => Some(Expect::CompileError(text)),
        _ => None,
    }
}

/// Parses a `.cases` file: blocks separated by blank lines; lines starting
/// with `;` are comments; each block is source lines then exactly one
/// expectation line (`=>`, `=!` or `=?`). Blocks of only comments are
/// skipped. Malformed blocks are returned as errors, not skipped silently.
pub fn parse_cases(text: &str, file: &Path) -> (Vec<Case>, Vec<CaseError>) {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut flush = |block: &mut Vec<(usize, &str)>| {
        if block.is_empty() {
            return;
        }
        let first = block[0].0;
        let err = |message: String| CaseError {
            file: file.to_path_buf(),
            line: first,
            message,
        };
        let (last_no, last) = block[block.len() - 1];
        let mut source = Vec::new();
        let mut bad = None;
        for &(no, l) in &block[..block.len() - 1] {
            if expectation(l).is_some() {
                bad = Some(format!(
                    "line {no}: expectation line before the end of the case"
                ));
            }
            source.push(l);
        }
        match (expectation(last), bad) {
            (_, Some(msg)) => errors.push(err(msg)),
            (None, None) => errors.push(err(format!(
                "line {last_no}: case does not end with `=>`, `=!` or `=?`"
            ))),
            (Some(_), None) if source.is_empty() => {
                errors.push(err(format!("line {last_no}: expectation without source")))
            }
            (Some(expect), None) => cases.push(Case {
                file: file.to_path_buf(),
                line: first,
                source: source.join("\n") + "\n",
                expect,
            }),
        }
        block.clear();
    };
    for (i, l) in lines.iter().enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if l.trim().is_empty() {
            flush(&mut block);
        } else if l.trim_start().starts_with(';') {
            continue;
        } else {
            block.push((i + 1, l));
        }
    }
    flush(&mut block);
    (cases, errors)
}

/// Runs `jobs` on `threads` worker threads, returning results in input order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Worker threads for parallel test runs: `$MENAI_TEST_JOBS`, else the
/// available parallelism.
pub fn jobs() -> usize {
    std::env::var("MENAI_TEST_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_comments_and_expectations() {
        let text = "; header comment\n\n(integer+ 1 2)\n=> 3\n\n; c\n(let ((x 1))\n  x)\n=> 1\n\n(error \"boom\")\n=! boom\n\n(if)\n=? if\n";
        let (cases, errors) = parse_cases(text, Path::new("t.cases"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[0].line, 3);
        assert_eq!(cases[0].source, "(integer+ 1 2)\n");
        assert_eq!(cases[0].expect, Expect::Value("3".into()));
        assert_eq!(cases[1].line, 7);
        assert_eq!(cases[1].source, "(let ((x 1))\n  x)\n");
        assert_eq!(cases[2].expect, Expect::RuntimeError("boom".into()));
        assert_eq!(cases[3].expect, Expect::CompileError("if".into()));
        assert_eq!(cases[3].label(), "t.cases:14");
    }

    #[test]
    fn reports_malformed_blocks() {
        let (cases, errors) = parse_cases(
            "(a)\n(b)\n\n=> 1\n\n(x)\n=> 1\n=> 2\n",
            Path::new("t.cases"),
        );
        assert!(cases.is_empty());
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].line, 1);
    }

    #[test]
    fn checks_outcomes() {
        let ok = Outcome {
            code: Some(0),
            stdout: "3\n".into(),
            stderr: String::new(),
            timed_out: false,
        };
        assert!(Expect::Value("3".into()).check(&ok).is_ok());
        assert!(Expect::Value("4".into()).check(&ok).is_err());
        assert!(Expect::RuntimeError("x".into()).check(&ok).is_err());
        let err = Outcome {
            code: Some(1),
            stdout: String::new(),
            stderr: "error: boom\n --> f.menai:1:1\n".into(),
            timed_out: false,
        };
        assert!(Expect::RuntimeError("boom".into()).check(&err).is_ok());
        let unlocated = Outcome {
            stderr: "error: boom\n".into(),
            ..err.clone()
        };
        assert!(Expect::RuntimeError("boom".into())
            .check(&unlocated)
            .is_err());
        let panic = Outcome {
            code: Some(1),
            stdout: String::new(),
            stderr: "thread 'main' panicked".into(),
            timed_out: false,
        };
        assert!(Expect::RuntimeError("panicked".into())
            .check(&panic)
            .is_err());
    }

    #[test]
    fn strips_ansi() {
        assert_eq!(strip_ansi("\u{1b}[31merror\u{1b}[0m: x"), "error: x");
    }

    #[test]
    fn parallel_map_keeps_order() {
        let v: Vec<usize> = (0..50).collect();
        assert_eq!(
            parallel_map(&v, 3, |x| x * 2),
            (0..50).map(|x| x * 2).collect::<Vec<_>>()
        );
    }
}
