//! Limits on what an agent may dial or send as DTMF digits: the driver checks them before a
//! request leaves, the connector again before Finesse sees it (`docs/security.md`).

use std::fmt;

/// Longest dial string or DTMF string accepted, in characters.
pub const MAX_DIAL_CHARS: usize = 32;

/// Why a dial string or DTMF string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialError {
    /// Longer than [`MAX_DIAL_CHARS`] (its length).
    TooLong(usize),
    /// Empty, or without a digit.
    NoDigits,
    /// A character outside the allowed set (the first one found).
    BadChar(char),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::TooLong(n) => {
                write!(f, "{n} characters, at most {MAX_DIAL_CHARS} are allowed")
            }
            DialError::NoDigits => write!(f, "no digit in it"),
            DialError::BadChar(c) => write!(f, "character {c:?} is not allowed"),
        }
    }
}

impl std::error::Error for DialError {}

fn check(s: &str, allowed: impl Fn(char) -> bool) -> Result<(), DialError> {
    let n = s.chars().count();
    if n > MAX_DIAL_CHARS {
        return Err(DialError::TooLong(n));
    }
    if let Some(c) = s.chars().find(|c| !allowed(*c)) {
        return Err(DialError::BadChar(c));
    }
    if !s.chars().any(|c| c.is_ascii_digit()) {
        return Err(DialError::NoDigits);
    }
    Ok(())
}

/// A number to dial: up to 32 characters of `0-9 * # +` and the separators space, `-`, `.`,
/// `(`, `)`, with at least one digit.
pub fn check_number(s: &str) -> Result<(), DialError> {
    check(s, |c| c.is_ascii_digit() || "*#+ -.()".contains(c))
}

/// DTMF digits: up to 32 of `0-9 * #`.
pub fn check_dtmf(s: &str) -> Result<(), DialError> {
    check(s, |c| c.is_ascii_digit() || c == '*' || c == '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_digits_are_bounded_and_checked() {
        for ok in ["5550000", "+1 (555) 000-0000", "9.5550000", "*67#1001"] {
            assert_eq!(check_number(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_number(&"1".repeat(25_000)),
            Err(DialError::TooLong(25_000))
        );
        assert_eq!(check_number(&"1".repeat(32)), Ok(()));
        assert_eq!(check_number(&"1".repeat(33)), Err(DialError::TooLong(33)));
        assert_eq!(check_number("555;rm"), Err(DialError::BadChar(';')));
        assert_eq!(check_number("sip:x"), Err(DialError::BadChar('s')));
        assert_eq!(check_number("+-"), Err(DialError::NoDigits));
        assert_eq!(check_number(""), Err(DialError::NoDigits));
        assert_eq!(check_dtmf("12*#"), Ok(()));
        assert_eq!(check_dtmf("1 2"), Err(DialError::BadChar(' ')));
        assert_eq!(check_dtmf("+1"), Err(DialError::BadChar('+')));
        assert_eq!(check_dtmf(&"#".repeat(33)), Err(DialError::TooLong(33)));
    }
}
