//! Fuzz target: CFG text from anywhere goes through `menai-opt`'s `.cfg`
//! path — the reader (`parse`, which ends with the CFG verifier), the
//! passes of -O2 and emission — and whatever is emitted must pass the
//! bytecode validator.

#![no_main]

use libfuzzer_sys::fuzz_target;

fn check(text: String) {
    let Ok(mut cfgs) = menai_optimizer::parse::parse_program(&text, "fuzz.cfg") else {
        return;
    };
    let opts = menai_optimizer::Options::default();
    if menai_optimizer::optimize_cfgs(&mut cfgs, &opts, &mut std::io::sink()).is_err() {
        return;
    }
    if let Ok(module) = menai_optimizer::emit_module(&cfgs, &opts) {
        if let Err(e) = menai_bytecode::validate::validate(&module) {
            panic!("a CFG read from text emitted a module the validator refuses: {e}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.to_string();
    menai_fuzz::on_big_stack(move || check(text));
});
