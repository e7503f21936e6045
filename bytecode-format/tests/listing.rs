//! Snapshot tests of the disassembly (exact text: other tools' snapshots
//! depend on it) and of the JSON rendering (well-formed, escaped).

mod common;

use menai_bytecode::disasm::{constant_text, disassemble, disassemble_function};
use menai_bytecode::json::to_json;
use menai_bytecode::{CaptureFrom, ClosureSite, Constant, Instr, Module, Op, StructTypeDef};

const SAMPLE_LISTING: &str = r#"module: 2 functions, 1 struct type, 1 file, entry function F0
file 0: "prog.menai"
struct type T0: point (x y)

function F0 'main' (entry) <?:0:0>
  params (), 3 registers, 0 captures, 1 constant, 1 closure site, 6 instructions
  constants:
    K0    string      "x"
  closure sites:
    S0    F1 'fib' captures []
  code:
    0     [1]   closure      R0 S0           ; F1 'fib' []
    1     [2]   loadint      R1 10
    2     [3]   call         R0 1 R0         ; R0 := R0(R1)
    3     [4]   loadk        R1 K0           ; "x"
    4     [5]   makestruct   R2 T0 R0        ; T0 'point'(R0..R1)
    5     [6]   return       R2              ; last use R2

function F1 'fib' <prog.menai:10:1>
  params (n), 5 registers, 0 captures, 1 constant, 0 closure sites, 13 instructions
  constants:
    K0    integer     2
  code:
    0     [10]  loadk        R1 K0           ; 2
    1     [11]  lti          R2 R0 R1
    2     [12]  jmpf         R2 4            ; to 4
    3     [13]  return       R0              ; last use R0
    4     [14]  sibling      R2 F1           ; F1 'fib'
    5     [15]  loadint      R1 1
    6     [16]  subi         R3 R0 R1
    7     [17]  call         R2 1 R1         ; R1 := R2(R3)
    8     [18]  loadint      R4 2
    9     [19]  subi         R3 R0 R4        ; last use R0 R4
    10    [20]  call         R2 1 R3         ; R3 := R2(R3)
    11    [21]  addi         R1 R1 R3        ; last use R1 R3
    12    [22]  return       R1
"#;

#[test]
fn sample_listing_is_stable() {
    assert_eq!(disassemble(&common::sample()), SAMPLE_LISTING);
}

#[test]
fn one_function_listing() {
    let m = common::sample();
    let fib = disassemble_function(&m, 1).unwrap_or_default();
    assert!(
        fib.starts_with("function F1 'fib' <prog.menai:10:1>\n"),
        "{fib}"
    );
    assert!(SAMPLE_LISTING.ends_with(&fib));
    assert_eq!(disassemble_function(&m, 2), None);
}

#[test]
fn constants_print_like_source() {
    let m = common::sample();
    let cases = [
        (Constant::None, "#none"),
        (Constant::Bool(false), "#f"),
        (Constant::Int(-42), "-42"),
        (
            Constant::BigInt("123456789012345678901234567890".into()),
            "123456789012345678901234567890",
        ),
        (Constant::Float(0.1), "0.1"),
        (Constant::Float(3.0), "3.0"),
        (Constant::Float(f64::NAN), "nan"),
        (Constant::Float(f64::NEG_INFINITY), "-inf"),
        (Constant::Complex(1.5, -2.0), "1.5-2.0j"),
        (Constant::Complex(0.0, 1.0), "0.0+1.0j"),
        (
            Constant::Str("a\"b\\c\n\t\u{1}é".into()),
            r#""a\"b\\c\n\t\u0001é""#,
        ),
        (Constant::Symbol("foo".into()), "'foo"),
        (Constant::EmptyList, "'()"),
        (
            Constant::List(vec![
                Constant::Int(1),
                Constant::List(vec![Constant::Symbol("a".into()), Constant::List(vec![])]),
                Constant::Str("s".into()),
            ]),
            r#"'(1 (a ()) "s")"#,
        ),
        (Constant::StructType(0), "<struct-type T0 'point'>"),
        (Constant::StructType(7), "<struct-type T7 ?>"),
    ];
    for (c, text) in cases {
        assert_eq!(constant_text(&m, &c), text, "{c:?}");
    }
}

/// A module exercising every operand shape and comment kind.
fn rich() -> Module {
    use Op::*;
    let mut f = common::function(
        "all",
        &[],
        6,
        vec![
            Instr::abc(LoadBuiltin, 0, 27, 0),
            Instr::abc(LoadBool, 1, 1, 0),
            Instr::abx(LoadInt, 2, (-7i32) as u32),
            Instr::abc(CallBuiltin, 3, 27, 1),
            Instr::abc(MakeDict, 4, 1, 2),
            Instr::abx(Closure, 5, 0),
            Instr::abc(GetCap, 5, 0, 0),
            Instr::abx(Jmp, 0, 8),
            Instr::abc(RaiseUnbound, 0, 0, 0),
            Instr::abc(TailCall, 0, 2, 0),
        ],
        1,
    );
    f.rest = Some("more".into());
    f.params = vec!["a".into(), "b".into()];
    f.num_captures = 1;
    f.constants = vec![Constant::Str("x".into())];
    f.closure_sites = vec![ClosureSite {
        function: 9,
        captures: vec![CaptureFrom::Reg(1), CaptureFrom::Env(0)],
    }];
    Module {
        files: vec![],
        file_hashes: vec![],
        struct_types: vec![StructTypeDef {
            name: "p".into(),
            fields: vec![],
        }],
        functions: vec![f],
        entry: 0,
    }
}

#[test]
fn rich_listing_rows() {
    let text = disassemble(&rich());
    let expected_rows = [
        "function F0 'all' (entry) <?:1:1>",
        "  params (a, b . more) variadic, 6 registers, 1 capture, 1 constant, 1 closure site, 10 instructions",
        "    S0    F9 ? captures [R1, E0]",
        "    0     [1]   loadbuiltin  R0 #27          ; integer+",
        "    1     [2]   loadbool     R1 1            ; #t",
        "    2     [3]   loadint      R2 -7",
        "    3     [4]   callb        R3 #27 R1       ; integer+(R1..R2)",
        "    4     [5]   makedict     R4 R1 2         ; dict(R1..R2)",
        "    5     [6]   closure      R5 S0           ; F9 ? [R1, E0]",
        "    6     [7]   getcap       R5 E0",
        "    7     [8]   jmp          8               ; to 8",
        "    8     [9]   raiseunbound K0              ; \"x\"",
        "    9     [10]  tailcall     R0 2            ; return R0(R1..R2)",
    ];
    for row in expected_rows {
        assert!(
            text.lines().any(|l| l == row),
            "missing row {row:?} in\n{text}"
        );
    }
}

/// A minimal JSON well-formedness checker (RFC 8259 grammar).
struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && b" \t\n\r".contains(&self.s[self.i]) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> bool {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                if self.eat(b'}') {
                    return true;
                }
                loop {
                    self.ws();
                    if !(self.string() && self.eat(b':') && self.value()) {
                        return false;
                    }
                    if self.eat(b'}') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                if self.eat(b']') {
                    return true;
                }
                loop {
                    if !self.value() {
                        return false;
                    }
                    if self.eat(b']') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(_) => self.number(),
            None => false,
        }
    }
    fn word(&mut self, w: &str) -> bool {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
    fn number(&mut self) -> bool {
        let start = self.i;
        while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .is_ok_and(|t| t.parse::<f64>().is_ok() && !t.starts_with('+'))
    }
    fn string(&mut self) -> bool {
        if self.s.get(self.i) != Some(&b'"') {
            return false;
        }
        self.i += 1;
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'"' => return true,
                b'\\' => match self.s.get(self.i) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                    Some(b'u') => {
                        let hex = self.s.get(self.i + 1..self.i + 5);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        self.i += 5;
                    }
                    _ => return false,
                },
                c if c < 0x20 => return false,
                _ => {}
            }
        }
        false
    }
}

fn well_formed(text: &str) -> bool {
    let mut p = Json {
        s: text.as_bytes(),
        i: 0,
    };
    p.value() && {
        p.ws();
        p.i == text.len()
    }
}

#[test]
fn json_is_well_formed_and_escaped() {
    let mut m = rich();
    m.functions[0].name = "we\"ird\\name\n\u{7}\u{8}é".into();
    m.functions[0].constants.extend([
        Constant::Float(f64::NAN),
        Constant::Float(1e300),
        Constant::Float(-0.0),
        Constant::Complex(f64::INFINITY, 2.5),
        Constant::BigInt("-99999999999999999999".into()),
        Constant::List(vec![
            Constant::List(vec![]),
            Constant::EmptyList,
            Constant::Symbol("s".into()),
        ]),
    ]);
    for m in [common::sample(), m.clone()] {
        let j = to_json(&m);
        assert!(well_formed(&j), "{j}");
    }
    let j = to_json(&m);
    assert!(j.contains(r#""name":"we\"ird\\name\n\u0007\bé""#), "{j}");
    assert!(j.contains(r#"{"type":"float","value":"nan"}"#), "{j}");
    assert!(
        j.contains(r#"{"type":"complex","re":"inf","im":2.5}"#),
        "{j}"
    );
    assert!(
        j.contains(r#"{"type":"integer","value":"-99999999999999999999"}"#),
        "{j}"
    );
    assert!(
        j.contains(r#"{"type":"list","items":[{"type":"list","items":[]},{"type":"list","items":[]},{"type":"symbol","value":"s"}]}"#),
        "{j}"
    );
    assert!(j.contains(r#""rest":"more""#));
    assert!(j.contains(r#"{"pc":2,"op":"loadint","a":2,"b":65529,"c":65535,"flags":0,"operands":[{"kind":"register_written","value":2},{"kind":"immediate","value":-7}],"loc":{"file":0,"line":3,"col":1,"start":0,"end":0}}"#), "{j}");
    assert!(!well_formed("{\"a\":\"\u{1}\"}"));
    assert!(!well_formed("[1,]"));
}

#[test]
fn errors_are_shown_inline_in_the_listing() {
    let mut m = common::sample();
    m.functions[1].code[9] = Instr::abc(Op::SubInt, 3, 3, 4);
    let err = match menai_bytecode::validate::validate(&m) {
        Err(e) => e,
        Ok(()) => panic!("accepted"),
    };
    let text = menai_bytecode::disasm::disassemble_with_error(&m, &err);
    assert!(
        text.contains(
            "    9     [19]  subi         R3 R3 R4\n  ^^^ error: register 3 may be read before it is written\n    10    [20]"
        ),
        "{text}"
    );
    m.entry = 5;
    let err = menai_bytecode::validate::validate(&m).err();
    let text = err.map(|e| menai_bytecode::disasm::disassemble_with_error(&m, &e));
    assert_eq!(
        text.as_deref(),
        Some("error: module: entry function 5 out of range (module has 2 functions)\n")
    );
}
