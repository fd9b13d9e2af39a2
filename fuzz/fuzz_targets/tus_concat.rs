//! tus `Upload-Concat` (`parse_concat`) and the numeric headers `Upload-Offset`,
//! `Upload-Length`, `Content-Length` (`parse_u64`), from `reel::api::tus::headers`.
//!
//! Invariants: never panics; `final` yields at least one id, each a non-empty last path
//! segment (no `/`, no blank); `partial` only for exactly that word; a number is accepted
//! only when it is all ASCII digits and is then the value of those digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reel::api::tus::headers::{ConcatHeader, parse_concat, parse_u64};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    match parse_concat(header) {
        Ok(ConcatHeader::Partial) => assert_eq!(header.trim(), "partial"),
        Ok(ConcatHeader::Final(ids)) => {
            assert!(header.trim().starts_with("final;"));
            assert!(!ids.is_empty());
            for id in &ids {
                assert!(!id.is_empty() && !id.contains(['/', ' ']), "{id:?}");
            }
        }
        Err(_) => {}
    }

    if let Some(n) = parse_u64(header) {
        let digits = header.trim();
        assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        let significant = digits.trim_start_matches('0');
        assert_eq!(
            n.to_string(),
            if significant.is_empty() {
                "0"
            } else {
                significant
            }
        );
    } else {
        let digits = header.trim();
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        // Refused digits are only those too large for a u64.
        assert!(
            !all_digits || digits.trim_start_matches('0').len() >= 20,
            "{header:?}"
        );
    }
});
