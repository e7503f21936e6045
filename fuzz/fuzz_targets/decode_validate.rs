//! Fuzz target: arbitrary bytes go through the whole loading path of the
//! VM — envelope and payload decoding, then validation — and, for anything
//! that decodes, the disassembler and the JSON dump. Any panic, abort,
//! stack overflow or runaway allocation is a bug; errors are expected.
//!
//! Inputs are taken both as a complete file and as a bare payload wrapped in
//! a correct envelope header (so mutations are not all stopped by the
//! checksum).

#![no_main]

use libfuzzer_sys::fuzz_target;
use menai_bytecode::{decode_module, disasm, envelope, json, validate, BC_KIND, PRODUCER};

fn check(bytes: &[u8]) {
    if let Ok(module) = decode_module(bytes) {
        let _ = validate::validate(&module);
        let _ = disasm::disassemble(&module);
        let _ = json::to_json(&module);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&envelope::frame(BC_KIND, PRODUCER, data));
});
