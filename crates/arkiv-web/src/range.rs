//! The `Range` request header (RFC 9110 §14), read as a download needs it.
//!
//! Only one range is ever answered with a 206: a request for several is
//! answered with the whole file, which the RFC allows and which spares us
//! multipart bodies that no reader of papers needs. A header that cannot be
//! read is ignored (again as the RFC says), so a malformed or hostile value
//! never fails a download: it just gets the full body.

/// How to answer a request for a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416: the range lies wholly beyond the end.
    Unsatisfiable,
}

/// Longest header value looked at; anything longer is ignored as noise.
const MAX_HEADER: usize = 1024;

/// Reads a `Range` header value against a file of `len` bytes.
pub fn answer(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(value) = header else { return RangeAnswer::Full };
    if value.len() > MAX_HEADER {
        return RangeAnswer::Full;
    }
    let Some((unit, set)) = value.trim().split_once('=') else { return RangeAnswer::Full };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAnswer::Full;
    }
    let specs: Vec<&str> = set.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    match specs.as_slice() {
        [one] => match parse_spec(one) {
            Some(spec) => resolve(spec, len),
            None => RangeAnswer::Full,
        },
        // None, or several: the whole file.
        _ => RangeAnswer::Full,
    }
}

#[derive(Debug, Clone, Copy)]
enum Spec {
    /// `a-b` or `a-` (`last` = None).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    match (a.is_empty(), b.is_empty()) {
        (true, true) => None,
        (true, false) => Some(Spec::Suffix(number(b)?)),
        (false, true) => Some(Spec::From { first: number(a)?, last: None }),
        (false, false) => {
            let (first, last) = (number(a)?, number(b)?);
            // A last position before the first makes the header invalid.
            (last >= first).then_some(Spec::From { first, last: Some(last) })
        }
    }
}

/// Digits only, saturating: a position past u64 is simply past any file.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0'))))
}

fn resolve(spec: Spec, len: u64) -> RangeAnswer {
    match spec {
        Spec::From { first, last } => {
            if first >= len {
                return RangeAnswer::Unsatisfiable;
            }
            let end = last.unwrap_or(u64::MAX).min(len - 1);
            RangeAnswer::Partial { start: first, end }
        }
        Spec::Suffix(n) => {
            if n == 0 || len == 0 {
                return RangeAnswer::Unsatisfiable;
            }
            RangeAnswer::Partial { start: len.saturating_sub(n), end: len - 1 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    #[test]
    fn single_ranges_in_all_three_forms() {
        assert_eq!(answer(Some("bytes=0-9"), 100), Partial { start: 0, end: 9 });
        assert_eq!(answer(Some("bytes=5-"), 100), Partial { start: 5, end: 99 });
        assert_eq!(answer(Some("bytes=-5"), 100), Partial { start: 95, end: 99 });
        assert_eq!(answer(Some("bytes=-500"), 100), Partial { start: 0, end: 99 });
        assert_eq!(answer(Some("bytes=90-200"), 100), Partial { start: 90, end: 99 });
        assert_eq!(answer(Some(" Bytes = 1 - 2 "), 100), Partial { start: 1, end: 2 });
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(answer(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=999999-"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=99999999999999999999999999-"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-"), 0), Unsatisfiable);
    }

    #[test]
    fn anything_odd_gets_the_whole_file() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5-1",
            "bytes=a-b",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=--1",
            "bytes=1-2-3",
        ] {
            assert_eq!(answer(Some(h), 100), Full, "{h:?}");
        }
        assert_eq!(answer(None, 100), Full);
        assert_eq!(answer(Some(&"bytes=0-1,".repeat(1000)), 100), Full);
    }
}
