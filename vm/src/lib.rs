//! The Menai virtual machine: loads and validates `.bc` modules and runs them.

pub mod alloc;
pub mod builtins;
mod decimal;
pub mod equality;
pub mod error;
pub mod interp;
mod interp_ops;
pub mod loader;
pub mod numfmt;
pub mod print;
pub mod profile;
pub mod render;
pub mod value;

pub use error::RtError;
pub use interp::{run_profiled, RunOptions, Stats};
pub use loader::{load, LoadError};
pub use profile::Profile;
pub use render::render_error;

pub use menai_bytecode::validate::ValidModule;
use value::Value;

/// Runs a validated module (see [`load`]) and returns its result value.
pub fn run(module: &ValidModule, opts: &RunOptions) -> Result<(Value, Stats), RtError> {
    interp::run(module, opts)
}

/// Runs a validated module and returns its result printed as LANGUAGE.md §9 says.
pub fn run_to_string(module: &ValidModule, opts: &RunOptions) -> Result<(String, Stats), RtError> {
    let (v, stats) = interp::run(module, opts)?;
    Ok((print::print_value(&v, module), stats))
}

/// What to print besides the result (`--stats`, `--profile`,
/// `--profile-folded`), and whether error reports use colour.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub stats: bool,
    pub profile: bool,
    pub profile_folded: Option<std::path::PathBuf>,
    pub color: bool,
}

/// Runs `module` as `menai-vm` and `menai run` do: the result on stdout;
/// on stderr the runtime error (rendered against the source), the stats
/// and the profile table asked for; the folded stacks to their file.
/// Returns the exit code: 0 success, 1 runtime error (or output failure).
pub fn run_and_print(module: &ValidModule, opts: &RunOptions, report: &Report) -> u8 {
    use std::io::Write;
    let opts = RunOptions {
        stats: opts.stats || report.stats,
        profile: opts.profile || report.profile || report.profile_folded.is_some(),
        ..opts.clone()
    };
    let (result, stats, profile) = interp::run_profiled(module, &opts);
    let mut code = match result {
        Ok(v) => {
            let text = print::print_value(&v, module);
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}").and_then(|_| out.flush()) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: cannot write to stdout: {e}");
                    1
                }
            }
        }
        Err(e) => {
            eprint!("{}", render_error(&e, module, report.color));
            1
        }
    };
    if report.stats {
        eprintln!(
            "stats: {} instructions, {} calls, {} allocations, max depth {}",
            stats.instructions, stats.calls, stats.allocations, stats.max_depth
        );
    }
    if let Some(p) = profile {
        if report.profile {
            eprint!("{}", p.report(module));
        }
        if let Some(path) = &report.profile_folded {
            if let Err(e) = std::fs::write(path, p.folded(module)) {
                eprintln!("error: cannot write {}: {e}", path.display());
                code = 1;
            }
        }
    }
    code
}

/// Parses a memory size for `--max-memory`: a number of bytes, or a number
/// with the suffix K, M or G (powers of 1024; `512M`, `2G`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(format!("unknown size unit in {text:?} (use K, M or G)")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("not a size: {text:?} (e.g. 512M)"))?;
    n.checked_mul(1u64 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("size out of range: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size(" 2G "), Ok(2 << 30));
        for bad in ["", "M", "12X", "-1", "1.5G", "0", "99999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }
}
