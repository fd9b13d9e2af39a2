//! A cue's text made safe for WebVTT: SRT markup translated, stray `<` and `&` escaped.

// The parser reports through mod.rs's error type and `malformed` helper, and calls
// `cue_text` here: one module's two files, split only to keep each readable.
use std::fmt::Write as _;

use super::{SubtitleError, SubtitleFormat, malformed, parse_time, parse_timing};

/// A cue's text lines made safe for WebVTT; lines left blank are dropped (a blank line
/// would end the cue).
pub(super) fn cue_text(
    lines: &[&str],
    first: usize,
    format: SubtitleFormat,
) -> Result<Vec<String>, SubtitleError> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        // Otherwise the next cue would silently become this one's text.
        if parse_timing(line, format).is_some() {
            return Err(malformed(
                first + i,
                "a blank line is needed before this cue timing",
            ));
        }
        let text = match format {
            SubtitleFormat::Srt => escape_text(&srt_markup(line)),
            SubtitleFormat::WebVtt => escape_text(line),
        };
        if !text.trim().is_empty() {
            out.push(text.trim_end().to_string());
        }
    }
    Ok(out)
}

/// SRT's markup WebVTT lacks: ASS overrides (`{\an8}`) and `<font>` tags are removed
/// (WebVTT would show them as text); `<B>`, `<I>`, `<U>` become lower case.
pub(super) fn srt_markup(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(['{', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("{\\")
            && let Some(end) = closing(&rest[1..], '{', '}')
        {
            rest = &rest[end + 2..];
            continue;
        }
        if rest.starts_with('<')
            && let Some(end) = closing(&rest[1..], '<', '>')
        {
            let tag = rest[1..=end].to_ascii_lowercase();
            let name = tag.trim_start_matches('/');
            if name == "font" || name.starts_with("font ") {
                rest = &rest[end + 2..];
                continue;
            }
            if matches!(name, "b" | "i" | "u") {
                let _ = write!(out, "<{tag}>");
                rest = &rest[end + 2..];
                continue;
            }
        }
        out.push_str(&rest[..1]);
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// Escapes what WebVTT would misread: a bare '&', a '<' that starts no WebVTT tag, and
/// "-->" (which would end the cue text).
pub(super) fn escape_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, c) in line.char_indices() {
        match c {
            '&' if !starts_entity(&line[i + 1..]) => out.push_str("&amp;"),
            '<' if !starts_tag(&line[i + 1..]) => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out.replace("-->", "--&gt;")
}

/// After '&': `name;`, `#123;` or `#x1F;`.
pub(super) fn starts_entity(s: &str) -> bool {
    // Scanning only the name keeps a line of many '&' linear.
    let len = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .unwrap_or(s.len());
    let name = &s[..len];
    let (chars, ok): (&str, fn(&u8) -> bool) =
        match name.strip_prefix("#x").or(name.strip_prefix("#X")) {
            Some(hex) => (hex, u8::is_ascii_hexdigit),
            None => match name.strip_prefix('#') {
                Some(dec) => (dec, u8::is_ascii_digit),
                None => (name, u8::is_ascii_alphanumeric),
            },
        };
    s[len..].starts_with(';') && !chars.is_empty() && chars.bytes().all(|b| ok(&b))
}

/// After '<': a WebVTT tag (`b`, `c.class`, `/i`, `v Name`, …) or a timestamp, then '>'.
pub(super) fn starts_tag(s: &str) -> bool {
    let Some(end) = closing(s, '<', '>') else {
        return false;
    };
    let inner = &s[..end];
    let tag = inner.strip_prefix('/').unwrap_or(inner);
    let name = &tag[..tag.find(['.', ' ', '\t']).unwrap_or(tag.len())];
    ["b", "i", "u", "c", "v", "lang", "ruby", "rt"].contains(&name)
        || parse_time(inner, SubtitleFormat::WebVtt).is_some()
}

/// Where `close` ends a bracket whose opener came just before `s`, unless another `open`
/// comes first: stopping there keeps a line of many openers linear.
pub(super) fn closing(s: &str, open: char, close: char) -> Option<usize> {
    let i = s.find([open, close])?;
    s[i..].starts_with(close).then_some(i)
}
