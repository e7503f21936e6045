//! Reads the CFG text that [`crate::dump`] prints back into a
//! [`CfgProgram`], so a CFG seen in a dump can be fed to the passes again
//! (`menai-opt x.cfg`, the file tests under `optimizer/tests/filetests`).
//!
//! The grammar is the printer's, line by line (`;` starts a comment
//! outside a string literal; blank lines are ignored):
//!
//! ```text
//! struct #0 Point(x, y)
//! function fn0 main() captures 0
//! block0:
//!     v0 = const 1
//!     return v0
//! function fn1 f(n: v0, . rest: v1) captures 2
//! block0(v0, v1):
//!     v2 = prim integer+ v0, v0
//!     branch v2, block1, block2 (or)
//! ```
//!
//! Invariants of the result: block numbers and value numbers are the
//! text's (so print → parse → print is the identity on printer output);
//! functions must be listed as `fn0, fn1, …` in order, `fn0` being the
//! entry (no parameters, no captures); the first block listed is the function's entry (the printer
//! lists blocks in reverse postorder). The text carries no source spans:
//! every span is the empty span at the start of file 0, a file named after
//! the input whose text is the CFG text itself. The result is checked by
//! the CFG verifier before it is returned.

use crate::cfg::{
    BlockData, CapSrc, CfgProgram, FuncId, Function, InstData, InstKind, Terminator, Value,
};
use crate::verify;
use menai_bytecode::{Builtin, CondOrigin};
use menai_compiler::ir::{Const, SourceFile, Span, StructDecl};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use std::fmt;

/// Why a CFG text could not be read: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

type Res<T> = Result<T, String>;

/// The span every parsed instruction, block and function gets.
const NO_SPAN: Span = Span {
    file: 0,
    start: 0,
    end: 0,
};

/// Reads a whole program (struct declarations, then functions). `path`
/// names the input in the program's file table.
pub fn parse_program(text: &str, path: &str) -> Result<CfgProgram, ParseError> {
    // Block and value numbers size the tables the passes allocate: bound
    // them by the text's size (real dumps number far below this).
    let number_limit = text.len().saturating_mul(8).saturating_add(4096);
    let mut structs: Vec<StructDecl> = Vec::new();
    let mut functions: Vec<FnText> = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let at = |message: String| ParseError { line, message };
        let l = strip_comment(raw).trim();
        if l.is_empty() {
            continue;
        }
        if let Some(rest) = l.strip_prefix("struct ") {
            if !functions.is_empty() {
                return Err(at("struct declarations come before the functions".into()));
            }
            let decl = parse_struct(rest, structs.len()).map_err(at)?;
            structs.push(decl);
        } else if let Some(rest) = l.strip_prefix("function ") {
            let header = parse_function_header(rest).map_err(at)?;
            if header.id.0 as usize != functions.len() {
                return Err(at(format!(
                    "expected fn{} next (functions are listed in order), found {}",
                    functions.len(),
                    header.id
                )));
            }
            functions.push(FnText {
                header,
                line,
                blocks: Vec::new(),
            });
        } else {
            let Some(f) = functions.last_mut() else {
                return Err(at("expected `function` or `struct`".into()));
            };
            if let Some(header) = l.strip_suffix(':') {
                let (index, params) = parse_block_header(header).map_err(at)?;
                f.blocks.push(BlockText {
                    index,
                    params,
                    line,
                    insts: Vec::new(),
                    term: None,
                });
                continue;
            }
            let Some(b) = f.blocks.last_mut() else {
                return Err(at("an instruction before the first block".into()));
            };
            if b.term.is_some() {
                return Err(at("an instruction after the block's terminator".into()));
            }
            match l.split_once(" = ") {
                Some((result, inst)) if result.starts_with('v') => {
                    let result = parse_value(result).map_err(at)?;
                    b.insts.push((result, parse_inst(inst).map_err(at)?));
                }
                _ => b.term = Some((parse_term(l).map_err(at)?, line)),
            }
        }
    }
    if functions.is_empty() {
        return Err(ParseError {
            line: 0,
            message: "no function in the CFG text".into(),
        });
    }
    // The entry function is called with no arguments in the empty
    // environment (the builder makes it so; the bytecode requires it).
    let entry = &functions[0];
    if !entry.header.params.is_empty() || entry.header.rest.is_some() || entry.header.captures != 0
    {
        return Err(ParseError {
            line: entry.line,
            message: "the entry function fn0 must take no parameters and capture nothing".into(),
        });
    }
    let functions = functions
        .into_iter()
        .map(|f| build_function(f, number_limit))
        .collect::<Result<Vec<_>, _>>()?;
    let program = CfgProgram {
        functions,
        entry: FuncId(0),
        structs,
        files: vec![SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        }],
        clones: Vec::new(),
    };
    verify::verify_program(&program, "parse").map_err(|e| ParseError {
        line: 0,
        message: e.to_string(),
    })?;
    Ok(program)
}

/// A function as read, before its graph is built.
struct FnText {
    header: Header,
    line: usize,
    blocks: Vec<BlockText>,
}

struct Header {
    id: FuncId,
    name: String,
    params: Vec<(String, Value)>,
    rest: Option<(String, Value)>,
    captures: u16,
}

struct BlockText {
    index: usize,
    params: Vec<Value>,
    line: usize,
    insts: Vec<(Value, InstKind)>,
    /// The terminator and its line.
    term: Option<(Terminator, usize)>,
}

/// Everything before a `;` that is not inside a string literal.
fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ';' {
            return &line[..i];
        }
    }
    line
}

fn build_function(f: FnText, number_limit: usize) -> Result<Function, ParseError> {
    let at = |line: usize| move |message: String| ParseError { line, message };
    // Every value a block names, checked against the limit (the error
    // names the block's line); the largest one sizes the function's value
    // numbering. (The entry block's parameters are the header's.)
    let mut max_value: Option<u32> = None;
    for b in &f.blocks {
        let inst_values = b.insts.iter().flat_map(|(r, k)| {
            let mut vs = k.uses();
            vs.push(*r);
            vs
        });
        let term_values = b.term.iter().flat_map(|(t, _)| t.uses());
        let block_max = b
            .params
            .iter()
            .copied()
            .chain(inst_values)
            .chain(term_values)
            .map(|v| v.0)
            .max();
        if b.index > number_limit || block_max.is_some_and(|m| m as usize > number_limit) {
            return Err(at(b.line)(format!(
                "block or value number above {number_limit} (too large for a text of this size)"
            )));
        }
        max_value = max_value.max(block_max);
    }
    let Some(first) = f.blocks.first() else {
        return Err(at(f.line)(format!("{} has no blocks", f.header.id)));
    };
    let entry_index = first.index;
    // The entry block's parameters are the function's, in order.
    let mut declared: Vec<Value> = f.header.params.iter().map(|p| p.1).collect();
    declared.extend(f.header.rest.iter().map(|r| r.1));
    if first.params != declared {
        return Err(at(first.line)(
            "the entry block's parameters must be the function's, in order".into(),
        ));
    }
    let bound = f.blocks.iter().map(|b| b.index).max().unwrap_or(0) + 1;
    let mut defined = vec![false; bound];
    for b in &f.blocks {
        if std::mem::replace(&mut defined[b.index], true) {
            return Err(at(b.line)(format!("block{} is defined twice", b.index)));
        }
    }
    let mut graph: StableDiGraph<BlockData, ()> = StableDiGraph::with_capacity(bound, 0);
    for _ in 0..bound {
        graph.add_node(BlockData {
            params: vec![],
            insts: vec![],
            term: Terminator::Unterminated,
            term_span: NO_SPAN,
        });
    }
    for (k, _) in defined.iter().enumerate().filter(|(_, d)| !**d) {
        graph.remove_node(NodeIndex::new(k));
    }
    let mut insts: Vec<InstData> = Vec::new();
    let mut terms = Vec::new();
    for b in f.blocks {
        let node = NodeIndex::new(b.index);
        let mut ids = Vec::with_capacity(b.insts.len());
        for (result, kind) in b.insts {
            ids.push(crate::cfg::Inst(insts.len() as u32));
            insts.push(InstData {
                kind,
                result,
                span: NO_SPAN,
            });
        }
        let Some((term, term_line)) = b.term else {
            return Err(at(b.line)(format!("block{} has no terminator", b.index)));
        };
        for s in term.successors() {
            if !defined.get(s.index()).copied().unwrap_or(false) {
                return Err(at(term_line)(format!("{s} is not defined")));
            }
        }
        let data = &mut graph[node];
        data.params = b.params;
        data.insts = ids;
        terms.push((crate::cfg::Block(node), term));
    }
    let mut func = Function::from_parts(
        f.header.id,
        f.header.name,
        f.header.params.into_iter().map(|p| p.0).collect(),
        f.header.rest.map(|r| r.0),
        f.header.captures,
        NO_SPAN,
        graph,
        crate::cfg::Block(NodeIndex::new(entry_index)),
        insts,
        max_value.map_or(0, |m| m + 1),
    );
    for (b, term) in terms {
        func.set_term(b, term, NO_SPAN);
    }
    Ok(func)
}

/// `#N Name(field, field)` (after `struct `); `expected` is its index.
fn parse_struct(s: &str, expected: usize) -> Res<StructDecl> {
    let rest = s
        .strip_prefix('#')
        .ok_or("expected `struct #N Name(fields)`")?;
    let (num, rest) = rest.split_once(' ').ok_or("expected a struct name")?;
    if num.parse::<usize>().ok() != Some(expected) {
        return Err(format!("expected struct #{expected} next"));
    }
    let (name, fields) = split_call(rest)?;
    Ok(StructDecl {
        name: name.to_string(),
        fields: split_list(fields).map(str::to_string).collect(),
        span: NO_SPAN,
    })
}

/// `fnN NAME(p: v0, . r: v1) captures K` (after `function `).
fn parse_function_header(s: &str) -> Res<Header> {
    let (id, rest) = s
        .split_once(' ')
        .ok_or("expected `function fnN NAME(...)`")?;
    let id = parse_func(id)?;
    let (sig, captures) = rest
        .rsplit_once(" captures ")
        .ok_or("expected `captures N` after the parameters")?;
    let captures = captures
        .parse::<u16>()
        .map_err(|_| format!("bad capture count `{captures}`"))?;
    let (name, params_text) = split_call(sig)?;
    let mut params = Vec::new();
    let mut rest_param = None;
    for p in split_list(params_text) {
        let (name, v) = p
            .rsplit_once(": ")
            .ok_or_else(|| format!("expected `name: vN`, found `{p}`"))?;
        let v = parse_value(v)?;
        if rest_param.is_some() {
            return Err("the rest parameter must come last".into());
        }
        match name.strip_prefix(". ") {
            Some(r) => rest_param = Some((r.to_string(), v)),
            None => params.push((name.to_string(), v)),
        }
    }
    Ok(Header {
        id,
        name: name.to_string(),
        params,
        rest: rest_param,
        captures,
    })
}

/// `blockN` or `blockN(v1, v2)` (the `:` removed).
fn parse_block_header(s: &str) -> Res<(usize, Vec<Value>)> {
    let (name, params) = match s.split_once('(') {
        Some((name, rest)) => (
            name,
            rest.strip_suffix(')')
                .ok_or("expected `)` after the block parameters")?,
        ),
        None => (s, ""),
    };
    let index = parse_block(name)?.index();
    let params = split_list(params).map(parse_value).collect::<Res<_>>()?;
    Ok((index, params))
}

/// `NAME(ITEMS)` as `(NAME, ITEMS)`: the parentheses are the last pair.
fn split_call(s: &str) -> Res<(&str, &str)> {
    let inner = s.strip_suffix(')').ok_or("expected `(...)`")?;
    let open = inner.rfind('(').ok_or("expected `(`")?;
    Ok((&inner[..open], &inner[open + 1..]))
}

/// The comma-separated items of a list (none for an empty text).
fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(", ").map(str::trim).filter(|p| !p.is_empty())
}

fn parse_numbered(s: &str, prefix: &str) -> Res<u32> {
    s.strip_prefix(prefix)
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| format!("expected {prefix}N, found `{s}`"))
}

fn parse_value(s: &str) -> Res<Value> {
    parse_numbered(s.trim(), "v").map(Value)
}

fn parse_block(s: &str) -> Res<crate::cfg::Block> {
    let n = parse_numbered(s.trim(), "block")?;
    Ok(crate::cfg::Block(NodeIndex::new(n as usize)))
}

fn parse_func(s: &str) -> Res<FuncId> {
    parse_numbered(s.trim(), "fn").map(FuncId)
}

fn values(s: &str) -> Res<Vec<Value>> {
    split_list(s).map(parse_value).collect()
}

fn builtin(name: &str) -> Res<Builtin> {
    Builtin::by_name(name).ok_or_else(|| format!("unknown builtin `{name}`"))
}

/// `vF(args)` as `(vF, args)`.
fn call_parts(s: &str) -> Res<(Value, Vec<Value>)> {
    let (f, args) = s.split_once('(').ok_or("expected `vF(args)`")?;
    let args = args.strip_suffix(')').ok_or("expected `)`")?;
    Ok((parse_value(f)?, values(args)?))
}

/// `vF, vL` as a pair.
fn pair(s: &str) -> Res<(Value, Value)> {
    let (a, b) = s.split_once(", ").ok_or("expected `vA, vB`")?;
    Ok((parse_value(a)?, parse_value(b)?))
}

/// One instruction, from the text after `vN = `.
fn parse_inst(s: &str) -> Res<InstKind> {
    let (op, rest) = s.split_once(' ').unwrap_or((s, ""));
    Ok(match op {
        "copy" => InstKind::Copy(parse_value(rest)?),
        "const" => InstKind::Const(parse_const(rest)?),
        "builtin" => InstKind::Builtin(builtin(rest)?),
        "getcap" => InstKind::GetCap(rest.parse().map_err(|_| format!("bad slot `{rest}`"))?),
        "closure" => {
            let (func, caps) = rest.split_once(' ').ok_or("expected `closure fnN [...]`")?;
            let caps = caps
                .strip_prefix('[')
                .and_then(|c| c.strip_suffix(']'))
                .ok_or("expected `[captures]`")?;
            let captures = split_list(caps)
                .map(|c| match c.strip_prefix("env") {
                    Some(slot) => slot
                        .parse()
                        .map(CapSrc::Env)
                        .map_err(|_| format!("bad capture `{c}`")),
                    None => parse_value(c).map(CapSrc::Value),
                })
                .collect::<Res<_>>()?;
            InstKind::Closure {
                func: parse_func(func)?,
                captures,
            }
        }
        "sibling" => InstKind::Sibling(parse_func(rest)?),
        "closureref" => {
            let (func, of) = rest.split_once(" of ").ok_or("expected `fnN of vK`")?;
            InstKind::ClosureRef {
                func: parse_func(func)?,
                of: parse_value(of)?,
            }
        }
        "prim" => {
            let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
            InstKind::Prim {
                op: builtin(name)?,
                args: values(args)?,
            }
        }
        "makestruct" => {
            let (ty, args) = rest.split_once(' ').unwrap_or((rest, ""));
            InstKind::MakeStruct {
                ty: parse_numbered(ty, "#")?,
                args: values(args)?,
            }
        }
        "call" => {
            let (func, args) = call_parts(rest)?;
            InstKind::Call { func, args }
        }
        "apply" => {
            let (func, list) = pair(rest)?;
            InstKind::Apply { func, list }
        }
        _ => return Err(format!("unknown instruction `{op}`")),
    })
}

/// A terminator line.
fn parse_term(s: &str) -> Res<Terminator> {
    let (op, rest) = s.split_once(' ').unwrap_or((s, ""));
    Ok(match op {
        "<unterminated>" => Terminator::Unterminated,
        "jump" => {
            let (dest, args) = match rest.split_once('(') {
                Some((d, a)) => (d, values(a.strip_suffix(')').ok_or("expected `)`")?)?),
                None => (rest, Vec::new()),
            };
            Terminator::Jump {
                dest: parse_block(dest)?,
                args,
            }
        }
        "branch" => {
            let (body, origin) = match rest.split_once(" (") {
                Some((b, o)) => {
                    let o = o.strip_suffix(')').ok_or("expected `)` after the origin")?;
                    let origin = CondOrigin::from_name(o)
                        .ok_or_else(|| format!("unknown branch origin `{o}`"))?;
                    (b, origin)
                }
                None => (rest, CondOrigin::If),
            };
            let parts: Vec<&str> = body.split(", ").collect();
            let [cond, then_dest, else_dest] = parts[..] else {
                return Err("expected `branch vC, blockT, blockE`".into());
            };
            Terminator::Branch {
                cond: parse_value(cond)?,
                then_dest: parse_block(then_dest)?,
                else_dest: parse_block(else_dest)?,
                origin,
            }
        }
        "return" => Terminator::Return(parse_value(rest)?),
        "tailcall" => {
            let (func, args) = call_parts(rest)?;
            Terminator::TailCall { func, args }
        }
        "tailapply" => {
            let (func, list) = pair(rest)?;
            Terminator::TailApply { func, list }
        }
        "raise" => Terminator::Raise(parse_value(rest)?),
        "raise-unbound" => {
            let (name, tail) = parse_string(rest)?;
            if !tail.trim().is_empty() {
                return Err("unexpected text after the name".into());
            }
            Terminator::RaiseUnbound(name)
        }
        "raise-nomatch" => Terminator::RaiseNoMatch(parse_value(rest)?),
        _ => return Err(format!("unknown instruction or terminator `{op}`")),
    })
}

/// A constant as [`crate::dump::const_text`] prints it.
pub fn parse_const(s: &str) -> Res<Const> {
    let s = s.trim();
    let (c, rest) = const_token(s, false)?;
    if !rest.trim().is_empty() {
        return Err(format!("unexpected `{}` after the constant", rest.trim()));
    }
    Ok(c)
}

/// One constant at the start of `s`, and what follows it. `in_list`: an
/// element of a quoted list, where symbols and lists carry no quote.
fn const_token(s: &str, in_list: bool) -> Res<(Const, &str)> {
    if s.starts_with('"') {
        let (text, rest) = parse_string(s)?;
        return Ok((Const::Str(text), rest));
    }
    if let Some(rest) = s.strip_prefix("()") {
        return Ok((Const::EmptyList, rest));
    }
    let list_body = if in_list {
        s.strip_prefix('(')
    } else {
        s.strip_prefix("'(")
    };
    if let Some(mut rest) = list_body {
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(')') {
                return Ok((Const::List(items), after));
            }
            if rest.is_empty() {
                return Err("unterminated quoted list".into());
            }
            let (item, after) = const_token(rest, true)?;
            items.push(item);
            rest = after;
        }
    }
    // An atom: up to the next space or closing parenthesis.
    let end = s.find([' ', ')']).unwrap_or(s.len());
    let (tok, rest) = s.split_at(end);
    let symbol = |name: &str| -> Res<Const> {
        if name.is_empty() {
            Err("expected a constant".into())
        } else {
            Ok(Const::Symbol(name.to_string()))
        }
    };
    let c = match tok {
        "#none" => Const::None,
        "#t" => Const::Bool(true),
        "#f" => Const::Bool(false),
        _ if !in_list && tok.starts_with('\'') => symbol(&tok[1..])?,
        _ => {
            if let Some(t) = tok.strip_prefix("struct-type#") {
                Const::StructType(t.parse().map_err(|_| format!("bad struct type `{tok}`"))?)
            } else if let Some(c) = number(tok, in_list) {
                c
            } else if in_list {
                symbol(tok)?
            } else {
                return Err(format!("unknown constant `{tok}`"));
            }
        }
    };
    Ok((c, rest))
}

/// A number token: an integer (big when outside `i64`), a float as Rust's
/// `{:?}` prints it, or a complex `RE±IMj`. Inside a list a bare `inf` or
/// `NaN` reads as a symbol (a float there starts with a digit or a sign).
fn number(tok: &str, in_list: bool) -> Option<Const> {
    let digits = tok.strip_prefix('-').unwrap_or(tok);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(match tok.parse::<i64>() {
            Ok(i) => Const::Int(i),
            Err(_) => Const::BigInt(tok.to_string()),
        });
    }
    let starts_numeric = digits.starts_with(|c: char| c.is_ascii_digit());
    if let Some(body) = tok.strip_suffix('j') {
        // The imaginary part's sign: the last `+`/`-` not after an `e`.
        let split = body
            .char_indices()
            .skip(1)
            .filter(|&(i, c)| (c == '+' || c == '-') && !body[..i].ends_with('e'))
            .map(|(i, _)| i)
            .last()?;
        let re = float(&body[..split])?;
        let im = float(&body[split..])?;
        return Some(Const::Complex(re, im));
    }
    if in_list && !starts_numeric {
        return None;
    }
    float(tok).map(Const::Float)
}

fn float(s: &str) -> Option<f64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    s.parse::<f64>().ok()
}

/// A string literal as Rust's `{:?}` prints it, and the text after it.
fn parse_string(s: &str) -> Res<(String, &str)> {
    let body = s.strip_prefix('"').ok_or("expected a string literal")?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => {
                let (_, e) = chars.next().ok_or("unterminated escape")?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '"' | '\'' => out.push(e),
                    'u' => {
                        let rest = &body[i + 2..];
                        let hex = rest
                            .strip_prefix('{')
                            .and_then(|r| r.split_once('}'))
                            .ok_or("bad \\u escape")?
                            .0;
                        let ch = u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or("bad \\u escape")?;
                        out.push(ch);
                        // Skip `{hex}`.
                        for _ in 0..hex.len() + 2 {
                            chars.next();
                        }
                    }
                    other => return Err(format!("unknown escape `\\{other}`")),
                }
            }
            c => out.push(c),
        }
    }
    Err("unterminated string literal".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::const_text;

    #[test]
    fn constants_read_back_as_printed() {
        let consts = [
            Const::None,
            Const::Bool(true),
            Const::Bool(false),
            Const::Int(-42),
            Const::BigInt("-123456789012345678901234567890".into()),
            Const::Float(0.0025),
            Const::Float(-0.0),
            Const::Float(1e300),
            Const::Float(f64::INFINITY),
            Const::Float(f64::NEG_INFINITY),
            Const::Complex(1.5, -2.0),
            Const::Complex(0.0, 1e-7),
            Const::Complex(-1.0, f64::INFINITY),
            Const::Str("a \"quoted\"; line\n\ttab \\ é \u{7}".into()),
            Const::Symbol("list-ref".into()),
            Const::EmptyList,
            Const::List(vec![
                Const::Int(1),
                Const::Symbol("a".into()),
                Const::Str("b c)".into()),
                Const::List(vec![Const::Float(2.5), Const::EmptyList, Const::Bool(true)]),
            ]),
            Const::StructType(3),
        ];
        for c in consts {
            let text = const_text(&c);
            assert_eq!(parse_const(&text), Ok(c.clone()), "{text}");
        }
        let nan = parse_const(&const_text(&Const::Float(f64::NAN)));
        assert!(matches!(nan, Ok(Const::Float(x)) if x.is_nan()));
    }

    #[test]
    fn errors_name_the_line() {
        let text = "function fn0 main() captures 0\nblock0:\n    v0 = const 1\n    frobnicate v0\n";
        let e = parse_program(text, "t.cfg").expect_err("an error");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("frobnicate"), "{e}");
        let e = parse_program(
            "function fn0 main() captures 0\nblock0:\n    jump block7\n",
            "t.cfg",
        )
        .expect_err("an error");
        assert_eq!((e.line, e.message.as_str()), (3, "block7 is not defined"));
        let e = parse_program(
            "function fn0 main(x: v0) captures 0\nblock0(v0):\n    return v0\n",
            "t.cfg",
        )
        .expect_err("an error");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("entry function"), "{e}");
        // A use without a definition is the verifier's to report.
        let e = parse_program(
            "function fn0 main() captures 0\nblock0:\n    return v3\n",
            "t.cfg",
        )
        .expect_err("an error");
        assert!(e.message.contains("v3"), "{e}");
    }
}
