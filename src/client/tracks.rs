//! `reel track add`, `reel track list`, `reel track delete`: a video's subtitles and
//! captions, one GraphQL call each.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::commands::{Output, to_json, video};
use super::{Client, ClientError};
use crate::model::TextTrackKind;

/// The largest file `reel track add` sends (the server's limit for one text track).
pub const MAX_TRACK_FILE_BYTES: u64 = 2 << 20;

/// What `reel track add` sends besides the file.
#[derive(Debug, Clone)]
pub struct TrackOptions {
    /// Language tag (`fr`, `pt-BR`).
    pub language: String,
    pub name: Option<String>,
    pub kind: TextTrackKind,
    pub default: bool,
}

/// One text track as the server returns it (every field, also with `--json`).
#[derive(Debug, Deserialize, Serialize)]
pub struct TextTrack {
    pub id: String,
    pub language: String,
    pub name: Option<String>,
    pub kind: String,
    pub default: bool,
    /// Null until the video is playable.
    pub url: Option<String>,
}

impl TextTrack {
    const FIELDS: &str = "id language name kind default url";

    /// `id  language  kind  url` (`-` while there is no URL).
    fn plain(&self) -> String {
        let url = self.url.as_deref().unwrap_or("-");
        format!("{}\t{}\t{}\t{url}", self.id, self.language, self.kind)
    }
}

/// The file's text: at most [`MAX_TRACK_FILE_BYTES`], UTF-8.
fn track_text(file: &str, bytes: Vec<u8>) -> Result<String, ClientError> {
    if bytes.len() as u64 > MAX_TRACK_FILE_BYTES {
        return Err(ClientError::File(format!(
            "{file}: larger than {} MiB, the most a text track may be",
            MAX_TRACK_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        ClientError::File(format!(
            "{file}: line {line} is not UTF-8; save the file as UTF-8 and try again"
        ))
    })
}

/// Reads `path`, never more than one byte past the limit.
async fn read_track_file(path: &Path) -> Result<String, ClientError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| ClientError::File(format!("{name}: {e}"));
    let file = tokio::fs::File::open(path).await.map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_TRACK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(io)?;
    track_text(&name, bytes)
}

/// Adds (or replaces) the video's track of `options.language` and `options.kind`.
pub async fn add_track(
    client: &Client,
    vid: &str,
    file: &Path,
    options: &TrackOptions,
    out: &Output,
) -> Result<(), ClientError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        add_text_track: TextTrack,
    }
    let content = read_track_file(file).await?;
    let query = format!(
        "mutation($videoId: ID!, $language: String!, $name: String, $kind: TextTrackKind, $default: Boolean, $content: String) {{ addTextTrack(videoId: $videoId, language: $language, name: $name, kind: $kind, default: $default, content: $content) {{ {} }} }}",
        TextTrack::FIELDS
    );
    let variables = json!({
        "videoId": vid,
        "language": options.language,
        "name": options.name,
        "kind": options.kind.as_str(),
        "default": options.default,
        "content": content,
    });
    let track = client
        .graphql::<Data>(&query, variables)
        .await?
        .add_text_track;
    out.line(&track, || track.plain());
    Ok(())
}

/// The video's text tracks, one line each.
pub async fn list_tracks(client: &Client, vid: &str, out: &Output) -> Result<(), ClientError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tracks {
        text_tracks: Vec<TextTrack>,
    }
    let fields = format!("textTracks {{ {} }}", TextTrack::FIELDS);
    let tracks = video::<Tracks>(client, vid, &fields).await?.text_tracks;
    if out.json {
        println!("{}", to_json(&tracks));
        return Ok(());
    }
    for track in &tracks {
        println!("{}", track.plain());
    }
    Ok(())
}

/// Deletes text track `id`; one the app does not have is `NOT_FOUND`.
pub async fn delete_track(client: &Client, id: &str, out: &Output) -> Result<(), ClientError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        delete_text_track: bool,
    }
    let data: Data = client
        .graphql(
            "mutation($id: ID!) { deleteTextTrack(id: $id) }",
            json!({ "id": id }),
        )
        .await?;
    if !data.delete_text_track {
        return Err(ClientError::Api {
            code: "NOT_FOUND".into(),
            message: format!("no text track {id}"),
        });
    }
    out.line(&json!({ "deleted": id }), || {
        format!("deleted text track {id}")
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utf8_file_within_the_limit_is_its_text() {
        let text = "WEBVTT\n\n00:00.000 --> 00:01.000\nÇa va ?\n";
        assert_eq!(track_text("a.vtt", text.into()).unwrap(), text);
        let full = vec![b'a'; MAX_TRACK_FILE_BYTES as usize];
        assert_eq!(track_text("a.vtt", full).unwrap().len(), 2 << 20);
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let big = vec![b'a'; MAX_TRACK_FILE_BYTES as usize + 1];
        let e = track_text("big.srt", big).unwrap_err().to_string();
        assert!(e.contains("big.srt") && e.contains("2 MiB"), "{e}");
    }

    #[test]
    fn a_file_not_in_utf8_names_the_line() {
        let latin1 = b"1\n00:00:01,000 --> 00:00:02,000\nd\xe9j\xe0 vu\n".to_vec();
        let e = track_text("fr.srt", latin1).unwrap_err().to_string();
        assert!(e.contains("fr.srt: line 3 is not UTF-8"), "{e}");
    }

    #[test]
    fn a_track_prints_a_dash_without_url() {
        let mut track = TextTrack {
            id: "7".into(),
            language: "fr".into(),
            name: Some("Français".into()),
            kind: "SUBTITLES".into(),
            default: true,
            url: None,
        };
        assert_eq!(track.plain(), "7\tfr\tSUBTITLES\t-");
        track.url = Some("http://h/media/x/text/7.m3u8".into());
        assert_eq!(
            track.plain(),
            "7\tfr\tSUBTITLES\thttp://h/media/x/text/7.m3u8"
        );
    }
}
