//! `menai`: the everyday driver. Runs the same libraries as the three stage
//! tools (`menaic`, `menai-opt`, `menai-vm`) in one process: source →
//! IR → optimized bytecode → validated → run. Glue only: no compiler logic
//! lives here.
//!
//! Exit status: 0 on success, 1 when the program raises a runtime error,
//! 2 on a compile or usage error.

use clap::{Args, Parser, Subcommand, ValueEnum};
use menai_bytecode::validate::ValidModule;
use menai_compiler::{ir::Program, render, Compiled, Failed};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The Menai toolchain driver.
#[derive(Parser, Debug)]
#[command(name = "menai", version, about = "Compile and run Menai programs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile and run a program file; print its result.
    Run {
        /// The source file (`-` for stdin).
        file: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        limits: Limits,
    },
    /// Evaluate one expression and print its result.
    Eval {
        /// The expression (it may begin with `-`, as in `-1e3`).
        #[arg(
            short = 'e',
            long = "expr",
            allow_hyphen_values = true,
            conflicts_with = "stdin"
        )]
        expr: Option<String>,
        /// `-`: read the expression from stdin.
        #[arg(value_name = "-")]
        stdin: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        limits: Limits,
    },
    /// Compile a program to a bytecode file.
    Build {
        /// The source file (`-` for stdin).
        file: String,
        /// The output file (`-` for stdout). Default: the input with `.bc`.
        #[arg(short = 'o', long = "output")]
        output: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Print an intermediate form of a program.
    Dump {
        /// What to print.
        #[arg(long, value_enum)]
        stage: Stage,
        /// Output format (`json` applies to `--stage bytecode`).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// For `cfg-dot`: the directory the `cfg.NAME.dot` files go to.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Only show the function with this name (cfg, cfg-dot).
        #[arg(long = "filter-fn")]
        filter_fn: Option<String>,
        /// The source file (`-` for stdin).
        file: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Optimization level: 0 (none), 1 or 2.
    #[arg(short = 'O', default_value = "2", value_parser = clap::value_parser!(u8).range(0..=2))]
    opt_level: u8,
    /// Module search path, directories separated by `:`.
    #[arg(long = "module-path")]
    module_path: Option<String>,
    /// Colored diagnostics.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
}

#[derive(Args, Debug, Clone)]
struct Limits {
    /// Most nested non-tail calls.
    #[arg(long = "max-depth")]
    max_depth: Option<usize>,
    /// Most instructions executed.
    #[arg(long = "max-steps")]
    max_steps: Option<u64>,
    /// Print instructions executed, calls and allocations to stderr.
    #[arg(long)]
    stats: bool,
    /// Most memory the program's values may take (bytes, or with K, M, G);
    /// default: half the memory available when the run starts.
    #[arg(long = "max-memory", value_name = "SIZE", value_parser = menai_vm::parse_size)]
    max_memory: Option<u64>,
    /// Print a profile of the run to stderr: per Menai function, calls,
    /// instructions, self and total time.
    #[arg(long)]
    profile: bool,
    /// Write the run's call stacks with their instruction counts to FILE,
    /// one `main;f;g N` line per path (flame-graph tools read it).
    #[arg(long, value_name = "FILE")]
    profile_folded: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Stage {
    Ast,
    Ir,
    Cfg,
    CfgDot,
    Bytecode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Counts heap allocations for `--stats` (only while counting is on).
#[global_allocator]
static ALLOC: menai_vm::alloc::VmAlloc = menai_vm::alloc::VmAlloc;

/// Exit codes.
const EXIT_RUNTIME: u8 = 1;
const EXIT_COMPILE: u8 = 2;

/// A failure already reported to the user, carrying the exit code.
struct Exit(u8);

fn main() -> ExitCode {
    // A panic is a bug in the toolchain: report it in one line, without a
    // backtrace, and exit with the compile-error status.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error in menai{location}; please report this bug");
    }));
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || dispatch(cli));
    let code = match worker {
        Ok(handle) => handle.join().unwrap_or(EXIT_COMPILE),
        Err(e) => {
            eprintln!("error: cannot start the worker thread: {e}");
            EXIT_COMPILE
        }
    };
    ExitCode::from(code)
}

fn dispatch(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Run {
            file,
            common,
            limits,
        } => {
            let source = match Source::from_arg(&file) {
                Ok(s) => s,
                Err(e) => return e.0,
            };
            run(&source, &common, &limits)
        }
        Command::Eval {
            expr,
            stdin,
            common,
            limits,
        } => {
            match (expr, stdin.as_deref()) {
                (Some(text), None) => run(&Source::Expr(text), &common, &limits),
                (None, Some("-")) => match read_stdin() {
                    Ok(text) => run(&Source::Expr(text), &common, &limits),
                    Err(e) => Err(e),
                },
                _ => {
                    eprintln!("error: `menai eval` needs `-e EXPR` or `-` (read the expression from stdin)");
                    Err(Exit(EXIT_COMPILE))
                }
            }
        }
        Command::Build {
            file,
            output,
            common,
        } => Source::from_arg(&file).and_then(|s| build(&s, output, &common)),
        Command::Dump {
            stage,
            format,
            output,
            filter_fn,
            file,
            common,
        } => Source::from_arg(&file).and_then(|s| {
            dump(
                &s,
                stage,
                format,
                output.as_deref(),
                filter_fn.as_deref(),
                &common,
            )
        }),
    };
    match result {
        Ok(()) => 0,
        Err(Exit(code)) => code,
    }
}

/// Where the program text comes from.
enum Source {
    File(PathBuf),
    /// Source text read from stdin (named `<stdin>`).
    Stdin(String),
    /// An expression from the command line (named `<expr>`).
    Expr(String),
}

impl Source {
    fn from_arg(arg: &str) -> Result<Source, Exit> {
        if arg == "-" {
            read_stdin().map(Source::Stdin)
        } else {
            Ok(Source::File(PathBuf::from(arg)))
        }
    }

    /// The default output path for `build`.
    fn default_output(&self, ext: &str) -> String {
        match self {
            Source::File(p) => p.with_extension(ext).display().to_string(),
            _ => "-".to_string(),
        }
    }
}

fn read_stdin() -> Result<String, Exit> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        eprintln!("error: cannot read stdin: {e}");
        Exit(EXIT_COMPILE)
    })?;
    Ok(text)
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal(),
    }
}

fn compile_options(common: &Common) -> menai_compiler::Options {
    menai_compiler::Options {
        module_path: common.module_path.as_ref().map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect()
        }),
    }
}

/// Source → IR, printing warnings (and errors) to stderr.
fn compile(source: &Source, common: &Common) -> Result<Program, Exit> {
    let opts = compile_options(common);
    let result = match source {
        Source::File(path) => menai_compiler::compile_file(path, &opts),
        Source::Stdin(text) => menai_compiler::compile_str("<stdin>", text, &opts),
        Source::Expr(text) => menai_compiler::compile_str("<expr>", text, &opts),
    };
    let color = use_color(common.color);
    match result {
        Ok(Compiled { program, warnings }) => {
            if !warnings.is_empty() {
                eprint!("{}", render::render(&warnings, &program.files, color));
            }
            Ok(program)
        }
        Err(Failed { diagnostics, files }) => {
            eprint!("{}", render::render(&diagnostics, &files, color));
            Err(Exit(EXIT_COMPILE))
        }
    }
}

fn optimizer_options(common: &Common) -> menai_optimizer::Options {
    menai_optimizer::Options {
        opt_level: common.opt_level,
        ..menai_optimizer::Options::default()
    }
}

/// IR → validated bytecode.
fn to_bytecode(program: &Program, common: &Common) -> Result<ValidModule, Exit> {
    let module = menai_optimizer::optimize(program, &optimizer_options(common)).map_err(|e| {
        eprintln!("error: {e}");
        Exit(EXIT_COMPILE)
    })?;
    menai_vm::loader::check(module).map_err(|e| {
        eprintln!("error: internal error: the optimizer produced invalid bytecode: {e}");
        Exit(EXIT_COMPILE)
    })
}

/// A file `menai run` is given that is already compiled: a `.bc` is
/// loaded (and validated) as `menai-vm` would, a `.mir` is checked and
/// optimized as `menai-opt` would. `None`: the file is source.
fn prebuilt(source: &Source, common: &Common) -> Result<Option<ValidModule>, Exit> {
    use menai_bytecode::envelope::{file_kind, FileKind};
    let Source::File(path) = source else {
        return Ok(None);
    };
    let mut head = [0u8; 8];
    let is_compiled = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| matches!(file_kind(&head), FileKind::Bytecode | FileKind::Mir));
    if !is_compiled {
        return Ok(None);
    }
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("error: cannot read {name}: {e}");
        Exit(EXIT_COMPILE)
    })?;
    if file_kind(&bytes) == FileKind::Bytecode {
        return menai_vm::loader::load(&bytes).map(Some).map_err(|e| {
            eprintln!("error: invalid bytecode: {name}: {e}");
            Exit(EXIT_COMPILE)
        });
    }
    let program = menai_compiler::ir::decode_program(&bytes)
        .map_err(|e| e.to_string())
        .and_then(|p| menai_compiler::ir_check::check(&p).map(|()| p))
        .map_err(|e| {
            eprintln!("error: invalid IR: {name}: {e}");
            Exit(EXIT_COMPILE)
        })?;
    to_bytecode(&program, common).map(Some)
}

fn run(source: &Source, common: &Common, limits: &Limits) -> Result<(), Exit> {
    let module = match prebuilt(source, common)? {
        Some(module) => module,
        None => to_bytecode(&compile(source, common)?, common)?,
    };
    let mut opts = menai_vm::RunOptions {
        max_steps: limits.max_steps,
        max_memory: limits.max_memory,
        ..Default::default()
    };
    if let Some(depth) = limits.max_depth {
        opts.max_depth = depth;
    }
    let report = menai_vm::Report {
        stats: limits.stats,
        profile: limits.profile,
        profile_folded: limits.profile_folded.clone(),
        color: use_color(common.color),
    };
    match menai_vm::run_and_print(&module, &opts, &report) {
        0 => Ok(()),
        _ => Err(Exit(EXIT_RUNTIME)),
    }
}

fn build(source: &Source, output: Option<String>, common: &Common) -> Result<(), Exit> {
    let program = compile(source, common)?;
    let module = to_bytecode(&program, common)?;
    let bytes = menai_bytecode::encode_module(&module).map_err(|e| {
        eprintln!("error: {e}");
        Exit(EXIT_COMPILE)
    })?;
    let dest = output.unwrap_or_else(|| source.default_output("bc"));
    if dest == "-" {
        write_stdout(&bytes)
    } else {
        std::fs::write(&dest, &bytes).map_err(|e| {
            eprintln!("error: cannot write {dest}: {e}");
            Exit(EXIT_COMPILE)
        })
    }
}

fn dump(
    source: &Source,
    stage: Stage,
    format: Format,
    output: Option<&Path>,
    filter_fn: Option<&str>,
    common: &Common,
) -> Result<(), Exit> {
    if format == Format::Json && !matches!(stage, Stage::Bytecode) {
        eprintln!("error: --format json applies to --stage bytecode only");
        return Err(Exit(EXIT_COMPILE));
    }
    if let Stage::Ast = stage {
        let (name, text) = match source {
            Source::File(path) => match menai_compiler::load_file(path) {
                Ok(f) => (f.path, f.text),
                Err(Failed { diagnostics, files }) => {
                    eprint!(
                        "{}",
                        render::render(&diagnostics, &files, use_color(common.color))
                    );
                    return Err(Exit(EXIT_COMPILE));
                }
            },
            Source::Stdin(text) => ("<stdin>".to_string(), text.clone()),
            Source::Expr(text) => ("<expr>".to_string(), text.clone()),
        };
        return match menai_compiler::read_ast(&name, &text) {
            Ok(datums) => write_stdout(menai_compiler::ast_print::print_ast(&datums).as_bytes()),
            Err(Failed { diagnostics, files }) => {
                eprint!(
                    "{}",
                    render::render(&diagnostics, &files, use_color(common.color))
                );
                Err(Exit(EXIT_COMPILE))
            }
        };
    }
    let program = compile(source, common)?;
    match stage {
        Stage::Ast => Ok(()),
        Stage::Ir => write_stdout(menai_compiler::ir_print::print_ir(&program).as_bytes()),
        Stage::Cfg | Stage::CfgDot => {
            let fail = |e: menai_optimizer::OptError| {
                eprintln!("error: {e}");
                Exit(EXIT_COMPILE)
            };
            let mut cfgs = menai_optimizer::build_cfgs(&program).map_err(fail)?;
            menai_optimizer::optimize_cfgs(
                &mut cfgs,
                &optimizer_options(common),
                &mut std::io::stderr(),
            )
            .map_err(fail)?;
            if let Stage::Cfg = stage {
                return write_stdout(menai_optimizer::dump_cfg(&cfgs, filter_fn).as_bytes());
            }
            let dir = output.unwrap_or(Path::new("."));
            for (name, text) in menai_optimizer::dump_cfg_dot(&cfgs, filter_fn) {
                let path = dir.join(&name);
                std::fs::write(&path, text).map_err(|e| {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    Exit(EXIT_COMPILE)
                })?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Stage::Bytecode => {
            let module = to_bytecode(&program, common)?;
            let text = match format {
                Format::Text => menai_bytecode::disasm::disassemble(&module),
                Format::Json => menai_bytecode::json::to_json(&module),
            };
            write_stdout(text.as_bytes())
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Exit> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| {
        eprintln!("error: cannot write to stdout: {e}");
        Exit(EXIT_COMPILE)
    })
}
