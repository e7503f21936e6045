//! The types builtins produce and check, in terms of the types of
//! LANGUAGE.md §3: one table for every consumer — the validator (which
//! proves TYPES_PROVEN flags on the subset it tracks, `validate::types`)
//! and the optimizer (SCCP's type lattice and folding of type predicates,
//! the type analysis choosing TYPES_PROVEN). A wrong entry here would make
//! the optimizer fold a predicate wrongly, so the table is tested against
//! the VM's actual results (`vm/tests/builtin_types.rs`).

use crate::builtins::Builtin;

/// The types of LANGUAGE.md §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Integer,
    Float,
    Complex,
    String,
    Boolean,
    None,
    Symbol,
    List,
    Dict,
    Set,
    Function,
    StructType,
    Struct,
}

impl Type {
    /// The type's name in LANGUAGE.md §3 (as runtime errors print it).
    pub fn name(self) -> &'static str {
        match self {
            Type::Integer => "integer",
            Type::Float => "float",
            Type::Complex => "complex",
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::None => "none",
            Type::Symbol => "symbol",
            Type::List => "list",
            Type::Dict => "dict",
            Type::Set => "set",
            Type::Function => "function",
            Type::StructType => "struct-type",
            Type::Struct => "struct",
        }
    }
}

/// The type a type predicate tests for.
pub fn predicate_type(op: Builtin) -> Option<Type> {
    use Builtin as B;
    Some(match op {
        B::IntegerP => Type::Integer,
        B::FloatP => Type::Float,
        B::ComplexP => Type::Complex,
        B::StringP => Type::String,
        B::BooleanP => Type::Boolean,
        B::NoneP => Type::None,
        B::SymbolP => Type::Symbol,
        B::ListP => Type::List,
        B::DictP => Type::Dict,
        B::SetP => Type::Set,
        B::FunctionP => Type::Function,
        B::StructP => Type::Struct,
        _ => return None,
    })
}

/// The type of a primitive's result whenever it returns (it may raise
/// instead). `None` when the type depends on the operands (`list-first`,
/// `dict-get`, `string->number`…).
pub fn result_type(op: Builtin) -> Option<Type> {
    use Builtin as B;
    if predicate_type(op).is_some() {
        return Some(Type::Boolean);
    }
    Some(match op {
        B::FunctionEq
        | B::FunctionNe
        | B::FunctionVariadicP
        | B::FunctionAcceptsP
        | B::SymbolEq
        | B::SymbolNe
        | B::BooleanEq
        | B::BooleanNe
        | B::BooleanNot
        | B::IntegerEq
        | B::IntegerNe
        | B::IntegerLt
        | B::IntegerGt
        | B::IntegerLe
        | B::IntegerGe
        | B::FloatEq
        | B::FloatNe
        | B::FloatLt
        | B::FloatGt
        | B::FloatLe
        | B::FloatGe
        | B::ComplexEq
        | B::ComplexNe
        | B::StringEq
        | B::StringNe
        | B::StringLt
        | B::StringGt
        | B::StringLe
        | B::StringGe
        | B::StringPrefixP
        | B::StringSuffixP
        | B::ListEq
        | B::ListNe
        | B::ListNullP
        | B::ListMemberP
        | B::DictEq
        | B::DictNe
        | B::DictHasP
        | B::SetEq
        | B::SetNe
        | B::SetMemberP
        | B::SetSubsetP
        | B::StructTypeP
        | B::StructEq
        | B::StructNe => Type::Boolean,
        B::FunctionMinArity
        | B::IntegerAdd
        | B::IntegerSub
        | B::IntegerMul
        | B::IntegerDiv
        | B::IntegerMod
        | B::IntegerNeg
        | B::IntegerAbs
        | B::IntegerExpn
        | B::IntegerMin
        | B::IntegerMax
        | B::IntegerBitOr
        | B::IntegerBitAnd
        | B::IntegerBitXor
        | B::IntegerBitNot
        | B::IntegerShiftLeft
        | B::IntegerShiftRight
        | B::FloatToInteger
        | B::StringLength
        | B::StringToCodepoint
        | B::ListLength
        | B::DictLength
        | B::SetLength => Type::Integer,
        B::IntegerToFloat
        | B::FloatAdd
        | B::FloatSub
        | B::FloatMul
        | B::FloatDiv
        | B::FloatFloorDiv
        | B::FloatMod
        | B::FloatNeg
        | B::FloatAbs
        | B::FloatMin
        | B::FloatMax
        | B::FloatFloor
        | B::FloatCeil
        | B::FloatRound
        | B::FloatExp
        | B::FloatExpn
        | B::FloatLog
        | B::FloatLog2
        | B::FloatLog10
        | B::FloatLogn
        | B::FloatSqrt
        | B::FloatSin
        | B::FloatCos
        | B::FloatTan
        | B::ComplexReal
        | B::ComplexImag
        | B::ComplexAbs => Type::Float,
        B::IntegerToComplex
        | B::FloatToComplex
        | B::ComplexAdd
        | B::ComplexSub
        | B::ComplexMul
        | B::ComplexDiv
        | B::ComplexNeg
        | B::ComplexExp
        | B::ComplexExpn
        | B::ComplexLog
        | B::ComplexLog10
        | B::ComplexLogn
        | B::ComplexSin
        | B::ComplexCos
        | B::ComplexTan
        | B::ComplexSqrt => Type::Complex,
        B::SymbolToString
        | B::IntegerToString
        | B::IntegerCodepointToString
        | B::FloatToString
        | B::ComplexToString
        | B::StringConcat
        | B::StringRef
        | B::StringSlice
        | B::StringUpcase
        | B::StringDowncase
        | B::StringTrim
        | B::StringTrimLeft
        | B::StringTrimRight
        | B::StringReplace
        | B::ListToString
        | B::StructTypeName => Type::String,
        B::List
        | B::ListPrepend
        | B::ListAppend
        | B::ListConcat
        | B::ListReverse
        | B::ListRest
        | B::ListRemove
        | B::ListSlice
        | B::StringToList
        | B::DictKeys
        | B::DictValues
        | B::SetToList
        | B::StructFields
        | B::Range => Type::List,
        B::Dict | B::DictSet | B::DictRemove | B::DictMerge => Type::Dict,
        B::Set
        | B::ListToSet
        | B::SetAdd
        | B::SetRemove
        | B::SetUnion
        | B::SetIntersection
        | B::SetDifference => Type::Set,
        B::StructSetImm | B::StructSet => Type::Struct,
        B::StructType => Type::StructType,
        _ => return None,
    })
}

/// The types a primitive checks its first operands to have: when it
/// returns, they have them. Only the unambiguous cases (arithmetic and the
/// collection operations whose first operand is the collection).
pub fn checked_operands(op: Builtin) -> &'static [Type] {
    use Builtin as B;
    const II: &[Type] = &[Type::Integer, Type::Integer];
    const I: &[Type] = &[Type::Integer];
    const FF: &[Type] = &[Type::Float, Type::Float];
    const F: &[Type] = &[Type::Float];
    const S: &[Type] = &[Type::String];
    const SS: &[Type] = &[Type::String, Type::String];
    const L: &[Type] = &[Type::List];
    const LL: &[Type] = &[Type::List, Type::List];
    const D: &[Type] = &[Type::Dict];
    const T: &[Type] = &[Type::Set];
    const TT: &[Type] = &[Type::Set, Type::Set];
    match op {
        B::IntegerAdd
        | B::IntegerSub
        | B::IntegerMul
        | B::IntegerDiv
        | B::IntegerMod
        | B::IntegerMin
        | B::IntegerMax
        | B::IntegerBitOr
        | B::IntegerBitAnd
        | B::IntegerBitXor
        | B::IntegerExpn
        | B::IntegerShiftLeft
        | B::IntegerShiftRight => II,
        B::IntegerNeg | B::IntegerAbs | B::IntegerBitNot | B::IntegerToFloat => I,
        B::FloatAdd | B::FloatSub | B::FloatMul | B::FloatDiv | B::FloatFloorDiv | B::FloatMod => {
            FF
        }
        B::FloatNeg
        | B::FloatAbs
        | B::FloatFloor
        | B::FloatCeil
        | B::FloatRound
        | B::FloatToInteger
        | B::FloatToString => F,
        B::StringLength
        | B::StringUpcase
        | B::StringDowncase
        | B::StringTrim
        | B::StringTrimLeft
        | B::StringTrimRight => S,
        B::StringConcat => SS,
        B::ListFirst
        | B::ListRest
        | B::ListLast
        | B::ListLength
        | B::ListReverse
        | B::ListNullP
        | B::ListPrepend
        | B::ListAppend => L,
        B::ListConcat => LL,
        B::DictGet
        | B::DictSet
        | B::DictRemove
        | B::DictHasP
        | B::DictKeys
        | B::DictValues
        | B::DictLength => D,
        B::SetAdd | B::SetRemove | B::SetMemberP | B::SetLength | B::SetToList => T,
        B::SetUnion | B::SetIntersection | B::SetDifference | B::SetSubsetP => TT,
        B::BooleanNot => &[Type::Boolean],
        _ => &[],
    }
}
