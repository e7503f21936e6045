//! `menai-opt`: reads a `.mir` file, optimizes it and writes a `.bc` file,
//! or prints the CFG (`--emit cfg`), Graphviz files (`--emit cfg-dot`) or a
//! bytecode listing (`--emit bytecode`). It also reads CFG text (a `.cfg`
//! file, as `--emit cfg` prints it): the passes run on it and the result
//! is printed (a `.bc` output or `--emit` choose otherwise). Diagnostics and pass printing go
//! to stderr; exit status 2 on any error.

use clap::{Parser, ValueEnum};
use menai_optimizer::{
    build_cfgs, dump_cfg, dump_cfg_dot, emit_module, optimize_cfgs, pass_manager, Options,
};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: much faster than the system allocator for the optimizer's many
/// small allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// The CFG text of every function, after the passes.
    Cfg,
    /// One Graphviz file `cfg.NAME.dot` per function.
    CfgDot,
    /// The bytecode listing (disassembly).
    Bytecode,
}

/// The Menai optimizer: IR (.mir) to bytecode (.bc).
#[derive(Parser, Debug)]
#[command(name = "menai-opt", version)]
struct Cli {
    /// Input `.mir` file, or CFG text (`.cfg`, as `--emit cfg` prints it);
    /// `-` for stdin.
    input: Option<String>,
    /// Output file (`-` for stdout); with `--emit cfg-dot`, a directory.
    /// Default: the input name with `.bc` (or stdout for text dumps).
    #[arg(short = 'o', value_name = "OUT")]
    output: Option<String>,
    /// What to produce instead of a `.bc` file.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// Optimization level: -O0 (no passes), -O1, -O2.
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=2))]
    opt_level: u8,
    /// Run exactly these passes (comma-separated), to a fixed point.
    #[arg(long, value_delimiter = ',')]
    passes: Option<Vec<String>>,
    /// List the passes and the pipelines of each level, then exit.
    #[arg(long)]
    list_passes: bool,
    /// Print each function after every run of PASS (repeatable).
    #[arg(long, value_name = "PASS")]
    print_after: Vec<String>,
    /// Print each function after every pass that changed it.
    #[arg(long)]
    print_after_all: bool,
    /// Print each function before the passes and after every change.
    #[arg(long)]
    print_changed: bool,
    /// Only print the function with this name.
    #[arg(long, value_name = "NAME")]
    filter_fn: Option<String>,
    /// Report time spent in each pass.
    #[arg(long)]
    time_passes: bool,
    /// Report rewrite counts per pass.
    #[arg(long)]
    stats: bool,
    /// Run the CFG verifier after every pass (always on in debug builds).
    #[arg(long)]
    verify_each: bool,
    /// Cap on pipeline iterations per function.
    #[arg(long, default_value_t = 16)]
    max_iterations: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || run(cli));
    match worker.map(|h| h.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(msg))) => {
            eprintln!("menai-opt: error: {msg}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("menai-opt: error: internal failure");
            ExitCode::from(2)
        }
    }
}

fn read_input(input: &str) -> Result<Vec<u8>, String> {
    if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))
    }
}

fn write_output(out: &str, bytes: &[u8]) -> Result<(), String> {
    if out == "-" {
        let mut so = std::io::stdout().lock();
        so.write_all(bytes)
            .and_then(|_| so.flush())
            .map_err(|e| format!("cannot write stdout: {e}"))
    } else {
        std::fs::write(out, bytes).map_err(|e| format!("cannot write {out}: {e}"))
    }
}

fn run(cli: Cli) -> Result<(), String> {
    if cli.list_passes {
        print!("{}", pass_manager::list_passes());
        return Ok(());
    }
    let Some(input) = cli.input.clone() else {
        return Err("no input file (give a .mir file, or - for stdin)".into());
    };
    let bytes = read_input(&input)?;
    let opts = Options {
        opt_level: cli.opt_level,
        passes: cli.passes.clone(),
        print_after: cli.print_after.clone(),
        print_after_all: cli.print_after_all,
        print_changed: cli.print_changed,
        filter_fn: cli.filter_fn.clone(),
        time_passes: cli.time_passes,
        stats: cli.stats,
        verify_each: cli.verify_each,
        max_iterations: cli.max_iterations,
    };
    if let Some(text) = cfg_text(&input, &bytes) {
        // CFG text (as `--emit cfg` prints it): the passes run on it and
        // the result is printed, unless `--emit` or a `.bc` output asks
        // for something else.
        let mut cfgs = menai_optimizer::parse::parse_program(text, &input)
            .map_err(|e| format!("{input}: {e}"))?;
        optimize_cfgs(&mut cfgs, &opts, &mut std::io::stderr()).map_err(|e| e.to_string())?;
        let wants_bc = cli.output.as_deref().is_some_and(|o| o.ends_with(".bc"));
        let emit = match cli.emit {
            None if wants_bc => None,
            None => Some(Emit::Cfg),
            e => e,
        };
        return output(&cli, emit, &input, &cfgs, &opts);
    }
    let program = menai_compiler::ir::decode_program(&bytes).map_err(|e| {
        use menai_bytecode::envelope::{file_kind, FileKind};
        match file_kind(&bytes) {
            FileKind::Bytecode => {
                format!("{input} is already bytecode (a .bc file): run it with `menai-vm {input}`")
            }
            FileKind::Source => format!(
                "{input} is not a MIR file; if it is Menai source, compile it with \
                 `menaic {input}` first (or run it with `menai run {input}`)"
            ),
            FileKind::Mir | FileKind::Unknown => format!("{input}: {e}"),
        }
    })?;
    menai_compiler::ir_check::check(&program).map_err(|e| format!("{input}: invalid IR: {e}"))?;
    let mut cfgs = build_cfgs(&program).map_err(|e| e.to_string())?;
    optimize_cfgs(&mut cfgs, &opts, &mut std::io::stderr()).map_err(|e| e.to_string())?;
    output(&cli, cli.emit, &input, &cfgs, &opts)
}

/// The input as CFG text, if it is: a `.cfg` file, or text whose first
/// line that is not blank or a comment starts a struct or a function.
fn cfg_text<'a>(input: &str, bytes: &'a [u8]) -> Option<&'a str> {
    let text = std::str::from_utf8(bytes).ok()?;
    if Path::new(input).extension().is_some_and(|e| e == "cfg") {
        return Some(text);
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'))?;
    (first.starts_with("function fn") || first.starts_with("struct #")).then_some(text)
}

/// Writes what `emit` asks for (`None`: the `.bc` file).
fn output(
    cli: &Cli,
    emit: Option<Emit>,
    input: &str,
    cfgs: &menai_optimizer::CfgProgram,
    opts: &Options,
) -> Result<(), String> {
    let filter = cli.filter_fn.as_deref();
    match emit {
        Some(Emit::Cfg) => write_output(
            cli.output.as_deref().unwrap_or("-"),
            dump_cfg(cfgs, filter).as_bytes(),
        ),
        Some(Emit::CfgDot) => {
            let dir = PathBuf::from(cli.output.as_deref().unwrap_or("."));
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            for (name, text) in dump_cfg_dot(cfgs, filter) {
                let path = dir.join(&name);
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            Ok(())
        }
        Some(Emit::Bytecode) => {
            let module = emit_module(cfgs, opts).map_err(|e| e.to_string())?;
            let text = menai_bytecode::disasm::disassemble(&module);
            write_output(cli.output.as_deref().unwrap_or("-"), text.as_bytes())
        }
        None => {
            let module = emit_module(cfgs, opts).map_err(|e| e.to_string())?;
            let encoded = menai_bytecode::encode_module(&module).map_err(|e| e.to_string())?;
            let out = match &cli.output {
                Some(o) => o.clone(),
                None if input == "-" => "-".to_string(),
                None => derived_output(input),
            };
            write_output(&out, &encoded)
        }
    }
}

/// `x.mir` (or `x.cfg`) → `x.bc`; any other name gets `.bc` appended.
fn derived_output(input: &str) -> String {
    let p = Path::new(input);
    if p.extension().is_some_and(|e| e == "mir" || e == "cfg") {
        p.with_extension("bc").display().to_string()
    } else {
        format!("{input}.bc")
    }
}
