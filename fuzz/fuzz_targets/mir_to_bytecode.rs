//! Fuzz target: a `.mir` file from anywhere goes through `menai-opt`'s
//! path — envelope decoding, the IR check (`ir_check`), the optimizer at
//! -O2 and emission — and whatever is emitted must pass the validator.
//! Inputs are taken both as a whole file and as a bare payload wrapped in
//! a correct envelope (so mutations are not all stopped by the checksum).

#![no_main]

use libfuzzer_sys::fuzz_target;
use menai_compiler::ir::{decode_program, MIR_KIND};

fn check(bytes: Vec<u8>) {
    let Ok(program) = decode_program(&bytes) else {
        return;
    };
    if menai_compiler::ir_check::check(&program).is_err() {
        return;
    }
    let opts = menai_optimizer::Options {
        opt_level: 2,
        ..Default::default()
    };
    if let Ok(module) = menai_optimizer::optimize(&program, &opts) {
        if let Err(e) = menai_bytecode::validate::validate(&module) {
            panic!("menai-opt emitted a module the validator refuses: {e}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let framed = menai_bytecode::envelope::frame(MIR_KIND, menai_bytecode::PRODUCER, data);
    for bytes in [data.to_vec(), framed] {
        menai_fuzz::on_big_stack(move || check(bytes));
    }
});
