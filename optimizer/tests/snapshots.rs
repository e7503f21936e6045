//! Snapshots of the optimizer's dumps for small programs: the CFG text
//! before and after the passes, and the bytecode listing. Re-bless with
//! `INSTA_UPDATE=always cargo test -p menai-optimizer --test snapshots`.

use menai_optimizer::{build_cfgs, dump_cfg, emit_module, optimize_cfgs, Options};

const SRC: &str = "(letrec ((loop (lambda (n acc)
                    (if (integer=? n 0)
                        acc
                        (loop (integer- n 1) (list-prepend acc (if (integer<? n 2) 'small 'big)))))))
  (let ((k (integer* 6 7)))
    (list k (loop 3 (list)) (map-list (lambda (x) (integer+ x k)) (list 1 2)))))";

/// The program's CFGs after the passes of `level`.
fn cfgs(level: u8) -> menai_optimizer::CfgProgram {
    let program =
        menai_compiler::compile_str("snap.menai", SRC, &menai_compiler::Options::default())
            .expect("compiles")
            .program;
    let mut c = build_cfgs(&program).expect("builds");
    let opts = Options {
        opt_level: level,
        ..Options::default()
    };
    optimize_cfgs(&mut c, &opts, &mut std::io::sink()).expect("optimizes");
    c
}

#[test]
fn cfg_text_at_o0_and_o2() {
    // Only the functions of the user's file (the prelude is the frontend's business).
    let user = |mut c: menai_optimizer::CfgProgram| {
        let entry = c.entry;
        c.functions.retain(|f| f.span.file == 0 || f.id == entry);
        dump_cfg(&c, None)
    };
    insta::assert_snapshot!("cfg_o0", user(cfgs(0)));
    insta::assert_snapshot!("cfg_o2", user(cfgs(2)));
}

#[test]
fn bytecode_listing() {
    let m = emit_module(&cfgs(2), &Options::default()).expect("emits");
    assert!(menai_bytecode::validate::validate(&m).is_ok());
    let user: Vec<String> = (0..m.functions.len())
        .filter(|&i| m.functions[i].loc.file == 0 || i == m.entry as usize)
        .filter_map(|i| menai_bytecode::disasm::disassemble_function(&m, i))
        .collect();
    insta::assert_snapshot!("bytecode_o2", user.join("\n"));
}
