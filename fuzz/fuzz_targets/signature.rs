//! The API signature (DESIGN §10): a request's query and `X-Reel-*` headers gathered into
//! params as `src/api/auth.rs::signed_request` does (that function is private and needs a
//! live request, so its few lines are mirrored here), then `canonical_string`, `sign` and
//! `verify` from `reel::auth::signature`.
//!
//! Invariants: nothing panics; `verify(sign(c))` holds (also for upper-case and padded
//! hex); changing one byte of the canonical string or the signature makes `verify` fail;
//! the canonical string does not depend on the order of the params; and it is injective:
//! its query line splits back into exactly the params given, so two different sets of
//! params can never be signed alike.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use reel::auth::signature::{
    UNSIGNED_PAYLOAD, body_hash, canonical_string, is_upload_content_type, rfc3986, sign, verify,
};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: &'a str,
    path: &'a str,
    /// The raw query string, the part of the request target after `?`.
    query: &'a [u8],
    /// `x-reel-app-key`, `x-reel-timestamp`, `x-reel-random`.
    headers: [Option<&'a [u8]>; 3],
    /// `x-reel-signature`.
    signature_header: Option<&'a [u8]>,
    content_type: Option<&'a str>,
    body: &'a [u8],
    secret: &'a str,
    /// Which byte of the canonical string / signature to change.
    flip: usize,
    /// How far to rotate the params before signing them again.
    rotate: usize,
}

/// What a `HeaderValue` holding these bytes gives to `to_str()`: `None` when such a header
/// cannot exist at all, `Some(Err)` when it exists but is not visible ASCII.
fn header_str(bytes: &[u8]) -> Option<Result<String, ()>> {
    let value = http::HeaderValue::from_bytes(bytes).ok()?;
    Some(value.to_str().map(str::to_owned).map_err(|_| ()))
}

/// The mirror of `signed_request`: `None` where it returns an error or `Ok(None)`.
fn gather(input: &Input) -> Option<(Vec<(String, String)>, String, String)> {
    let mut params = Vec::new();
    let mut signature = None;
    for (k, v) in url::form_urlencoded::parse(input.query) {
        if k == "signature" {
            if signature.replace(v.into_owned()).is_some() {
                return None; // DuplicateParam
            }
        } else {
            params.push((k.into_owned(), v.into_owned()));
        }
    }
    let fields = ["app_key", "timestamp", "random"];
    for (value, field) in input.headers.iter().zip(fields) {
        if let Some(value) = value.and_then(header_str) {
            params.push((field.to_string(), value.ok()?));
        }
    }
    if let Some(value) = input.signature_header.and_then(header_str) {
        if signature.replace(value.ok()?).is_some() {
            return None;
        }
    }
    let has_app_key = params.iter().any(|(k, _)| k == "app_key");
    if signature.is_none() && !has_app_key {
        return None;
    }
    let hash = if is_upload_content_type(input.content_type) {
        UNSIGNED_PAYLOAD.to_string()
    } else {
        body_hash(input.body)
    };
    Some((params, signature.unwrap_or_default(), hash))
}

/// `s` with one ASCII byte at or after `at` (wrapping) changed: still a `&str`, never equal.
fn flip_one(s: &str, at: usize) -> Option<String> {
    let bytes = s.as_bytes();
    let n = bytes.len();
    let i = (0..n)
        .map(|k| (at % n + k) % n)
        .find(|&i| bytes[i].is_ascii())?;
    let mut out = bytes.to_vec();
    out[i] ^= 0x01;
    String::from_utf8(out).ok()
}

fn check(input: &Input, params: &[(String, String)], given_signature: &str, hash: &str) {
    let canonical = canonical_string(input.method, input.path, params, hash);

    // Whatever a client sends as the signature is only compared, never trusted.
    let _ = verify(input.secret, &canonical, given_signature);

    let sig = sign(input.secret, &canonical);
    assert_eq!(sig.len(), 64);
    assert!(verify(input.secret, &canonical, &sig));
    assert!(verify(input.secret, &canonical, &sig.to_ascii_uppercase()));
    assert!(verify(input.secret, &canonical, &format!(" {sig}\t")));
    assert!(!verify(input.secret, &canonical, &sig[..62]));
    let changed = flip_one(&canonical, input.flip).expect("the canonical string has newlines");
    assert!(!verify(input.secret, &changed, &sig), "{changed:?}");
    let bad_sig = flip_one(&sig, input.flip).unwrap();
    assert!(!verify(input.secret, &canonical, &bad_sig), "{bad_sig}");

    // The order params come in does not matter.
    if !params.is_empty() {
        let mut shuffled = params.to_vec();
        shuffled.rotate_left(input.rotate % params.len());
        shuffled.reverse();
        assert_eq!(
            canonical_string(input.method, input.path, &shuffled, hash),
            canonical
        );
    }

    // Structure: METHOD \n PATH \n QUERY \n BODY_HASH, the query made of unreserved
    // characters and %XX only, splitting back into the very params signed.
    if [input.method, input.path, hash]
        .iter()
        .all(|s| !s.contains('\n'))
    {
        let lines: Vec<&str> = canonical.split('\n').collect();
        assert_eq!(lines.len(), 4, "{canonical:?}");
        assert_eq!(lines[0], input.method.to_ascii_uppercase());
        assert_eq!(lines[1], input.path);
        assert_eq!(lines[3], hash);
        let query = lines[2];
        assert!(
            query
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)),
            "{query:?}"
        );
        let mut decoded: Vec<(String, String)> = if query.is_empty() {
            Vec::new()
        } else {
            query
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("every pair has a =");
                    assert!(!v.contains('='));
                    let dec = |s| percent_decode_str(s).decode_utf8().unwrap().into_owned();
                    (dec(k), dec(v))
                })
                .collect()
        };
        let mut expected = params.to_vec();
        decoded.sort();
        expected.sort();
        assert_eq!(decoded, expected, "{canonical:?}");
    }
}

fuzz_target!(|input: Input| {
    // rfc3986 leaves unreserved characters alone and encodes everything else.
    let enc = rfc3986(input.path);
    assert!(
        enc.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    );
    assert_eq!(percent_decode_str(&enc).decode_utf8().unwrap(), input.path);

    // The request's own params, as the server gathers them.
    if let Some((params, given, hash)) = gather(&input) {
        check(&input, &params, &given, &hash);
    }
    // And arbitrary params straight from the fuzzer (pairs the query could not express).
    let raw: Vec<(String, String)> = input
        .query
        .split(|&b| b == 0)
        .map(|kv| {
            let s = String::from_utf8_lossy(kv);
            match s.split_once('\x01') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (s.into_owned(), String::new()),
            }
        })
        .collect();
    check(&input, &raw, "", UNSIGNED_PAYLOAD);
});
