//! The optimization passes. A pass has a name (used by `--passes`,
//! `--print-after`, `--time-passes`, `--stats`), a doc line saying what it
//! rewrites and why that is sound, and a [`PassKind`]: most passes work on
//! one function at a time (`fn(&mut Function) -> Changed`); a few (inlining)
//! work on the whole program (`fn(&mut CfgProgram, &mut [bool]) -> Changed`,
//! marking in the slice, indexed by function, every function they changed).
//! Passes must leave the CFG valid (the verifier runs after each one in
//! debug and test builds) and must return a zero count exactly when they
//! changed nothing, so the pass manager can find a fixed point.

pub mod copyprop;
pub mod dce;
pub mod gvn;
pub mod inline_once;
pub mod inline_small;
pub mod known_calls;
pub mod known_captures;
pub mod lambda_lift;
pub mod licm;
pub mod sccp;
pub mod simplify_cfg;
pub mod specialize;

use crate::cfg::{CfgProgram, Function};

/// How many rewrites a pass made; zero means "unchanged".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Changed(pub usize);

impl Changed {
    pub fn changed(self) -> bool {
        self.0 > 0
    }
}

impl std::ops::AddAssign for Changed {
    fn add_assign(&mut self, o: Changed) {
        self.0 += o.0;
    }
}

/// What a pass works on.
#[derive(Clone, Copy)]
pub enum PassKind {
    /// One function at a time.
    Function(fn(&mut Function) -> Changed),
    /// The whole program; sets `touched[i]` for every function `i` it changed.
    Program(fn(&mut CfgProgram, &mut [bool]) -> Changed),
}

/// A registered pass.
#[derive(Clone, Copy)]
pub struct Pass {
    pub name: &'static str,
    pub doc: &'static str,
    pub kind: PassKind,
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pass({})", self.name)
    }
}

/// Every pass, in the order `-O2` runs them.
pub const ALL: &[Pass] = &[
    Pass {
        name: "copyprop",
        doc: copyprop::DOC,
        kind: PassKind::Function(copyprop::run),
    },
    // Sparse conditional constant propagation with known types (see
    // `sccp`): folds primitives on constants only when they cannot fail,
    // decides type predicates on values of known type (from constants,
    // primitive result types and dominating type tests) and turns branches
    // on known booleans into jumps. Sound because every fold is exactly the
    // run-time result and failing operations are left in place to raise.
    Pass {
        name: "sccp",
        doc: sccp::DOC,
        kind: PassKind::Function(sccp::run),
    },
    Pass {
        name: "gvn",
        doc: gvn::DOC,
        kind: PassKind::Function(gvn::run),
    },
    Pass {
        name: "dce",
        doc: dce::DOC,
        kind: PassKind::Function(dce::run),
    },
    Pass {
        name: "simplify-cfg",
        doc: simplify_cfg::DOC,
        kind: PassKind::Function(simplify_cfg::run),
    },
    Pass {
        name: "known-calls",
        doc: known_calls::DOC,
        kind: PassKind::Function(known_calls::run),
    },
    Pass {
        name: "inline-once",
        doc: inline_once::DOC,
        kind: PassKind::Program(inline_once::run),
    },
    Pass {
        name: "inline-small",
        doc: inline_small::DOC,
        kind: PassKind::Program(inline_small::run),
    },
    Pass {
        name: "known-captures",
        doc: known_captures::DOC,
        kind: PassKind::Program(known_captures::run),
    },
    Pass {
        name: "lambda-lift",
        doc: lambda_lift::DOC,
        kind: PassKind::Program(lambda_lift::run),
    },
    Pass {
        name: "specialize",
        doc: specialize::DOC,
        kind: PassKind::Program(specialize::run),
    },
    Pass {
        name: "licm",
        doc: licm::DOC,
        kind: PassKind::Function(licm::run),
    },
];

/// Looks a pass up by name.
pub fn by_name(name: &str) -> Option<Pass> {
    ALL.iter().find(|p| p.name == name).copied()
}

/// The pipeline of an optimization level.
pub fn pipeline(level: u8) -> Vec<Pass> {
    let names: &[&str] = match level {
        0 => &[],
        1 => &["copyprop", "dce"],
        _ => &[
            "inline-once",
            "known-captures",
            "lambda-lift",
            "specialize",
            "inline-small",
            "copyprop",
            "known-calls",
            "sccp",
            "gvn",
            "simplify-cfg",
            "dce",
            "licm",
        ],
    };
    names.iter().filter_map(|n| by_name(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_name_only_registered_passes() {
        for (level, len) in [(0u8, 0usize), (1, 2), (2, 12)] {
            assert_eq!(pipeline(level).len(), len, "-O{level}");
        }
        let mut names: Vec<&str> = ALL.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "duplicate pass names");
    }
}
