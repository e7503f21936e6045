//! Random generator of well-typed Menai programs for the differential test
//! (`tests/differential.rs`).
//!
//! A small deterministic PRNG (SplitMix64) drives a typed expression
//! generator: every expression is built for a wanted type (integer, float,
//! boolean, string, list of integers, dict from strings to integers, set of
//! integers, a struct type declared in scope, or a function type) in an
//! environment of typed local names, so the programs compile and mostly run
//! to a value. Failures that are part of the language (division by zero,
//! `list-first` of an empty list, `(error ...)`, no clause matched, arity
//! errors through `apply` or known calls, and a few deliberately ill-typed
//! forms: non-boolean conditions, values whose type depends on the path)
//! are produced on purpose with a low probability: every level of the
//! optimizer must then report the same error. [`oracle`] evaluates the same
//! programs independently.
//!
//! Size is bounded by a node budget and a depth limit; recursion always
//! runs on a small decreasing counter, and integer accumulators in loops
//! are reduced modulo a constant, so every program finishes quickly.
//!
//! Programs are built as [`S`] trees (S-expressions), which the
//! differential test also uses to shrink a failing program.

use std::fmt;

pub mod oracle;

/// SplitMix64: tiny, deterministic, good enough for test generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0; 0 gives 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// An S-expression: what the generator builds and the shrinker edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum S {
    A(String),
    L(Vec<S>),
}

impl S {
    pub fn atom(s: impl Into<String>) -> S {
        S::A(s.into())
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        match self {
            S::A(_) => 1,
            S::L(v) => 1 + v.iter().map(S::size).sum::<usize>(),
        }
    }
}

impl fmt::Display for S {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S::A(a) => f.write_str(a),
            S::L(v) => {
                f.write_str("(")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Builds a list node from atoms and nodes.
macro_rules! sl {
    ($($e:expr),* $(,)?) => { S::L(vec![$(S::from($e)),*]) };
}

impl From<&str> for S {
    fn from(s: &str) -> S {
        S::A(s.to_string())
    }
}

impl From<String> for S {
    fn from(s: String) -> S {
        S::A(s)
    }
}

/// The types the generator tracks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    ListInt,
    /// A dict from strings to integers.
    Dict,
    /// A set of integers.
    Set,
    Fn(Vec<Ty>, Box<Ty>),
    /// An instance of the struct type bound to this (unique) name.
    Struct(String),
    /// The struct type itself (the binding made by `(struct ...)`).
    StructType(String),
}

fn f1(a: Ty, r: Ty) -> Ty {
    Ty::Fn(vec![a], Box::new(r))
}

fn f2(a: Ty, b: Ty, r: Ty) -> Ty {
    Ty::Fn(vec![a, b], Box::new(r))
}

/// The function types the generator uses (so variables, builtins and
/// lambdas meet often enough to be interchangeable).
fn fn_pool() -> Vec<Ty> {
    use Ty::*;
    vec![
        f1(Int, Int),
        f2(Int, Int, Int),
        f1(Int, Bool),
        f1(Float, Float),
        f1(Str, Int),
        f1(ListInt, Int),
        f1(Int, f1(Int, Int)),
        Ty::Fn(vec![Int, Int, Int], Box::new(Int)),
        f2(Int, Str, Str),
        f1(Int, ListInt),
        f2(f1(Int, Int), Int, Int),
    ]
}

/// Builtins usable as values of a function type.
fn builtins_of(ty: &Ty) -> &'static [&'static str] {
    use Ty::*;
    match ty {
        Ty::Fn(a, r) => match (a.as_slice(), &**r) {
            ([Int], Int) => &[
                "integer-abs",
                "integer-neg",
                "integer-bit-not",
                "integer-min",
            ],
            ([Int, Int], Int) => &[
                "integer+",
                "integer*",
                "integer-",
                "integer-max",
                "integer-min",
                "integer%",
                "integer/",
                "integer-bit-xor",
            ],
            ([Int, Int, Int], Int) => &["integer+", "integer*", "integer-max"],
            ([Int], Bool) => &["integer?", "list?", "string?"],
            ([Float], Float) => &[
                "float-abs",
                "float-neg",
                "float-floor",
                "float-sqrt",
                "float-exp",
            ],
            ([Str], Int) => &["string-length"],
            ([ListInt], Int) => &["list-length", "list-first", "list-last"],
            ([Int, Str], Str) => &[],
            ([Int], ListInt) => &["list"],
            _ => &[],
        },
        _ => &[],
    }
}

/// Builtin names a local binding may shadow, with the type to bind.
fn shadowable() -> Vec<(&'static str, Ty)> {
    use Ty::*;
    vec![
        ("list-length", f1(ListInt, Int)),
        ("integer+", f2(Int, Int, Int)),
        ("integer+", Int),
        ("string-length", Int),
        ("integer-abs", f1(Int, Int)),
        ("list-first", f1(ListInt, Int)),
        ("map-list", Int),
        ("fold-list", Str),
        ("integer<?", f1(Int, Bool)),
        ("boolean-not", Bool),
        ("string-concat", Str),
        ("range", ListInt),
        ("float+", Float),
        ("pi", Float),
        ("e", Int),
        ("list", ListInt),
    ]
}

/// Special-form keywords that may be bound as plain (non-function) names.
const KEYWORDS: &[&str] = &[
    "if", "let", "match", "and", "or", "lambda", "apply", "quote", "error",
];

const DICT_KEYS: &[&str] = &["\"a\"", "\"b\"", "\"c\"", "\"héllo\"", "\"\""];
const SMALL_INTS: &[&str] = &[
    "0", "1", "2", "3", "-1", "5", "7", "10", "-4", "12", "100", "-17",
];
const BIG_INTS: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "4611686018427387904",
    "-4611686018427387905",
    "123456789012345678901234567890",
    "#xff",
    "-#b101",
    "1_000",
];
const FLOATS: &[&str] = &[
    "0.0",
    "1.5",
    "-2.25",
    "0.1",
    "3.0",
    "-0.0",
    "1e300",
    "1e-5",
    "2.5",
    "100.0",
    "-7.75",
    "1e16",
    "0.3",
    "-0.5",
    "0.5",
    "1e400",
    "-1e400",
    "1e308",
    "5e-324",
    "123456789.125",
    "1e22",
];
/// Integers at the edges of the machine word and their neighbours.
const EDGE_INTS: &[&str] = &[
    "-9223372036854775808",
    "9223372036854775807",
    "-9223372036854775807",
    "-1",
    "0",
    "1",
    "4294967296",
    "-4294967296",
    "9223372036854775808",
    "-9223372036854775809",
    "3037000499",
    "3037000500",
];
const STRINGS: &[&str] = &[
    "\"\"",
    "\"a\\nb\"",
    "\"\\u0007x\"",
    "\"back\\\\slash\"",
    "\"a\"",
    "\"héllo\"",
    "\"x\\\"y\"",
    "\"tab\\t\"",
    "\"λ\"",
    "\"abc\"",
    "\"12\"",
];

/// The generator's state for one program.
pub struct Gen {
    rng: Rng,
    /// Visible bindings, innermost last.
    env: Vec<(String, Ty)>,
    next_name: u32,
    /// Remaining node budget.
    fuel: i32,
    /// Nesting of counter loops (bounded so loops stay cheap).
    loops: u32,
    /// True until the first node is generated (the root is never a leaf).
    top: bool,
    /// A deep recursion has been generated (at most one per program).
    deep: bool,
    /// Every struct type declared so far: name and fields (names are unique).
    structs: Vec<(String, Vec<(String, Ty)>)>,
}

/// Generates the program for `seed`.
pub fn program(seed: u64) -> S {
    let mut g = Gen {
        rng: Rng::new(seed),
        env: vec![],
        next_name: 0,
        fuel: 0,
        loops: 0,
        top: false,
        deep: false,
        structs: vec![],
    };
    g.fuel = if g.rng.chance(20) {
        g.rng.range(150, 400)
    } else {
        g.rng.range(20, 140)
    } as i32;
    let ty = match g.rng.below(12) {
        0..=3 => Ty::Int,
        4 => Ty::Float,
        5 => Ty::Bool,
        6 => Ty::Str,
        7 | 8 => Ty::ListInt,
        9 => Ty::Dict,
        10 => Ty::Set,
        _ => g.fn_ty(),
    };
    g.top = true;
    g.expr(&ty, 6)
}

impl Gen {
    fn fresh(&mut self) -> String {
        self.next_name += 1;
        format!("v{}", self.next_name)
    }

    fn fn_ty(&mut self) -> Ty {
        let pool = fn_pool();
        self.rng.pick(&pool).clone()
    }

    fn base_ty(&mut self) -> Ty {
        match self.rng.below(14) {
            0..=3 => Ty::Int,
            4 | 5 => Ty::Float,
            6 | 7 => Ty::Bool,
            8 | 9 => Ty::Str,
            10 | 11 => Ty::ListInt,
            12 => Ty::Dict,
            _ => Ty::Set,
        }
    }

    fn any_ty(&mut self) -> Ty {
        if self.rng.chance(20) {
            self.fn_ty()
        } else if self.rng.chance(35) && self.struct_ty().is_some() {
            self.struct_ty().unwrap_or(Ty::Int)
        } else {
            self.base_ty()
        }
    }

    /// A struct type in scope, if any.
    fn struct_ty(&mut self) -> Option<Ty> {
        let names: Vec<String> = self
            .env
            .iter()
            .filter(|(_, t)| matches!(t, Ty::StructType(_)))
            .map(|(n, _)| n.clone())
            .collect();
        if names.is_empty() {
            None
        } else {
            Some(Ty::Struct(self.rng.pick(&names).clone()))
        }
    }

    /// The fields of struct type `name`.
    fn fields(&self, name: &str) -> Vec<(String, Ty)> {
        self.structs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    }

    /// A constructor call `(P e ...)`.
    fn construct(&mut self, name: &str, d: u32) -> S {
        let mut v = vec![S::atom(name)];
        for (_, t) in self.fields(name) {
            v.push(if d == 0 {
                self.leaf(&t)
            } else {
                self.expr(&t, d)
            });
        }
        S::L(v)
    }

    /// An expression of struct type.
    fn struct_expr(&mut self, name: &str, d: u32) -> Option<S> {
        match self.rng.below(3) {
            0 if self.avail(&["struct-set"]) => {
                let fs = self.fields(name);
                if fs.is_empty() {
                    return None;
                }
                let (f, t) = self.rng.pick(&fs).clone();
                let e = self.expr(&Ty::Struct(name.to_string()), d);
                let x = self.expr(&t, d);
                Some(sl!["struct-set", e, format!("'{f}"), x])
            }
            _ => Some(self.construct(name, d)),
        }
    }

    /// A field read `(struct-get s 'f)` / `(struct-get-imm s i)` of type `ty`, if some struct in scope has one.
    fn field_read(&mut self, ty: &Ty, d: u32) -> Option<S> {
        let mut cands = vec![];
        for (n, t) in &self.env {
            if let Ty::StructType(sn) = t {
                if n == sn {
                    for (i, (f, ft)) in self.fields(sn).iter().enumerate() {
                        if ft == ty {
                            cands.push((sn.clone(), f.clone(), i));
                        }
                    }
                }
            }
        }
        if cands.is_empty() || !self.avail(&["struct-get", "struct-get-imm"]) {
            return None;
        }
        let (sn, f, i) = self.rng.pick(&cands).clone();
        let e = self.expr(&Ty::Struct(sn), d);
        Some(if self.rng.chance(70) {
            sl!["struct-get", e, format!("'{f}")]
        } else {
            sl!["struct-get-imm", e, i.to_string()]
        })
    }

    /// Maybe declares a struct type in a binding list: `(P (struct (f ...)))`.
    fn struct_decl(&mut self, binds: &mut Vec<S>, new_env: &mut Vec<(String, Ty)>) {
        if !self.rng.chance(20) {
            return;
        }
        self.next_name += 1;
        let name = format!("P{}", self.next_name);
        let n = 1 + self.rng.below(3);
        let mut fields = vec![];
        for i in 0..n {
            let t = self.base_ty();
            fields.push((format!("f{i}"), t));
        }
        let decl = S::L(fields.iter().map(|(f, _)| S::atom(f.clone())).collect());
        self.structs.push((name.clone(), fields));
        binds.push(sl![name.clone(), sl!["struct", decl]]);
        new_env.push((name.clone(), Ty::StructType(name)));
    }

    /// The visible binding of `name`, if any.
    fn lookup(&self, name: &str) -> Option<&Ty> {
        self.env
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }

    /// True when none of the builtins `names` is shadowed by a local.
    fn avail(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.lookup(n).is_none())
    }

    /// Visible variables of type `ty`.
    fn vars_of(&self, ty: &Ty) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let mut seen: Vec<&str> = vec![];
        for (n, t) in self.env.iter().rev() {
            if seen.contains(&n.as_str()) {
                continue;
            }
            seen.push(n);
            if t == ty {
                out.push(n.clone());
            }
        }
        out
    }

    /// A name for a new binding: usually fresh, sometimes shadowing a
    /// visible variable, a builtin or (for non-functions) a keyword.
    fn binder(&mut self, ty: &Ty, taken: &[String]) -> String {
        let r = self.rng.below(100);
        let cand = if r < 8 && !self.env.is_empty() {
            let i = self.rng.below(self.env.len());
            Some(self.env[i].0.clone()).filter(|n| !n.starts_with('P'))
        } else if r < 14 {
            let sh = shadowable();
            let m: Vec<&str> = sh
                .iter()
                .filter(|(_, t)| t == ty)
                .map(|(n, _)| *n)
                .collect();
            if m.is_empty() {
                None
            } else {
                Some(self.rng.pick(&m).to_string())
            }
        } else if r < 17 && !matches!(ty, Ty::Fn(..)) {
            Some(self.rng.pick(KEYWORDS).to_string())
        } else {
            None
        };
        let is_fn = matches!(ty, Ty::Fn(..));
        match cand {
            Some(c) if !taken.contains(&c) && (!is_fn || !KEYWORDS.contains(&c.as_str())) => c,
            _ => self.fresh(),
        }
    }

    fn int_lit(&mut self) -> S {
        if self.rng.chance(15) {
            S::atom(*self.rng.pick(BIG_INTS))
        } else {
            S::atom(*self.rng.pick(SMALL_INTS))
        }
    }

    /// A small non-negative loop count.
    fn count(&mut self, depth: u32) -> S {
        if depth > 1 && self.rng.chance(40) && self.avail(&["integer%"]) {
            let e = self.expr(&Ty::Int, depth - 1);
            sl!["integer%", e, self.rng.range(1, 9).to_string()]
        } else {
            S::atom(self.rng.range(0, 9).to_string())
        }
    }

    /// A leaf of type `ty`: a literal, a variable or a trivial function.
    fn leaf(&mut self, ty: &Ty) -> S {
        self.fuel -= 1;
        let vars = self.vars_of(ty);
        if !vars.is_empty() && self.rng.chance(55) {
            return S::atom(self.rng.pick(&vars).clone());
        }
        match ty {
            Ty::Int => self.int_lit(),
            Ty::Float => S::atom(*self.rng.pick(FLOATS)),
            Ty::Bool => S::atom(if self.rng.chance(50) { "#t" } else { "#f" }),
            Ty::Str => S::atom(*self.rng.pick(STRINGS)),
            Ty::ListInt => {
                if self.rng.chance(15) {
                    return sl![];
                }
                if !self.avail(&["list"]) {
                    return S::atom("()");
                }
                let n = self.rng.below(5);
                let mut v = vec![S::atom("list")];
                for _ in 0..n {
                    v.push(self.int_lit());
                }
                S::L(v)
            }
            Ty::Struct(name) => {
                let name = name.clone();
                self.construct(&name, 0)
            }
            Ty::StructType(name) => S::atom(name.clone()),
            Ty::Dict => {
                if !self.avail(&["dict"]) {
                    return S::atom("0");
                }
                let mut v = vec![S::atom("dict")];
                for _ in 0..self.rng.below(4) {
                    v.push(S::atom(*self.rng.pick(DICT_KEYS)));
                    v.push(self.int_lit());
                }
                S::L(v)
            }
            Ty::Set => {
                if !self.avail(&["set"]) {
                    return S::atom("0");
                }
                let mut v = vec![S::atom("set")];
                for _ in 0..self.rng.below(4) {
                    v.push(S::atom(*self.rng.pick(SMALL_INTS)));
                }
                S::L(v)
            }
            Ty::Fn(args, ret) => {
                let bs: Vec<&str> = builtins_of(ty)
                    .iter()
                    .copied()
                    .filter(|b| self.avail(&[b]))
                    .collect();
                if !bs.is_empty() && self.rng.chance(50) {
                    return S::atom(*self.rng.pick(&bs));
                }
                self.lambda(args, ret, 0)
            }
        }
    }

    /// An expression of type `ty`, at most `depth` levels deep.
    pub fn expr(&mut self, ty: &Ty, depth: u32) -> S {
        let top = std::mem::take(&mut self.top);
        if depth == 0 || self.fuel <= 0 || (!top && self.rng.chance(18)) {
            return self.leaf(ty);
        }
        self.fuel -= 1;
        let d = depth - 1;
        // Forms valid at every type.
        match self.rng.below(100) {
            0..=5 => return self.if_form(ty, d),
            6..=11 => return self.let_form(ty, d),
            12..=15 => return self.call(ty, d),
            16..=19 => return self.match_form(ty, d),
            20 => return self.fail(ty, d),
            21 => return self.ill_typed(ty, d),
            22 => return self.and_or_value(ty, d),
            23..=30 => {
                if let Some(e) = self.field_read(ty, d) {
                    return e;
                }
            }
            _ => {}
        }
        let e = match ty {
            Ty::Int => self.int_expr(d),
            Ty::Float => self.float_expr(d),
            Ty::Bool => self.bool_expr(d),
            Ty::Str => self.str_expr(d),
            Ty::ListInt => self.list_expr(d),
            Ty::Fn(args, ret) => self.fn_expr(args, ret, d),
            Ty::Struct(name) => {
                let name = name.clone();
                self.struct_expr(&name, d)
            }
            Ty::StructType(_) => None,
            Ty::Dict => self.dict_expr(d),
            Ty::Set => self.set_expr(d),
        };
        e.unwrap_or_else(|| self.leaf(ty))
    }

    fn if_form(&mut self, ty: &Ty, d: u32) -> S {
        let c = self.expr(&Ty::Bool, d);
        let a = self.expr(ty, d);
        let b = self.expr(ty, d);
        sl!["if", c, a, b]
    }

    /// An expression that fails at run time (sometimes only on some paths).
    fn fail(&mut self, ty: &Ty, d: u32) -> S {
        match self.rng.below(5) {
            0 | 1 if self.avail(&["integer/"]) && *ty == Ty::Int => {
                let a = self.expr(&Ty::Int, d);
                sl!["integer/", a, "0"]
            }
            2 if self.avail(&["list-first"]) && *ty == Ty::Int => sl!["list-first", sl!["list"]],
            _ => {
                let n = self.rng.below(100);
                sl!["error", format!("\"boom{n}\"")]
            }
        }
    }

    /// An expression that is not well typed: a runtime type or call error,
    /// raised only if evaluated, which every level must report alike.
    fn ill_typed(&mut self, ty: &Ty, d: u32) -> S {
        let other = self.base_ty();
        let x = self.expr(&other, d.min(2));
        match self.rng.below(10) {
            0 => {
                let a = self.expr(ty, d);
                let b = self.expr(ty, d);
                sl!["if", x, a, b]
            }
            1 if self.avail(&["integer+"]) => sl!["integer+", "1", x],
            2 if self.avail(&["float+"]) => sl!["float+", x, "2.0"],
            3 if self.avail(&["list-first"]) => sl!["list-first", x],
            4 => sl![x, "1"],
            5 if self.avail(&["integer<?", "integer>?"]) => {
                // A chain that may stop before the ill-typed argument.
                let a = self.expr(&Ty::Int, d.min(2));
                let b = self.expr(&Ty::Int, d.min(2));
                let op = *self.rng.pick(&["integer<?", "integer>?"]);
                let c = self.expr(ty, d);
                let e = self.expr(ty, d);
                sl!["if", sl![op, a, b, x], c, e]
            }
            6 if self.avail(&["string-length"]) => sl!["string-length", x],
            7 if self.rng.chance(50) => {
                // A known function called with the wrong number of arguments.
                let (a, b) = (self.fresh(), self.fresh());
                let body = self.expr(ty, d.min(2));
                let f = sl!["lambda", sl![a, b], body];
                if self.rng.chance(50) {
                    sl![f, x]
                } else {
                    let v = self.fresh();
                    sl!["let", sl![sl![v.clone(), f]], sl![v, x]]
                }
            }
            8 => {
                // A value whose type depends on the path taken.
                let c = self.expr(&Ty::Bool, d.min(2));
                let a = self.expr(ty, d);
                if self.rng.chance(50) {
                    sl!["if", c, a, x]
                } else {
                    sl!["if", c, x, a]
                }
            }
            _ => sl!["and", x, self.expr(ty, d)],
        }
    }

    /// `(and b ... e)` / `(or b ... e)` whose last operand has type `ty`
    /// (the result is a boolean instead when a test decides it).
    fn and_or_value(&mut self, ty: &Ty, d: u32) -> S {
        let op = if self.rng.chance(50) { "and" } else { "or" };
        let mut v = vec![S::atom(op)];
        for _ in 0..self.rng.below(3) {
            let b = if self.rng.chance(60) {
                S::atom(if op == "and" { "#t" } else { "#f" })
            } else {
                self.expr(&Ty::Bool, d.min(2))
            };
            v.push(b);
        }
        v.push(self.expr(ty, d));
        S::L(v)
    }

    /// Arithmetic on machine-word edges (folded at compile time at -O2
    /// when the operands are literals, computed at run time at -O0).
    fn edge_int(&mut self, d: u32) -> Option<S> {
        let a = if self.rng.chance(70) {
            S::atom(*self.rng.pick(EDGE_INTS))
        } else {
            self.expr(&Ty::Int, d)
        };
        let b = if self.rng.chance(70) {
            S::atom(*self.rng.pick(EDGE_INTS))
        } else {
            self.expr(&Ty::Int, d)
        };
        let (op, two) = *self.rng.pick(&[
            ("integer+", true),
            ("integer-", true),
            ("integer*", true),
            ("integer/", true),
            ("integer%", true),
            ("integer-neg", false),
            ("integer-abs", false),
            ("integer-bit-not", false),
            ("integer-bit-and", true),
            ("integer-max", true),
            ("$integer-", true),
        ]);
        if !self.avail(&[op]) {
            return None;
        }
        Some(if two { sl![op, a, b] } else { sl![op, a] })
    }

    /// `let`, `let*` or `letrec` (acyclic values, or a counter loop).
    fn let_form(&mut self, ty: &Ty, d: u32) -> S {
        let mark = self.env.len();
        let n = 1 + self.rng.below(3);
        let kind = self.rng.below(10);
        let out = if kind < 5 {
            // Parallel let.
            let mut binds = vec![];
            let mut names: Vec<String> = vec![];
            let mut new_env = vec![];
            for _ in 0..n {
                let t = self.any_ty();
                let name = self.binder(&t, &names);
                let init = self.expr(&t, d);
                names.push(name.clone());
                binds.push(sl![name.clone(), init]);
                new_env.push((name, t));
            }
            self.dead_binding(&mut binds, &names, d);
            self.struct_decl(&mut binds, &mut new_env);
            self.env.extend(new_env);
            let body = self.expr(ty, d);
            sl!["let", S::L(binds), body]
        } else if kind < 8 {
            // Sequential let*: names may repeat.
            let mut binds = vec![];
            let mut decl = vec![];
            self.struct_decl(&mut binds, &mut decl);
            self.env.extend(decl);
            for _ in 0..n {
                let t = self.any_ty();
                let name = self.binder(&t, &[]);
                let init = self.expr(&t, d);
                binds.push(sl![name.clone(), init]);
                self.env.push((name, t));
            }
            self.dead_binding(&mut binds, &[], d);
            let body = self.expr(ty, d);
            sl!["let*", S::L(binds), body]
        } else if kind == 8 {
            // letrec of plain values: each init may use only later bindings,
            // so the dependency order is the reverse of the text.
            let tys: Vec<Ty> = (0..n).map(|_| self.any_ty()).collect();
            // Fresh names only: a letrec name is in scope in every init.
            let names: Vec<String> = tys.iter().map(|_| self.fresh()).collect();
            let mut binds = vec![];
            for i in 0..n {
                let inner = self.env.len();
                for j in i + 1..n {
                    self.env.push((names[j].clone(), tys[j].clone()));
                }
                let init = self.expr(&tys[i], d);
                self.env.truncate(inner);
                binds.push(sl![names[i].clone(), init]);
            }
            if self.rng.chance(50) {
                binds.reverse();
            }
            self.dead_binding(&mut binds, &names, d);
            for i in 0..n {
                self.env.push((names[i].clone(), tys[i].clone()));
            }
            let body = self.expr(ty, d);
            sl!["letrec", S::L(binds), body]
        } else {
            self.loop_form(ty, d)
        };
        self.env.truncate(mark);
        out
    }

    /// Maybe adds a binding nobody references whose init would fail.
    fn dead_binding(&mut self, binds: &mut Vec<S>, taken: &[String], d: u32) {
        if !self.rng.chance(15) {
            return;
        }
        let name = loop {
            let n = self.fresh();
            if !taken.contains(&n) {
                break n;
            }
        };
        let t = if self.rng.chance(50) {
            Ty::Int
        } else {
            self.base_ty()
        };
        let init = self.fail(&t, d);
        let at = self.rng.below(binds.len() + 1);
        binds.insert(at, sl![name, init]);
    }

    /// A recursive function on a decreasing counter, called once.
    fn loop_form(&mut self, ty: &Ty, d: u32) -> S {
        if self.loops >= 2
            || d == 0
            || !self.avail(&["integer<=?", "integer-", "integer=?", "integer%"])
        {
            return self.leaf(ty);
        }
        self.loops += 1;
        let f = self.fresh();
        let g = self.fresh();
        let nn = self.fresh();
        let acc = self.fresh();
        let mark = self.env.len();
        let out = match (ty, self.rng.below(4)) {
            (Ty::Bool, _) => {
                // Mutual recursion.
                let ev = sl![
                    "lambda",
                    sl![nn.clone()],
                    sl![
                        "if",
                        sl!["integer=?", nn.clone(), "0"],
                        "#t",
                        sl![g.clone(), sl!["integer-", nn.clone(), "1"]]
                    ]
                ];
                let od = sl![
                    "lambda",
                    sl![nn.clone()],
                    sl![
                        "if",
                        sl!["integer=?", nn.clone(), "0"],
                        "#f",
                        sl![f.clone(), sl!["integer-", nn.clone(), "1"]]
                    ]
                ];
                let k = self.count(d);
                sl!["letrec", sl![sl![f.clone(), ev], sl![g, od]], sl![f, k]]
            }
            (Ty::Int, 0) => {
                // Non-tail recursion.
                self.env.push((nn.clone(), Ty::Int));
                let step = self.expr(&Ty::Int, d.min(3));
                self.env.truncate(mark);
                let base = self.expr(&Ty::Int, d.min(2));
                let body = sl![
                    "if",
                    sl!["integer<=?", nn.clone(), "0"],
                    base,
                    sl![
                        "integer%",
                        sl![
                            "integer+",
                            step,
                            sl![f.clone(), sl!["integer-", nn.clone(), "1"]]
                        ],
                        "1000000007"
                    ]
                ];
                let k = self.count(d);
                sl![
                    "letrec",
                    sl![sl![f.clone(), sl!["lambda", sl![nn], body]]],
                    sl![f, k]
                ]
            }
            (Ty::Int, _) | (Ty::ListInt, _) | (Ty::Str, _) => {
                // Tail recursion with an accumulator.
                self.env.push((nn.clone(), Ty::Int));
                self.env.push((acc.clone(), ty.clone()));
                let step = match ty {
                    Ty::Int => {
                        let e = self.expr(&Ty::Int, d.min(3));
                        let m = *self.rng.pick(&["1000000007", "18446744073709551629", "97"]);
                        sl!["integer%", e, m]
                    }
                    Ty::ListInt if self.avail(&["list-prepend"]) => {
                        let e = self.expr(&Ty::Int, d.min(3));
                        sl!["list-prepend", acc.clone(), e]
                    }
                    Ty::Str if self.avail(&["string-concat"]) => {
                        let e = self.expr(&Ty::Str, d.min(2));
                        let s = *self.rng.pick(&["\"a\"", "\"-\"", "\"\""]);
                        if self.rng.chance(50) {
                            sl!["string-concat", acc.clone(), s]
                        } else {
                            sl![
                                "string-concat",
                                acc.clone(),
                                s,
                                sl!["if", sl!["integer=?", nn.clone(), "1"], e, "\"\""]
                            ]
                        }
                    }
                    _ => S::atom(acc.clone()),
                };
                self.env.truncate(mark);
                let next = sl!["integer-", nn.clone(), "1"];
                let recur = if *ty == Ty::Int && self.rng.chance(30) && self.avail(&["list"]) {
                    // A tail call through apply.
                    sl!["apply", f.clone(), sl!["list", next, step]]
                } else {
                    sl![f.clone(), next, step]
                };
                let done = sl!["integer<=?", nn.clone(), "0"];
                let body = match self.rng.below(5) {
                    // The tail call in a match clause (counts are never negative).
                    0 => sl!["match", nn.clone(), sl!["0", acc.clone()], sl!["_", recur]],
                    // ... in a let body.
                    1 => {
                        let t = self.fresh();
                        let S::L(mut call) = recur else {
                            return self.leaf(ty);
                        };
                        let last = call.pop().unwrap_or_else(|| S::atom("0"));
                        call.push(S::atom(t.clone()));
                        sl![
                            "if",
                            done,
                            acc.clone(),
                            sl!["let", sl![sl![t, last]], S::L(call)]
                        ]
                    }
                    // ... as the last operand of or.
                    2 => sl!["if", sl!["or", done, "#f"], acc.clone(), recur],
                    _ => sl!["if", done, acc.clone(), recur],
                };
                // Now and then a long loop (constant stack at every level).
                let k = if self.loops == 1 && !self.deep && *ty == Ty::Int && self.rng.chance(4) {
                    self.deep = true;
                    S::atom("30000")
                } else {
                    self.count(d)
                };
                let init = self.expr(ty, d.min(2));
                sl![
                    "letrec",
                    sl![sl![f.clone(), sl!["lambda", sl![nn, acc], body]]],
                    sl![f, k, init]
                ]
            }
            _ => self.leaf(ty),
        };
        self.env.truncate(mark);
        self.loops -= 1;
        out
    }

    /// A non-tail recursion thousands of frames deep (once per program).
    fn deep_recursion(&mut self, d: u32) -> Option<S> {
        if self.loops > 0 || self.deep || !self.avail(&["integer<=?", "integer-", "integer+"]) {
            return None;
        }
        self.deep = true;
        let f = self.fresh();
        let n = self.fresh();
        let base = self.expr(&Ty::Int, d.min(2));
        let depth = *self.rng.pick(&["1000", "20000", "100000"]);
        Some(sl![
            "letrec",
            sl![sl![
                f.clone(),
                sl![
                    "lambda",
                    sl![n.clone()],
                    sl![
                        "if",
                        sl!["integer<=?", n.clone(), "0"],
                        base,
                        sl!["integer+", "1", sl![f.clone(), sl!["integer-", n, "1"]]]
                    ]
                ]
            ]],
            sl![f, depth]
        ])
    }

    /// A call of a function expression returning `ty` (direct or `apply`).
    fn call(&mut self, ty: &Ty, d: u32) -> S {
        let pool = fn_pool();
        let cands: Vec<&Ty> = pool
            .iter()
            .filter(|t| matches!(t, Ty::Fn(_, r) if **r == *ty))
            .collect();
        let fty = if cands.is_empty() || self.rng.chance(25) {
            let n = self.rng.below(3);
            let args: Vec<Ty> = (0..n).map(|_| self.base_ty()).collect();
            Ty::Fn(args, Box::new(ty.clone()))
        } else {
            (*self.rng.pick(&cands)).clone()
        };
        let Ty::Fn(args, _) = &fty else {
            return self.leaf(ty);
        };
        let f = self.expr(&fty, d);
        let mut call = vec![f];
        for a in args {
            call.push(self.expr(a, d));
        }
        if args.iter().all(|a| *a == Ty::Int) && self.avail(&["list"]) && self.rng.chance(30) {
            let mut f = call.into_iter();
            let head = f.next().unwrap_or_else(|| S::atom("0"));
            let mut lst = vec![S::atom("list")];
            lst.extend(f);
            // Sometimes a wrong count: an arity error at run time.
            if self.rng.chance(10) {
                lst.push(S::atom("1"));
            }
            return sl!["apply", head, S::L(lst)];
        }
        S::L(call)
    }

    /// A pattern for a value of type `ty`, adding its variables to `binds`.
    fn pattern(&mut self, ty: &Ty, binds: &mut Vec<(String, Ty)>, d: u32) -> S {
        let r = self.rng.below(100);
        if r < 10 {
            return S::atom("_");
        }
        if r < 20 {
            let n = self.binder(ty, &[]);
            binds.push((n.clone(), ty.clone()));
            return S::atom(n);
        }
        if r < 30 && !matches!(ty, Ty::Fn(..)) {
            let pred = self.expr(&Ty::Fn(vec![ty.clone()], Box::new(Ty::Bool)), d.min(2));
            let n = if self.rng.chance(30) {
                "_".to_string()
            } else {
                self.binder(ty, &[])
            };
            if n != "_" {
                binds.push((n.clone(), ty.clone()));
            }
            return sl!["?", pred, n];
        }
        match ty {
            Ty::Int => self.int_lit(),
            Ty::Float => S::atom(*self.rng.pick(FLOATS)),
            Ty::Bool => S::atom(if self.rng.chance(50) { "#t" } else { "#f" }),
            Ty::Str => S::atom(*self.rng.pick(STRINGS)),
            Ty::ListInt => {
                let n = self.rng.below(3);
                let mut v = vec![];
                for _ in 0..n {
                    v.push(self.pattern(&Ty::Int, binds, d));
                }
                if n > 0 && self.rng.chance(40) {
                    v.push(S::atom("."));
                    v.push(self.pattern(&Ty::ListInt, binds, d));
                }
                S::L(v)
            }
            Ty::Struct(name) => {
                let fs = self.fields(name);
                let mut v = vec![S::atom(name.clone())];
                for (_, t) in fs {
                    v.push(self.pattern(&t, binds, d));
                }
                S::L(v)
            }
            Ty::Fn(..) | Ty::StructType(_) | Ty::Dict | Ty::Set => S::atom("_"),
        }
    }

    fn match_form(&mut self, ty: &Ty, d: u32) -> S {
        let sty = if self.rng.chance(25) {
            self.struct_ty().unwrap_or(Ty::Int)
        } else {
            self.base_ty()
        };
        let scrut = self.expr(&sty, d);
        let mut form = vec![S::atom("match"), scrut];
        let n = 1 + self.rng.below(3);
        for _ in 0..n {
            let mark = self.env.len();
            let mut binds = vec![];
            let p = self.pattern(&sty, &mut binds, d);
            self.env.extend(binds);
            let body = self.expr(ty, d);
            self.env.truncate(mark);
            form.push(sl![p, body]);
        }
        if self.rng.chance(85) {
            let mark = self.env.len();
            let p = if self.rng.chance(50) {
                S::atom("_")
            } else {
                let n = self.binder(&sty, &[]);
                self.env.push((n.clone(), sty.clone()));
                S::atom(n)
            };
            let body = self.expr(ty, d);
            self.env.truncate(mark);
            form.push(sl![p, body]);
        }
        S::L(form)
    }

    /// Calls a builtin `name` with arguments of the given types.
    fn bcall(&mut self, name: &str, args: &[Ty], d: u32) -> Option<S> {
        if !self.avail(&[name]) {
            return None;
        }
        let mut v = vec![S::atom(name)];
        for a in args {
            v.push(self.expr(a, d));
        }
        Some(S::L(v))
    }

    fn int_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(34) {
            25 | 26 => self.edge_int(d),
            27 => {
                // A builtin through apply on a list that may be too short.
                let op = *self
                    .rng
                    .pick(&["integer-", "integer/", "integer-max", "integer*"]);
                if !self.avail(&[op]) {
                    return None;
                }
                let l = self.expr(&ListInt, d);
                Some(sl!["apply", op, l])
            }
            28 => {
                if !self.avail(&["integer-expn"]) {
                    return None;
                }
                let e = *self.rng.pick(&["64", "63", "1100", "200"]);
                Some(sl![
                    "integer-expn",
                    *self.rng.pick(&["2", "-2", "3", "-1", "0"]),
                    e
                ])
            }
            29 => self.deep_recursion(d),
            30 => {
                let k = self.dict_key(d);
                let dd = self.expr(&Dict, d);
                if !self.avail(&["dict-get"]) {
                    return None;
                }
                Some(if self.rng.chance(70) {
                    sl!["dict-get", dd, k, self.int_lit()]
                } else {
                    sl!["dict-get", dd, k]
                })
            }
            31 => self.bcall("dict-length", &[Dict], d),
            32 => self.bcall("set-length", &[Set], d),
            33 => {
                if !self.avail(&["fold-set"]) {
                    return None;
                }
                let f = self.expr(&f2(Int, Int, Int), d);
                let i = self.expr(&Int, d);
                let st = self.expr(&Set, d);
                Some(sl!["fold-set", f, i, st])
            }
            0 | 1 => {
                let n = 2 + self.rng.below(2);
                self.bcall("integer+", &vec![Int; n], d)
            }
            2 => self.bcall("integer-", &[Int, Int], d),
            3 => self.bcall("integer*", &[Int, Int], d),
            4 | 5 => {
                // Division by something that may be zero.
                let op = *self.rng.pick(&["integer/", "integer%"]);
                if !self.avail(&[op, "integer-"]) {
                    return None;
                }
                let a = self.expr(&Int, d);
                let b = if self.rng.chance(50) {
                    let x = self.expr(&Int, d);
                    sl!["integer-", x, self.rng.range(0, 3).to_string()]
                } else {
                    self.expr(&Int, d)
                };
                Some(sl![op, a, b])
            }
            6 => {
                let op = *self
                    .rng
                    .pick(&["integer-neg", "integer-abs", "integer-bit-not"]);
                self.bcall(op, &[Int], d)
            }
            7 => {
                let op = *self.rng.pick(&[
                    "integer-min",
                    "integer-max",
                    "integer-bit-and",
                    "integer-bit-xor",
                ]);
                self.bcall(op, &[Int, Int], d)
            }
            8 => {
                if !self.avail(&["integer-expn"]) {
                    return None;
                }
                let b = self.leaf(&Int);
                let e = if self.rng.chance(5) {
                    "-1".to_string()
                } else {
                    self.rng.range(0, 70).to_string()
                };
                Some(sl!["integer-expn", b, e])
            }
            9 => {
                // A product overflowing i64.
                if !self.avail(&["integer*"]) {
                    return None;
                }
                let a = self.expr(&Int, d);
                Some(sl![
                    "integer*",
                    a,
                    *self
                        .rng
                        .pick(&["4611686018427387904", "3037000500", "-9223372036854775808"])
                ])
            }
            10 | 11 => self.bcall("list-length", &[ListInt], d),
            12 => self.bcall("list-first", &[ListInt], d),
            13 => {
                if !self.avail(&["fold-list"]) {
                    return None;
                }
                let f = self.expr(&f2(Int, Int, Int), d);
                let i = self.expr(&Int, d);
                let l = self.expr(&ListInt, d);
                Some(sl!["fold-list", f, i, l])
            }
            14 => self.bcall("string-length", &[Str], d),
            15 => self.bcall("float->integer", &[Float], d),
            16 => {
                if !self.avail(&["list-ref"]) {
                    return None;
                }
                let l = self.expr(&ListInt, d);
                Some(sl!["list-ref", l, self.rng.range(0, 3).to_string()])
            }
            17 => {
                if !self.avail(&["integer+"]) {
                    return None;
                }
                let l = self.expr(&ListInt, d);
                Some(sl!["apply", "integer+", l])
            }
            18 => self.loop_form(&Int, d).into(),
            19 => {
                let op = *self
                    .rng
                    .pick(&["integer-bit-shift-left", "integer-bit-shift-right"]);
                if !self.avail(&[op]) {
                    return None;
                }
                let a = self.expr(&Int, d);
                Some(sl![op, a, self.rng.range(0, 70).to_string()])
            }
            20 => {
                // A $primitive.
                let op = *self.rng.pick(&["$integer+", "$integer*", "$integer-"]);
                let a = self.expr(&Int, d);
                let b = self.expr(&Int, d);
                Some(sl![op, a, b])
            }
            _ => None,
        }
    }

    fn float_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(12) {
            0 | 1 => {
                let op = *self.rng.pick(&["float+", "float-", "float*"]);
                self.bcall(op, &[Float, Float], d)
            }
            2 => self.bcall("float/", &[Float, Float], d),
            3 => {
                let op = *self.rng.pick(&[
                    "float-neg",
                    "float-abs",
                    "float-floor",
                    "float-round",
                    "float-ceil",
                ]);
                self.bcall(op, &[Float], d)
            }
            4 | 5 => self.bcall("integer->float", &[Int], d),
            6 => self.bcall("float-sqrt", &[Float], d),
            7 => {
                let op = *self
                    .rng
                    .pick(&["float%", "float//", "float-min", "float-max"]);
                self.bcall(op, &[Float, Float], d)
            }
            8 => Some(S::atom("pi")).filter(|_| self.avail(&["pi"])),
            _ => None,
        }
    }

    fn bool_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(18) {
            0..=2 => {
                let op = *self.rng.pick(&[
                    "integer<?",
                    "integer=?",
                    "integer>=?",
                    "integer!=?",
                    "integer>?",
                ]);
                let n = 2 + if self.rng.chance(25) { 1 } else { 0 };
                self.bcall(op, &vec![Int; n], d)
            }
            3 => {
                let op = *self.rng.pick(&["float<?", "float=?", "float>=?"]);
                self.bcall(op, &[Float, Float], d)
            }
            4 => self.bcall("string=?", &[Str, Str], d),
            5 => self.bcall("boolean-not", &[Bool], d),
            6 | 7 => {
                let n = self.rng.below(4);
                let mut v = vec![S::atom(*self.rng.pick(&["and", "or"]))];
                for _ in 0..n {
                    v.push(self.expr(&Bool, d));
                }
                Some(S::L(v))
            }
            8 => self.bcall("list-null?", &[ListInt], d),
            9 => self.bcall("list-member?", &[ListInt, Int], d),
            10 => {
                let t = self.any_ty();
                let op = *self.rng.pick(&[
                    "integer?",
                    "string?",
                    "list?",
                    "function?",
                    "float?",
                    "boolean?",
                ]);
                self.bcall(op, &[t], d)
            }
            11 => self.loop_form(&Bool, d).into(),
            12 => {
                if !self.avail(&["any-list?"]) {
                    return None;
                }
                let p = self.expr(&f1(Int, Bool), d);
                let l = self.expr(&ListInt, d);
                Some(sl!["any-list?", p, l])
            }
            13 => self.bcall("list=?", &[ListInt, ListInt], d),
            14 => {
                if !self.avail(&["dict-has?"]) {
                    return None;
                }
                let dd = self.expr(&Dict, d);
                let k = self.dict_key(d);
                Some(sl!["dict-has?", dd, k])
            }
            15 => {
                let op =
                    *self
                        .rng
                        .pick(&["set-member?", "dict=?", "set=?", "set-subset?", "dict!=?"]);
                match op {
                    "set-member?" => self.bcall(op, &[Set, Int], d),
                    "dict=?" | "dict!=?" => self.bcall(op, &[Dict, Dict], d),
                    _ => self.bcall(op, &[Set, Set], d),
                }
            }
            _ => None,
        }
    }

    fn str_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(10) {
            0..=2 => {
                let n = self.rng.below(4);
                self.bcall("string-concat", &vec![Str; n], d)
            }
            3 => self.bcall("integer->string", &[Int], d),
            4 => self.bcall("string-upcase", &[Str], d),
            5 => {
                if !self.avail(&["string-ref"]) {
                    return None;
                }
                let s = self.expr(&Str, d);
                Some(sl!["string-ref", s, self.rng.range(0, 2).to_string()])
            }
            6 => self.bcall("float->string", &[Float], d),
            7 => self.loop_form(&Str, d).into(),
            _ => None,
        }
    }

    fn list_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(14) {
            0 | 1 => {
                let n = self.rng.below(4);
                self.bcall("list", &vec![Int; n], d)
            }
            2 => self.bcall("list-prepend", &[ListInt, Int], d),
            3 => self.bcall("list-append", &[ListInt, Int], d),
            4 => self.bcall("list-rest", &[ListInt], d),
            5 | 6 => {
                if !self.avail(&["map-list"]) {
                    return None;
                }
                let f = self.expr(&f1(Int, Int), d);
                let l = self.expr(&ListInt, d);
                Some(sl!["map-list", f, l])
            }
            7 => {
                if !self.avail(&["filter-list"]) {
                    return None;
                }
                let f = self.expr(&f1(Int, Bool), d);
                let l = self.expr(&ListInt, d);
                Some(sl!["filter-list", f, l])
            }
            8 => {
                if !self.avail(&["range"]) {
                    return None;
                }
                let a = self.rng.range(-3, 5).to_string();
                let b = if self.rng.chance(3) {
                    "3000".to_string()
                } else {
                    self.rng.range(-3, 9).to_string()
                };
                Some(sl!["range", a, b])
            }
            9 => self.bcall("list-reverse", &[ListInt], d),
            10 => self.bcall("list-concat", &[ListInt, ListInt], d),
            11 => self.loop_form(&ListInt, d).into(),
            12 => self.bcall("dict-values", &[Dict], d),
            13 => self.bcall("set->list", &[Set], d),
            _ => None,
        }
    }

    /// A dict key: usually a literal, sometimes computed.
    fn dict_key(&mut self, d: u32) -> S {
        if self.rng.chance(75) {
            S::atom(*self.rng.pick(DICT_KEYS))
        } else {
            self.expr(&Ty::Str, d.min(2))
        }
    }

    fn dict_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(8) {
            0 | 1 => {
                if !self.avail(&["dict"]) {
                    return None;
                }
                let mut v = vec![S::atom("dict")];
                for _ in 0..self.rng.below(4) {
                    v.push(self.dict_key(d));
                    v.push(self.expr(&Int, d));
                }
                Some(S::L(v))
            }
            2 | 3 => {
                if !self.avail(&["dict-set"]) {
                    return None;
                }
                let dd = self.expr(&Dict, d);
                let k = self.dict_key(d);
                let v = self.expr(&Int, d);
                Some(sl!["dict-set", dd, k, v])
            }
            4 => {
                if !self.avail(&["dict-remove"]) {
                    return None;
                }
                let dd = self.expr(&Dict, d);
                let k = self.dict_key(d);
                Some(sl!["dict-remove", dd, k])
            }
            5 => self.bcall("dict-merge", &[Dict, Dict], d),
            6 => {
                if !self.avail(&["map-dict"]) {
                    return None;
                }
                let f = self.expr(&f2(Str, Int, Int), d);
                let dd = self.expr(&Dict, d);
                Some(sl!["map-dict", f, dd])
            }
            _ => {
                if !self.avail(&["filter-dict"]) {
                    return None;
                }
                let f = self.expr(&f2(Str, Int, Bool), d);
                let dd = self.expr(&Dict, d);
                Some(sl!["filter-dict", f, dd])
            }
        }
    }

    fn set_expr(&mut self, d: u32) -> Option<S> {
        use Ty::*;
        match self.rng.below(8) {
            0 | 1 => {
                let n = self.rng.below(4);
                self.bcall("set", &vec![Int; n], d)
            }
            2 => self.bcall("set-add", &[Set, Int], d),
            3 => self.bcall("set-remove", &[Set, Int], d),
            4 => {
                let op = *self.rng.pick(&["set-union", "set-difference"]);
                self.bcall(op, &[Set, Set], d)
            }
            5 => self.bcall("list->set", &[ListInt], d),
            6 => {
                if !self.avail(&["map-set"]) {
                    return None;
                }
                let f = self.expr(&f1(Int, Int), d);
                let st = self.expr(&Set, d);
                Some(sl!["map-set", f, st])
            }
            _ => {
                if !self.avail(&["filter-set"]) {
                    return None;
                }
                let f = self.expr(&f1(Int, Bool), d);
                let st = self.expr(&Set, d);
                Some(sl!["filter-set", f, st])
            }
        }
    }

    fn fn_expr(&mut self, args: &[Ty], ret: &Ty, d: u32) -> Option<S> {
        match self.rng.below(10) {
            0..=6 => Some(self.lambda(args, ret, d)),
            8 if args.len() == 1 && args[0] == Ty::Int => self.escaping_group(ret, d),
            7 => {
                // A closure made by a call: ((lambda (k) (lambda (x) ...)) e).
                let kt = self.base_ty();
                let k = self.fresh();
                let e = self.expr(&kt, d);
                let mark = self.env.len();
                self.env.push((k.clone(), kt));
                let inner = self.lambda(args, ret, d);
                self.env.truncate(mark);
                Some(sl![sl!["lambda", sl![k], inner], e])
            }
            _ => None,
        }
    }

    /// A function of one integer made from a mutually recursive `letrec`
    /// group that escapes its scope: `(letrec ((f ...) (g ...)) (lambda
    /// (m) (f (integer% m 9))))`; the members' bases capture outer names.
    fn escaping_group(&mut self, ret: &Ty, d: u32) -> Option<S> {
        if self.loops >= 2 || !self.avail(&["integer<=?", "integer-", "integer%"]) {
            return None;
        }
        self.loops += 1;
        let (f, g, n, m) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
        let mark = self.env.len();
        self.env.push((n.clone(), Ty::Int));
        let base1 = self.expr(ret, d.min(2));
        let base2 = self.expr(ret, d.min(2));
        self.env.truncate(mark);
        let member = |me_base: S, other: &str| {
            sl![
                "lambda",
                sl![n.clone()],
                sl![
                    "if",
                    sl!["integer<=?", n.clone(), "0"],
                    me_base,
                    sl![other, sl!["integer-", n.clone(), "1"]]
                ]
            ]
        };
        let fdef = member(base1, &g);
        let gdef = member(base2, &f);
        self.loops -= 1;
        Some(sl![
            "letrec",
            sl![sl![f.clone(), fdef], sl![g, gdef]],
            sl!["lambda", sl![m.clone()], sl![f, sl!["integer%", m, "9"]]]
        ])
    }

    /// `(lambda (params) body)` of the given type; trailing integer
    /// parameters may be collected by a rest parameter.
    fn lambda(&mut self, args: &[Ty], ret: &Ty, d: u32) -> S {
        let mark = self.env.len();
        let mut params: Vec<S> = vec![];
        let mut names: Vec<String> = vec![];
        let rest_from = if self.rng.chance(15) {
            let k = self.rng.below(args.len() + 1);
            if args[k..].iter().all(|a| *a == Ty::Int) {
                Some(k)
            } else {
                None
            }
        } else {
            None
        };
        let fixed = rest_from.unwrap_or(args.len());
        let mut binds = vec![];
        for a in &args[..fixed] {
            let n = self.binder(a, &names);
            names.push(n.clone());
            params.push(S::atom(n.clone()));
            binds.push((n, a.clone()));
        }
        if rest_from.is_some() {
            let n = self.binder(&Ty::ListInt, &names);
            params.push(S::atom("."));
            params.push(S::atom(n.clone()));
            binds.push((n, Ty::ListInt));
        }
        self.env.extend(binds);
        let body = if d == 0 {
            self.leaf(ret)
        } else {
            self.expr(ret, d)
        };
        self.env.truncate(mark);
        sl!["lambda", S::L(params), body]
    }
}

/// Reads back the text of an [`S`] (atoms, strings and lists; no comments
/// or quote sugar), for the oracle and the single-program mode.
pub fn parse(src: &str) -> Option<S> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let s = parse_at(&chars, &mut i)?;
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    (i == chars.len()).then_some(s)
}

fn parse_at(c: &[char], i: &mut usize) -> Option<S> {
    while *i < c.len() && c[*i].is_whitespace() {
        *i += 1;
    }
    match c.get(*i)? {
        '(' => {
            *i += 1;
            let mut items = vec![];
            loop {
                while *i < c.len() && c[*i].is_whitespace() {
                    *i += 1;
                }
                if *c.get(*i)? == ')' {
                    *i += 1;
                    return Some(S::L(items));
                }
                items.push(parse_at(c, i)?);
            }
        }
        ')' => None,
        '"' => {
            let start = *i;
            *i += 1;
            while *c.get(*i)? != '"' {
                if c[*i] == '\\' {
                    *i += 1;
                }
                *i += 1;
            }
            *i += 1;
            Some(S::A(c[start..*i].iter().collect()))
        }
        _ => {
            let start = *i;
            while *i < c.len() && !c[*i].is_whitespace() && c[*i] != '(' && c[*i] != ')' {
                *i += 1;
            }
            Some(S::A(c[start..*i].iter().collect()))
        }
    }
}
