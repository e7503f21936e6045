//! Number formatting exactly as the reference (Python) prints numbers:
//! float `repr`, `float->string` (shortest `%g`), complex printing.
//! (Stub signatures; to be written.)

/// Python `repr(x)` of a float: `0.1`, `1e+16`, `1e-05`, `inf`, `-0.0`.
pub fn float_repr(x: f64) -> String {
    format!("{x:?}")
}

/// `float->string`: the shortest C `%.{p}g` rendering that reads back, plus `.0` if needed.
pub fn float_to_string(x: f64) -> String {
    format!("{x:?}")
}

/// Printed form of a complex number (LANGUAGE.md §9): `3+4j`, `5j`, `0+0j`, `1.5-2j`.
pub fn complex_repr(re: f64, im: f64) -> String {
    format!("{re:?}+{im:?}j")
}
