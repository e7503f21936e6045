//! Runtime errors. A builtin or the interpreter produces an `RtError` with
//! a message that names the operation; the interpreter attaches the source
//! location of the failing instruction before it reaches the user.

use menai_bytecode::SrcLoc;

#[derive(Clone, Debug, PartialEq)]
pub struct RtError {
    /// E.g. `integer+: expected integer, got string "a"`.
    pub message: String,
    /// Where it happened, once the interpreter knows.
    pub loc: Option<SrcLoc>,
}

impl RtError {
    pub fn new(message: impl Into<String>) -> RtError {
        RtError {
            message: message.into(),
            loc: None,
        }
    }
}

pub type RtResult<T> = Result<T, RtError>;
