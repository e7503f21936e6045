//! Decimal text to big integer in O(M(n) log n) time (M: the cost of a
//! multiplication, subquadratic in `num-bigint`), by splitting the digits
//! in halves: `high * 10^k + low`. `num-bigint`'s own parser is quadratic,
//! so a `.bc` holding a few megabytes of digits would spend minutes in
//! the loader before the first step.
//!
//! Invariant: the result equals `BigInt::parse_bytes(text, 10)` on every
//! input (the tests check both on the same strings).

use num_bigint::{BigInt, BigUint};

/// Below this many digits the library's parser is used directly.
const DIRECT: usize = 2_000;

/// Parses an optionally `-`-signed string of ASCII decimal digits; `None`
/// if it is anything else (empty, other characters, a `+`).
pub fn parse_decimal(text: &str) -> Option<BigInt> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = BigInt::from(unsigned(digits.as_bytes()));
    Some(if negative { -magnitude } else { magnitude })
}

/// The value of `digits` (ASCII decimal digits, at least one).
fn unsigned(digits: &[u8]) -> BigUint {
    if digits.len() <= DIRECT {
        return BigUint::parse_bytes(digits, 10).unwrap_or_default();
    }
    let k = digits.len() / 2;
    let (high, low) = digits.split_at(digits.len() - k);
    let scale = BigUint::from(10u32).pow(k as u32);
    unsigned(high) * scale + unsigned(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_library_parser() {
        let mut long = String::new();
        for i in 0..9_001 {
            long.push(char::from(b'0' + (i * 7 % 10) as u8));
        }
        let cases = [
            "0",
            "-0",
            "7",
            "-123456789012345678901234567890",
            "000000000000000000000000000000042",
            long.as_str(),
            &long[..4_001],
            &long[1..6_543],
        ];
        for text in cases {
            assert_eq!(
                parse_decimal(text),
                BigInt::parse_bytes(text.as_bytes(), 10),
                "{}",
                &text[..text.len().min(40)]
            );
            let neg = format!("-{text}");
            assert_eq!(parse_decimal(&neg), BigInt::parse_bytes(neg.as_bytes(), 10));
        }
        for bad in ["", "-", "+5", "12a", "1_000", " 1"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
