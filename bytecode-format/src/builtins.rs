//! The builtin table: every builtin function of the language, listed once.
//!
//! Each row gives the builtin's stable numeric code (stored in `.mir` and
//! `.bc` files), its name, the parameter list it prints with (LANGUAGE.md §9,
//! which also drives arity reflection), the argument counts a call accepts,
//! the arity of its `$name` primitive (0 = it has none), and where it is
//! implemented: `Native` builtins are VM operations; `Prelude` builtins are
//! Menai functions from the compiler's prelude (the higher-order ones).
//!
//! The frontend (name resolution, compile-time arity checks), the optimizer
//! (folding) and the VM (dispatch, printing, reflection) all read this table.

/// Where a builtin is implemented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// A VM operation (`callb`, or a typed opcode).
    Native,
    /// A Menai function in the compiler's prelude.
    Prelude,
}

/// Static facts about one builtin.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinInfo {
    pub id: Builtin,
    pub name: &'static str,
    /// The parameter list as printed, e.g. `(a, b)` or `(real . rest)`.
    pub printed: &'static str,
    /// Fewest arguments a call accepts.
    pub min_args: u8,
    /// Most arguments a call accepts; `MANY` means unbounded.
    pub max_args: u8,
    /// Argument count of the `$name` primitive; 0 means there is no primitive.
    pub prim_arity: u8,
    pub implementation: Impl,
}

/// `max_args` of a builtin that takes any number of arguments.
pub const MANY: u8 = u8::MAX;

impl BuiltinInfo {
    /// Whether a call with `n` arguments is accepted.
    pub fn accepts(&self, n: usize) -> bool {
        n >= self.min_args as usize && (self.max_args == MANY || n <= self.max_args as usize)
    }

    /// Minimum arity as reported by `function-min-arity` (from the printed form).
    pub fn reflected_min_arity(&self) -> usize {
        let inner = self.printed.trim_start_matches('(').trim_end_matches(')');
        if inner == "args" {
            return 0;
        }
        let fixed = inner.split(" . ").next().unwrap_or("");
        if fixed.is_empty() {
            0
        } else {
            fixed.split(", ").count()
        }
    }

    /// Whether `function-variadic?` reports this builtin as variadic.
    pub fn reflected_variadic(&self) -> bool {
        self.printed == "(args)" || self.printed.contains(" . ")
    }
}

macro_rules! builtins {
    ($( $variant:ident = $code:literal, $name:literal, $printed:literal, $min:literal, $max:tt, $prim:literal, $imp:ident; )*) => {
        /// A builtin function. The discriminant is its code in files.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Builtin {
            $( $variant = $code, )*
        }

        /// The table, in order of declaration.
        pub const BUILTINS: &[BuiltinInfo] = &[
            $( BuiltinInfo {
                id: Builtin::$variant,
                name: $name,
                printed: $printed,
                min_args: $min,
                max_args: builtins!(@max $max),
                prim_arity: $prim,
                implementation: Impl::$imp,
            }, )*
        ];


    };
    (@max N) => { MANY };
    (@max $n:literal) => { $n };
}

/// Position in `BUILTINS` of each code (codes are below 256).
const INDEX: [u16; 256] = {
    let mut table = [u16::MAX; 256];
    let mut i = 0;
    while i < BUILTINS.len() {
        table[BUILTINS[i].id as usize] = i as u16;
        i += 1;
    }
    table
};

impl Builtin {
    /// Decodes a code read from a file (one table lookup).
    #[inline]
    pub fn from_code(code: u16) -> Option<Builtin> {
        let i = *INDEX.get(code as usize)?;
        BUILTINS.get(i as usize).map(|b| b.id)
    }

    /// This builtin's row of the table.
    #[inline]
    pub fn info(self) -> &'static BuiltinInfo {
        // Every variant's code is below 256 and is entered in INDEX above.
        &BUILTINS[INDEX[self as usize] as usize]
    }

    /// Looks a builtin up by its source name.
    pub fn by_name(name: &str) -> Option<Builtin> {
        BUILTINS.iter().find(|b| b.name == name).map(|b| b.id)
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }
}

impl serde::Serialize for Builtin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(*self as u16)
    }
}

impl<'de> serde::Deserialize<'de> for Builtin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <u16 as serde::Deserialize>::deserialize(d)?;
        Builtin::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown builtin code {code}")))
    }
}

builtins! {
    // variant               code  name                          printed                min max prim impl
    // ---- functions, symbols, none, booleans ----
    FunctionP              = 0,   "function?",                  "(x)",                 1, 1, 1, Native;
    FunctionEq             = 1,   "function=?",                 "(a, b)",              2, 2, 2, Native;
    FunctionNe             = 2,   "function!=?",                "(a, b)",              2, 2, 2, Native;
    FunctionMinArity       = 3,   "function-min-arity",         "(f)",                 1, 1, 1, Native;
    FunctionVariadicP      = 4,   "function-variadic?",         "(f)",                 1, 1, 1, Native;
    FunctionAcceptsP       = 5,   "function-accepts?",          "(f, n)",              2, 2, 2, Native;
    SymbolP                = 6,   "symbol?",                    "(x)",                 1, 1, 1, Native;
    SymbolEq               = 7,   "symbol=?",                   "(a, b)",              2, 2, 2, Native;
    SymbolNe               = 8,   "symbol!=?",                  "(a, b)",              2, 2, 2, Native;
    SymbolToString         = 9,   "symbol->string",             "(sym)",               1, 1, 1, Native;
    NoneP                  = 10,  "none?",                      "(x)",                 1, 1, 1, Native;
    BooleanP               = 11,  "boolean?",                   "(x)",                 1, 1, 1, Native;
    BooleanEq              = 12,  "boolean=?",                  "(args)",              2, N, 2, Native;
    BooleanNe              = 13,  "boolean!=?",                 "(args)",              2, N, 2, Native;
    BooleanNot             = 14,  "boolean-not",                "(x)",                 1, 1, 1, Native;

    // ---- integers ----
    IntegerP               = 20,  "integer?",                   "(x)",                 1, 1, 1, Native;
    IntegerEq              = 21,  "integer=?",                  "(args)",              2, N, 2, Native;
    IntegerNe              = 22,  "integer!=?",                 "(args)",              2, N, 2, Native;
    IntegerLt              = 23,  "integer<?",                  "(args)",              2, N, 2, Native;
    IntegerGt              = 24,  "integer>?",                  "(args)",              2, N, 2, Native;
    IntegerLe              = 25,  "integer<=?",                 "(args)",              2, N, 2, Native;
    IntegerGe              = 26,  "integer>=?",                 "(args)",              2, N, 2, Native;
    IntegerAdd             = 27,  "integer+",                   "(args)",              0, N, 2, Native;
    IntegerSub             = 28,  "integer-",                   "(args)",              2, N, 2, Native;
    IntegerMul             = 29,  "integer*",                   "(args)",              0, N, 2, Native;
    IntegerDiv             = 30,  "integer/",                   "(args)",              2, N, 2, Native;
    IntegerMod             = 31,  "integer%",                   "(a, b)",              2, 2, 2, Native;
    IntegerNeg             = 32,  "integer-neg",                "(a)",                 1, 1, 1, Native;
    IntegerAbs             = 33,  "integer-abs",                "(a)",                 1, 1, 1, Native;
    IntegerExpn            = 34,  "integer-expn",               "(a, b)",              2, 2, 2, Native;
    IntegerMin             = 35,  "integer-min",                "(args)",              1, N, 2, Native;
    IntegerMax             = 36,  "integer-max",                "(args)",              1, N, 2, Native;
    IntegerBitOr           = 37,  "integer-bit-or",             "(args)",              2, N, 2, Native;
    IntegerBitAnd          = 38,  "integer-bit-and",            "(args)",              2, N, 2, Native;
    IntegerBitXor          = 39,  "integer-bit-xor",            "(args)",              2, N, 2, Native;
    IntegerBitNot          = 40,  "integer-bit-not",            "(a)",                 1, 1, 1, Native;
    IntegerShiftLeft       = 41,  "integer-bit-shift-left",     "(a, b)",              2, 2, 2, Native;
    IntegerShiftRight      = 42,  "integer-bit-shift-right",    "(a, b)",              2, 2, 2, Native;
    IntegerToFloat         = 43,  "integer->float",             "(n)",                 1, 1, 1, Native;
    IntegerToComplex       = 44,  "integer->complex",           "(real . rest)",       1, 2, 2, Native;
    IntegerToString        = 45,  "integer->string",            "(n . rest)",          1, 2, 2, Native;
    IntegerCodepointToString = 46, "integer-codepoint->string", "(n)",                 1, 1, 1, Native;

    // ---- floats ----
    FloatP                 = 50,  "float?",                     "(x)",                 1, 1, 1, Native;
    FloatEq                = 51,  "float=?",                    "(args)",              2, N, 2, Native;
    FloatNe                = 52,  "float!=?",                   "(args)",              2, N, 2, Native;
    FloatLt                = 53,  "float<?",                    "(args)",              2, N, 2, Native;
    FloatGt                = 54,  "float>?",                    "(args)",              2, N, 2, Native;
    FloatLe                = 55,  "float<=?",                   "(args)",              2, N, 2, Native;
    FloatGe                = 56,  "float>=?",                   "(args)",              2, N, 2, Native;
    FloatAdd               = 57,  "float+",                     "(args)",              0, N, 2, Native;
    FloatSub               = 58,  "float-",                     "(args)",              2, N, 2, Native;
    FloatMul               = 59,  "float*",                     "(args)",              0, N, 2, Native;
    FloatDiv               = 60,  "float/",                     "(args)",              2, N, 2, Native;
    FloatFloorDiv          = 61,  "float//",                    "(a, b)",              2, 2, 2, Native;
    FloatMod               = 62,  "float%",                     "(a, b)",              2, 2, 2, Native;
    FloatNeg               = 63,  "float-neg",                  "(a)",                 1, 1, 1, Native;
    FloatAbs               = 64,  "float-abs",                  "(a)",                 1, 1, 1, Native;
    FloatMin               = 65,  "float-min",                  "(args)",              1, N, 2, Native;
    FloatMax               = 66,  "float-max",                  "(args)",              1, N, 2, Native;
    FloatFloor             = 67,  "float-floor",                "(n)",                 1, 1, 1, Native;
    FloatCeil              = 68,  "float-ceil",                 "(n)",                 1, 1, 1, Native;
    FloatRound             = 69,  "float-round",                "(n)",                 1, 1, 1, Native;
    FloatExp               = 70,  "float-exp",                  "(a)",                 1, 1, 1, Native;
    FloatExpn              = 71,  "float-expn",                 "(args)",              2, N, 2, Native;
    FloatLog               = 72,  "float-log",                  "(a)",                 1, 1, 1, Native;
    FloatLog2              = 73,  "float-log2",                 "(a)",                 1, 1, 1, Native;
    FloatLog10             = 74,  "float-log10",                "(a)",                 1, 1, 1, Native;
    FloatLogn              = 75,  "float-logn",                 "(a, b)",              2, 2, 2, Native;
    FloatSqrt              = 76,  "float-sqrt",                 "(a)",                 1, 1, 1, Native;
    FloatSin               = 77,  "float-sin",                  "(a)",                 1, 1, 1, Native;
    FloatCos               = 78,  "float-cos",                  "(a)",                 1, 1, 1, Native;
    FloatTan               = 79,  "float-tan",                  "(a)",                 1, 1, 1, Native;
    FloatToInteger         = 80,  "float->integer",             "(n)",                 1, 1, 1, Native;
    FloatToComplex         = 81,  "float->complex",             "(real . rest)",       1, 2, 2, Native;
    FloatToString          = 82,  "float->string",              "(n)",                 1, 1, 1, Native;

    // ---- complex ----
    ComplexP               = 90,  "complex?",                   "(x)",                 1, 1, 1, Native;
    ComplexEq              = 91,  "complex=?",                  "(args)",              2, N, 2, Native;
    ComplexNe              = 92,  "complex!=?",                 "(args)",              2, N, 2, Native;
    ComplexAdd             = 93,  "complex+",                   "(args)",              0, N, 2, Native;
    ComplexSub             = 94,  "complex-",                   "(args)",              2, N, 2, Native;
    ComplexMul             = 95,  "complex*",                   "(args)",              0, N, 2, Native;
    ComplexDiv             = 96,  "complex/",                   "(args)",              2, N, 2, Native;
    ComplexNeg             = 97,  "complex-neg",                "(a)",                 1, 1, 1, Native;
    ComplexReal            = 98,  "complex-real",               "(a)",                 1, 1, 1, Native;
    ComplexImag            = 99,  "complex-imag",               "(a)",                 1, 1, 1, Native;
    ComplexAbs             = 100, "complex-abs",                "(a)",                 1, 1, 1, Native;
    ComplexExp             = 101, "complex-exp",                "(a)",                 1, 1, 1, Native;
    ComplexExpn            = 102, "complex-expn",               "(args)",              2, N, 2, Native;
    ComplexLog             = 103, "complex-log",                "(a)",                 1, 1, 1, Native;
    ComplexLog10           = 104, "complex-log10",              "(a)",                 1, 1, 1, Native;
    ComplexLogn            = 105, "complex-logn",               "(a, b)",              2, 2, 2, Native;
    ComplexSin             = 106, "complex-sin",                "(a)",                 1, 1, 1, Native;
    ComplexCos             = 107, "complex-cos",                "(a)",                 1, 1, 1, Native;
    ComplexTan             = 108, "complex-tan",                "(a)",                 1, 1, 1, Native;
    ComplexSqrt            = 109, "complex-sqrt",               "(a)",                 1, 1, 1, Native;
    ComplexToString        = 110, "complex->string",            "(c)",                 1, 1, 1, Native;

    // ---- strings ----
    StringP                = 120, "string?",                    "(x)",                 1, 1, 1, Native;
    StringEq               = 121, "string=?",                   "(args)",              2, N, 2, Native;
    StringNe               = 122, "string!=?",                  "(args)",              2, N, 2, Native;
    StringLt               = 123, "string<?",                   "(args)",              2, N, 2, Native;
    StringGt               = 124, "string>?",                   "(args)",              2, N, 2, Native;
    StringLe               = 125, "string<=?",                  "(args)",              2, N, 2, Native;
    StringGe               = 126, "string>=?",                  "(args)",              2, N, 2, Native;
    StringConcat           = 127, "string-concat",              "(args)",              0, N, 2, Native;
    StringLength           = 128, "string-length",              "(s)",                 1, 1, 1, Native;
    StringRef              = 129, "string-ref",                 "(s, i)",              2, 2, 2, Native;
    StringSlice            = 130, "string-slice",               "(str, start . rest)", 2, 3, 3, Native;
    StringUpcase           = 131, "string-upcase",              "(s)",                 1, 1, 1, Native;
    StringDowncase         = 132, "string-downcase",            "(s)",                 1, 1, 1, Native;
    StringTrim             = 133, "string-trim",                "(s)",                 1, 1, 1, Native;
    StringTrimLeft         = 134, "string-trim-left",           "(s)",                 1, 1, 1, Native;
    StringTrimRight        = 135, "string-trim-right",          "(s)",                 1, 1, 1, Native;
    StringReplace          = 136, "string-replace",             "(s, old, new)",       3, 3, 3, Native;
    StringPrefixP          = 137, "string-prefix?",             "(s, prefix)",         2, 2, 2, Native;
    StringSuffixP          = 138, "string-suffix?",             "(s, suffix)",         2, 2, 2, Native;
    StringIndex            = 139, "string-index",               "(s, sub)",            2, 2, 2, Native;
    StringToNumber         = 140, "string->number",             "(s)",                 1, 1, 1, Native;
    StringToInteger        = 141, "string->integer",            "(s . rest)",          1, 2, 2, Native;
    StringToList           = 142, "string->list",               "(str . rest)",        1, 2, 2, Native;
    StringToCodepoint      = 143, "string->integer-codepoint",  "(s)",                 1, 1, 1, Native;

    // ---- lists ----
    List                   = 150, "list",                       "(args)",              0, N, 0, Native;
    ListP                  = 151, "list?",                      "(x)",                 1, 1, 1, Native;
    ListEq                 = 152, "list=?",                     "(args)",              2, N, 2, Native;
    ListNe                 = 153, "list!=?",                    "(args)",              2, N, 2, Native;
    ListPrepend            = 154, "list-prepend",               "(lst, elem)",         2, 2, 2, Native;
    ListAppend             = 155, "list-append",                "(lst, elem)",         2, 2, 2, Native;
    ListConcat             = 156, "list-concat",                "(args)",              0, N, 2, Native;
    ListReverse            = 157, "list-reverse",               "(lst)",               1, 1, 1, Native;
    ListFirst              = 158, "list-first",                 "(lst)",               1, 1, 1, Native;
    ListRest               = 159, "list-rest",                  "(lst)",               1, 1, 1, Native;
    ListLast               = 160, "list-last",                  "(lst)",               1, 1, 1, Native;
    ListRef                = 161, "list-ref",                   "(lst, i)",            2, 2, 2, Native;
    ListLength             = 162, "list-length",                "(lst)",               1, 1, 1, Native;
    ListNullP              = 163, "list-null?",                 "(lst)",               1, 1, 1, Native;
    ListMemberP            = 164, "list-member?",               "(elem, lst)",         2, 2, 2, Native;
    ListIndex              = 165, "list-index",                 "(elem, lst)",         2, 2, 2, Native;
    ListRemove             = 166, "list-remove",                "(lst, elem)",         2, 2, 2, Native;
    ListSlice              = 167, "list-slice",                 "(lst, start . rest)", 2, 3, 3, Native;
    ListToString           = 168, "list->string",               "(lst . rest)",        1, 2, 2, Native;
    ListToSet              = 169, "list->set",                  "(lst)",               1, 1, 1, Native;

    // ---- dicts ----
    Dict                   = 180, "dict",                       "(args)",              0, N, 0, Native;
    DictP                  = 181, "dict?",                      "(x)",                 1, 1, 1, Native;
    DictEq                 = 182, "dict=?",                     "(args)",              2, N, 2, Native;
    DictNe                 = 183, "dict!=?",                    "(args)",              2, N, 2, Native;
    DictGet                = 184, "dict-get",                   "(d, key . rest)",     2, 3, 3, Native;
    DictSet                = 185, "dict-set",                   "(d, key, value)",     3, 3, 3, Native;
    DictRemove             = 186, "dict-remove",                "(d, key)",            2, 2, 2, Native;
    DictHasP               = 187, "dict-has?",                  "(d, key)",            2, 2, 2, Native;
    DictKeys               = 188, "dict-keys",                  "(d)",                 1, 1, 1, Native;
    DictValues             = 189, "dict-values",                "(d)",                 1, 1, 1, Native;
    DictLength             = 190, "dict-length",                "(d)",                 1, 1, 1, Native;
    DictMerge              = 191, "dict-merge",                 "(d1, d2)",            2, 2, 2, Native;

    // ---- sets ----
    Set                    = 200, "set",                        "(args)",              0, N, 0, Native;
    SetP                   = 201, "set?",                       "(x)",                 1, 1, 1, Native;
    SetEq                  = 202, "set=?",                      "(args)",              2, N, 2, Native;
    SetNe                  = 203, "set!=?",                     "(args)",              2, N, 2, Native;
    SetMemberP             = 204, "set-member?",                "(s, x)",              2, 2, 2, Native;
    SetAdd                 = 205, "set-add",                    "(s, x)",              2, 2, 2, Native;
    SetRemove              = 206, "set-remove",                 "(s, x)",              2, 2, 2, Native;
    SetLength              = 207, "set-length",                 "(s)",                 1, 1, 1, Native;
    SetUnion               = 208, "set-union",                  "(s1, s2)",            2, 2, 2, Native;
    SetIntersection        = 209, "set-intersection",           "(s1, s2)",            2, 2, 2, Native;
    SetDifference          = 210, "set-difference",             "(s1, s2)",            2, 2, 2, Native;
    SetSubsetP             = 211, "set-subset?",                "(s1, s2)",            2, 2, 2, Native;
    SetToList              = 212, "set->list",                  "(s)",                 1, 1, 1, Native;

    // ---- structs ----
    StructGetImm           = 220, "struct-get-imm",             "(s, i)",              2, 2, 2, Native;
    StructSetImm           = 221, "struct-set-imm",             "(s, i, val)",         3, 3, 3, Native;
    StructP                = 222, "struct?",                    "(x)",                 1, 1, 1, Native;
    StructTypeP            = 223, "struct-type?",               "(t, x)",              2, 2, 2, Native;
    StructGet              = 224, "struct-get",                 "(s, field)",          2, 2, 2, Native;
    StructSet              = 225, "struct-set",                 "(s, field, val)",     3, 3, 3, Native;
    StructEq               = 226, "struct=?",                   "(a, b)",              2, 2, 2, Native;
    StructNe               = 227, "struct!=?",                  "(a, b)",              2, 2, 2, Native;
    StructType             = 228, "struct-type",                "(s)",                 1, 1, 1, Native;
    StructTypeName         = 229, "struct-type-name",           "(t)",                 1, 1, 1, Native;
    StructFields           = 230, "struct-fields",              "(t)",                 1, 1, 1, Native;

    // ---- higher-order and sequences ----
    Range                  = 240, "range",                      "(start, end . rest)", 2, 3, 3, Native;
    MapList                = 241, "map-list",                   "(f, lst)",            2, 2, 0, Prelude;
    FilterList             = 242, "filter-list",                "(pred, lst)",         2, 2, 0, Prelude;
    FoldList               = 243, "fold-list",                  "(f, init, lst)",      3, 3, 0, Prelude;
    FindList               = 244, "find-list",                  "(pred, lst)",         2, 2, 0, Prelude;
    AnyListP               = 245, "any-list?",                  "(pred, lst)",         2, 2, 0, Prelude;
    AllListP               = 246, "all-list?",                  "(pred, lst)",         2, 2, 0, Prelude;
    ZipList                = 247, "zip-list",                   "(lst1, lst2)",        2, 2, 0, Prelude;
    SortList               = 248, "sort-list",                  "(cmp, lst)",          2, 2, 0, Prelude;
    MapDict                = 249, "map-dict",                   "(f, al)",             2, 2, 0, Prelude;
    FilterDict             = 250, "filter-dict",                "(pred, al)",          2, 2, 0, Prelude;
    MapSet                 = 251, "map-set",                    "(f, s)",              2, 2, 0, Prelude;
    FilterSet              = 252, "filter-set",                 "(pred, s)",           2, 2, 0, Prelude;
    FoldSet                = 253, "fold-set",                   "(f, init, s)",        3, 3, 0, Prelude;
    AnySetP                = 254, "any-set?",                   "(pred, s)",           2, 2, 0, Prelude;
    AllSetP                = 255, "all-set?",                   "(pred, s)",           2, 2, 0, Prelude;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique() {
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for b in BUILTINS {
            assert!(codes.insert(b.id as u16), "duplicate code {}", b.name);
            assert!(names.insert(b.name), "duplicate name {}", b.name);
            assert_eq!(Builtin::from_code(b.id as u16), Some(b.id));
            assert_eq!(b.id.info().name, b.name);
            assert!(
                b.prim_arity == 0 || b.accepts(b.prim_arity as usize),
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn reflection_follows_printed_parameters() {
        let info = Builtin::FloatExpn.info();
        assert_eq!(
            (info.reflected_min_arity(), info.reflected_variadic()),
            (0, true)
        );
        let info = Builtin::DictGet.info();
        assert_eq!(
            (info.reflected_min_arity(), info.reflected_variadic()),
            (2, true)
        );
        let info = Builtin::StringReplace.info();
        assert_eq!(
            (info.reflected_min_arity(), info.reflected_variadic()),
            (3, false)
        );
        assert_eq!(Builtin::by_name("integer+"), Some(Builtin::IntegerAdd));
        assert_eq!(Builtin::by_name("nope"), None);
    }
}
