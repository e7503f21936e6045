//! Semantic tests of the frontend: programs are compiled to the IR and run
//! by a small reference evaluator of the IR written here (integers,
//! booleans, strings, symbols, lists, dicts, sets, structs, closures and
//! the primitives these tests use), so the desugaring (match, letrec
//! order, chains, and/or, dropping) and the prelude are checked for their
//! results, independently of the optimizer and the VM.

use menai_bytecode::Builtin;
use menai_compiler::ir::{Atom, Const, Expr, ExprKind, Lambda, Program, RaiseKind, VarId};
use menai_compiler::{compile_str, Options};
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
enum V {
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    Str(String),
    Sym(String),
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Set(Vec<V>),
    Closure(Rc<Closure>),
    Builtin(Builtin),
    Type(u32),
    Struct(u32, Vec<V>),
}

#[derive(Debug, PartialEq)]
struct Closure {
    lambda: Lambda,
    env: Env,
    group: Option<Rc<Vec<(VarId, Lambda)>>>,
}

type Env = Rc<HashMap<VarId, V>>;

struct Eval<'p> {
    p: &'p Program,
}

fn konst(c: &Const) -> V {
    match c {
        Const::None => V::None,
        Const::Bool(b) => V::Bool(*b),
        Const::Int(i) => V::Int(*i),
        Const::Float(f) => V::Float(*f),
        Const::Str(s) => V::Str(s.clone()),
        Const::Symbol(s) => V::Sym(s.clone()),
        Const::EmptyList => V::List(Vec::new()),
        Const::List(items) => V::List(items.iter().map(konst).collect()),
        Const::StructType(i) => V::Type(*i),
        other => panic!("constant not supported by the test evaluator: {other:?}"),
    }
}

fn int(v: &V) -> Result<i64, String> {
    match v {
        V::Int(i) => Ok(*i),
        other => Err(format!("expected integer, got {other:?}")),
    }
}

fn list(v: &V) -> Result<&Vec<V>, String> {
    match v {
        V::List(l) => Ok(l),
        other => Err(format!("expected list, got {other:?}")),
    }
}

fn show(p: &Program, v: &V) -> String {
    match v {
        V::Int(i) => i.to_string(),
        V::Float(f) => format!("{f:?}"),
        V::Bool(b) => if *b { "#t" } else { "#f" }.to_string(),
        V::None => "#none".to_string(),
        V::Str(s) => format!("{s:?}"),
        V::Sym(s) => s.clone(),
        V::List(items) => format!(
            "({})",
            items
                .iter()
                .map(|i| show(p, i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        V::Dict(items) => format!(
            "{{{}}}",
            items
                .iter()
                .map(|(k, v)| format!("({} {})", show(p, k), show(p, v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        V::Set(items) => format!(
            "#{{{}}}",
            items
                .iter()
                .map(|i| show(p, i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        V::Closure(c) => {
            let mut names: Vec<String> = c
                .lambda
                .params
                .iter()
                .map(|v| p.vars[v.0 as usize].name.clone())
                .collect();
            if let Some(r) = c.lambda.rest {
                let r = p.vars[r.0 as usize].name.clone();
                if names.is_empty() {
                    names.push(r);
                } else {
                    let last = names.pop().unwrap_or_default();
                    names.push(format!("{last} . {r}"));
                }
            }
            format!("<lambda ({})>", names.join(", "))
        }
        V::Builtin(b) => format!("<lambda {}>", b.info().printed),
        V::Type(i) => format!("<struct-type {}>", p.structs[*i as usize].name),
        V::Struct(t, fields) => {
            let mut parts = vec![p.structs[*t as usize].name.clone()];
            parts.extend(fields.iter().map(|f| show(p, f)));
            format!("({})", parts.join(" "))
        }
    }
}

impl Eval<'_> {
    fn atom(&self, env: &Env, a: &Atom) -> Result<V, String> {
        Ok(match a {
            Atom::Var(v) => env
                .get(v)
                .cloned()
                .ok_or_else(|| format!("unbound var {v:?}"))?,
            Atom::Const(c) => konst(c),
            Atom::Builtin(b) => V::Builtin(*b),
        })
    }

    fn eval(&self, env: &Env, e: &Expr) -> Result<V, String> {
        match &e.kind {
            ExprKind::Atom(a) => self.atom(env, a),
            ExprKind::Let { var, value, body } => {
                let v = self.eval(env, value)?;
                let mut m = (**env).clone();
                m.insert(*var, v);
                self.eval(&Rc::new(m), body)
            }
            ExprKind::Letrec { bindings, body } => {
                let group = Rc::new(bindings.clone());
                let mut m = (**env).clone();
                for (v, l) in bindings {
                    let c = Closure {
                        lambda: l.clone(),
                        env: env.clone(),
                        group: Some(group.clone()),
                    };
                    m.insert(*v, V::Closure(Rc::new(c)));
                }
                self.eval(&Rc::new(m), body)
            }
            ExprKind::Lambda(l) => Ok(V::Closure(Rc::new(Closure {
                lambda: l.clone(),
                env: env.clone(),
                group: None,
            }))),
            ExprKind::If {
                cond,
                then_branch,
                else_branch,
                origin,
            } => match self.atom(env, cond)? {
                V::Bool(true) => self.eval(env, then_branch),
                V::Bool(false) => self.eval(env, else_branch),
                other => Err(origin.error(&format!("{other:?}"))),
            },
            ExprKind::Call { func, args } => {
                let f = self.atom(env, func)?;
                let args = args
                    .iter()
                    .map(|a| self.atom(env, a))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(f, args)
            }
            ExprKind::Apply { func, list: l } => {
                let f = self.atom(env, func)?;
                let args = list(&self.atom(env, l)?)?.clone();
                self.call(f, args)
            }
            ExprKind::Prim { op, args } => {
                let args = args
                    .iter()
                    .map(|a| self.atom(env, a))
                    .collect::<Result<Vec<_>, _>>()?;
                self.prim(*op, args)
            }
            ExprKind::MakeStruct { ty, args } => {
                let args = args
                    .iter()
                    .map(|a| self.atom(env, a))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(V::Struct(*ty, args))
            }
            ExprKind::Raise(RaiseKind::Error(a)) => match self.atom(env, a)? {
                V::Str(s) => Err(s),
                other => Err(format!("error: expected string, got {other:?}")),
            },
            ExprKind::Raise(RaiseKind::Unbound(n)) => Err(format!("unbound name '{n}'")),
            ExprKind::Raise(RaiseKind::NoMatch(a)) => Err(format!(
                "match: no clause matched {}",
                show(self.p, &self.atom(env, a)?)
            )),
        }
    }

    fn call(&self, f: V, args: Vec<V>) -> Result<V, String> {
        match f {
            V::Closure(c) => {
                let l = &c.lambda;
                let n = l.params.len();
                if args.len() < n || (l.rest.is_none() && args.len() > n) {
                    return Err(format!("call: expected {n} arguments, got {}", args.len()));
                }
                let mut m = (*c.env).clone();
                if let Some(g) = &c.group {
                    for (v, lam) in g.iter() {
                        let sib = Closure {
                            lambda: lam.clone(),
                            env: c.env.clone(),
                            group: Some(g.clone()),
                        };
                        m.insert(*v, V::Closure(Rc::new(sib)));
                    }
                }
                let mut args = args;
                let rest = args.split_off(n);
                for (p, a) in l.params.iter().zip(args) {
                    m.insert(*p, a);
                }
                if let Some(r) = l.rest {
                    m.insert(r, V::List(rest));
                }
                self.eval(&Rc::new(m), &l.body)
            }
            V::Builtin(b) => {
                if !b.info().accepts(args.len()) {
                    return Err(format!("{}: wrong argument count", b.name()));
                }
                match (b, args.len()) {
                    (Builtin::IntegerAdd, n) if n != 2 => {
                        Ok(V::Int(args.iter().map(int).sum::<Result<i64, _>>()?))
                    }
                    _ => self.prim(b, args),
                }
            }
            V::Type(t) => Ok(V::Struct(t, args)),
            other => Err(format!("call: cannot call {other:?}")),
        }
    }

    fn prim(&self, op: Builtin, a: Vec<V>) -> Result<V, String> {
        use Builtin::*;
        let cmp = |f: fn(i64, i64) -> bool| -> Result<V, String> {
            Ok(V::Bool(f(int(&a[0])?, int(&a[1])?)))
        };
        match op {
            IntegerAdd => Ok(V::Int(int(&a[0])? + int(&a[1])?)),
            IntegerSub => Ok(V::Int(int(&a[0])? - int(&a[1])?)),
            IntegerMul => Ok(V::Int(int(&a[0])? * int(&a[1])?)),
            FloatAdd => match (&a[0], &a[1]) {
                (V::Float(x), V::Float(y)) => Ok(V::Float(x + y)),
                _ => Err("float+: expected float".into()),
            },
            IntegerMin => Ok(V::Int(int(&a[0])?.min(int(&a[1])?))),
            IntegerEq => cmp(|x, y| x == y),
            IntegerNe => cmp(|x, y| x != y),
            IntegerLt => cmp(|x, y| x < y),
            IntegerLe => cmp(|x, y| x <= y),
            IntegerGt => cmp(|x, y| x > y),
            IntegerGe => cmp(|x, y| x >= y),
            IntegerP => Ok(V::Bool(matches!(a[0], V::Int(_)))),
            StringP => Ok(V::Bool(matches!(a[0], V::Str(_)))),
            ListP => Ok(V::Bool(matches!(a[0], V::List(_)))),
            DictP => Ok(V::Bool(matches!(a[0], V::Dict(_)))),
            FloatP => Ok(V::Bool(matches!(a[0], V::Float(_)))),
            ComplexP => Ok(V::Bool(false)),
            StringConcat => match (&a[0], &a[1]) {
                (V::Str(x), V::Str(y)) => Ok(V::Str(format!("{x}{y}"))),
                _ => Err("string-concat: expected string".into()),
            },
            SetP => Ok(V::Bool(matches!(a[0], V::Set(_)))),
            NoneP => Ok(V::Bool(matches!(a[0], V::None))),
            SymbolP => Ok(V::Bool(matches!(a[0], V::Sym(_)))),
            StringEq => Ok(V::Bool(a[0] == a[1])),
            BooleanEq => Ok(V::Bool(a[0] == a[1])),
            BooleanP => Ok(V::Bool(matches!(a[0], V::Bool(_)))),
            BooleanNot => match a[0] {
                V::Bool(b) => Ok(V::Bool(!b)),
                _ => Err("boolean-not: expected boolean".into()),
            },
            List => Ok(V::List(a)),
            ListLength => Ok(V::Int(list(&a[0])?.len() as i64)),
            ListNullP => Ok(V::Bool(list(&a[0])?.is_empty())),
            ListRef => list(&a[0])?
                .get(int(&a[1])? as usize)
                .cloned()
                .ok_or_else(|| "list-ref: index out of range".into()),
            ListFirst => list(&a[0])?
                .first()
                .cloned()
                .ok_or_else(|| "list-first: empty list".into()),
            ListRest => match list(&a[0])?.split_first() {
                Some((_, rest)) => Ok(V::List(rest.to_vec())),
                None => Err("list-rest: empty list".into()),
            },
            ListSlice => {
                let l = list(&a[0])?;
                let (s, e) = (int(&a[1])? as usize, int(&a[2])? as usize);
                Ok(V::List(
                    l.get(s..e).ok_or("list-slice: out of range")?.to_vec(),
                ))
            }
            ListPrepend => {
                let mut l = list(&a[0])?.clone();
                l.insert(0, a[1].clone());
                Ok(V::List(l))
            }
            ListReverse => Ok(V::List(list(&a[0])?.iter().rev().cloned().collect())),
            Dict => Ok(V::Dict(
                a.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
            )),
            DictKeys => match &a[0] {
                V::Dict(d) => Ok(V::List(d.iter().map(|(k, _)| k.clone()).collect())),
                _ => Err("dict-keys: expected dict".into()),
            },
            DictGet => match &a[0] {
                V::Dict(d) => Ok(d
                    .iter()
                    .find(|(k, _)| *k == a[1])
                    .map(|(_, v)| v.clone())
                    .unwrap_or(a[2].clone())),
                _ => Err("dict-get: expected dict".into()),
            },
            DictSet => match &a[0] {
                V::Dict(d) => {
                    let mut d = d.clone();
                    match d.iter_mut().find(|(k, _)| *k == a[1]) {
                        Some(slot) => slot.1 = a[2].clone(),
                        None => d.push((a[1].clone(), a[2].clone())),
                    }
                    Ok(V::Dict(d))
                }
                _ => Err("dict-set: expected dict".into()),
            },
            Set | ListToSet => {
                let items = if op == Set { a } else { list(&a[0])?.clone() };
                let mut out: Vec<V> = Vec::new();
                for i in items {
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
                Ok(V::Set(out))
            }
            SetToList => match &a[0] {
                V::Set(s) => Ok(V::List(s.clone())),
                _ => Err("set->list: expected set".into()),
            },
            StructSetImm => match &a[0] {
                V::Struct(t, f) => {
                    let mut f = f.clone();
                    let i = int(&a[1])? as usize;
                    *f.get_mut(i).ok_or("struct-set-imm: index")? = a[2].clone();
                    Ok(V::Struct(*t, f))
                }
                _ => Err("struct-set-imm: expected struct".into()),
            },
            StructTypeP => Ok(V::Bool(
                matches!((&a[0], &a[1]), (V::Type(t), V::Struct(u, _)) if t == u),
            )),
            StructGetImm => match &a[0] {
                V::Struct(_, f) => f
                    .get(int(&a[1])? as usize)
                    .cloned()
                    .ok_or_else(|| "struct-get-imm: index".into()),
                _ => Err("struct-get-imm: expected struct".into()),
            },
            other => Err(format!(
                "test evaluator: unsupported primitive {}",
                other.name()
            )),
        }
    }
}

/// Compiles and runs a program; `Ok(printed result)` or `Err(error message)`.
fn run(src: &str) -> Result<String, String> {
    run_with(src, Options::default())
}

fn run_with(src: &str, opts: Options) -> Result<String, String> {
    let src = src.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let c = compile_str("t", &src, &opts)
                .unwrap_or_else(|f| panic!("compile error in {src}: {:?}", f.diagnostics));
            let ev = Eval { p: &c.program };
            ev.eval(&Rc::new(HashMap::new()), &c.program.body)
                .map(|v| show(&c.program, &v))
        });
    match worker.map(|h| h.join()) {
        Ok(Ok(r)) => r,
        _ => panic!("evaluator thread failed"),
    }
}

fn check(src: &str, want: &str) {
    assert_eq!(run(src), Ok(want.to_string()), "{src}");
}

fn check_err(src: &str, want: &str) {
    match run(src) {
        Err(e) => assert!(e.contains(want), "{src}: error {e:?} lacks {want:?}"),
        Ok(v) => panic!("{src}: expected an error containing {want:?}, got {v}"),
    }
}

#[test]
fn bindings_and_dropping() {
    check(
        "(letrec ((z (integer+ x y)) (y (integer+ x 1)) (x 5)) z)",
        "11",
    );
    check("(let ((x (error \"boom\"))) 1)", "1");
    // Bindings wrapping a recursive lambda are evaluated before the group.
    check(
        "(letrec ((f (let ((k 10)) (lambda (n) (if (integer=? n 0) k (f (integer- n 1))))))) (f 3))",
        "10",
    );
    check("(let* ((a (error \"a\")) (b a)) 2)", "2");
    check("(let ((x 1)) (let ((x 2) (y x)) (list x y)))", "(2 1)");
    check("(let* ((x 1) (x (integer+ x 1))) x)", "2");
    check("(let ((if 1)) if)", "1");
    check("(if #t \"safe\" undefined-name)", "\"safe\"");
    check_err(
        "(if #f \"safe\" undefined-name)",
        "unbound name 'undefined-name'",
    );
    check(
        "(letrec ((even? (lambda (n) (if (integer=? n 0) #t (odd? (integer- n 1))))) \
                  (odd? (lambda (n) (if (integer=? n 0) #f (even? (integer- n 1)))))) (list (even? 10) (odd? 7)))",
        "(#t #t)",
    );
}

#[test]
fn and_or_and_chains() {
    check("(and #t 1)", "1");
    check("(or #f 5)", "5");
    check("(and #f (error \"no\"))", "#f");
    check("(or #t (error \"no\"))", "#t");
    check_err("(and 1 2)", "and: operand must be a boolean");
    check_err("(or #f 1 2)", "or: operand must be a boolean");
    check_err("(if 1 2 3)", "if: condition must be a boolean");
    check("(integer=? 1 2 \"x\")", "#f");
    check_err("(integer=? 1 1 \"x\")", "expected integer");
    check("(integer!=? 5 5 6)", "#t");
    check("(integer!=? 5 5 5)", "#f");
    check("(integer<? 1 2 3 4)", "#t");
    check("(integer<? 1 3 2 4)", "#f");
    check(
        "(list (integer+) (integer+ 4) (integer* 2 3 4) (integer- 10 1 2))",
        "(0 4 24 7)",
    );
    check_err("(integer+ \"a\")", "expected integer");
    check("(float+ -0.0)", "-0.0");
}

#[test]
fn lambdas_and_apply() {
    check("((lambda (a . r) (list a r)) 1 2 3)", "(1 (2 3))");
    check("((lambda (. r) r) 1 2)", "(1 2)");
    check("(apply integer+ (list 1 2 3))", "6");
    check("(apply (lambda (a b) (list b a)) (list 1 2))", "(2 1)");
    check("(lambda (x y) x)", "<lambda (x, y)>");
    check("(lambda (a b . rest) a)", "<lambda (a, b . rest)>");
    check(
        "(let ((integer+ (lambda (a b) (integer* a b)))) (integer+ 3 4))",
        "12",
    );
}

#[test]
fn match_patterns() {
    check("(match 5 (_ \"anything\"))", "\"anything\"");
    check("(match 5 (x (integer* x 2)))", "10");
    check("(match 6 (5 \"five\") (_ \"other\"))", "\"other\"");
    check("(match \"a\" (\"a\" 1) (_ 2))", "1");
    check("(match #none (#none 1) (_ 2))", "1");
    check("(match (list) (() \"empty\") (_ \"x\"))", "\"empty\"");
    check("(match (list 1 2) ((a b) (list b a)))", "(2 1)");
    check("(match (list 1 2 3) ((a b) 0) ((a . rest) rest))", "(2 3)");
    check(
        "(match (list 1 2 3) ((a b . rest) (list a b rest)))",
        "(1 2 (3))",
    );
    check("(match (list 1) ((a b . rest) 0) (_ 1))", "1");
    check("(match 5 (() 0) ((a) a) ((a . r) r) (_ \"x\"))", "\"x\"");
    check("(match \"ab\" ((a . r) 1) (5 2) (() 3) (_ 4))", "4");
    check("(match (list) ((a . r) 1) (() 3) (_ 4))", "3");
    check(
        "(match (list 1 (list 2 3)) ((a (b c)) (list a b c)))",
        "(1 2 3)",
    );
    check(
        "(match 7 ((? string? s) s) ((? integer? n) (integer+ n 1)))",
        "8",
    );
    check(
        "(match 7 ((? (lambda (v) (integer>? v 5)) _) \"big\") (_ \"small\"))",
        "\"big\"",
    );
    check("(match (list 1 2) ((x x) x))", "2");
    check("(match 'a ('a 1) (_ 2))", "2");
    check(
        "(match (list 'quote 'sym) ('x (list quote x)))",
        "(quote sym)",
    );
    check_err("(match 3 (1 1) (2 2))", "match: no clause matched 3");
    check_err(
        "(match 3 ((? (lambda (v) 1) x) x))",
        "match: predicate must return a boolean",
    );
    check_err("(match (error \"scrutinee\") (_ 1))", "scrutinee");
}

#[test]
fn structs() {
    check("(let ((Point (struct (x y)))) (Point 1 2))", "(Point 1 2)");
    check(
        "(let ((Point (struct (x y))) (p (Point 3 4))) (match p ((Point a b) (list a b))))",
        "(3 4)",
    );
    check(
        "(let ((P (struct (x)))) (match (list 1 2) ((P a) a) ((a b) b)))",
        "2",
    );
    check(
        "(let ((P (struct (x y)))) (match (list 1 2) ((P a b) 0) (_ 1)))",
        "1",
    );
    check("(let ((P (struct (x y)))) P)", "<struct-type P>");
    // Field access on a value of a known type is resolved at compile time.
    check(
        "(let* ((P (struct (x y))) (p (P 1 2))) (list (struct-get p 'y) (struct-set p 'x 5)))",
        "(2 (P 5 2))",
    );
    check(
        "(let ((P (struct (x y)))) (lambda (v) (match v ((P a b) (struct-get v 'y)) (_ 0))))",
        "<lambda (v)>",
    );
}

#[test]
fn prelude_functions() {
    check(
        "(map-list (lambda (x) (integer* x x)) (list 1 2 3))",
        "(1 4 9)",
    );
    check("(map-list integer-abs (list))", "()");
    check(
        "(filter-list (lambda (x) (integer>? x 1)) (list 3 1 2))",
        "(3 2)",
    );
    check(
        "(fold-list (lambda (acc x) (list-prepend acc x)) (list) (list 1 2 3))",
        "(3 2 1)",
    );
    check("(find-list (lambda (x) (integer>? x 1)) (list 1 5 7))", "5");
    check(
        "(find-list (lambda (x) (integer>? x 10)) (list 1 5 7))",
        "#none",
    );
    check(
        "(list (any-list? integer? (list \"a\" 1)) (any-list? integer? (list)))",
        "(#t #f)",
    );
    check(
        "(list (all-list? integer? (list 2 1)) (all-list? integer? (list 1 \"a\")))",
        "(#t #f)",
    );
    check(
        "(zip-list (list 1 2 3) (list \"a\" \"b\"))",
        "((1 \"a\") (2 \"b\"))",
    );
    check("(sort-list integer<? (list 3 1 2 5 4 1))", "(1 1 2 3 4 5)");
    check("(sort-list integer<? (list))", "()");
    check("(sort-list integer<? (list 9))", "(9)");
    check(
        "(sort-list (lambda (a b) (integer<? (list-first a) (list-first b))) \
           (list (list 1 \"a\") (list 0 \"b\") (list 1 \"c\") (list 0 \"d\") (list 1 \"e\")))",
        "((0 \"b\") (0 \"d\") (1 \"a\") (1 \"c\") (1 \"e\"))",
    );
    check(
        "(map-dict (lambda (k v) (integer* v 10)) (dict \"a\" 1 \"b\" 2))",
        "{(\"a\" 10) (\"b\" 20)}",
    );
    check(
        "(filter-dict (lambda (k v) (integer>? v 1)) (dict \"a\" 1 \"b\" 2))",
        "{(\"b\" 2)}",
    );
    check("(map-set (lambda (x) (integer* x 0)) (set 1 2 3))", "#{0}");
    check(
        "(filter-set (lambda (x) (integer>? x 1)) (set 1 2 3))",
        "#{2 3}",
    );
    check(
        "(fold-set (lambda (a x) (integer+ a x)) 0 (set 1 2 3))",
        "6",
    );
    check(
        "(list (any-set? integer? (set \"a\")) (all-set? integer? (set 1 2)))",
        "(#f #t)",
    );
    check("map-list", "<lambda (f, lst)>");
    check(
        "(list fold-list sort-list map-dict)",
        "(<lambda (f, init, lst)> <lambda (cmp, lst)> <lambda (f, al)>)",
    );
    // Type errors name the prelude function.
    check_err(
        "(map-list integer-abs 5)",
        "map-list: expected list, got integer",
    );
    check_err(
        "(fold-set integer+ 0 (list))",
        "fold-set: expected set, got list",
    );
    // A local binding shadows a prelude function.
    check("(let ((map-list (lambda (a b) 42))) (map-list 1 2))", "42");
}

#[test]
fn prelude_runs_in_constant_stack_on_long_lists() {
    // The evaluator itself recurses on calls; this only checks linear work
    // on a moderately long list.
    check("(fold-list (lambda (a x) (integer+ a x)) 0 (map-list (lambda (x) 1) (sort-list integer>? (list 5 3 8 1 9 2 7 4 6 0))))", "10");
}

/// A fresh directory of modules for one test.
fn module_dir(test: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("menai-analyze-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(format!("{name}.menai"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create module dir");
        }
        std::fs::write(&path, text).expect("write module");
    }
    dir
}

fn opts(dir: &std::path::Path) -> Options {
    Options {
        module_path: Some(vec![dir.to_path_buf()]),
    }
}

#[test]
fn modules_are_values_compiled_once_in_their_own_scope() {
    let dir = module_dir(
        "scope",
        &[
            ("math", "(dict \"sq\" (lambda (x) (integer* x x)))"),
            (
                "lib/uses",
                "(let ((m (import \"math\"))) ((dict-get m \"sq\") 5))",
            ),
            ("free", "(lambda () secret)"),
            (
                "shapes",
                "(let ((Point (struct (x y)))) (dict \"Point\" Point \"origin\" (Point 0 0)))",
            ),
        ],
    );
    assert_eq!(
        run_with(
            "(list (import \"lib/uses\") ((dict-get (import \"math\") \"sq\") 3))",
            opts(&dir)
        ),
        Ok("(25 9)".into())
    );
    // One binding per module however often imported.
    let c = compile_str(
        "t",
        "(list (import \"math\") (import \"math\") (import \"lib/uses\"))",
        &opts(&dir),
    )
    .expect("compiles");
    let text = menai_compiler::ir_print::print_ir(&c.program);
    assert_eq!(text.matches("let %module:math").count(), 1, "{text}");
    assert!(c
        .program
        .files
        .iter()
        .any(|f| f.path.ends_with("math.menai")));
    // A module's free name does not see the importer's bindings.
    let r = run_with("(let ((secret 1)) ((import \"free\")))", opts(&dir));
    assert!(
        matches!(&r, Err(e) if e.contains("unbound name 'secret'")),
        "{r:?}"
    );
    // Struct names declared in a module serve the importer.
    assert_eq!(
        run_with("(let ((s (import \"shapes\"))) (match (dict-get s \"origin\") ((Point a b) (list a b))))", opts(&dir)),
        Ok("(0 0)".into())
    );
}

#[test]
fn import_errors() {
    let dir = module_dir(
        "errors",
        &[
            ("a", "(import \"b\")"),
            ("b", "(list (import \"a\"))"),
            ("bad", "(if 1)"),
            ("empty", "; nothing\n"),
            ("two", "1 2"),
        ],
    );
    let err = |src: &str| -> String {
        match compile_str("t", src, &opts(&dir)) {
            Ok(_) => panic!("{src} compiled"),
            Err(f) => f
                .diagnostics
                .iter()
                .map(|d| format!("{} {}", d.message, d.notes.join(" ")))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    };
    let e = err("(import \"a\")");
    assert!(
        e.contains("import cycle: \"a\" imports \"b\" imports \"a\""),
        "{e}"
    );
    let e = err("(import \"missing\")");
    assert!(
        e.contains("not found") && e.contains("missing.menai"),
        "{e}"
    );
    let e = err("(import \"bad\")");
    assert!(e.contains("if: expected exactly 3 operands"), "{e}");
    let e = err("(import \"empty\")");
    assert!(e.contains("empty"), "{e}");
    let e = err("(import \"two\")");
    assert!(e.contains("exactly one expression"), "{e}");
}
