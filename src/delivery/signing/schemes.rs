//! The providers' signing schemes as pure functions of (origin, uri, signing time, key).

use md5::{Digest, Md5};

use super::UTC8_SECS;

/// Lower-case hex MD5 of the concatenation of `parts` (every scheme hashes plain concatenations).
pub fn md5_hex(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

// Aliyun A — https://help.aliyun.com/zh/cdn/user-guide/type-a-signing
// `{uri}?auth_key={t}-{rand}-{uid}-{md5("{uri}-{t}-{rand}-{uid}-{key}")}`. t: decimal unix time when
// the URL is signed; the CDN rejects it after t + the console's validity. uid is unused ("0"),
// rand a UUID without '-' (the sample code uses "0").
// Tencent A — https://cloud.tencent.com/document/product/228/41623
// Same layout with `?sign=`, parameter name configurable; t decimal signing time (one English page
// says hex, but its own example and the Chinese page use decimal), rand 0–100 letters/digits.
/// Aliyun A / Tencent A: appends `?{param}={t}-{rand}-{uid}-{md5hash}`.
pub fn type_a(
    origin: &str,
    uri: &str,
    t: i64,
    rand: &str,
    uid: &str,
    key: &str,
    param: &str,
) -> String {
    let ts = t.to_string();
    let hash = md5_hex(&[uri, "-", &ts, "-", rand, "-", uid, "-", key]);
    format!("{origin}{uri}?{param}={ts}-{rand}-{uid}-{hash}")
}

// Aliyun B — https://help.aliyun.com/zh/cdn/user-guide/type-b-signing
// `/{T}/{md5(key + T + uri)}{uri}`, T = signing time as YYYYMMDDHHMM in UTC+8; expiry T + validity.
/// Aliyun B: prepends `/{YYYYMMDDHHMM UTC+8}/{md5hash}` to the URI.
pub fn aliyun_b(origin: &str, uri: &str, t: i64, key: &str) -> String {
    let ts = utc8_minute_stamp(t);
    let hash = md5_hex(&[key, &ts, uri]);
    format!("{origin}/{ts}/{hash}{uri}")
}

// Tencent B — https://cloud.tencent.com/document/product/228/41871
// Identical to Aliyun B: T = YYYYMMDDHHMM of the signing time in UTC+8, md5(pkey + T + uri).
/// Tencent B: prepends `/{YYYYMMDDHHMM UTC+8}/{md5hash}` to the URI.
pub fn tencent_b(origin: &str, uri: &str, t: i64, key: &str) -> String {
    aliyun_b(origin, uri, t, key)
}

// Aliyun C — https://www.alibabacloud.com/help/doc-detail/85115.html
// Format 1 `/{md5(key + uri + T)}/{T}{uri}`, format 2 `{uri}?{KEY1}={md5}&{KEY2}={T}` with names set
// in the console; T = signing time in hex. The hash covers T as sent and the doc's example sends
// upper case (55CE8100), so we do too.
/// Aliyun C: path form, or query form when `query` holds the (hash, time) parameter names.
pub fn aliyun_c(origin: &str, uri: &str, t: i64, key: &str, query: Option<(&str, &str)>) -> String {
    let ts = format!("{t:X}");
    let hash = md5_hex(&[key, uri, &ts]);
    match query {
        None => format!("{origin}/{hash}/{ts}{uri}"),
        Some((k1, k2)) => format!("{origin}{uri}?{k1}={hash}&{k2}={ts}"),
    }
}

// Tencent C — https://www.tencentcloud.com/document/product/228/35224 (also the API's
// AuthenticationTypeC and EdgeOne https://cloud.tencent.com/document/product/1552/109331)
// `/{md5(key + uri + T)}/{T}{uri}`, T = lower-case hex signing time. The CDN page's worked example
// hashes key + T + uri with a decimal T (Type B's string, apparently copied); the API reference,
// the 2020 page and EdgeOne's checked example all give key + uri + hex, which we follow.
/// Tencent C: prepends `/{md5hash}/{hex time}` to the URI.
pub fn tencent_c(origin: &str, uri: &str, t: i64, key: &str) -> String {
    let ts = format!("{t:x}");
    let hash = md5_hex(&[key, uri, &ts]);
    format!("{origin}/{hash}/{ts}{uri}")
}

// Tencent D — https://cloud.tencent.com/document/product/228/41625
// `{uri}?sign={md5(key + uri + T)}&t={T}`, both names configurable; T = signing time, decimal in the
// doc and its example, hex if the console's time format is set to hex (`hex = true`).
/// Tencent D: appends `?{sign}={md5hash}&{time}={T}`.
pub fn tencent_d(
    origin: &str,
    uri: &str,
    t: i64,
    key: &str,
    sign: &str,
    time: &str,
    hex: bool,
) -> String {
    let ts = if hex { format!("{t:x}") } else { t.to_string() };
    let hash = md5_hex(&[key, uri, &ts]);
    format!("{origin}{uri}?{sign}={hash}&{time}={ts}")
}

/// `YYYYMMDDHHMM` of a unix time in UTC+8, the B-type schemes' timestamp.
pub fn utc8_minute_stamp(unix_secs: i64) -> String {
    let local = unix_secs.saturating_add(UTC8_SECS);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let secs_of_day = local.rem_euclid(86_400);
    let (hh, mm) = (secs_of_day / 3600, secs_of_day % 3600 / 60);
    format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}")
}

/// (year, month, day) of a count of days since 1970-01-01, proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both fit: day in 1..=31, month in 1..=12.
    (year, month as u32, day as u32)
}
