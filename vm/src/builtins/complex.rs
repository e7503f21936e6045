//! Native builtins: the complex family (codes 90-119).
//!
//! Arithmetic is CPython's (`_Py_c_prod`, `_Py_c_quot`, `complex_pow` with
//! its exact small-integer-power path) and the transcendental functions are
//! ports of CPython's `cmathmodule.c` (same algorithms, same libm calls, the
//! same special-value tables for infinite and NaN inputs), so results agree
//! with Python to the last digit. Where Python raises (a domain error, an
//! overflow, division by zero), so do these, with the operation's name.
//!
//! The special-value tables below were generated from Python's `cmath` by
//! evaluating each function at one representative of each class
//! (-inf, negative, -0, +0, positive, +inf, nan) of each part; `None` marks
//! a domain error. Cells whose inputs are both finite are never consulted.

use super::{Args, Ctx};
use crate::error::{RtError, RtResult};
use crate::numfmt;
use crate::value::{Complex, Value};
use menai_bytecode::Builtin;
use std::rc::Rc;

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;
const PI: f64 = std::f64::consts::PI;
const FRAC_PI_2: f64 = std::f64::consts::FRAC_PI_2;
const FRAC_PI_4: f64 = std::f64::consts::FRAC_PI_4;
/// 3π/4 (the double nearest to it, as C's `atan2(1, -1)`).
const PI_3_4: f64 = 3.0 * FRAC_PI_4;

/// `[class of real part][class of imaginary part]` → result, `None` = domain error.
type Table = [[Option<(f64, f64)>; 7]; 7];

const SQRT_SPECIAL: Table = [
    [
        Some((INF, -INF)),
        Some((0.0, -INF)),
        Some((0.0, -INF)),
        Some((0.0, INF)),
        Some((0.0, INF)),
        Some((INF, INF)),
        Some((NAN, INF)),
    ],
    [
        Some((INF, -INF)),
        Some((0.7195602497125371, -1.7371721138005782)),
        Some((0.0, -1.5811388300841898)),
        Some((0.0, 1.5811388300841898)),
        Some((0.7195602497125371, 1.7371721138005782)),
        Some((INF, INF)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -INF)),
        Some((1.118033988749895, -1.118033988749895)),
        Some((0.0, -0.0)),
        Some((0.0, 0.0)),
        Some((1.118033988749895, 1.118033988749895)),
        Some((INF, INF)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -INF)),
        Some((1.118033988749895, -1.118033988749895)),
        Some((0.0, -0.0)),
        Some((0.0, 0.0)),
        Some((1.118033988749895, 1.118033988749895)),
        Some((INF, INF)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -INF)),
        Some((1.7371721138005782, -0.7195602497125371)),
        Some((1.5811388300841898, -0.0)),
        Some((1.5811388300841898, 0.0)),
        Some((1.7371721138005782, 0.7195602497125371)),
        Some((INF, INF)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -INF)),
        Some((INF, -0.0)),
        Some((INF, -0.0)),
        Some((INF, 0.0)),
        Some((INF, 0.0)),
        Some((INF, INF)),
        Some((INF, NAN)),
    ],
    [
        Some((INF, -INF)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((INF, INF)),
        Some((NAN, NAN)),
    ],
];

const EXP_SPECIAL: Table = [
    [
        Some((0.0, 0.0)),
        Some((-0.0, -0.0)),
        Some((0.0, -0.0)),
        Some((0.0, 0.0)),
        Some((-0.0, 0.0)),
        Some((0.0, 0.0)),
        Some((0.0, 0.0)),
    ],
    [
        None,
        Some((-0.06576187257971536, -0.04912558512521504)),
        Some((0.0820849986238988, -0.0)),
        Some((0.0820849986238988, 0.0)),
        Some((-0.06576187257971536, 0.04912558512521504)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-0.8011436155469337, -0.5984721441039565)),
        Some((1.0, -0.0)),
        Some((1.0, 0.0)),
        Some((-0.8011436155469337, 0.5984721441039565)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-0.8011436155469337, -0.5984721441039565)),
        Some((1.0, -0.0)),
        Some((1.0, 0.0)),
        Some((-0.8011436155469337, 0.5984721441039565)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-9.759927258056665, -7.290883281195709)),
        Some((12.182493960703473, -0.0)),
        Some((12.182493960703473, 0.0)),
        Some((-9.759927258056665, 7.290883281195709)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-INF, -INF)),
        Some((INF, -0.0)),
        Some((INF, 0.0)),
        Some((-INF, INF)),
        None,
        Some((INF, NAN)),
    ],
    [
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, -0.0)),
        Some((NAN, 0.0)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
    ],
];

const LOG_SPECIAL: Table = [
    [
        Some((INF, -PI_3_4)),
        Some((INF, -PI)),
        Some((INF, -PI)),
        Some((INF, PI)),
        Some((INF, PI)),
        Some((INF, PI_3_4)),
        Some((INF, NAN)),
    ],
    [
        Some((INF, -FRAC_PI_2)),
        Some((1.2628643221541278, -PI_3_4)),
        Some((0.9162907318741551, -PI)),
        Some((0.9162907318741551, PI)),
        Some((1.2628643221541278, PI_3_4)),
        Some((INF, FRAC_PI_2)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -FRAC_PI_2)),
        Some((0.9162907318741551, -FRAC_PI_2)),
        None,
        None,
        Some((0.9162907318741551, FRAC_PI_2)),
        Some((INF, FRAC_PI_2)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -FRAC_PI_2)),
        Some((0.9162907318741551, -FRAC_PI_2)),
        None,
        None,
        Some((0.9162907318741551, FRAC_PI_2)),
        Some((INF, FRAC_PI_2)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -FRAC_PI_2)),
        Some((1.2628643221541278, -FRAC_PI_4)),
        Some((0.9162907318741551, -0.0)),
        Some((0.9162907318741551, 0.0)),
        Some((1.2628643221541278, FRAC_PI_4)),
        Some((INF, FRAC_PI_2)),
        Some((NAN, NAN)),
    ],
    [
        Some((INF, -FRAC_PI_4)),
        Some((INF, -0.0)),
        Some((INF, -0.0)),
        Some((INF, 0.0)),
        Some((INF, 0.0)),
        Some((INF, FRAC_PI_4)),
        Some((INF, NAN)),
    ],
    [
        Some((INF, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((INF, NAN)),
        Some((NAN, NAN)),
    ],
];

const SINH_SPECIAL: Table = [
    [
        None,
        Some((INF, -INF)),
        Some((-INF, -0.0)),
        Some((-INF, 0.0)),
        Some((INF, INF)),
        None,
        Some((INF, NAN)),
    ],
    [
        None,
        Some((4.847082692738475, -3.670004433160462)),
        Some((-6.0502044810397875, -0.0)),
        Some((-6.0502044810397875, 0.0)),
        Some((4.847082692738475, 3.670004433160462)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((0.0, -0.5984721441039565)),
        Some((-0.0, -0.0)),
        Some((-0.0, 0.0)),
        Some((0.0, 0.5984721441039565)),
        None,
        Some((0.0, NAN)),
    ],
    [
        None,
        Some((-0.0, -0.5984721441039565)),
        Some((0.0, -0.0)),
        Some((0.0, 0.0)),
        Some((-0.0, 0.5984721441039565)),
        None,
        Some((0.0, NAN)),
    ],
    [
        None,
        Some((-4.847082692738475, -3.670004433160462)),
        Some((6.0502044810397875, -0.0)),
        Some((6.0502044810397875, 0.0)),
        Some((-4.847082692738475, 3.670004433160462)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-INF, -INF)),
        Some((INF, -0.0)),
        Some((INF, 0.0)),
        Some((-INF, INF)),
        None,
        Some((INF, NAN)),
    ],
    [
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, -0.0)),
        Some((NAN, 0.0)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
    ],
];

const COSH_SPECIAL: Table = [
    [
        None,
        Some((-INF, INF)),
        Some((INF, 0.0)),
        Some((INF, -0.0)),
        Some((-INF, -INF)),
        None,
        Some((INF, NAN)),
    ],
    [
        None,
        Some((-4.91284456531819, 3.620878848035247)),
        Some((6.132289479663686, 0.0)),
        Some((6.132289479663686, -0.0)),
        Some((-4.91284456531819, -3.620878848035247)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-0.8011436155469337, 0.0)),
        Some((1.0, 0.0)),
        Some((1.0, -0.0)),
        Some((-0.8011436155469337, -0.0)),
        None,
        Some((NAN, 0.0)),
    ],
    [
        None,
        Some((-0.8011436155469337, -0.0)),
        Some((1.0, -0.0)),
        Some((1.0, 0.0)),
        Some((-0.8011436155469337, 0.0)),
        None,
        Some((NAN, 0.0)),
    ],
    [
        None,
        Some((-4.91284456531819, -3.620878848035247)),
        Some((6.132289479663686, -0.0)),
        Some((6.132289479663686, 0.0)),
        Some((-4.91284456531819, 3.620878848035247)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-INF, -INF)),
        Some((INF, -0.0)),
        Some((INF, 0.0)),
        Some((-INF, INF)),
        None,
        Some((INF, NAN)),
    ],
    [
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, 0.0)),
        Some((NAN, 0.0)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
    ],
];

const TANH_SPECIAL: Table = [
    [
        Some((-1.0, 0.0)),
        Some((-1.0, 0.0)),
        Some((-1.0, -0.0)),
        Some((-1.0, 0.0)),
        Some((-1.0, -0.0)),
        Some((-1.0, 0.0)),
        Some((-1.0, 0.0)),
    ],
    [
        None,
        Some((-0.9961016773157655, 0.012872570755000078)),
        Some((-0.9866142981514303, -0.0)),
        Some((-0.9866142981514303, 0.0)),
        Some((-0.9961016773157655, -0.012872570755000078)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((-0.0, 0.7470222972386603)),
        Some((-0.0, -0.0)),
        Some((-0.0, 0.0)),
        Some((-0.0, -0.7470222972386603)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((0.0, 0.7470222972386603)),
        Some((0.0, -0.0)),
        Some((0.0, 0.0)),
        Some((0.0, -0.7470222972386603)),
        None,
        Some((NAN, NAN)),
    ],
    [
        None,
        Some((0.9961016773157655, 0.012872570755000078)),
        Some((0.9866142981514303, -0.0)),
        Some((0.9866142981514303, 0.0)),
        Some((0.9961016773157655, -0.012872570755000078)),
        None,
        Some((NAN, NAN)),
    ],
    [
        Some((1.0, 0.0)),
        Some((1.0, 0.0)),
        Some((1.0, -0.0)),
        Some((1.0, 0.0)),
        Some((1.0, -0.0)),
        Some((1.0, 0.0)),
        Some((1.0, 0.0)),
    ],
    [
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, -0.0)),
        Some((NAN, 0.0)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
        Some((NAN, NAN)),
    ],
];

/// A C-style `errno` outcome of a cmath computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Errno {
    Ok,
    /// EDOM: a domain error (Python `ValueError` / `ZeroDivisionError`).
    Dom,
    /// ERANGE: overflow (Python `OverflowError`).
    Range,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct C {
    re: f64,
    im: f64,
}

const fn c(re: f64, im: f64) -> C {
    C { re, im }
}

const C1: C = c(1.0, 0.0);
const DBL_MIN: f64 = f64::MIN_POSITIVE;
const CM_LARGE_DOUBLE: f64 = f64::MAX / 4.0;
const CM_SCALE_UP: i32 = 53;
const CM_SCALE_DOWN: i32 = -27;
const M_LN2: f64 = std::f64::consts::LN_2;
const M_LN10: f64 = std::f64::consts::LN_10;
const DBL_MANT_DIG: i32 = 53;

fn cm_log_large_double() -> f64 {
    CM_LARGE_DOUBLE.ln()
}

/// `ldexp(x, n)` for the small scale factors used here (exact).
fn ldexp(x: f64, n: i32) -> f64 {
    x * 2f64.powi(n)
}

/// The class index of a double: -inf, negative, -0, +0, positive, +inf, nan.
fn special_type(d: f64) -> usize {
    if d.is_finite() {
        if d != 0.0 {
            if d.is_sign_negative() {
                1
            } else {
                4
            }
        } else if d.is_sign_negative() {
            2
        } else {
            3
        }
    } else if d.is_nan() {
        6
    } else if d.is_sign_negative() {
        0
    } else {
        5
    }
}

fn lookup(table: &Table, z: C) -> (C, Errno) {
    match table[special_type(z.re)][special_type(z.im)] {
        Some((re, im)) => (c(re, im), Errno::Ok),
        None => (c(NAN, NAN), Errno::Dom),
    }
}

fn is_finite(z: C) -> bool {
    z.re.is_finite() && z.im.is_finite()
}

/// `_Py_c_prod`.
fn prod(a: C, b: C) -> C {
    c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
}

/// `_Py_c_quot`: Smith's algorithm; `Dom` when dividing by zero.
fn quot(a: C, b: C) -> (C, Errno) {
    let abs_breal = b.re.abs();
    let abs_bimag = b.im.abs();
    if abs_breal >= abs_bimag {
        if abs_breal == 0.0 {
            (c(0.0, 0.0), Errno::Dom)
        } else {
            let ratio = b.im / b.re;
            let denom = b.re + b.im * ratio;
            (
                c((a.re + a.im * ratio) / denom, (a.im - a.re * ratio) / denom),
                Errno::Ok,
            )
        }
    } else if abs_bimag >= abs_breal {
        let ratio = b.re / b.im;
        let denom = b.re * ratio + b.im;
        (
            c((a.re * ratio + a.im) / denom, (a.im * ratio - a.re) / denom),
            Errno::Ok,
        )
    } else {
        (c(NAN, NAN), Errno::Ok)
    }
}

/// `_Py_c_pow`.
fn c_pow(a: C, b: C) -> (C, Errno) {
    if b.re == 0.0 && b.im == 0.0 {
        (C1, Errno::Ok)
    } else if a.re == 0.0 && a.im == 0.0 {
        let e = if b.im != 0.0 || b.re < 0.0 {
            Errno::Dom
        } else {
            Errno::Ok
        };
        (c(0.0, 0.0), e)
    } else {
        let vabs = a.re.hypot(a.im);
        let mut len = vabs.powf(b.re);
        let at = a.im.atan2(a.re);
        let mut phase = at * b.re;
        if b.im != 0.0 {
            len /= (at * b.im).exp();
            phase += b.im * vabs.ln();
        }
        (c(len * phase.cos(), len * phase.sin()), Errno::Ok)
    }
}

/// `c_powu`: repeated squaring for a positive integer power.
fn c_powu(x: C, n: i64) -> C {
    let mut r = C1;
    let mut p = x;
    let mut mask: i64 = 1;
    while mask > 0 && n >= mask {
        if n & mask != 0 {
            r = prod(r, p);
        }
        mask <<= 1;
        p = prod(p, p);
    }
    r
}

/// `c_powi`: an integer power in [-100, 100] exactly, else `c_pow`.
fn c_powi(x: C, n: i64) -> (C, Errno) {
    if !(-100..=100).contains(&n) {
        c_pow(x, c(n as f64, 0.0))
    } else if n > 0 {
        (c_powu(x, n), Errno::Ok)
    } else {
        quot(C1, c_powu(x, -n))
    }
}

/// Python's `a ** b` for complex numbers (`complex_pow`).
fn py_pow(name: &str, a: C, b: C) -> RtResult<C> {
    let (p, mut e) = if b.im == 0.0 && b.re == b.re.floor() && b.re.abs() <= 100.0 {
        c_powi(a, b.re as i64)
    } else {
        c_pow(a, b)
    };
    if p.re.is_infinite() || p.im.is_infinite() {
        if e == Errno::Ok {
            e = Errno::Range;
        }
    } else if e == Errno::Range {
        e = Errno::Ok;
    }
    match e {
        Errno::Ok => Ok(p),
        Errno::Dom => Err(RtError::new(format!(
            "{name}: 0.0 to a negative or complex power"
        ))),
        Errno::Range => Err(RtError::new(format!(
            "{name}: overflow in complex exponentiation"
        ))),
    }
}

/// `cmath.sqrt`.
fn c_sqrt(z: C) -> (C, Errno) {
    if !is_finite(z) {
        return lookup(&SQRT_SPECIAL, z);
    }
    if z.re == 0.0 && z.im == 0.0 {
        return (c(0.0, z.im), Errno::Ok);
    }
    let mut ax = z.re.abs();
    let ay = z.im.abs();
    let s = if ax < DBL_MIN && ay < DBL_MIN {
        ax = ldexp(ax, CM_SCALE_UP);
        ldexp(
            (ax + ax.hypot(ldexp(ay, CM_SCALE_UP))).sqrt(),
            CM_SCALE_DOWN,
        )
    } else {
        ax /= 8.0;
        2.0 * (ax + ax.hypot(ay / 8.0)).sqrt()
    };
    let d = ay / (2.0 * s);
    if z.re >= 0.0 {
        (c(s, d.copysign(z.im)), Errno::Ok)
    } else {
        (c(d, s.copysign(z.im)), Errno::Ok)
    }
}

/// `log1p` keeping the sign of zero (CPython's `_Py_log1p`).
fn m_log1p(x: f64) -> f64 {
    if x == 0.0 {
        x
    } else {
        x.ln_1p()
    }
}

/// `cmath`'s `c_log`.
fn c_log(z: C) -> (C, Errno) {
    if !is_finite(z) {
        return lookup(&LOG_SPECIAL, z);
    }
    let ax = z.re.abs();
    let ay = z.im.abs();
    let re = if ax > CM_LARGE_DOUBLE || ay > CM_LARGE_DOUBLE {
        (ax / 2.0).hypot(ay / 2.0).ln() + M_LN2
    } else if ax < DBL_MIN && ay < DBL_MIN {
        if ax > 0.0 || ay > 0.0 {
            ldexp(ax, DBL_MANT_DIG).hypot(ldexp(ay, DBL_MANT_DIG)).ln()
                - DBL_MANT_DIG as f64 * M_LN2
        } else {
            return (c(-INF, z.im.atan2(z.re)), Errno::Dom);
        }
    } else {
        let h = ax.hypot(ay);
        if (0.71..=1.73).contains(&h) {
            let am = if ax > ay { ax } else { ay };
            let an = if ax > ay { ay } else { ax };
            m_log1p((am - 1.0) * (am + 1.0) + an * an) / 2.0
        } else {
            h.ln()
        }
    };
    (c(re, z.im.atan2(z.re)), Errno::Ok)
}

/// `cmath.exp`.
fn c_exp(z: C) -> (C, Errno) {
    if !is_finite(z) {
        let r = if z.re.is_infinite() && z.im.is_finite() && z.im != 0.0 {
            if z.re > 0.0 {
                c(INF.copysign(z.im.cos()), INF.copysign(z.im.sin()))
            } else {
                c(0f64.copysign(z.im.cos()), 0f64.copysign(z.im.sin()))
            }
        } else {
            lookup(&EXP_SPECIAL, z).0
        };
        let e = if z.im.is_infinite() && (z.re.is_finite() || (z.re.is_infinite() && z.re > 0.0)) {
            Errno::Dom
        } else {
            Errno::Ok
        };
        return (r, e);
    }
    let r = if z.re > cm_log_large_double() {
        let l = (z.re - 1.0).exp();
        c(
            l * z.im.cos() * std::f64::consts::E,
            l * z.im.sin() * std::f64::consts::E,
        )
    } else {
        let l = z.re.exp();
        c(l * z.im.cos(), l * z.im.sin())
    };
    (r, range_check(r))
}

fn range_check(r: C) -> Errno {
    if r.re.is_infinite() || r.im.is_infinite() {
        Errno::Range
    } else {
        Errno::Ok
    }
}

/// `cmath.cosh`.
fn c_cosh(z: C) -> (C, Errno) {
    if !is_finite(z) {
        let r = if z.re.is_infinite() && z.im.is_finite() && z.im != 0.0 {
            if z.re > 0.0 {
                c(INF.copysign(z.im.cos()), INF.copysign(z.im.sin()))
            } else {
                c(INF.copysign(z.im.cos()), -INF.copysign(z.im.sin()))
            }
        } else {
            lookup(&COSH_SPECIAL, z).0
        };
        let e = if z.im.is_infinite() && !z.re.is_nan() {
            Errno::Dom
        } else {
            Errno::Ok
        };
        return (r, e);
    }
    let r = if z.re.abs() > cm_log_large_double() {
        let x_minus_one = z.re - 1f64.copysign(z.re);
        c(
            z.im.cos() * x_minus_one.cosh() * std::f64::consts::E,
            z.im.sin() * x_minus_one.sinh() * std::f64::consts::E,
        )
    } else {
        c(z.im.cos() * z.re.cosh(), z.im.sin() * z.re.sinh())
    };
    (r, range_check(r))
}

/// `cmath.sinh`.
fn c_sinh(z: C) -> (C, Errno) {
    if !is_finite(z) {
        let r = if z.re.is_infinite() && z.im.is_finite() && z.im != 0.0 {
            if z.re > 0.0 {
                c(INF.copysign(z.im.cos()), INF.copysign(z.im.sin()))
            } else {
                c(-INF.copysign(z.im.cos()), INF.copysign(z.im.sin()))
            }
        } else {
            lookup(&SINH_SPECIAL, z).0
        };
        let e = if z.im.is_infinite() && !z.re.is_nan() {
            Errno::Dom
        } else {
            Errno::Ok
        };
        return (r, e);
    }
    let r = if z.re.abs() > cm_log_large_double() {
        let x_minus_one = z.re - 1f64.copysign(z.re);
        c(
            z.im.cos() * x_minus_one.sinh() * std::f64::consts::E,
            z.im.sin() * x_minus_one.cosh() * std::f64::consts::E,
        )
    } else {
        c(z.im.cos() * z.re.sinh(), z.im.sin() * z.re.cosh())
    };
    (r, range_check(r))
}

/// `cmath.tanh`.
fn c_tanh(z: C) -> (C, Errno) {
    if !is_finite(z) {
        let r = if z.re.is_infinite() && z.im.is_finite() && z.im != 0.0 {
            let im = 0f64.copysign(2.0 * z.im.sin() * z.im.cos());
            c(if z.re > 0.0 { 1.0 } else { -1.0 }, im)
        } else {
            lookup(&TANH_SPECIAL, z).0
        };
        let e = if z.im.is_infinite() && z.re.is_finite() {
            Errno::Dom
        } else {
            Errno::Ok
        };
        return (r, e);
    }
    let r = if z.re.abs() > cm_log_large_double() {
        c(
            1f64.copysign(z.re),
            4.0 * z.im.sin() * z.im.cos() * (-2.0 * z.re.abs()).exp(),
        )
    } else {
        let tx = z.re.tanh();
        let ty = z.im.tan();
        let cx = 1.0 / z.re.cosh();
        let txty = tx * ty;
        let denom = 1.0 + txty * txty;
        c(tx * (1.0 + ty * ty) / denom, ((ty / denom) * cx) * cx)
    };
    (r, Errno::Ok)
}

/// `cmath.sin`: sin(z) = -i sinh(iz).
fn c_sin(z: C) -> (C, Errno) {
    let (s, e) = c_sinh(c(-z.im, z.re));
    (c(s.im, -s.re), e)
}

/// `cmath.cos`: cos(z) = cosh(iz).
fn c_cos(z: C) -> (C, Errno) {
    c_cosh(c(-z.im, z.re))
}

/// `cmath.tan`: tan(z) = -i tanh(iz).
fn c_tan(z: C) -> (C, Errno) {
    let (s, e) = c_tanh(c(-z.im, z.re));
    (c(s.im, -s.re), e)
}

/// `cmath.log10`.
fn c_log10(z: C) -> (C, Errno) {
    let (r, e) = c_log(z);
    (c(r.re / M_LN10, r.im / M_LN10), e)
}

/// `cmath.log(x, base)`: only the errno of the last step survives, as in CPython.
fn c_logn(x: C, base: C) -> (C, Errno) {
    let (lx, _) = c_log(x);
    let (lb, e) = c_log(base);
    let (q, eq) = quot(lx, lb);
    (q, if eq != Errno::Ok { eq } else { e })
}

/// Turns a cmath outcome into a value or Python's error.
fn finish(name: &str, (r, e): (C, Errno)) -> RtResult<Value> {
    match e {
        Errno::Ok => Ok(cval(r)),
        Errno::Dom => Err(RtError::new(format!("{name}: math domain error"))),
        Errno::Range => Err(RtError::new(format!("{name}: math range error"))),
    }
}

fn cval(z: C) -> Value {
    Value::Complex(Rc::new(Complex { re: z.re, im: z.im }))
}

/// `<name>: expected complex, got <type>`.
pub fn type_error(name: &str, v: &Value) -> RtError {
    RtError::new(format!("{name}: expected complex, got {}", v.type_name()))
}

fn get(name: &str, v: &Value) -> RtResult<C> {
    match v {
        Value::Complex(z) => Ok(c(z.re, z.im)),
        _ => Err(type_error(name, v)),
    }
}

fn div(name: &str, a: C, b: C) -> RtResult<C> {
    match quot(a, b) {
        (r, Errno::Ok) => Ok(r),
        _ => Err(RtError::new(format!("{name}: division by zero"))),
    }
}

/// `complex-abs`: Python's `abs(z)` (hypot; an overflow is an error).
fn c_abs(name: &str, z: C) -> RtResult<f64> {
    let r = z.re.hypot(z.im);
    if is_finite(z) && r.is_infinite() {
        return Err(RtError::new(format!("{name}: absolute value too large")));
    }
    Ok(r)
}

/// `complex+` of two values.
pub fn complex_add(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = (get("complex+", a)?, get("complex+", b)?);
    Ok(cval(c(x.re + y.re, x.im + y.im)))
}

/// `complex-` of two values.
pub fn complex_sub(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = (get("complex-", a)?, get("complex-", b)?);
    Ok(cval(c(x.re - y.re, x.im - y.im)))
}

/// `complex*` of two values.
pub fn complex_mul(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = (get("complex*", a)?, get("complex*", b)?);
    Ok(cval(prod(x, y)))
}

/// `complex/` of two values.
pub fn complex_div(a: &Value, b: &Value) -> RtResult<Value> {
    let (x, y) = (get("complex/", a)?, get("complex/", b)?);
    Ok(cval(div("complex/", x, y)?))
}

/// `complex=?` of two values.
pub fn complex_eq(a: &Value, b: &Value) -> RtResult<bool> {
    let (x, y) = (get("complex=?", a)?, get("complex=?", b)?);
    Ok(x.re == y.re && x.im == y.im)
}

/// Type-checks every argument, then folds them left with `f`.
fn fold(name: &str, args: &Args, unit: C, f: fn(&str, C, C) -> RtResult<C>) -> RtResult<Value> {
    let mut zs = Vec::with_capacity(args.len());
    for v in args.all() {
        zs.push(get(name, v)?);
    }
    let Some((first, rest)) = zs.split_first() else {
        return Ok(cval(unit));
    };
    let mut acc = *first;
    for &z in rest {
        acc = f(name, acc, z)?;
    }
    Ok(cval(acc))
}

fn eq_chain(name: &str, args: &Args) -> RtResult<bool> {
    let vals = args.all();
    if vals.len() == 1 {
        get(name, &vals[0])?;
    }
    for w in vals.windows(2) {
        let (x, y) = (get(name, &w[0])?, get(name, &w[1])?);
        if !(x.re == y.re && x.im == y.im) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn arg<'a>(args: &'a Args, name: &str, i: usize) -> RtResult<&'a Value> {
    if i < args.len() {
        Ok(args.get(i))
    } else {
        Err(RtError::new(format!(
            "{name}: expected more arguments, got {}",
            args.len()
        )))
    }
}

fn one(args: &Args, name: &str) -> RtResult<C> {
    get(name, arg(args, name, 0)?)
}

/// Runs a complex-family builtin on already-evaluated arguments.
pub fn call(_ctx: &Ctx, id: Builtin, args: &mut Args) -> RtResult<Value> {
    let name = id.name();
    use Builtin as B;
    match id {
        B::ComplexP => Ok(Value::Bool(matches!(
            arg(args, name, 0)?,
            Value::Complex(_)
        ))),
        B::ComplexEq => Ok(Value::Bool(eq_chain(name, args)?)),
        B::ComplexNe => Ok(Value::Bool(!eq_chain(name, args)?)),
        B::ComplexAdd => fold(name, args, c(0.0, 0.0), |_, a, b| {
            Ok(c(a.re + b.re, a.im + b.im))
        }),
        B::ComplexSub => fold(name, args, c(0.0, 0.0), |_, a, b| {
            Ok(c(a.re - b.re, a.im - b.im))
        }),
        B::ComplexMul => fold(name, args, C1, |_, a, b| Ok(prod(a, b))),
        B::ComplexDiv => fold(name, args, C1, div),
        B::ComplexNeg => {
            let z = one(args, name)?;
            Ok(cval(c(-z.re, -z.im)))
        }
        B::ComplexReal => Ok(Value::Float(one(args, name)?.re)),
        B::ComplexImag => Ok(Value::Float(one(args, name)?.im)),
        B::ComplexAbs => Ok(Value::Float(c_abs(name, one(args, name)?)?)),
        B::ComplexExp => finish(name, c_exp(one(args, name)?)),
        B::ComplexExpn => fold(name, args, C1, py_pow),
        B::ComplexLog => finish(name, c_log(one(args, name)?)),
        B::ComplexLog10 => finish(name, c_log10(one(args, name)?)),
        B::ComplexLogn => {
            let x = one(args, name)?;
            let base = get(name, arg(args, name, 1)?)?;
            finish(name, c_logn(x, base))
        }
        B::ComplexSin => finish(name, c_sin(one(args, name)?)),
        B::ComplexCos => finish(name, c_cos(one(args, name)?)),
        B::ComplexTan => finish(name, c_tan(one(args, name)?)),
        B::ComplexSqrt => finish(name, c_sqrt(one(args, name)?)),
        B::ComplexToString => {
            let z = one(args, name)?;
            Ok(Value::str(numfmt::complex_to_string(z.re, z.im)))
        }
        _ => Err(RtError::new(format!("{name}: not a complex builtin"))),
    }
}
