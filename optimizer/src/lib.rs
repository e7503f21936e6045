//! The Menai optimizer: IR → SSA CFG per function → passes → out of SSA
//! and register allocation → bytecode.
//!
//! - [`build`]: IR → [`cfg::CfgProgram`] (closure conversion, tail calls, loops)
//! - [`verify`]: the CFG verifier
//! - [`passes`] and [`pass_manager`]: optimizations run to a fixed point
//! - [`prune`]: drops the functions the passes left unreferenced
//! - [`legalize`]: rewrites the bytecode validator would reject
//! - [`regalloc`]: liveness, register allocation, parallel moves
//! - [`types`]: type analysis proving typed operations' operand types
//! - [`emit`]: bytecode emission with a line table
//! - [`dump`]: CFG text and Graphviz; [`parse`] reads the text back
//!
//! The driver uses [`optimize`] (or [`build_cfgs`] + [`optimize_cfgs`] +
//! [`emit_module`] to show intermediate stages).

pub mod build;
pub mod cfg;
pub mod dump;
pub mod emit;
pub mod legalize;
pub mod lines;
pub mod parse;
pub mod pass_manager;
pub mod passes;
pub mod prune;
pub mod regalloc;
pub mod types;
pub mod verify;

use menai_bytecode::Module;
use menai_compiler::ir::Program;
use std::fmt;
use std::io::Write;

pub use cfg::CfgProgram;

/// What the optimizer does and prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// 0: no passes; 1: cheap cleanups; 2: everything.
    pub opt_level: u8,
    /// An explicit pipeline (`--passes=a,b`), overriding the level.
    pub passes: Option<Vec<String>>,
    /// Print the function after each run of these passes.
    pub print_after: Vec<String>,
    /// Print the function after every pass that changed it.
    pub print_after_all: bool,
    /// Print the function before the passes, after each change, and note
    /// passes that changed nothing.
    pub print_changed: bool,
    /// Only print functions with this name.
    pub filter_fn: Option<String>,
    pub time_passes: bool,
    /// Rewrite counts per pass.
    pub stats: bool,
    /// Verify after every pass even in release builds.
    pub verify_each: bool,
    /// Cap on pipeline iterations per function.
    pub max_iterations: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            opt_level: 2,
            passes: None,
            print_after: vec![],
            print_after_all: false,
            print_changed: false,
            filter_fn: None,
            time_passes: false,
            stats: false,
            verify_each: false,
            max_iterations: 16,
        }
    }
}

/// Why the optimizer could not produce a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptError {
    /// The IR breaks its own contract (an unknown variable, a missing function…).
    Malformed(String),
    /// The CFG verifier failed after building or after a pass; `listing`
    /// is the offending functions' text with the errors inline.
    Verify {
        after: String,
        errors: Vec<verify::VerifyError>,
        listing: String,
    },
    /// A bytecode limit was exceeded (registers, constants, operands).
    Limit(String),
    /// `--passes` or `--print-after` named no known pass.
    UnknownPass(String),
    /// An internal inconsistency (a bug in the optimizer), reported instead of panicking.
    Internal(String),
}

impl fmt::Display for OptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptError::Malformed(m) => write!(f, "malformed IR: {m}"),
            OptError::Verify {
                after,
                errors,
                listing,
            } => {
                write!(
                    f,
                    "CFG verification failed after {after}:\n{}\n{}",
                    verify::render_errors(errors).trim_end(),
                    listing.trim_end()
                )
            }
            OptError::Limit(m) => write!(f, "limit exceeded: {m}"),
            OptError::UnknownPass(n) => write!(f, "unknown pass '{n}' (see --list-passes)"),
            OptError::Internal(m) => write!(f, "internal optimizer error: {m}"),
        }
    }
}

impl std::error::Error for OptError {}

/// Builds the SSA CFGs of a program (no passes) and verifies them, so
/// malformed IR is reported here, in every build.
pub fn build_cfgs(program: &Program) -> Result<CfgProgram, OptError> {
    let cfgs = build::build_program(program)?;
    verify::verify_program(&cfgs, "build")?;
    Ok(cfgs)
}

/// Runs the passes `opts` selects, then drops the functions they left
/// unreferenced; printing and statistics go to `log`.
pub fn optimize_cfgs(
    cfgs: &mut CfgProgram,
    opts: &Options,
    log: &mut dyn Write,
) -> Result<pass_manager::Report, OptError> {
    let report = pass_manager::run(cfgs, opts, log)?;
    if prune::remove_unreferenced(cfgs) > 0 && pass_manager::verifying(opts) {
        verify::verify_program(cfgs, "prune")?;
    }
    Ok(report)
}

/// Allocates registers and emits bytecode; `opts.opt_level` ≥ 2 selects
/// the immediate opcodes (`addik`…`neik`).
pub fn emit_module(cfgs: &CfgProgram, opts: &Options) -> Result<Module, OptError> {
    emit::emit_program(cfgs, opts.opt_level >= 2)
}

/// IR → bytecode, printing any requested dumps to stderr.
pub fn optimize(program: &Program, opts: &Options) -> Result<Module, OptError> {
    optimize_with_log(program, opts, &mut std::io::stderr())
}

/// IR → bytecode, printing any requested dumps to `log`.
pub fn optimize_with_log(
    program: &Program,
    opts: &Options,
    log: &mut dyn Write,
) -> Result<Module, OptError> {
    let mut cfgs = build_cfgs(program)?;
    optimize_cfgs(&mut cfgs, opts, log)?;
    emit_module(&cfgs, opts)
}

/// The CFG text of every function (or only `filter`).
pub fn dump_cfg(cfgs: &CfgProgram, filter: Option<&str>) -> String {
    dump::program_text(cfgs, filter)
}

/// `(file name, Graphviz text)` for every function (or only `filter`).
pub fn dump_cfg_dot(cfgs: &CfgProgram, filter: Option<&str>) -> Vec<(String, String)> {
    dump::program_dot_files(cfgs, filter)
}
