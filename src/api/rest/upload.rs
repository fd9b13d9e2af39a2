//! `/video/upload/init`, `/video/upload/upload`, `/video/upload/resume`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use poem::Body;
use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{Object, OpenApi};

use super::derived::downloads_param;
use super::{ErrorReply, OK, Reply, may};
use crate::Reel;
use crate::auth::Caller;
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::model::{UploadId, WatermarkChoice};
use crate::upload::{
    Concat, FileInfo, InitOutcome, NewUpload, Transfer, TransferRequest, UploadState, UploadView,
};

pub struct UploadApi;

#[derive(Object)]
pub struct InitReply {
    code: String,
    message: String,
    /// Set when bytes must be sent (`upid` of the other calls).
    #[oai(nullable)]
    upload_id: Option<String>,
    /// `UPLOADING`, or the video's status for an instant upload.
    status: String,
    #[oai(nullable)]
    md5: Option<String>,
    size: u64,
    /// Part size in bytes; absent for a whole-stream upload.
    #[oai(nullable)]
    part_size: Option<u64>,
    #[oai(nullable)]
    part_count: Option<u32>,
    /// Set when the file was already stored (instant upload): no bytes need to be sent.
    #[oai(nullable)]
    vid: Option<i64>,
}

#[derive(Object)]
pub struct UploadReply {
    code: String,
    message: String,
    upload_id: String,
    /// Bytes received so far.
    offset: u64,
    /// Parts received so far (part uploads).
    #[oai(nullable)]
    received_parts: Option<u32>,
    #[oai(nullable)]
    part_count: Option<u32>,
    /// Set once the upload is complete.
    #[oai(nullable)]
    vid: Option<i64>,
}

#[derive(Object)]
pub struct ResumeReply {
    code: String,
    message: String,
    upload_id: String,
    /// `RECEIVING` or `COMPLETE`.
    state: String,
    /// `parts` or `stream`.
    mode: String,
    /// Part uploads: the part numbers still to send.
    missing_parts: Vec<u32>,
    /// Bytes received; a whole-stream upload continues from here (`Content-Range`).
    offset: u64,
    #[oai(nullable)]
    size: Option<u64>,
    #[oai(nullable)]
    vid: Option<i64>,
}

fn bad(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorCode::BadRequest, message)
}

/// `fn`: the file name in base64 (standard or URL-safe, padding optional).
fn decode_name(encoded: &str) -> Result<String, ErrorReply> {
    let trimmed = encoded.trim();
    let bytes = STANDARD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .map_err(|_| bad("fn must be the file name in base64"))?;
    String::from_utf8(bytes).map_err(|_| bad("fn must encode a UTF-8 file name"))
}

fn parse_flag(value: Option<&str>, default: bool) -> Result<bool, ErrorReply> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(bad(format!(
            "auto must be 1/0 or true/false, not {other:?}"
        ))),
    }
}

/// `watermark=`: a profile id or `none`; empty or absent, the app's default.
fn parse_watermark(value: Option<&str>) -> Result<Option<WatermarkChoice>, ErrorReply> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(w) => WatermarkChoice::parse(w).map(Some).map_err(bad),
    }
}

fn upload_id(upid: &str) -> Result<UploadId, ErrorReply> {
    UploadId::parse(upid).ok_or_else(|| ErrorReply::new(ErrorCode::NotFound, "upload not found"))
}

fn upload_reply(upload: &UploadView) -> UploadReply {
    let (vid, message) = match upload.finished_video() {
        Some(v) => (Some(v.0), "upload complete"),
        None => (None, "received"),
    };
    let parts = upload.parts();
    UploadReply {
        code: OK.into(),
        message: message.into(),
        upload_id: upload.id.to_string(),
        offset: upload.received,
        received_parts: parts.map(|(received, _)| received),
        part_count: parts.map(|(_, count)| count),
        vid,
    }
}

/// `Content-Range: bytes START-END/TOTAL` → (start, total).
fn parse_content_range(value: &str) -> Result<(u64, Option<u64>), ErrorReply> {
    let bad_range = || bad("Content-Range must be `bytes START-END/TOTAL`");
    let rest = value.trim().strip_prefix("bytes ").ok_or_else(bad_range)?;
    let (range, total) = rest.split_once('/').ok_or_else(bad_range)?;
    let (start, _end) = range.split_once('-').ok_or_else(bad_range)?;
    let start = start.trim().parse().map_err(|_| bad_range())?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().map_err(|_| bad_range())?),
    };
    Ok((start, total))
}

#[OpenApi(prefix_path = "/upload", tag = "UploadTag::Upload")]
impl UploadApi {
    /// Start an upload (`fn`, `fsize`, `psize`, `auto`, `hash`). With `hash` matching a
    /// stored file of the app, returns `vid` at once (instant upload). Without `psize`,
    /// the file is sent as one stream with `Content-Range`.
    #[oai(path = "/init", method = "get", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn init(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        /// File name, base64.
        #[oai(name = "fn")]
        file_name: Query<String>,
        /// File size in bytes.
        fsize: Query<u64>,
        /// Part size in bytes (1 MiB to 1 GiB, at most 10000 parts).
        psize: Query<Option<u64>>,
        /// Transcode when the upload completes (default 1).
        auto: Query<Option<String>>,
        /// MD5 of the whole file, hex (enables instant upload).
        hash: Query<Option<String>>,
        /// Transcode priority (higher first).
        priority: Query<Option<i32>>,
        /// Client string echoed in events.
        passthrough: Query<Option<String>>,
        /// `1`: encrypt the video's segments (AES-128 HLS).
        encrypt: Query<Option<String>>,
        /// Downloads to make once transcoded, comma-separated (`HIGHEST`, rung names,
        /// `AUDIO`); default: the app's setting.
        downloads: Query<Option<String>>,
        /// A watermark profile id of the app, or `none` (default: the app's default).
        watermark: Query<Option<String>>,
    ) -> Reply<InitReply> {
        may(&caller, Scope::Upload)?;
        let name = decode_name(&file_name)?;
        let transfer = match psize.0 {
            Some(part_size) => TransferRequest::Parts { part_size },
            None => TransferRequest::Stream,
        };
        let outcome = reel
            .uploads
            .init(NewUpload {
                app: caller.app_id,
                app_key: caller.app_key.clone(),
                file: FileInfo {
                    name,
                    file_type: None,
                    md5: hash.0.filter(|h| !h.is_empty()),
                    auto_transcode: parse_flag(auto.0.as_deref(), true)?,
                    priority: priority.0.unwrap_or(0),
                    passthrough: passthrough.0,
                    tus_metadata: None,
                    encrypt: parse_flag(encrypt.0.as_deref(), false)?,
                    text_track: None,
                    audio_track: None,
                    downloads: downloads_param(downloads.0.as_deref())?,
                    watermark: parse_watermark(watermark.0.as_deref())?,
                    watermark_image: false,
                },
                size: Some(fsize.0),
                transfer,
                concat: Concat::None,
            })
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(match outcome {
            InitOutcome::Instant { video, .. } => InitReply {
                code: OK.into(),
                message: "file already stored; no upload needed".into(),
                upload_id: None,
                status: video.status.to_string(),
                md5: video.hash.clone(),
                size: video.file_size as u64,
                part_size: None,
                part_count: None,
                vid: Some(video.id.0),
            },
            InitOutcome::Upload(upload) => {
                let (part_size, part_count) = match upload.transfer {
                    Transfer::Parts { part_size, count } => (Some(part_size), Some(count)),
                    Transfer::Stream => (None, None),
                };
                InitReply {
                    code: OK.into(),
                    message: "send the bytes with upload/upload".into(),
                    upload_id: Some(upload.id.to_string()),
                    status: "UPLOADING".into(),
                    md5: upload.declared_md5.clone(),
                    size: upload.size.unwrap_or(0),
                    part_size,
                    part_count,
                    vid: upload.finished_video().map(|v| v.0),
                }
            }
        }))
    }

    /// Send part `pseq` (every part but the last exactly `psize` bytes; optional `hash`
    /// = the part's md5), or, without `pseq`, a piece of the whole stream with
    /// `Content-Range`. Returns `vid` when the upload completes.
    #[oai(path = "/upload", method = "put", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn upload(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        upid: Query<String>,
        /// Part number, 1 to 10000.
        pseq: Query<Option<u32>>,
        /// MD5 of this part, hex.
        hash: Query<Option<String>>,
        #[oai(name = "Content-Range")] content_range: Header<Option<String>>,
        #[oai(name = "Content-Length")] content_length: Header<Option<u64>>,
        body: Binary<Body>,
    ) -> Reply<UploadReply> {
        may(&caller, Scope::Upload)?;
        let id = upload_id(&upid)?;
        let body = body.0.into_bytes_stream();
        if let Some(part) = pseq.0 {
            let upload = reel
                .uploads
                .write_part(
                    caller.app_id,
                    &id,
                    part,
                    body,
                    content_length.0,
                    hash.0.as_deref(),
                )
                .await
                .map_err(ErrorReply::from_coded)?;
            return Ok(Json(upload_reply(&upload)));
        }
        let Some(range) = content_range.0 else {
            return Err(bad(
                "send pseq (part upload) or Content-Range (whole-stream upload)",
            ));
        };
        let (start, total) = parse_content_range(&range)?;
        let upload = reel
            .uploads
            .write_stream(
                caller.app_id,
                &id,
                start,
                body,
                content_length.0,
                None,
                total,
            )
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(upload_reply(&upload)))
    }

    /// Where an upload stands: missing parts, or the byte offset of a whole-stream
    /// upload, or the `vid` once complete. Unknown → `NOT_FOUND`, expired → `EXPIRED`,
    /// failed → `UPLOAD_FAILED` with the reason.
    #[oai(path = "/resume", method = "get", method = "post")]
    async fn resume(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        upid: Query<String>,
    ) -> Reply<ResumeReply> {
        may(&caller, Scope::Upload)?;
        let id = upload_id(&upid)?;
        let upload = reel
            .uploads
            .view(caller.app_id, &id)
            .await
            .map_err(ErrorReply::from_coded)?;
        if let Some(refusal) = upload.refusal() {
            return Err(ErrorReply::from_coded(refusal));
        }
        let state = match upload.state {
            UploadState::Complete { .. } => "COMPLETE",
            _ => "RECEIVING",
        };
        Ok(Json(ResumeReply {
            code: OK.into(),
            message: if state == "COMPLETE" {
                "upload complete"
            } else {
                "upload in progress"
            }
            .into(),
            upload_id: upload.id.to_string(),
            state: state.into(),
            mode: match upload.transfer {
                Transfer::Parts { .. } => "parts",
                Transfer::Stream => "stream",
            }
            .into(),
            offset: upload.received,
            vid: upload.finished_video().map(|v| v.0),
            size: upload.size,
            missing_parts: upload.missing_parts,
        }))
    }
}

#[derive(poem_openapi::Tags)]
enum UploadTag {
    /// Uploads in parts or as one stream, resumable.
    Upload,
}
