//! `menai-vm`: loads a `.bc` file, validates it, runs it and prints the
//! result (stdout, exit 0), or the runtime error (stderr, exit 1), or the
//! reason the file was rejected (stderr, exit 2).

use clap::{Parser, ValueEnum};
use menai_vm::interp::DEFAULT_MAX_DEPTH;
use menai_vm::{load, run_and_print, Report, RunOptions};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

#[global_allocator]
static ALLOC: menai_vm::alloc::VmAlloc = menai_vm::alloc::VmAlloc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Run a Menai bytecode file.
#[derive(Parser, Debug)]
#[command(name = "menai-vm", version, about)]
struct Cli {
    /// The `.bc` file to run (`-` reads standard input).
    file: String,
    /// Print the disassembly instead of running.
    #[arg(long)]
    disassemble: bool,
    /// Print instructions executed, calls and allocations to stderr.
    #[arg(long)]
    stats: bool,
    /// Most nested non-tail calls allowed.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DEPTH)]
    max_depth: usize,
    /// Stop with an error after this many instructions.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Most memory the program's values may take (bytes, or with K, M, G);
    /// default: half the memory available when the run starts.
    #[arg(long, value_name = "SIZE", value_parser = menai_vm::parse_size)]
    max_memory: Option<u64>,
    /// Print a profile of the run to stderr: per Menai function, calls,
    /// instructions, self and total time.
    #[arg(long)]
    profile: bool,
    /// Write the run's call stacks with their instruction counts to FILE,
    /// one `main;f;g N` line per path (flame-graph tools read it).
    #[arg(long, value_name = "FILE")]
    profile_folded: Option<std::path::PathBuf>,
    /// Colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

fn read_input(path: &str) -> std::io::Result<Vec<u8>> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

fn real_main(cli: Cli) -> u8 {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal(),
    };
    let bytes = match read_input(&cli.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", cli.file);
            return 2;
        }
    };
    let module = match load(&bytes) {
        Ok(m) => m,
        Err(e) => {
            use menai_bytecode::envelope::{file_kind, FileKind};
            let name = &cli.file;
            match file_kind(&bytes) {
                FileKind::Mir => eprintln!(
                    "error: {name} is a MIR file (menaic output), not bytecode: \
                     make bytecode with `menai-opt {name}`, then run that"
                ),
                FileKind::Source => eprintln!(
                    "error: {name} is not bytecode; if it is Menai source, \
                     run it with `menai run {name}` (or compile it with `menai build`)"
                ),
                FileKind::Bytecode | FileKind::Unknown => {
                    eprintln!("error: invalid bytecode: {e}")
                }
            }
            return 2;
        }
    };
    if cli.disassemble {
        let text = menai_vm::loader::disassemble(&module);
        let mut out = std::io::stdout().lock();
        return match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
            Ok(()) => 0,
            Err(_) => 1,
        };
    }
    let opts = RunOptions {
        max_depth: cli.max_depth,
        max_steps: cli.max_steps,
        max_memory: cli.max_memory,
        ..RunOptions::default()
    };
    let report = Report {
        stats: cli.stats,
        profile: cli.profile,
        profile_folded: cli.profile_folded,
        color,
    };
    run_and_print(&module, &opts, &report)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in menai-vm: {info}");
    }));
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || real_main(cli));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(_)) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: cannot start the VM thread: {e}");
            ExitCode::from(3)
        }
    }
}
