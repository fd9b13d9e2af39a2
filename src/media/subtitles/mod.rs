//! Uploaded text tracks: SRT or WebVTT in, checked and normalised WebVTT out, plus the
//! HLS pieces that serve it. Pure: no I/O, so a bad file is refused before anything is
//! stored, with the line to fix.

use std::fmt::Write as _;

#[cfg(test)]
mod tests;
mod text;

use text::cue_text;

/// Bounds on one text track.
#[derive(Debug, Clone, Copy)]
pub struct SubtitleLimits {
    pub max_bytes: usize,
    pub max_cues: usize,
}

impl Default for SubtitleLimits {
    /// A feature film's subtitles are some 100 KiB and 2,000 cues; this leaves room for
    /// verbose tracks without letting one upload tie up a worker.
    fn default() -> Self {
        Self {
            max_bytes: 2 << 20,
            max_cues: 20_000,
        }
    }
}

/// Which format an uploaded text track was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtitleFormat {
    WebVtt,
    Srt,
}

impl SubtitleFormat {
    /// How a timing line is written, for error messages in the user's own format.
    fn timing_pattern(self) -> &'static str {
        match self {
            Self::WebVtt => "HH:MM:SS.mmm --> HH:MM:SS.mmm",
            Self::Srt => "HH:MM:SS,mmm --> HH:MM:SS,mmm",
        }
    }
}

/// A text track checked and normalised to WebVTT.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtitles {
    /// The WebVTT document: "WEBVTT\n\n" then cues, each
    /// "HH:MM:SS.mmm --> HH:MM:SS.mmm[ settings]\n<text lines>\n\n" (a cue identifier
    /// line kept when the source had one).
    pub vtt: String,
    pub cues: usize,
    /// End of the last cue, milliseconds (0 for no cues).
    pub end_ms: u64,
    /// Which format the input was.
    pub format: SubtitleFormat,
}

/// Why a text track was refused; the messages are shown to the uploader as they are.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SubtitleError {
    #[error("line {line}: the text is not UTF-8 (save the subtitles as UTF-8 and upload again)")]
    NotUtf8 { line: usize },
    #[error("the subtitle file is larger than {}", human_bytes(*max_bytes))]
    TooLarge { max_bytes: usize },
    #[error("the subtitle file has more than {max} cues")]
    TooManyCues { max: usize },
    #[error("the subtitle file has no cues")]
    Empty,
    /// `format` picks the pattern the message asks for (',' in SRT, '.' in WebVTT).
    #[error("line {line}: \"{text}\" is not a cue timing (expected {})", format.timing_pattern())]
    BadTiming {
        line: usize,
        text: String,
        format: SubtitleFormat,
    },
    #[error("line {line}: the cue ends before it starts")]
    EndBeforeStart { line: usize },
    #[error("not WebVTT or SRT: the first line is \"{first_line}\"")]
    NotSubtitles { first_line: String },
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
}

/// Parses WebVTT or SRT (detected: a "WEBVTT" header — optionally after a UTF-8 BOM —
/// means WebVTT; otherwise SRT), checks limits, returns normalised WebVTT.
pub fn parse(bytes: &[u8], limits: SubtitleLimits) -> Result<Subtitles, SubtitleError> {
    use SubtitleFormat::{Srt, WebVtt};
    if bytes.len() > limits.max_bytes {
        let max_bytes = limits.max_bytes;
        return Err(SubtitleError::TooLarge { max_bytes });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| SubtitleError::NotUtf8 {
        line: 1 + line_breaks(&bytes[..e.valid_up_to()]),
    })?;
    let lines = split_lines(text);
    let is_vtt = lines.first().is_some_and(|l| is_keyword(l, "WEBVTT"));
    let mut subs = Subtitles {
        vtt: String::from("WEBVTT\n\n"),
        cues: 0,
        end_ms: 0,
        format: if is_vtt { WebVtt } else { Srt },
    };
    // WebVTT's header block is skipped (Kind:, Language: … say nothing players need).
    let from = match is_vtt {
        true => lines
            .iter()
            .position(|l| l.trim().is_empty())
            .unwrap_or(lines.len()),
        false => 0,
    };
    if let Some(i) = (1..from).find(|&i| lines[i].contains("-->")) {
        let reason = "a blank line is needed between the WEBVTT header and the first cue";
        return Err(malformed(i + 1, reason));
    }
    let blocks = blocks(&lines, from);
    if let (false, Some((_, block))) = (is_vtt, blocks.first())
        && !is_index(block[0].trim())
        && !block[0].contains("-->")
    {
        let first_line = excerpt(block[0]);
        return Err(SubtitleError::NotSubtitles { first_line });
    }
    for (start, block) in blocks {
        let first = block[0];
        // SRT: an optional number. WebVTT: NOTE, STYLE and REGION blocks go (Reel serves
        // plain cues), and a line before the timing is the cue's identifier.
        let t = match subs.format {
            Srt => usize::from(is_index(first.trim())),
            WebVtt
                if ["NOTE", "STYLE", "REGION"]
                    .iter()
                    .any(|k| is_keyword(first, k)) =>
            {
                continue;
            }
            WebVtt => usize::from(!first.contains("-->")),
        };
        let Some(line) = block.get(t) else {
            let reason = format!("\"{}\" is not followed by a cue timing", excerpt(first));
            return Err(malformed(start + 1, reason));
        };
        let timing = timing(line, start + t + 1, subs.format)?;
        let text = cue_text(&block[t + 1..], start + t + 2, subs.format)?;
        let id = (subs.format == WebVtt && t == 1).then(|| first.trim());
        subs.push_cue(id, timing, &text, limits.max_cues)?;
    }
    match subs.cues {
        0 => Err(SubtitleError::Empty),
        _ => Ok(subs),
    }
}

/// The WebVTT with an `X-TIMESTAMP-MAP=MPEGTS:<mpegts>,LOCAL:00:00:00.000` header line
/// inserted right after the "WEBVTT" line (HLS: maps cue time 0 to the MPEG-TS timestamp
/// of the video's first frame, 90 kHz units). Idempotent: replaces an existing
/// X-TIMESTAMP-MAP line.
pub fn with_timestamp_map(vtt: &str, mpegts: u64) -> String {
    let (first, rest) = vtt.split_once('\n').unwrap_or((vtt, ""));
    let mut out = String::with_capacity(vtt.len() + 64);
    let _ = writeln!(
        out,
        "{first}\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000"
    );
    let mut in_header = true;
    for line in rest.split_inclusive('\n') {
        in_header &= !line.trim().is_empty();
        if !(in_header && line.starts_with("X-TIMESTAMP-MAP=")) {
            out.push_str(line);
        }
    }
    out
}

/// The HLS media playlist of one text track: one WebVTT segment (`uri`) covering
/// `duration_ms` (the video's duration; the caller makes it at least the last cue's end,
/// or players cut the track short).
pub fn media_playlist(uri: &str, duration_ms: u64) -> String {
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{}.{:03},\n{uri}\n#EXT-X-ENDLIST\n",
        duration_ms.div_ceil(1000),
        duration_ms / 1000,
        duration_ms % 1000
    )
}

impl Subtitles {
    /// Appends a cue; one with no text or no duration shows nothing, so it is dropped.
    fn push_cue(
        &mut self,
        id: Option<&str>,
        (start, end, settings): Timing,
        text: &[String],
        max_cues: usize,
    ) -> Result<(), SubtitleError> {
        if end == start || text.is_empty() {
            return Ok(());
        }
        if self.cues == max_cues {
            return Err(SubtitleError::TooManyCues { max: max_cues });
        }
        if let Some(id) = id {
            let _ = writeln!(self.vtt, "{id}");
        }
        self.cues += 1;
        self.end_ms = self.end_ms.max(end);
        let (start, end, text) = (ts(start), ts(end), text.join("\n"));
        let _ = writeln!(self.vtt, "{start} --> {end}{settings}\n{text}\n");
        Ok(())
    }
}

/// A cue's start and end (milliseconds) and the WebVTT settings kept (each after a space).
type Timing = (u64, u64, String);

/// The timing on line `line`, or the error naming it.
fn timing(text: &str, line: usize, format: SubtitleFormat) -> Result<Timing, SubtitleError> {
    let t = parse_timing(text, format).ok_or_else(|| SubtitleError::BadTiming {
        line,
        text: excerpt(text),
        format,
    })?;
    if t.1 < t.0 {
        return Err(SubtitleError::EndBeforeStart { line });
    }
    Ok(t)
}

/// `start --> end` then, in WebVTT, settings (unknown ones dropped: players reject or
/// ignore them) or, in SRT, position text (dropped: WebVTT has no such thing).
fn parse_timing(line: &str, format: SubtitleFormat) -> Option<Timing> {
    let (left, right) = line.split_once("-->")?;
    let start = parse_time(left.trim(), format)?;
    let mut words = right.split_whitespace();
    let end = parse_time(words.next()?, format)?;
    let settings = match format {
        SubtitleFormat::Srt => String::new(),
        SubtitleFormat::WebVtt => words
            .filter(|w| is_setting(w))
            .map(|w| format!(" {w}"))
            .collect(),
    };
    Some((start, end, settings))
}

/// WebVTT `[H+:]MM:SS.mmm` or SRT `H+:MM:SS,mmm` (or '.') in milliseconds.
fn parse_time(s: &str, format: SubtitleFormat) -> Option<u64> {
    let srt = format == SubtitleFormat::Srt;
    let (hms, ms) = s.rsplit_once(|c| c == '.' || (srt && c == ','))?;
    let num = |p: &str, len: Option<usize>| -> Option<u64> {
        let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        (digits && len.is_none_or(|n| p.len() == n)).then(|| p.parse().ok())?
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, sec) = match parts[..] {
        [h, m, sec] => (num(h, None)?, m, sec),
        [m, sec] if !srt => (0, m, sec),
        _ => return None,
    };
    let (m, sec, ms) = (num(m, Some(2))?, num(sec, Some(2))?, num(ms, Some(3))?);
    if m >= 60 || sec >= 60 {
        return None;
    }
    h.checked_mul(3_600_000)?
        .checked_add(m * 60_000 + sec * 1000 + ms)
}

/// The WebVTT cue settings players understand, as `name:value`.
fn is_setting(word: &str) -> bool {
    word.split_once(':').is_some_and(|(name, value)| {
        !value.is_empty()
            && ["vertical", "line", "position", "size", "align", "region"].contains(&name)
    })
}

/// Milliseconds as WebVTT's `HH:MM:SS.mmm`.
fn ts(ms: u64) -> String {
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    format!("{h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
}

/// Lines split at "\r\n", "\r" or "\n" (all three occur in uploaded files).
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\r', '\n']) {
        lines.push(&rest[..i]);
        rest = &rest[i + if rest[i..].starts_with("\r\n") { 2 } else { 1 }..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// How many line breaks `split_lines` would see in `bytes`.
fn line_breaks(bytes: &[u8]) -> usize {
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// The runs of non-blank lines from `from` on, each with the index of its first line.
fn blocks<'a>(lines: &'a [&'a str], from: usize) -> Vec<(usize, &'a [&'a str])> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, line) in lines.iter().enumerate().skip(from) {
        match (line.trim().is_empty(), start) {
            (true, Some(s)) => {
                out.push((s, &lines[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &lines[s..]));
    }
    out
}

/// `line` is `keyword`, alone or followed by a space or tab (WebVTT's block keywords).
fn is_keyword(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
}

/// An SRT cue number.
fn is_index(line: &str) -> bool {
    !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
}

/// `s` trimmed and cut to 80 characters, for quoting in an error message.
fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A `Malformed` error.
fn malformed(line: usize, reason: impl Into<String>) -> SubtitleError {
    let reason = reason.into();
    SubtitleError::Malformed { line, reason }
}

/// A byte limit as people read it.
fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}
