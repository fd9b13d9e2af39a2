//! tus `Upload-Metadata` (`reel::api::tus::headers::parse_metadata`), given the header as
//! the server gets it (`HeaderValue::to_str`, or any string).
//!
//! Invariants: never panics; every key of an accepted header is non-empty printable ASCII
//! without `,`; and the map, written back as a header, parses to the same map.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use reel::api::tus::headers::parse_metadata;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(map) = parse_metadata(header) else {
        return;
    };
    let written: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            assert!(!k.is_empty());
            assert!(
                k.bytes().all(|b| b.is_ascii_graphic() && b != b','),
                "{k:?}"
            );
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k} {}", STANDARD.encode(v))
            }
        })
        .collect();
    let again = parse_metadata(&written.join(",")).expect("a written header parses");
    assert_eq!(again, map);
});
