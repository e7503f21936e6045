//! `menaic`: the Menai frontend as a stage tool. Compiles a `.menai`
//! source file to a `.mir` IR file, or dumps the AST or the IR.
//!
//! Diagnostics go to stderr; warnings do not fail the build. Exit status:
//! 0 on success, 2 on a compile or usage error, 1 on an I/O error writing
//! the output.

use clap::{Parser, ValueEnum};
use menai_compiler::{compile_file, compile_str, ir, ir_print, read_ast, render, Failed, Options};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: much faster than the system allocator for the compiler's many
/// small allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Emit {
    /// The S-expressions as read.
    Ast,
    /// The IR in its text form.
    Ir,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Compile a Menai source file to the IR (.mir).
#[derive(Parser, Debug)]
#[command(name = "menaic", version)]
struct Cli {
    /// The source file (`-` for stdin).
    file: String,
    /// The output file (`-` for stdout). Default: the input with `.mir`
    /// (a dump goes to stdout).
    #[arg(short = 'o', long = "output")]
    output: Option<String>,
    /// Print a dump instead of writing the .mir file.
    #[arg(long)]
    emit: Option<Emit>,
    /// Module search path, directories separated by `:`.
    #[arg(long = "module-path")]
    module_path: Option<String>,
    /// Colored diagnostics.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || run(cli));
    match worker {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            eprintln!("error: internal compiler error");
            ExitCode::from(2)
        }),
        Err(e) => {
            eprintln!("error: cannot start the compiler thread: {e}");
            ExitCode::from(2)
        }
    }
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal(),
    }
}

fn report(f: &Failed, color: bool) -> ExitCode {
    // A file that could not be read has no source to show.
    let no_source = f.files.iter().all(|s| s.text.is_empty());
    if no_source {
        for d in &f.diagnostics {
            eprintln!("error: {}", d.message);
        }
        return ExitCode::from(2);
    }
    eprint!("{}", render::render(&f.diagnostics, &f.files, color));
    ExitCode::from(2)
}

fn write_output(dest: &str, bytes: &[u8]) -> ExitCode {
    let result = if dest == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|_| out.flush())
    } else {
        std::fs::write(dest, bytes)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write {dest}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `prog.menai` → `prog.mir`.
fn default_output(input: &str) -> String {
    if input == "-" {
        return "-".to_string();
    }
    Path::new(input).with_extension("mir").display().to_string()
}

fn run(cli: Cli) -> ExitCode {
    let color = use_color(cli.color);
    let opts = Options {
        module_path: cli.module_path.as_deref().map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect()
        }),
    };
    let stdin_text = if cli.file == "-" {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("error: cannot read stdin: {e}");
            return ExitCode::from(2);
        }
        Some(s)
    } else {
        None
    };
    let name = if cli.file == "-" {
        "<stdin>".to_string()
    } else {
        cli.file.clone()
    };
    let dump_dest = cli.output.clone().unwrap_or_else(|| "-".to_string());
    if let Some(Emit::Ast) = cli.emit {
        let text = match &stdin_text {
            Some(t) => t.clone(),
            None => match menai_compiler::load_file(Path::new(&cli.file)) {
                Ok(f) => f.text,
                Err(f) => return report(&f, color),
            },
        };
        return match read_ast(&name, &text) {
            Ok(sexps) => write_output(
                &dump_dest,
                menai_compiler::ast_print::print_ast(&sexps).as_bytes(),
            ),
            Err(f) => report(&f, color),
        };
    }
    let result = match &stdin_text {
        Some(t) => compile_str(&name, t, &opts),
        None => compile_file(Path::new(&cli.file), &opts),
    };
    let compiled = match result {
        Ok(c) => c,
        Err(f) => return report(&f, color),
    };
    if !compiled.warnings.is_empty() {
        eprint!(
            "{}",
            render::render(&compiled.warnings, &compiled.program.files, color)
        );
    }
    match cli.emit {
        Some(Emit::Ir) => {
            write_output(&dump_dest, ir_print::print_ir(&compiled.program).as_bytes())
        }
        _ => match ir::encode_program(&compiled.program) {
            Ok(bytes) => write_output(
                &cli.output
                    .clone()
                    .unwrap_or_else(|| default_output(&cli.file)),
                &bytes,
            ),
            Err(e) => {
                eprintln!("error: cannot encode the IR: {e}");
                ExitCode::from(2)
            }
        },
    }
}
