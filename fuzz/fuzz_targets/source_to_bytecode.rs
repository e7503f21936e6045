//! Fuzz target: any bytes, read as source text, go through the whole
//! front of the toolchain — reader, analysis, lowering to IR, the
//! optimizer at -O0 and -O2, register allocation and emission — and the
//! emitted module must pass the validator. Compile errors are expected;
//! a panic, a stack overflow or a module the validator refuses is a bug.
//!
//! Runs on a thread with the 1 GiB stack the tools give the compiler, as
//! deep nesting up to the reader's limit is legitimate input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use menai_compiler::{compile_str, Options};

fn check(text: String) {
    let Ok(compiled) = compile_str("fuzz.menai", &text, &Options::default()) else {
        return;
    };
    for opt_level in [0, 2] {
        let opts = menai_optimizer::Options {
            opt_level,
            ..Default::default()
        };
        // Limit errors (too many registers, nesting) are clean refusals.
        if let Ok(module) = menai_optimizer::optimize(&compiled.program, &opts) {
            if let Err(e) = menai_bytecode::validate::validate(&module) {
                panic!("the optimizer emitted a module the validator refuses: {e}\n{text}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    menai_fuzz::on_big_stack(move || check(text));
});
