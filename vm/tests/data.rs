//! Tests of the data builtins (functions, symbols, booleans, strings,
//! lists, dicts, sets, structs), structural equality, printing and deep
//! values, calling `call_builtin` directly with a small test module.

use menai_bytecode::{Builtin, Function, Module, SrcLoc, StructTypeDef};
use menai_vm::builtins::{call_builtin, make_dict, make_list, make_set, Args, Ctx};
use menai_vm::equality::{equal, key};
use menai_vm::print::print_value;
use menai_vm::value::{Complex, Env, Str, StructObj, Value};
use std::collections::VecDeque;
use std::rc::Rc;

fn func(name: &str, params: &[&str], rest: Option<&str>) -> Function {
    Function {
        name: name.into(),
        params: params.iter().map(|s| s.to_string()).collect(),
        rest: rest.map(str::to_string),
        num_captures: 0,
        num_registers: 4,
        constants: vec![],
        closure_sites: vec![],
        code: vec![],
        locs: vec![],
        cond_origins: vec![],
        loc: SrcLoc::UNKNOWN,
    }
}

fn module() -> Module {
    Module {
        files: vec![],
        file_hashes: vec![],
        struct_types: vec![
            StructTypeDef {
                name: "point".into(),
                fields: vec!["x".into(), "y".into()],
            },
            StructTypeDef {
                name: "unit".into(),
                fields: vec![],
            },
        ],
        functions: vec![
            func("main", &[], None),
            func("f", &["x", "y"], None),
            func("g", &["a", "b"], Some("rest")),
            func("h", &[], Some("rest")),
        ],
        entry: 0,
    }
}

// ---- a tiny reader for test values ----

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Value {
        self.ws();
        match self.s[self.i] {
            b'(' => {
                self.i += 1;
                let mut items = VecDeque::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b')' {
                        self.i += 1;
                        return Value::list_from(items);
                    }
                    items.push_back(self.value());
                }
            }
            b'{' => {
                self.i += 1;
                let mut vals = Vec::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b'}' {
                        self.i += 1;
                        return make_dict(vals).unwrap();
                    }
                    vals.push(self.value());
                }
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                self.i += 1;
                Value::str(text)
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !self.s[self.i].is_ascii_whitespace()
                    && !b"(){}\"".contains(&self.s[self.i])
                {
                    self.i += 1;
                }
                let tok = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                match tok {
                    "#t" => Value::Bool(true),
                    "#f" => Value::Bool(false),
                    "#none" => Value::None,
                    _ => {
                        if let Ok(i) = tok.parse::<i64>() {
                            Value::Int(i)
                        } else if let Ok(x) = tok.parse::<f64>() {
                            Value::Float(x)
                        } else {
                            Value::Symbol(Rc::new(Str::new(tok.to_string())))
                        }
                    }
                }
            }
        }
    }
}

/// Reads a test value: integers, floats, "strings", symbols, #t #f #none,
/// (lists) and {dicts k v ...}.
fn v(src: &str) -> Value {
    Reader {
        s: src.as_bytes(),
        i: 0,
    }
    .value()
}

fn b(name: &str) -> Builtin {
    Builtin::by_name(name).unwrap_or_else(|| panic!("no builtin {name}"))
}

fn p(v: &Value) -> String {
    print_value(v, &module())
}

/// Calls builtin `name` (arguments moved in) and prints the result, or
/// `ERR: message`.
fn call(name: &str, args: Vec<Value>) -> String {
    let m = module();
    let ctx = Ctx { module: &m };
    let mut vals = args;
    match call_builtin(&ctx, b(name), &mut Args::owned(&mut vals)) {
        Ok(r) => print_value(&r, &m),
        Err(e) => format!("ERR: {}", e.message),
    }
}

/// As `call`, with the arguments borrowed (registers stay live).
fn call_borrowed(name: &str, vals: &mut [Value]) -> String {
    let m = module();
    let ctx = Ctx { module: &m };
    match call_builtin(&ctx, b(name), &mut Args::borrowed(vals)) {
        Ok(r) => print_value(&r, &m),
        Err(e) => format!("ERR: {}", e.message),
    }
}

/// Calls with arguments read by `v` from each string.
fn c(name: &str, args: &[&str]) -> String {
    call(name, args.iter().map(|s| v(s)).collect())
}

fn point(x: Value, y: Value) -> Value {
    Value::Struct(Rc::new(StructObj {
        ty: 0,
        fields: vec![x, y].into_boxed_slice(),
    }))
}

fn closure(f: u32) -> Value {
    Value::Closure(f, Rc::new(Env::default()))
}

fn sym(s: &str) -> Value {
    Value::Symbol(Rc::new(Str::new(s.to_string())))
}

// ---- printing ----

#[test]
fn prints_scalars_and_containers() {
    assert_eq!(
        p(&v("(1 \"a\" #t #f #none sym)")),
        "(1 \"a\" #t #f #none sym)"
    );
    assert_eq!(p(&v("()")), "()");
    assert_eq!(p(&v("{\"a\" 1 \"b\" 2}")), "{(\"a\" 1) (\"b\" 2)}");
    assert_eq!(p(&v("{}")), "{}");
    assert_eq!(
        p(&make_set(vec![v("3"), v("1"), v("2")]).unwrap()),
        "#{3 1 2}"
    );
    assert_eq!(p(&make_set(vec![]).unwrap()), "#{}");
    assert_eq!(p(&v("((1 (2)) ())")), "((1 (2)) ())");
    assert_eq!(p(&v("1.5")), "1.5");
    assert_eq!(
        p(&Value::Complex(Rc::new(Complex { re: 3.0, im: 4.0 }))),
        "3+4j"
    );
}

#[test]
fn prints_string_escapes() {
    let s = Value::str("a\"b\\c\nd\te\rf\u{1}g\u{1f}h\u{7f}é");
    assert_eq!(p(&s), "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\u{7f}é\"");
}

#[test]
fn prints_functions_and_structs() {
    assert_eq!(p(&closure(1)), "<lambda (x, y)>");
    assert_eq!(p(&closure(2)), "<lambda (a, b . rest)>");
    assert_eq!(p(&closure(3)), "<lambda (rest)>");
    assert_eq!(p(&closure(0)), "<lambda ()>");
    assert_eq!(p(&Value::Builtin(Builtin::IntegerAdd)), "<lambda (args)>");
    assert_eq!(
        p(&Value::Builtin(Builtin::DictGet)),
        "<lambda (d, key . rest)>"
    );
    assert_eq!(p(&Value::StructType(0)), "<struct-type point (x y)>");
    assert_eq!(p(&Value::StructType(1)), "<struct-type unit ()>");
    assert_eq!(p(&point(v("1"), v("(2 3)"))), "(point 1 (2 3))");
    let unit = Value::Struct(Rc::new(StructObj {
        ty: 1,
        fields: Box::new([]),
    }));
    assert_eq!(p(&unit), "(unit)");
    let d = make_dict(vec![point(v("1"), v("2")), v("\"p\"")]).unwrap();
    assert_eq!(p(&d), "{((point 1 2) \"p\")}");
}

fn nested(depth: usize) -> Value {
    let mut x = Value::empty_list();
    for _ in 0..depth {
        x = Value::list_from(VecDeque::from([x]));
    }
    x
}

/// Runs `f` on a thread with a small (256 KiB) stack, so any native
/// recursion over a deep value would overflow.
fn small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_values_print_compare_and_drop_iteratively() {
    small_stack(|| {
        let a = nested(100_000);
        let b = nested(100_000);
        assert!(equal(&a, &b));
        let c = nested(99_999);
        assert!(!equal(&a, &c));
        let s = p(&a);
        assert_eq!(s.len(), 2 * 100_001);
        assert!(s.starts_with("((((") && s.ends_with("))))"));
        drop(a);
        drop(b);
        drop(c);
        // Deep dicts and structs too.
        let mut d = Value::None;
        for i in 0..100_000 {
            d = make_dict(vec![Value::Int(i), d]).unwrap();
        }
        drop(d);
        let mut s = Value::Int(0);
        for _ in 0..100_000 {
            s = point(s, Value::Int(0));
        }
        // A deep struct of hashable fields is a valid key.
        let k = key(s.clone(), "test").unwrap();
        let mut set = std::collections::HashSet::new();
        set.insert(k.clone());
        assert!(set.contains(&k));
        drop(set);
        drop(k);
        drop(s);
        // A long flat list.
        let long = make_list((0..1_000_000).map(Value::Int)).unwrap();
        drop(long);
    });
}

#[test]
fn shared_deep_value_survives_partial_drop() {
    let inner = v("(1 2 3)");
    let outer = Value::list_from(VecDeque::from([inner.clone(), v("(4)")]));
    drop(outer);
    assert_eq!(p(&inner), "(1 2 3)");
}

// ---- equality ----

#[test]
fn equality_is_structural_and_type_sensitive() {
    assert!(equal(&v("(1 \"a\" (b))"), &v("(1 \"a\" (b))")));
    assert!(!equal(&v("1"), &v("1.0")));
    assert!(!equal(&v("(1)"), &v("(1.0)")));
    assert!(!equal(&v("#t"), &v("1")));
    assert!(!equal(&v("a"), &v("\"a\"")));
    // Dict equality is order-sensitive; set equality is not.
    assert!(!equal(&v("{1 2 3 4}"), &v("{3 4 1 2}")));
    assert!(equal(&v("{1 2 3 4}"), &v("{1 2 3 4}")));
    let s1 = make_set(vec![v("1"), v("2")]).unwrap();
    let s2 = make_set(vec![v("2"), v("1")]).unwrap();
    assert!(equal(&s1, &s2));
    // Shared-buffer lists with different offsets.
    assert_eq!(c("list=?", &["(1 2 3)", "(1 2 3)", "(1 2 3)"]), "#t");
    let l = v("(0 1 2)");
    let rest = call("list-rest", vec![l.clone()]);
    assert_eq!(rest, "(1 2)");
    assert!(equal(&point(v("1"), v("2")), &point(v("1"), v("2"))));
    assert!(!equal(&point(v("1"), v("2")), &point(v("1"), v("2.0"))));
    // Functions compare by identity: same index and the same environment.
    let f = closure(1);
    assert!(equal(&f, &f.clone()));
    assert!(!equal(&closure(1), &closure(1)));
    assert!(equal(
        &Value::Builtin(Builtin::List),
        &Value::Builtin(Builtin::List)
    ));
    assert!(!equal(&Value::StructType(0), &Value::StructType(1)));
}

#[test]
fn keys_hash_by_type() {
    let d = make_dict(vec![
        v("1"),
        v("\"int\""),
        v("1.0"),
        v("\"float\""),
        v("#t"),
        v("\"bool\""),
    ])
    .unwrap();
    assert_eq!(p(&d), "{(1 \"int\") (1.0 \"float\") (#t \"bool\")}");
    // 0.0 and -0.0 are the same key.
    let d = make_dict(vec![v("0.0"), v("1"), v("-0.0"), v("2")]).unwrap();
    assert_eq!(p(&d), "{(0.0 2)}");
    assert_eq!(c("dict-get", &["{-0.0 5}", "0.0"]), "5");
    assert_eq!(
        c("set-member?", &["(1)", "1"]),
        "ERR: set-member?: expected set, got list"
    );
    assert_eq!(
        call("set", vec![v("(1)")]),
        "ERR: set: unhashable type: list"
    );
    assert_eq!(
        call("set", vec![point(v("1"), v("(2)"))]),
        "ERR: set: unhashable type: list"
    );
    assert_eq!(
        call("set", vec![Value::None]),
        "ERR: set: unhashable type: none"
    );
    assert_eq!(
        call("set", vec![point(v("1"), v("2")), point(v("1"), v("2"))]),
        "#{(point 1 2)}"
    );
}

// ---- functions, symbols, none, booleans ----

#[test]
fn function_builtins() {
    let bi = |n: &str| Value::Builtin(b(n));
    assert_eq!(call("function?", vec![bi("list")]), "#t");
    assert_eq!(call("function?", vec![closure(1)]), "#t");
    assert_eq!(call("function?", vec![Value::StructType(0)]), "#f");
    assert_eq!(call("function?", vec![v("1")]), "#f");
    let f = closure(1);
    assert_eq!(call("function=?", vec![f.clone(), f.clone()]), "#t");
    assert_eq!(call("function=?", vec![f.clone(), closure(1)]), "#f");
    assert_eq!(call("function!=?", vec![f.clone(), closure(1)]), "#t");
    assert_eq!(call("function=?", vec![bi("list"), bi("list")]), "#t");
    assert_eq!(call("function=?", vec![bi("list"), bi("dict")]), "#f");
    assert_eq!(
        call("function=?", vec![bi("list"), Value::StructType(0)]),
        "ERR: function=?: expected function, got struct-type"
    );
    assert_eq!(call("function-min-arity", vec![bi("float-expn")]), "0");
    assert_eq!(call("function-min-arity", vec![bi("dict-get")]), "2");
    assert_eq!(call("function-variadic?", vec![bi("dict-get")]), "#t");
    assert_eq!(call("function-variadic?", vec![bi("string-replace")]), "#f");
    assert_eq!(
        call("function-accepts?", vec![bi("integer-"), v("1")]),
        "#t"
    );
    assert_eq!(
        call("function-accepts?", vec![bi("integer-neg"), v("2")]),
        "#f"
    );
    assert_eq!(call("function-min-arity", vec![closure(2)]), "2");
    assert_eq!(call("function-variadic?", vec![closure(2)]), "#t");
    assert_eq!(call("function-variadic?", vec![closure(1)]), "#f");
    assert_eq!(call("function-accepts?", vec![closure(1), v("2")]), "#t");
    assert_eq!(call("function-accepts?", vec![closure(1), v("3")]), "#f");
    assert_eq!(call("function-accepts?", vec![closure(2), v("5")]), "#t");
    assert_eq!(call("function-accepts?", vec![closure(2), v("1")]), "#f");
    assert_eq!(call("function-accepts?", vec![closure(3), v("-1")]), "#f");
    assert_eq!(
        call("function-accepts?", vec![closure(3), v("1.0")]),
        "ERR: function-accepts?: expected integer, got float"
    );
    assert_eq!(
        call("function-min-arity", vec![Value::StructType(0)]),
        "ERR: function-min-arity: expected function, got struct-type"
    );
}

#[test]
fn symbol_none_boolean_builtins() {
    assert_eq!(c("symbol?", &["a"]), "#t");
    assert_eq!(c("symbol?", &["\"a\""]), "#f");
    assert_eq!(c("symbol=?", &["a", "a"]), "#t");
    assert_eq!(c("symbol!=?", &["a", "b"]), "#t");
    assert_eq!(
        c("symbol=?", &["a", "\"a\""]),
        "ERR: symbol=?: expected symbol, got string"
    );
    assert_eq!(c("symbol->string", &["abc"]), "\"abc\"");
    assert_eq!(c("none?", &["#none"]), "#t");
    assert_eq!(c("none?", &["()"]), "#f");
    assert_eq!(c("boolean?", &["#f"]), "#t");
    assert_eq!(c("boolean?", &["0"]), "#f");
    assert_eq!(c("boolean=?", &["#t", "#t", "#t"]), "#t");
    assert_eq!(c("boolean=?", &["#t", "#f", "1"]), "#f");
    assert_eq!(
        c("boolean=?", &["#t", "#t", "1"]),
        "ERR: boolean=?: expected boolean, got integer"
    );
    assert_eq!(c("boolean!=?", &["#t", "#t", "#f"]), "#t");
    assert_eq!(c("boolean!=?", &["#f", "#f"]), "#f");
    assert_eq!(c("boolean-not", &["#f"]), "#t");
    assert_eq!(
        c("boolean-not", &["1"]),
        "ERR: boolean-not: expected boolean, got integer"
    );
}

// ---- strings ----

#[test]
fn string_basics() {
    assert_eq!(c("string?", &["\"x\""]), "#t");
    assert_eq!(c("string=?", &["\"a\"", "\"a\"", "\"a\""]), "#t");
    assert_eq!(c("string=?", &["\"a\"", "\"b\"", "3"]), "#f");
    assert_eq!(
        c("string=?", &["\"a\"", "\"a\"", "3"]),
        "ERR: string=?: expected string, got integer"
    );
    assert_eq!(c("string!=?", &["\"a\"", "\"a\"", "\"b\""]), "#t");
    assert_eq!(c("string<?", &["\"a\"", "\"b\"", "\"c\""]), "#t");
    assert_eq!(c("string<?", &["\"a\"", "\"b\"", "\"b\""]), "#f");
    assert_eq!(c("string<=?", &["\"a\"", "\"b\"", "\"b\""]), "#t");
    assert_eq!(c("string>?", &["\"b\"", "\"a\""]), "#t");
    assert_eq!(c("string>=?", &["\"a\"", "\"b\""]), "#f");
    // Codepoint order: é (U+E9) after z.
    assert_eq!(c("string<?", &["\"z\"", "\"é\""]), "#t");
    assert_eq!(c("string-concat", &[]), "\"\"");
    assert_eq!(
        c("string-concat", &["\"ab\"", "\"\"", "\"cé\""]),
        "\"abcé\""
    );
    assert_eq!(c("string-length", &["\"héllo\""]), "5");
    assert_eq!(c("string-ref", &["\"héllo\"", "1"]), "\"é\"");
    assert_eq!(c("string-ref", &["\"hello\"", "4"]), "\"o\"");
    assert_eq!(
        c("string-ref", &["\"abc\"", "5"]),
        "ERR: string-ref: index 5 out of range for string of length 3"
    );
    assert_eq!(
        c("string-ref", &["\"abc\"", "-1"]),
        "ERR: string-ref: index -1 out of range for string of length 3"
    );
    assert_eq!(
        c("string-ref", &["\"abc\"", "\"x\""]),
        "ERR: string-ref: expected integer, got string"
    );
    assert_eq!(
        c("string-ref", &["1", "0"]),
        "ERR: string-ref: expected string, got integer"
    );
    assert_eq!(c("string-slice", &["\"héllo\"", "1", "3"]), "\"él\"");
    assert_eq!(c("string-slice", &["\"héllo\"", "2"]), "\"llo\"");
    assert_eq!(c("string-slice", &["\"abc\"", "3"]), "\"\"");
    assert_eq!(
        c("string-slice", &["\"abc\"", "2", "1"]),
        "ERR: string-slice: start index 2 is greater than end index 1"
    );
    assert_eq!(
        c("string-slice", &["\"abc\"", "0", "4"]),
        "ERR: string-slice: index 4 out of range for string of length 3"
    );
}

#[test]
fn string_concat_in_place_keeps_shared_copy_intact() {
    let s = v("\"ab\"");
    let mut regs = vec![s.clone(), v("\"cd\"")];
    assert_eq!(call_borrowed("string-concat", &mut regs), "\"abcd\"");
    assert_eq!(p(&s), "\"ab\"");
    assert_eq!(call("string-concat", vec![s, v("\"é\"")]), "\"abé\"");
}

#[test]
fn string_case_trim_replace_search() {
    assert_eq!(c("string-upcase", &["\"straße\""]), "\"STRASSE\"");
    assert_eq!(c("string-downcase", &["\"ΣΑΣ\""]), "\"σας\"");
    assert_eq!(c("string-downcase", &["\"ABC\""]), "\"abc\"");
    assert_eq!(
        call(
            "string-trim",
            vec![Value::str("\u{feff}\u{3000} \t x y \u{85}\u{a0}")]
        ),
        "\"x y\""
    );
    assert_eq!(
        call("string-trim-left", vec![Value::str("  x  ")]),
        "\"x  \""
    );
    assert_eq!(
        call("string-trim-right", vec![Value::str("  x  ")]),
        "\"  x\""
    );
    // U+001C is Python whitespace but not in the trim set.
    assert_eq!(
        call("string-trim", vec![Value::str("\u{1c}x")]),
        "\"\\u001cx\""
    );
    assert_eq!(
        c("string-replace", &["\"aXbXc\"", "\"X\"", "\"--\""]),
        "\"a--b--c\""
    );
    assert_eq!(
        c("string-replace", &["\"abc\"", "\"\"", "\"-\""]),
        "\"-a-b-c-\""
    );
    assert_eq!(c("string-prefix?", &["\"hello\"", "\"he\""]), "#t");
    assert_eq!(c("string-suffix?", &["\"hello\"", "\"lo\""]), "#t");
    assert_eq!(c("string-suffix?", &["\"hello\"", "\"he\""]), "#f");
    assert_eq!(c("string-index", &["\"héllo\"", "\"l\""]), "2");
    assert_eq!(c("string-index", &["\"hello\"", "\"z\""]), "#none");
    assert_eq!(c("string-index", &["\"hello\"", "\"\""]), "0");
}

#[test]
fn string_to_number() {
    let n = |s: &str| call("string->number", vec![Value::str(s)]);
    assert_eq!(n("42"), "42");
    assert_eq!(n("  -42"), "-42");
    assert_eq!(n("+7"), "7");
    assert_eq!(n("007"), "7");
    assert_eq!(n("42 "), "#none");
    assert_eq!(n(""), "#none");
    assert_eq!(n("   "), "#none");
    assert_eq!(n("99999999999999999999"), "99999999999999999999");
    assert_eq!(n("1e3"), "1000.0");
    assert_eq!(n("1.5"), "1.5");
    assert_eq!(n(".5"), "0.5");
    assert_eq!(n("5."), "5.0");
    assert_eq!(n("-0.0"), "-0.0");
    assert_eq!(n("inf"), "inf");
    assert_eq!(n("-Infinity"), "-inf");
    assert_eq!(n("nan"), "nan");
    assert_eq!(n("0x10"), "16.0");
    assert_eq!(n("0x1.8p1"), "3.0");
    assert_eq!(n("-0X.8"), "-0.5");
    assert_eq!(n("0x"), "#none");
    assert_eq!(n("1e"), "#none");
    assert_eq!(n("1_000"), "#none");
    assert_eq!(n("abc"), "#none");
    assert_eq!(n("1+2j"), "1+2j");
    assert_eq!(n("5j"), "5j");
    assert_eq!(n("-2.5j"), "-2.5j");
    assert_eq!(n("1e-3-4E+2J"), "0.001-400j");
    assert_eq!(n("1+j"), "#none");
    assert_eq!(n("1j+2"), "#none");
    assert_eq!(n("４２"), "#none");
    assert_eq!(n("1é"), "#none");
}

#[test]
fn string_to_integer_list_codepoint() {
    let i = |s: &str| call("string->integer", vec![Value::str(s)]);
    let r = |s: &str, radix: i64| call("string->integer", vec![Value::str(s), Value::Int(radix)]);
    assert_eq!(i(" 42 "), "42");
    assert_eq!(i("-1_000"), "-1000");
    assert_eq!(i("1.0"), "#none");
    assert_eq!(i("_1"), "#none");
    assert_eq!(i("1__0"), "#none");
    assert_eq!(r("ff", 16), "255");
    assert_eq!(r("FF", 16), "255");
    assert_eq!(r("0xff", 16), "255");
    assert_eq!(r("-101", 2), "-5");
    assert_eq!(r("102", 2), "#none");
    assert_eq!(r("17", 8), "15");
    assert_eq!(
        r("1", 3),
        "ERR: string->integer: radix must be 2, 8, 10 or 16"
    );
    assert_eq!(r("ffffffffffffffffffff", 16), "1208925819614629174706175");
    assert_eq!(c("string->list", &["\"héy\""]), "(\"h\" \"é\" \"y\")");
    assert_eq!(c("string->list", &["\"\""]), "()");
    assert_eq!(
        c("string->list", &["\"a,b,,c\"", "\",\""]),
        "(\"a\" \"b\" \"\" \"c\")"
    );
    assert_eq!(c("string->list", &["\"\"", "\",\""]), "(\"\")");
    assert_eq!(c("string->list", &["\"ab\"", "\"\""]), "(\"a\" \"b\")");
    assert_eq!(
        c("string->list", &["\"ab\"", "1"]),
        "ERR: string->list: expected string, got integer"
    );
    assert_eq!(c("string->integer-codepoint", &["\"é\""]), "233");
    assert!(
        c("string->integer-codepoint", &["\"ab\""]).starts_with("ERR: string->integer-codepoint:")
    );
}

// ---- lists ----

#[test]
fn list_basics() {
    assert_eq!(c("list", &["1", "2"]), "(1 2)");
    assert_eq!(c("list", &[]), "()");
    assert_eq!(c("list?", &["()"]), "#t");
    assert_eq!(c("list?", &["{}"]), "#f");
    assert_eq!(c("list=?", &["(1 (2))", "(1 (2))"]), "#t");
    assert_eq!(c("list=?", &["(1)", "(1.0)"]), "#f");
    assert_eq!(c("list=?", &["(1)", "(2)", "3"]), "#f");
    assert_eq!(
        c("list=?", &["(1)", "3"]),
        "ERR: list=?: expected list, got integer"
    );
    assert_eq!(c("list!=?", &["(1)", "(1)", "(2)"]), "#t");
    assert_eq!(c("list-prepend", &["(1 2)", "0"]), "(0 1 2)");
    assert_eq!(c("list-append", &["(1 2)", "3"]), "(1 2 3)");
    assert_eq!(
        c("list-prepend", &["5", "3"]),
        "ERR: list-prepend: expected list, got integer"
    );
    assert_eq!(c("list-concat", &[]), "()");
    assert_eq!(c("list-concat", &["(1)", "()", "(2 3)"]), "(1 2 3)");
    assert_eq!(
        c("list-concat", &["(1)", "2"]),
        "ERR: list-concat: expected list, got integer"
    );
    assert_eq!(c("list-reverse", &["(1 2 3)"]), "(3 2 1)");
    assert_eq!(c("list-first", &["(1 2 3)"]), "1");
    assert_eq!(c("list-first", &["()"]), "ERR: list-first: empty list");
    assert_eq!(c("list-rest", &["(1 2 3)"]), "(2 3)");
    assert_eq!(c("list-rest", &["()"]), "ERR: list-rest: empty list");
    assert_eq!(c("list-last", &["(1 2 3)"]), "3");
    assert_eq!(c("list-last", &["()"]), "ERR: list-last: empty list");
    assert_eq!(c("list-ref", &["(1 2 3)", "2"]), "3");
    assert_eq!(
        c("list-ref", &["(1 2 3)", "5"]),
        "ERR: list-ref: index 5 out of range for list of length 3"
    );
    assert_eq!(
        c("list-ref", &["(1 2 3)", "-1"]),
        "ERR: list-ref: index -1 out of range for list of length 3"
    );
    assert_eq!(
        c("list-ref", &["(1 2 3)", "1.0"]),
        "ERR: list-ref: expected integer, got float"
    );
    assert_eq!(c("list-length", &["(1 2 3)"]), "3");
    assert_eq!(c("list-null?", &["()"]), "#t");
    assert_eq!(c("list-null?", &["(1)"]), "#f");
    assert_eq!(c("list-member?", &["(1 (2) 3)", "(2)"]), "#t");
    assert_eq!(c("list-member?", &["(1 2 3)", "2.0"]), "#f");
    assert_eq!(c("list-index", &["(1 2 3 2)", "2"]), "1");
    assert_eq!(c("list-index", &["(1 2 3)", "4"]), "#none");
    assert_eq!(c("list-remove", &["(1 2 1 3)", "1"]), "(2 3)");
    assert_eq!(c("list-slice", &["(0 1 2 3 4)", "1", "3"]), "(1 2)");
    assert_eq!(c("list-slice", &["(0 1 2 3 4)", "2"]), "(2 3 4)");
    assert_eq!(c("list-slice", &["(0 1 2)", "3"]), "()");
    assert_eq!(
        c("list-slice", &["(0 1 2)", "2", "1"]),
        "ERR: list-slice: start index 2 is greater than end index 1"
    );
    assert_eq!(
        c("list-slice", &["(0 1 2)", "0", "4"]),
        "ERR: list-slice: index 4 out of range for list of length 3"
    );
    assert_eq!(c("list->string", &["(\"a\" \"b\")"]), "\"ab\"");
    assert_eq!(c("list->string", &["(\"a\" \"b\")", "\", \""]), "\"a, b\"");
    assert_eq!(
        c("list->string", &["(\"a\" 1)"]),
        "ERR: list->string: expected string, got integer"
    );
    assert_eq!(c("list->set", &["(3 1 3 2 1)"]), "#{3 1 2}");
    assert_eq!(
        c("list->set", &["((1))"]),
        "ERR: list->set: unhashable type: list"
    );
}

#[test]
fn list_updates_share_or_copy_correctly() {
    // Borrowed (live register): the original is untouched.
    let base = v("(1 2 3)");
    let mut regs = vec![base.clone(), v("0")];
    assert_eq!(call_borrowed("list-prepend", &mut regs), "(0 1 2 3)");
    assert_eq!(call_borrowed("list-append", &mut regs), "(1 2 3 0)");
    assert_eq!(call_borrowed("list-remove", &mut regs), "(1 2 3)");
    assert_eq!(p(&base), "(1 2 3)");
    // list-rest shares the buffer; then operations on the shared suffix.
    let m = module();
    let ctx = Ctx { module: &m };
    let mut regs = vec![base.clone()];
    let rest = call_builtin(&ctx, Builtin::ListRest, &mut Args::borrowed(&mut regs)).unwrap();
    match (&rest, &base) {
        (Value::List(s, a), Value::List(_, b2)) => {
            assert_eq!(*s, 1);
            assert!(Rc::ptr_eq(a, b2));
        }
        _ => panic!("not lists"),
    }
    assert_eq!(call("list-prepend", vec![rest.clone(), v("9")]), "(9 2 3)");
    assert_eq!(call("list-append", vec![rest.clone(), v("9")]), "(2 3 9)");
    assert_eq!(call("list-reverse", vec![rest.clone()]), "(3 2)");
    assert_eq!(
        call("list-concat", vec![rest.clone(), rest.clone()]),
        "(2 3 2 3)"
    );
    assert_eq!(call("list-slice", vec![rest.clone(), v("1")]), "(3)");
    assert_eq!(call("list-ref", vec![rest.clone(), v("1")]), "3");
    assert_eq!(call("list-last", vec![rest.clone()]), "3");
    assert_eq!(p(&base), "(1 2 3)");
    // The prefix is dropped when an unshared offset list is updated.
    drop(base);
    let mut regs = vec![rest, v("7")];
    let m2 = module();
    let ctx2 = Ctx { module: &m2 };
    let r = call_builtin(&ctx2, Builtin::ListPrepend, &mut Args::owned(&mut regs)).unwrap();
    match &r {
        Value::List(0, buf) => assert_eq!(buf.len(), 3),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(p(&r), "(7 2 3)");
}

#[test]
fn unshared_updates_happen_in_place() {
    let m = module();
    let ctx = Ctx { module: &m };
    // An accumulator loop: the list buffer is reused (amortized O(1)).
    let mut acc = Value::empty_list();
    let ptr = match &acc {
        Value::List(_, rc) => Rc::as_ptr(rc),
        _ => unreachable!(),
    };
    for i in 0..1000 {
        let mut regs = vec![acc, Value::Int(i)];
        acc = call_builtin(&ctx, Builtin::ListAppend, &mut Args::owned(&mut regs)).unwrap();
    }
    match &acc {
        Value::List(0, rc) => {
            assert_eq!(Rc::as_ptr(rc), ptr);
            assert_eq!(rc.len(), 1000);
        }
        _ => panic!(),
    }
    // list-rest on an unshared list pops in place.
    for _ in 0..999 {
        let mut regs = vec![acc];
        acc = call_builtin(&ctx, Builtin::ListRest, &mut Args::owned(&mut regs)).unwrap();
    }
    assert_eq!(p(&acc), "(999)");
    // Dicts and sets.
    let mut d = make_dict(vec![]).unwrap();
    let dptr = match &d {
        Value::Dict(rc) => Rc::as_ptr(rc),
        _ => unreachable!(),
    };
    for i in 0..100 {
        let mut regs = vec![d, Value::Int(i % 10), Value::Int(i)];
        d = call_builtin(&ctx, Builtin::DictSet, &mut Args::owned(&mut regs)).unwrap();
    }
    match &d {
        Value::Dict(rc) => assert_eq!(Rc::as_ptr(rc), dptr),
        _ => panic!(),
    }
    assert_eq!(
        p(&d),
        "{(0 90) (1 91) (2 92) (3 93) (4 94) (5 95) (6 96) (7 97) (8 98) (9 99)}"
    );
    let mut s = make_set(vec![]).unwrap();
    for i in [3, 1, 3, 2] {
        let mut regs = vec![s, Value::Int(i)];
        s = call_builtin(&ctx, Builtin::SetAdd, &mut Args::owned(&mut regs)).unwrap();
    }
    assert_eq!(p(&s), "#{3 1 2}");
}

#[test]
fn range_builtin() {
    assert_eq!(c("range", &["0", "5"]), "(0 1 2 3 4)");
    assert_eq!(c("range", &["5", "0"]), "()");
    assert_eq!(c("range", &["0", "10", "3"]), "(0 3 6 9)");
    assert_eq!(c("range", &["5", "0", "-2"]), "(5 3 1)");
    assert_eq!(c("range", &["0", "5", "-1"]), "()");
    assert_eq!(
        c("range", &["0", "5", "0"]),
        "ERR: range: step must not be zero"
    );
    assert_eq!(
        c("range", &["0", "5.0"]),
        "ERR: range: expected integer, got float"
    );
    assert_eq!(
        c("range", &["9223372036854775806", "9223372036854775807"]),
        "(9223372036854775806)"
    );
    let big = call(
        "range",
        vec![
            v("9223372036854775806"),
            menai_vm_bigint("9223372036854775809"),
        ],
    );
    assert_eq!(
        big,
        "(9223372036854775806 9223372036854775807 9223372036854775808)"
    );
    assert_eq!(
        c(
            "range",
            &[
                "-9223372036854775808",
                "9223372036854775807",
                "9223372036854775807"
            ]
        ),
        "(-9223372036854775808 -1 9223372036854775806)"
    );
}

fn menai_vm_bigint(s: &str) -> Value {
    Value::BigInt(Rc::new(s.parse().unwrap()))
}

// ---- dicts ----

#[test]
fn dict_builtins() {
    assert_eq!(
        c("dict", &["\"a\"", "1", "\"b\"", "2"]),
        "{(\"a\" 1) (\"b\" 2)}"
    );
    assert_eq!(
        c("dict", &["\"a\"", "1", "\"b\"", "2", "\"a\"", "3"]),
        "{(\"a\" 3) (\"b\" 2)}"
    );
    assert!(c("dict", &["\"a\""]).starts_with("ERR: dict: expected an even number"));
    assert_eq!(c("dict", &["(1)", "1"]), "ERR: dict: unhashable type: list");
    assert_eq!(c("dict?", &["{}"]), "#t");
    assert_eq!(c("dict=?", &["{1 2 3 4}", "{1 2 3 4}"]), "#t");
    assert_eq!(c("dict=?", &["{1 2 3 4}", "{3 4 1 2}"]), "#f");
    assert_eq!(c("dict!=?", &["{1 2 3 4}", "{3 4 1 2}"]), "#t");
    assert_eq!(
        c("dict=?", &["{}", "()"]),
        "ERR: dict=?: expected dict, got list"
    );
    assert_eq!(c("dict-get", &["{\"a\" 1}", "\"a\""]), "1");
    assert_eq!(c("dict-get", &["{\"a\" 1}", "\"b\""]), "#none");
    assert_eq!(c("dict-get", &["{\"a\" 1}", "\"b\"", "0"]), "0");
    assert_eq!(
        c("dict-get", &["{\"a\" 1}", "(1)"]),
        "ERR: dict-get: unhashable type: list"
    );
    assert_eq!(c("dict-get", &["{1 \"int\"}", "1.0"]), "#none");
    assert_eq!(
        c("dict-set", &["{\"a\" 1 \"b\" 2}", "\"a\"", "9"]),
        "{(\"a\" 9) (\"b\" 2)}"
    );
    assert_eq!(
        c("dict-set", &["{\"a\" 1}", "\"c\"", "3"]),
        "{(\"a\" 1) (\"c\" 3)}"
    );
    assert_eq!(
        c("dict-remove", &["{\"a\" 1 \"b\" 2 \"c\" 3}", "\"b\""]),
        "{(\"a\" 1) (\"c\" 3)}"
    );
    assert_eq!(c("dict-remove", &["{\"a\" 1}", "\"z\""]), "{(\"a\" 1)}");
    assert_eq!(c("dict-has?", &["{\"a\" 1}", "\"a\""]), "#t");
    assert_eq!(c("dict-has?", &["{\"a\" 1}", "a"]), "#f");
    assert_eq!(c("dict-keys", &["{\"a\" 1 \"b\" 2}"]), "(\"a\" \"b\")");
    assert_eq!(c("dict-values", &["{\"a\" 1 \"b\" 2}"]), "(1 2)");
    assert_eq!(c("dict-length", &["{\"a\" 1 \"b\" 2}"]), "2");
    assert_eq!(
        c("dict-merge", &["{\"a\" 1 \"b\" 2}", "{\"b\" 3 \"c\" 4}"]),
        "{(\"a\" 1) (\"b\" 3) (\"c\" 4)}"
    );
    assert_eq!(
        c("dict-merge", &["{}", "1"]),
        "ERR: dict-merge: expected dict, got integer"
    );
    // Borrowed dicts are not modified.
    let d = v("{\"a\" 1}");
    let mut regs = vec![d.clone(), v("\"b\""), v("2")];
    assert_eq!(
        call_borrowed("dict-set", &mut regs),
        "{(\"a\" 1) (\"b\" 2)}"
    );
    assert_eq!(p(&d), "{(\"a\" 1)}");
}

// ---- sets ----

#[test]
fn set_builtins() {
    let s = |items: &[&str]| make_set(items.iter().map(|x| v(x)).collect::<Vec<_>>()).unwrap();
    assert_eq!(c("set", &["1", "2", "1"]), "#{1 2}");
    assert_eq!(call("set?", vec![s(&[])]), "#t");
    assert_eq!(call("set=?", vec![s(&["1", "2"]), s(&["2", "1"])]), "#t");
    assert_eq!(call("set=?", vec![s(&["1", "2"]), s(&["2", "1.0"])]), "#f");
    assert_eq!(call("set!=?", vec![s(&["1"]), s(&["1"]), s(&["2"])]), "#t");
    assert_eq!(call("set-member?", vec![s(&["1", "2"]), v("2")]), "#t");
    assert_eq!(call("set-member?", vec![s(&["1", "2"]), v("2.0")]), "#f");
    assert_eq!(
        call("set-member?", vec![s(&["1"]), v("(1)")]),
        "ERR: set-member?: unhashable type: list"
    );
    assert_eq!(call("set-add", vec![s(&["1"]), v("2")]), "#{1 2}");
    assert_eq!(call("set-add", vec![s(&["1", "2"]), v("1")]), "#{1 2}");
    assert_eq!(
        call("set-remove", vec![s(&["1", "2", "3"]), v("2")]),
        "#{1 3}"
    );
    assert_eq!(call("set-remove", vec![s(&["1"]), v("5")]), "#{1}");
    assert_eq!(call("set-length", vec![s(&["1", "2"])]), "2");
    assert_eq!(
        call("set-union", vec![s(&["3", "1"]), s(&["2", "1"])]),
        "#{3 1 2}"
    );
    assert_eq!(
        call(
            "set-intersection",
            vec![s(&["3", "1", "2"]), s(&["2", "3"])]
        ),
        "#{3 2}"
    );
    assert_eq!(
        call("set-difference", vec![s(&["3", "1", "2"]), s(&["2"])]),
        "#{3 1}"
    );
    assert_eq!(call("set-subset?", vec![s(&["1"]), s(&["2", "1"])]), "#t");
    assert_eq!(
        call("set-subset?", vec![s(&["1", "3"]), s(&["2", "1"])]),
        "#f"
    );
    assert_eq!(call("set->list", vec![s(&["b", "a"])]), "(b a)");
    assert_eq!(
        call("set-union", vec![s(&[]), v("()")]),
        "ERR: set-union: expected set, got list"
    );
    // Borrowed sets are not modified.
    let base = s(&["1"]);
    let mut regs = vec![base.clone(), v("2")];
    assert_eq!(call_borrowed("set-add", &mut regs), "#{1 2}");
    assert_eq!(p(&base), "#{1}");
}

// ---- structs ----

#[test]
fn struct_builtins() {
    let pt = point(v("1"), v("2"));
    assert_eq!(call("struct?", vec![pt.clone()]), "#t");
    assert_eq!(call("struct?", vec![Value::StructType(0)]), "#f");
    assert_eq!(
        call("struct-type?", vec![Value::StructType(0), pt.clone()]),
        "#t"
    );
    assert_eq!(
        call("struct-type?", vec![Value::StructType(1), pt.clone()]),
        "#f"
    );
    assert_eq!(
        call("struct-type?", vec![Value::StructType(0), v("1")]),
        "#f"
    );
    assert_eq!(
        call("struct-type?", vec![v("1"), pt.clone()]),
        "ERR: struct-type?: expected struct-type, got integer"
    );
    assert_eq!(call("struct-get", vec![pt.clone(), sym("y")]), "2");
    assert_eq!(
        call("struct-get", vec![pt.clone(), sym("z")]),
        "ERR: struct-get: struct point has no field 'z'"
    );
    assert_eq!(
        call("struct-get", vec![pt.clone(), v("\"x\"")]),
        "ERR: struct-get: expected symbol, got string"
    );
    assert_eq!(
        call("struct-get", vec![v("1"), sym("x")]),
        "ERR: struct-get: expected struct, got integer"
    );
    assert_eq!(
        call("struct-set", vec![pt.clone(), sym("x"), v("9")]),
        "(point 9 2)"
    );
    assert_eq!(p(&pt), "(point 1 2)");
    assert_eq!(call("struct-get-imm", vec![pt.clone(), v("1")]), "2");
    assert_eq!(
        call("struct-get-imm", vec![pt.clone(), v("2")]),
        "ERR: struct-get-imm: index 2 out of range for struct of length 2"
    );
    assert_eq!(
        call("struct-set-imm", vec![pt.clone(), v("0"), v("7")]),
        "(point 7 2)"
    );
    assert_eq!(
        call("struct=?", vec![pt.clone(), point(v("1"), v("2"))]),
        "#t"
    );
    assert_eq!(
        call("struct=?", vec![pt.clone(), point(v("1"), v("3"))]),
        "#f"
    );
    assert_eq!(
        call("struct!=?", vec![pt.clone(), point(v("1"), v("3"))]),
        "#t"
    );
    assert_eq!(
        call("struct=?", vec![pt.clone(), v("1")]),
        "ERR: struct=?: expected struct, got integer"
    );
    assert_eq!(
        call("struct-type", vec![pt.clone()]),
        "<struct-type point (x y)>"
    );
    assert_eq!(
        call("struct-type-name", vec![Value::StructType(0)]),
        "\"point\""
    );
    assert_eq!(call("struct-fields", vec![Value::StructType(0)]), "(x y)");
    assert_eq!(call("struct-fields", vec![Value::StructType(1)]), "()");
    assert_eq!(
        call("struct-type-name", vec![pt]),
        "ERR: struct-type-name: expected struct-type, got struct"
    );
}

#[test]
fn every_native_data_builtin_is_implemented() {
    // No builtin in the data families answers "not implemented".
    let m = module();
    let ctx = Ctx { module: &m };
    for info in menai_bytecode::BUILTINS {
        let code = info.id as u16;
        let data = code < 20 || (120..240).contains(&code) || code == 240;
        if !data || info.implementation != menai_bytecode::builtins::Impl::Native {
            continue;
        }
        for n in info.min_args as usize..=(info.min_args as usize + 3) {
            if !info.accepts(n) {
                continue;
            }
            let mut vals: Vec<Value> = (0..n).map(|_| v("1")).collect();
            if let Err(e) = call_builtin(&ctx, info.id, &mut Args::owned(&mut vals)) {
                assert!(!e.message.contains("not implemented"), "{}", e.message);
                assert!(!e.message.contains("not a "), "{}", e.message);
                assert!(e.message.starts_with(info.name), "{}", e.message);
            }
        }
    }
}
