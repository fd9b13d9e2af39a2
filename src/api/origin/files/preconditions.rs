//! The request's preconditions and range against the file's validators: what to answer
//! (RFC 9110 §13.2.2 and §14.2).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_range_header::RangeUnsatisfiableError;
use poem::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The request headers that decide the answer, copied (cheaply) for the blocking pool.
pub(super) struct Conditions {
    if_match: Option<HeaderValue>,
    if_unmodified_since: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    range: Option<HeaderValue>,
    if_range: Option<HeaderValue>,
}

impl Conditions {
    pub(super) fn from_headers(headers: &HeaderMap) -> Self {
        let one = |name| headers.get(name).cloned();
        Self {
            if_match: joined(headers, header::IF_MATCH),
            if_unmodified_since: one(header::IF_UNMODIFIED_SINCE),
            if_none_match: joined(headers, header::IF_NONE_MATCH),
            if_modified_since: one(header::IF_MODIFIED_SINCE),
            range: one(header::RANGE),
            if_range: one(header::IF_RANGE),
        }
    }
}

/// A list header that may come as several fields, joined into one value.
fn joined(headers: &HeaderMap, name: HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let mut all = first.as_bytes().to_vec();
    let mut several = false;
    for v in values {
        several = true;
        all.extend_from_slice(b", ");
        all.extend_from_slice(v.as_bytes());
    }
    if several {
        HeaderValue::from_bytes(&all).ok()
    } else {
        Some(first.clone())
    }
}

/// Length and modification time of the file, and the validators made of them.
pub(super) struct Validators {
    pub(super) len: u64,
    /// Whole seconds since the epoch: the precision of `Last-Modified`.
    pub(super) mtime_secs: u64,
    /// `"<hex len>-<hex mtime nanos>"`, quotes included.
    pub(super) etag: String,
    pub(super) last_modified: String,
}

impl Validators {
    pub(super) fn new(len: u64, mtime: SystemTime) -> Self {
        let since = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            len,
            mtime_secs: since.as_secs(),
            etag: format!("\"{:x}-{:x}\"", len, since.as_nanos()),
            last_modified: httpdate::fmt_http_date(
                UNIX_EPOCH + Duration::from_secs(since.as_secs()),
            ),
        }
    }

    /// The ETag without its quotes.
    pub(super) fn opaque(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// The answer, once the file is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// 304.
    NotModified,
    /// 412.
    PreconditionFailed,
    /// 416.
    Unsatisfiable,
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
}

impl Plan {
    /// The bytes the body carries (`start`, `len`), for plans that have a body.
    pub(super) fn span(self, len: u64) -> Option<(u64, u64)> {
        match self {
            Plan::Full => Some((0, len)),
            Plan::Partial { start, end } => Some((start, end - start + 1)),
            _ => None,
        }
    }
}

/// Evaluates the preconditions, then the range (RFC 9110 §13.2.2 and §14.2).
pub(super) fn plan(c: &Conditions, v: &Validators, head: bool) -> Plan {
    // 1-2: If-Match, else If-Unmodified-Since.
    if let Some(value) = &c.if_match {
        if !etag_list_matches(value, v, true) {
            return Plan::PreconditionFailed;
        }
    } else if let Some(date) = c.if_unmodified_since.as_ref().and_then(http_date_secs)
        && v.mtime_secs > date
    {
        return Plan::PreconditionFailed;
    }
    // 3-4: If-None-Match, else If-Modified-Since (GET and HEAD are all we serve).
    if let Some(value) = &c.if_none_match {
        if etag_list_matches(value, v, false) {
            return Plan::NotModified;
        }
    } else if let Some(date) = c.if_modified_since.as_ref().and_then(http_date_secs)
        && v.mtime_secs <= date
    {
        return Plan::NotModified;
    }
    // 5: Range, for GET only; If-Range decides whether it applies.
    let Some(range) = c.range.as_ref().filter(|_| !head) else {
        return Plan::Full;
    };
    if c.if_range.as_ref().is_some_and(|r| !if_range_matches(r, v)) {
        return Plan::Full;
    }
    let Some(parsed) = range
        .to_str()
        .ok()
        .and_then(|s| http_range_header::parse_range_header(s).ok())
    else {
        return Plan::Full; // malformed: ignored
    };
    let several = parsed.len() > 1;
    match parsed.validate(v.len) {
        Ok(ranges) if !several && ranges.len() == 1 => Plan::Partial {
            start: *ranges[0].start(),
            end: *ranges[0].end(),
        },
        // Several ranges, or a suffix of an empty file: the whole file.
        Ok(_) => Plan::Full,
        Err(RangeUnsatisfiableError::Unsatisfiable) => Plan::Unsatisfiable,
        // Rejected shapes (many overlapping ranges, …): ignored.
        Err(_) => Plan::Full,
    }
}

/// `If-Match` (strong comparison) or `If-None-Match` (weak comparison) against our ETag.
fn etag_list_matches(value: &HeaderValue, v: &Validators, strong: bool) -> bool {
    let Ok(s) = value.to_str() else {
        return false;
    };
    s.trim() == "*" || EntityTags(s).any(|(weak, opaque)| opaque == v.opaque() && !(strong && weak))
}

/// `If-Range`: our ETag compared strongly, or exactly our `Last-Modified` (§13.1.5).
fn if_range_matches(value: &HeaderValue, v: &Validators) -> bool {
    let Ok(s) = value.to_str() else {
        return false;
    };
    let s = s.trim();
    if s.starts_with('"') || s.starts_with("W/") {
        let mut tags = EntityTags(s);
        return matches!(tags.next(), Some((false, opaque)) if opaque == v.opaque())
            && tags.next().is_none();
    }
    http_date_secs(value) == Some(v.mtime_secs)
}

/// An HTTP-date as whole seconds since the epoch; `None` when it is not one.
fn http_date_secs(value: &HeaderValue) -> Option<u64> {
    let t = httpdate::parse_http_date(value.to_str().ok()?.trim()).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// The entity tags of a comma-separated list as `(weak, opaque without quotes)`, up to
/// the first malformed member.
pub(super) struct EntityTags<'a>(&'a str);

impl<'a> Iterator for EntityTags<'a> {
    type Item = (bool, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.0.trim_start_matches([' ', '\t', ',']);
        let (weak, s) = match s.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (opaque, rest) = s.strip_prefix('"')?.split_once('"')?;
        self.0 = rest;
        Some((weak, opaque))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists() {
        let tags: Vec<_> = EntityTags(r#" "a", W/"b",,"c,d" , "#).collect();
        assert_eq!(tags, vec![(false, "a"), (true, "b"), (false, "c,d")]);
        assert_eq!(EntityTags("garbage").count(), 0);
    }
}
