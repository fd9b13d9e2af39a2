//! `Range` on the built-in origin, exactly the call sequence of
//! `src/api/media/files.rs::plan` (private, so mirrored here): the header value's
//! `to_str()`, `http_range_header::parse_range_header`, `len() > 1`, `validate(file len)`,
//! and the `Plan` that comes of it, whose body span (`end - start + 1`) is then computed.
//!
//! Invariants: nothing panics (in our use or in the crate); a partial answer is a range
//! inside the file; every validated range of a multi-range header is inside the file; an
//! empty file never yields a range.
#![no_main]

use arbitrary::Arbitrary;
use http_range_header::RangeUnsatisfiableError;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum FileLen {
    Small(u8),
    Any(u64),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    len: FileLen,
    header: &'a [u8],
}

#[derive(Debug, PartialEq)]
enum Plan {
    Unsatisfiable,
    Full,
    Partial { start: u64, end: u64 },
}

/// files.rs step 5, line for line.
fn plan(range: &http::HeaderValue, len: u64) -> Plan {
    let Some(parsed) = range
        .to_str()
        .ok()
        .and_then(|s| http_range_header::parse_range_header(s).ok())
    else {
        return Plan::Full;
    };
    let several = parsed.len() > 1;
    match parsed.validate(len) {
        Ok(ranges) if !several && ranges.len() == 1 => Plan::Partial {
            start: *ranges[0].start(),
            end: *ranges[0].end(),
        },
        Ok(ranges) => {
            assert!(len > 0 || ranges.is_empty(), "{ranges:?} of an empty file");
            for r in &ranges {
                assert!(r.start() <= r.end() && *r.end() < len, "{r:?} of {len}");
            }
            Plan::Full
        }
        Err(RangeUnsatisfiableError::Unsatisfiable) => Plan::Unsatisfiable,
        Err(_) => Plan::Full,
    }
}

fuzz_target!(|input: Input| {
    let len = match input.len {
        FileLen::Small(n) => u64::from(n),
        FileLen::Any(n) => n,
    };
    // A header that cannot be a HeaderValue never reaches the origin.
    let Ok(value) = http::HeaderValue::from_bytes(input.header) else {
        return;
    };
    // `Plan::span`: the bytes the body carries.
    let span = match plan(&value, len) {
        Plan::Partial { start, end } => {
            assert!(start <= end && end < len, "{start}-{end} of {len}");
            Some((start, end - start + 1))
        }
        Plan::Full => Some((0, len)),
        Plan::Unsatisfiable => None,
    };
    if let Some((start, n)) = span {
        assert!(start.checked_add(n).is_some_and(|e| e <= len));
    }
});
