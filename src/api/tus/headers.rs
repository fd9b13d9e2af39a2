//! Parsing of tus request headers (pure functions, fuzzed).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::model::{TextTrackKind, UnknownTrackKind, WatermarkChoice};
use crate::upload::FileInfo;
use crate::upload::session::{AudioTrackFor, TextTrackFor};
use crate::video::downloads::parse_definitions;

/// `Upload-Metadata`: `key base64value,key2 base64value,flag` → map (a flag maps to "").
pub fn parse_metadata(header: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = pair.split(' ').filter(|p| !p.is_empty());
        let key = it.next().ok_or("empty metadata key")?;
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("metadata key {key:?} is not printable ASCII"));
        }
        let value = match it.next() {
            Some(encoded) => {
                let bytes = STANDARD
                    .decode(encoded)
                    .map_err(|_| format!("metadata {key} is not valid base64"))?;
                String::from_utf8(bytes).map_err(|_| format!("metadata {key} is not UTF-8"))?
            }
            None => String::new(),
        };
        if it.next().is_some() {
            return Err(format!("metadata {key} has more than one value"));
        }
        if out.insert(key.to_string(), value).is_some() {
            return Err(format!("metadata key {key} is repeated"));
        }
    }
    Ok(out)
}

/// `Upload-Concat`.
#[derive(Debug, PartialEq, Eq)]
pub enum ConcatHeader {
    Partial,
    /// The upload ids (last path segment) of the partial uploads, in order.
    Final(Vec<String>),
}

pub fn parse_concat(header: &str) -> Result<ConcatHeader, String> {
    let header = header.trim();
    if header == "partial" {
        return Ok(ConcatHeader::Partial);
    }
    let Some(urls) = header.strip_prefix("final;") else {
        return Err("Upload-Concat must be `partial` or `final;<url> <url>…`".into());
    };
    let ids: Vec<String> = urls
        .split(' ')
        .filter(|u| !u.is_empty())
        .map(|u| {
            u.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    if ids.is_empty() || ids.iter().any(String::is_empty) {
        return Err("Upload-Concat: final lists no uploads".into());
    }
    Ok(ConcatHeader::Final(ids))
}

/// A non-negative decimal header value (`Upload-Offset`, `Upload-Length`).
pub fn parse_u64(value: &str) -> Option<u64> {
    let v = value.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then(|| v.parse().ok())?
}

/// `FileInfo` from `Upload-Metadata` (the keys of docs/api.md; `name`/`type` as Uppy sends them).
pub fn file_info(raw: Option<&str>) -> Result<FileInfo, String> {
    let meta: BTreeMap<String, String> = raw.map(parse_metadata).transpose()?.unwrap_or_default();
    let get = |keys: &[&str]| keys.iter().find_map(|k| meta.get(*k)).cloned();
    let auto_transcode = match get(&["autoTranscode"]).as_deref() {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => {
            return Err(format!(
                "autoTranscode must be true or false, not {other:?}"
            ));
        }
    };
    let priority = match get(&["priority"]) {
        None => 0,
        Some(p) => p
            .trim()
            .parse()
            .map_err(|_| format!("priority {p:?} is not an integer"))?,
    };
    let flag = |key: &str| match get(&[key]).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(format!("{key} must be true or false, not {other:?}")),
    };
    let encrypt = flag("encrypt")?;
    let text_track = match get(&["textTrackFor"]) {
        None => None,
        Some(video) => Some(TextTrackFor {
            video: video
                .trim()
                .parse()
                .map_err(|_| format!("textTrackFor {video:?} is not a video id"))?,
            language: get(&["language"])
                .ok_or("a text track upload needs its language (metadata `language`)")?,
            name: get(&["name", "label"]).filter(|n| !n.is_empty()),
            kind: match get(&["kind"]) {
                None => TextTrackKind::Subtitles,
                Some(k) => k.parse().map_err(|e: UnknownTrackKind| e.to_string())?,
            },
            default: flag("default")?,
        }),
    };
    let audio_track = match get(&["audioTrackFor"]) {
        None => None,
        Some(video) => Some(AudioTrackFor {
            video: video
                .trim()
                .parse()
                .map_err(|_| format!("audioTrackFor {video:?} is not a video id"))?,
            language: get(&["language"])
                .ok_or("an audio track upload needs its language (metadata `language`)")?,
            name: get(&["label", "name"]).filter(|n| !n.is_empty()),
        }),
    };
    let downloads = match get(&["downloads"]) {
        None => None,
        Some(list) => {
            let given: Vec<&str> = list.split(',').filter(|d| !d.trim().is_empty()).collect();
            Some(parse_definitions(&given).map_err(|e| e.to_string())?)
        }
    };
    let watermark = get(&["watermark"])
        .map(|w| WatermarkChoice::parse(&w))
        .transpose()?;
    if text_track.is_some() && audio_track.is_some() {
        return Err("an upload is a text track or an audio track, not both".into());
    }
    Ok(FileInfo {
        name: get(&["filename", "name"]).unwrap_or_else(|| "upload".into()),
        file_type: get(&["filetype", "type"]),
        md5: get(&["md5"]).filter(|m| !m.is_empty()),
        auto_transcode,
        priority,
        passthrough: get(&["passthrough"]),
        tus_metadata: raw.map(str::to_string),
        encrypt,
        text_track,
        audio_track,
        downloads,
        watermark,
        watermark_image: flag("watermarkImage")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        let m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(m["filename"], "world_domination_plan.pdf");
        assert_eq!(m["is_confidential"], "");
        assert!(parse_metadata("").unwrap().is_empty());
        assert!(parse_metadata("a !!!").is_err());
        assert!(parse_metadata("a YQ==,a Yg==").is_err());
        assert!(parse_metadata("a YQ== Yg==").is_err());
    }

    #[test]
    fn concat() {
        assert_eq!(parse_concat("partial").unwrap(), ConcatHeader::Partial);
        assert_eq!(
            parse_concat("final;http://x/files/a /files/b").unwrap(),
            ConcatHeader::Final(vec!["a".into(), "b".into()])
        );
        assert!(parse_concat("final;").is_err());
        assert!(parse_concat("whole").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("42"), Some(42));
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
    }
}
