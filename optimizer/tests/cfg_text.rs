//! The CFG text round-trips: for every function of every test, example and
//! benchmark program, at -O0 and -O2, printing the CFG, reading it back
//! (`parse`) and printing again gives the same text, and the program read
//! back emits the same instructions and constants as the original.

use menai_optimizer::parse::parse_program;
use menai_optimizer::{build_cfgs, dump_cfg, emit_module, optimize_cfgs, Options};
use std::path::Path;

fn programs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["testsuite/programs", "examples", "benches/programs"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("program directory")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "menai"))
            .collect();
        paths.sort();
        for p in paths {
            let src = std::fs::read_to_string(&p).expect("readable program");
            out.push((p.display().to_string(), src));
        }
    }
    out
}

#[test]
fn print_parse_print_is_the_identity_and_emits_the_same_code() {
    let programs = programs();
    assert!(
        programs.len() > 40,
        "found only {} programs",
        programs.len()
    );
    for (path, src) in &programs {
        let copts = menai_compiler::Options {
            module_path: Path::new(path).parent().map(|d| vec![d.to_path_buf()]),
        };
        let compiled = menai_compiler::compile_str(path, src, &copts)
            .unwrap_or_else(|e| panic!("{path}: {:?}", e.diagnostics));
        for level in [0u8, 2] {
            let opts = Options {
                opt_level: level,
                ..Options::default()
            };
            let mut cfgs = build_cfgs(&compiled.program).expect("builds");
            optimize_cfgs(&mut cfgs, &opts, &mut std::io::sink()).expect("optimizes");
            let text = dump_cfg(&cfgs, None);
            let parsed = parse_program(&text, "roundtrip.cfg")
                .unwrap_or_else(|e| panic!("{path} at -O{level}: {e}"));
            let again = dump_cfg(&parsed, None);
            assert!(text == again, "{path} at -O{level}: the text changed");
            let a = emit_module(&cfgs, &opts).expect("emits");
            let b = emit_module(&parsed, &opts).expect("emits the parsed program");
            assert_eq!(a.functions.len(), b.functions.len(), "{path}");
            for (f, g) in a.functions.iter().zip(&b.functions) {
                assert_eq!(f.code, g.code, "{path} at -O{level}: code of {}", f.name);
                assert_eq!(f.constants, g.constants, "{path} at -O{level}: {}", f.name);
            }
            assert_eq!(a.struct_types, b.struct_types, "{path}");
        }
    }
}
