//! Fuzz-style robustness: for many seeds, damage a valid module — as bytes
//! (bit flips, random bytes, insertions, deletions, truncation; with and
//! without repairing the envelope's length and checksum so the damage
//! reaches the decoder and validator) and as a structure (random operand
//! values, opcodes, counts, constants, sites) — then decode, validate,
//! disassemble and render as JSON. Errors are expected; panics are bugs.

mod common;

use menai_bytecode::envelope::checksum;
use menai_bytecode::validate::validate;
use menai_bytecode::{
    decode_module, disasm, encode_module, json, CaptureFrom, ClosureSite, Constant, Instr, Module,
    Op,
};

/// xorshift64*: a tiny deterministic generator (no dependency).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Small values most of the time, anything sometimes.
    fn field(&mut self) -> u16 {
        match self.below(4) {
            0 => self.next() as u16,
            _ => self.below(8) as u16,
        }
    }
}

/// Where the payload starts in an encoded module (after the envelope header).
fn payload_start(bytes: &[u8]) -> usize {
    let producer_len = u16::from_le_bytes([bytes[12], bytes[13]]) as usize;
    14 + producer_len + 16
}

/// Rewrites the envelope's payload length and checksum to match the payload.
fn repair(bytes: &mut [u8], start: usize) {
    let len = (bytes.len() - start) as u64;
    let sum = checksum(&bytes[start..]);
    bytes[start - 16..start - 8].copy_from_slice(&len.to_le_bytes());
    bytes[start - 8..start].copy_from_slice(&sum.to_le_bytes());
}

fn exercise(m: &Module) -> bool {
    let ok = validate(m).is_ok();
    assert_eq!(menai_bytecode::validate::lint(m).is_ok(), ok);
    let listing = disasm::disassemble(m);
    let j = json::to_json(m);
    assert!(!listing.is_empty() && j.starts_with('{') && j.ends_with('}'));
    ok
}

fn damage_bytes(rng: &mut Rng, bytes: &mut Vec<u8>, from: usize) {
    for _ in 0..1 + rng.below(4) {
        let span = bytes.len().saturating_sub(from).max(1);
        let at = from + rng.below(span);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => bytes[at] = rng.next() as u8,
            2 => bytes.insert(at.min(bytes.len()), rng.next() as u8),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
}

#[test]
fn damaged_bytes_never_panic() {
    let good = encode_module(&common::sample()).unwrap_or_default();
    assert_eq!(decode_module(&good), Ok(common::sample()));
    let start = payload_start(&good);
    let (mut decoded, mut valid) = (0, 0);
    for seed in 0..4000u64 {
        let mut rng = Rng::new(seed);
        let mut bytes = good.clone();
        let repaired = seed % 4 != 0;
        damage_bytes(&mut rng, &mut bytes, if repaired { start } else { 0 });
        if repaired && bytes.len() >= start {
            repair(&mut bytes, start);
        }
        if let Ok(m) = decode_module(&bytes) {
            decoded += 1;
            valid += exercise(&m) as u32;
        }
    }
    eprintln!("bytes: {decoded} decoded, {valid} valid");
    // The repaired mutations must actually reach the validator.
    assert!(decoded > 200, "only {decoded} damaged files decoded");
    assert!(
        valid < decoded,
        "validator accepted all {decoded} decoded files"
    );
}

fn damage_module(rng: &mut Rng, m: &mut Module) {
    for _ in 0..1 + rng.below(3) {
        let fi = rng.below(m.functions.len() + 1);
        let Some(f) = m.functions.get_mut(fi) else {
            m.entry = rng.field() as u32;
            continue;
        };
        match rng.below(10) {
            0..=3 => {
                let pc = rng.below(f.code.len());
                let mut i = f.code[pc];
                match rng.below(5) {
                    0 => i.op = Op::ALL[rng.below(Op::ALL.len())],
                    1 => i.a = rng.field(),
                    2 => i.b = rng.field(),
                    3 => i.c = rng.field(),
                    _ => i.flags = rng.next() as u8,
                }
                f.code[pc] = i;
            }
            4 => {
                let i = Instr {
                    op: Op::ALL[rng.below(Op::ALL.len())],
                    flags: 0,
                    a: rng.field(),
                    b: rng.field(),
                    c: rng.field(),
                };
                let pc = rng.below(f.code.len() + 1);
                f.code.insert(pc, i);
                f.locs.insert(pc.min(f.locs.len()), common::loc(1));
            }
            5 => f.num_registers = rng.field(),
            6 => f.num_captures = rng.field(),
            7 => {
                let c = match rng.below(5) {
                    0 => Constant::BigInt(format!("{}", rng.next())),
                    1 => Constant::StructType(rng.below(3) as u32),
                    2 => Constant::List(vec![Constant::StructType(rng.below(3) as u32)]),
                    3 => Constant::Str("s".into()),
                    _ => Constant::Float(f64::from_bits(rng.next())),
                };
                f.constants.push(c);
            }
            8 => {
                let caps = (0..rng.below(3))
                    .map(|_| {
                        if rng.below(2) == 0 {
                            CaptureFrom::Reg(rng.field())
                        } else {
                            CaptureFrom::Env(rng.field())
                        }
                    })
                    .collect();
                f.closure_sites.push(ClosureSite {
                    function: rng.below(3) as u32,
                    captures: caps,
                });
            }
            _ => {
                if rng.below(2) == 0 {
                    f.params.push("p".into());
                } else {
                    f.rest = Some("r".into());
                }
            }
        }
    }
}

#[test]
fn damaged_modules_never_panic() {
    let mut valid = 0;
    for seed in 0..4000u64 {
        let mut rng = Rng::new(seed);
        let mut m = common::sample();
        damage_module(&mut rng, &mut m);
        valid += exercise(&m) as u32;
        // Through the file format too.
        if let Ok(bytes) = encode_module(&m) {
            assert_eq!(decode_module(&bytes).as_ref(), Ok(&m));
        }
    }
    eprintln!("modules: {valid} valid");
    // Some damage is harmless (e.g. a changed flag on a dead register), most is not.
    assert!(
        valid > 0 && valid < 4000,
        "{valid} of 4000 damaged modules accepted"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    for seed in 0..2000u64 {
        let mut rng = Rng::new(seed);
        let len = rng.below(200);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if seed % 2 == 0 {
            // A valid header in front, so the payload decoder sees the noise.
            let mut framed = encode_module(&common::sample()).unwrap_or_default();
            let start = payload_start(&framed);
            framed.truncate(start);
            framed.append(&mut bytes);
            repair(&mut framed, start);
            bytes = framed;
        }
        if let Ok(m) = decode_module(&bytes) {
            exercise(&m);
        }
    }
}

/// The payload of the sample with one more constant, `c`, in `fib`.
fn payload_with(c: Constant) -> Vec<u8> {
    let mut m = common::sample();
    m.functions[1].constants.push(c);
    let bytes = encode_module(&m).unwrap_or_default();
    bytes[payload_start(&bytes)..].to_vec()
}

/// A `.bc` file whose constant is `depth` nested one-element lists, written
/// byte by byte (building it as a value would itself recurse).
fn nested_file(depth: usize) -> Vec<u8> {
    let one = payload_with(Constant::List(vec![Constant::Int(7)]));
    let two = payload_with(Constant::List(vec![Constant::List(vec![Constant::Int(7)])]));
    let head = one.iter().zip(&two).take_while(|(a, b)| a == b).count();
    let tail = one[head..]
        .iter()
        .rev()
        .zip(two[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let level = &two[head..two.len() - tail];
    let (before, after) = (&one[..head], &one[head..]);
    // `one` already holds one level.
    let mut payload = before.to_vec();
    for _ in 1..depth {
        payload.extend_from_slice(level);
    }
    payload.extend_from_slice(after);
    let mut file = encode_module(&common::sample()).unwrap_or_default();
    let start = payload_start(&file);
    file.truncate(start);
    file.extend_from_slice(&payload);
    repair(&mut file, start);
    file
}

#[test]
fn deeply_nested_constants_are_refused_not_overflowed() {
    use menai_bytecode::module::MAX_CONSTANT_DEPTH;
    // On a test thread's small stack: the limit must hold well below it.
    let ok = decode_module(&nested_file(3)).map(|m| m.functions[1].constants.len());
    assert_eq!(ok, Ok(2));
    let at_limit = decode_module(&nested_file(MAX_CONSTANT_DEPTH));
    assert!(at_limit.is_ok(), "{at_limit:?}");
    std::mem::forget(at_limit);
    for depth in [MAX_CONSTANT_DEPTH + 1, 5_000_000] {
        match decode_module(&nested_file(depth)) {
            Ok(_) => panic!("depth {depth} accepted"),
            Err(e) => assert!(e.to_string().contains("nested more than 1024 deep"), "{e}"),
        }
    }
}
