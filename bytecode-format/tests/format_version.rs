//! The `.bc` format version follows the tables that define the format.
//!
//! A file written by one build is only read by a build with the same
//! opcode and builtin tables: the opcodes' numbering, shapes, control
//! flow and type rules, and the builtins' numbering, names, arities and
//! implementations. Their rendering below is snapshotted (for review) and
//! fingerprinted; each format version lists the fingerprint of the tables
//! it was released with, so a table change without a version bump fails
//! here. To change a table: bump `BC_KIND.version` in `lib.rs`, add a
//! line to `VERSIONS`, and re-record the snapshot.

use menai_bytecode::{envelope, Op, BC_KIND, BUILTINS};

/// (format version, fingerprint of its tables).
const VERSIONS: &[(u32, u64)] = &[(7, 0x2134_09b0_323d_77c2), (8, 0x26fb_e019_5096_a96a)];

/// One line per opcode, then one per builtin.
fn tables() -> String {
    let mut out = String::new();
    for &op in Op::ALL {
        out.push_str(&format!(
            "op {:3} {:12} {:?} {:?} range={:?} {:?} -> {:?} frame_known={}\n",
            op as u8,
            op.mnemonic(),
            op.operands(),
            op.flow(),
            op.range_field(),
            op.operand_type(),
            op.result_type(),
            op.frame_effects_known(),
        ));
    }
    for b in BUILTINS {
        out.push_str(&format!(
            "builtin {:3} {:28} {:20} args {}..{} prim {} {:?}\n",
            b.id as u16, b.name, b.printed, b.min_args, b.max_args, b.prim_arity, b.implementation
        ));
    }
    out
}

#[test]
fn the_tables_match_their_format_version() {
    let text = tables();
    insta::assert_snapshot!("bc_tables", format!("version {}\n{text}", BC_KIND.version));
    let fingerprint = envelope::checksum(text.as_bytes());
    match VERSIONS.iter().find(|(v, _)| *v == BC_KIND.version) {
        Some(&(_, known)) => assert_eq!(
            known,
            fingerprint,
            "the opcode or builtin table changed (fingerprint {fingerprint:#x}) but the .bc \
             format version is still {}: bump BC_KIND.version and add \
             ({}, {fingerprint:#x}) to VERSIONS",
            BC_KIND.version,
            BC_KIND.version + 1
        ),
        None => panic!(
            "format version {} has no fingerprint: add ({}, {fingerprint:#x}) to VERSIONS",
            BC_KIND.version, BC_KIND.version
        ),
    }
}
