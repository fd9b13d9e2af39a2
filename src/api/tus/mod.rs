//! tus 1.0.0 at `/files/`: core, creation, creation-with-upload, creation-defer-length,
//! termination, checksum, expiration and concatenation, over `upload::UploadService`.

pub mod headers;

use chrono::{DateTime, Utc};
use poem::http::{HeaderMap, StatusCode};
use poem::web::{Data, Path};
use poem::{Body, EndpointExt, Request, Response, Route, handler};

use self::headers::{ConcatHeader, file_info, parse_concat, parse_u64};
use super::auth::Authenticate;
use crate::Reel;
use crate::auth::{Caller, Scope};
use crate::error::Coded;
use crate::model::{UploadId, routes};
use crate::upload::digest::{CHECKSUM_ALGORITHMS, ChunkChecksum};
use crate::upload::{
    Concat, InitOutcome, NewUpload, TransferRequest, UploadError, UploadState, UploadView,
};

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,concatenation";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// Headers a browser on another origin must be allowed to read.
pub const EXPOSED_HEADERS: [&str; 12] = [
    "Location",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Defer-Length",
    "Upload-Metadata",
    "Upload-Expires",
    "Upload-Concat",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Reel-Video-Id",
];

pub fn routes(reel: Reel) -> Route {
    let auth = || Authenticate::required(reel.clone()).needs(Scope::Upload);
    Route::new()
        .at("/", poem::options(options).post(create.with(auth())))
        .at(
            "/:id",
            poem::options(options)
                .head(head.with(auth()))
                .patch(patch.with(auth()))
                .delete(terminate.with(auth())),
        )
}

fn tus() -> poem::ResponseBuilder {
    Response::builder()
        .header("Tus-Resumable", TUS_VERSION)
        .header("Cache-Control", "no-store")
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    tus()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(message.into())
}

fn upload_error(e: UploadError) -> Response {
    super::finish_refusal(error(super::status_of(e.code()), e.public_message()), &e)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every request but OPTIONS must speak our version (412 otherwise).
#[allow(clippy::result_large_err)] // the error is the ready response
fn check_version(req: &Request) -> Result<(), Response> {
    match header(req.headers(), "Tus-Resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(tus()
            .status(StatusCode::PRECONDITION_FAILED)
            .header("Tus-Version", TUS_VERSION)
            .body("Tus-Resumable: 1.0.0 is required")),
    }
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn location(reel: &Reel, id: &UploadId) -> String {
    routes::tus_upload_url(&reel.config.public_base(), id)
}

#[handler]
async fn options(reel: Data<&Reel>) -> Response {
    tus()
        .status(StatusCode::NO_CONTENT)
        .header("Tus-Version", TUS_VERSION)
        .header("Tus-Extension", EXTENSIONS)
        .header("Tus-Max-Size", reel.uploads.max_size().to_string())
        .header("Tus-Checksum-Algorithm", CHECKSUM_ALGORITHMS)
        .finish()
}

#[handler]
async fn create(req: &Request, body: Body, reel: Data<&Reel>, caller: Data<&Caller>) -> Response {
    if let Err(resp) = check_version(req) {
        return resp;
    }
    let h = req.headers();
    let concat = match header(h, "Upload-Concat").map(parse_concat).transpose() {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let length = header(h, "Upload-Length");
    let deferred = header(h, "Upload-Defer-Length");
    let size = match (length, deferred, &concat) {
        (None, None, Some(ConcatHeader::Final(_))) => None,
        (Some(_), _, Some(ConcatHeader::Final(_))) => {
            return error(
                StatusCode::BAD_REQUEST,
                "a final upload takes no Upload-Length",
            );
        }
        (Some(l), None, _) => match parse_u64(l) {
            Some(n) => Some(n),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Upload-Length must be a non-negative integer",
                );
            }
        },
        (None, Some("1"), _) => None,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "send exactly one of Upload-Length or Upload-Defer-Length: 1",
            );
        }
    };
    if let Some(n) = size
        && n > reel.uploads.max_size()
    {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Upload-Length exceeds Tus-Max-Size {}",
                reel.uploads.max_size()
            ),
        );
    }
    let file = match file_info(header(h, "Upload-Metadata")) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let concat = match concat {
        None => Concat::None,
        Some(ConcatHeader::Partial) => Concat::Partial,
        Some(ConcatHeader::Final(ids)) => {
            let parsed: Option<Vec<UploadId>> = ids.iter().map(|i| UploadId::parse(i)).collect();
            match parsed {
                Some(ids) => Concat::Final { parts: ids },
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Upload-Concat names an unknown upload",
                    );
                }
            }
        }
    };
    let outcome = reel
        .uploads
        .init(NewUpload {
            app: caller.app_id,
            app_key: caller.app_key.clone(),
            file,
            size,
            transfer: TransferRequest::Stream,
            concat,
        })
        .await;
    let mut upload = match outcome {
        Ok(InitOutcome::Upload(upload)) => upload,
        Ok(InitOutcome::Instant { upload, .. }) => upload,
        Err(e) => return upload_error(e),
    };
    // creation-with-upload: the first chunk rides along.
    let with_data = header(h, "Content-Type") == Some(OFFSET_OCTET_STREAM)
        && upload.state == UploadState::Receiving;
    if with_data {
        match write(req, body, &reel, &caller, &upload.id, 0).await {
            Ok(updated) => upload = updated,
            // The upload exists; the client resumes from HEAD.
            Err(e) => tracing::info!(upload = %upload.id, error = %e, "first chunk not stored"),
        }
    }
    let mut resp = tus()
        .status(StatusCode::CREATED)
        .header("Location", location(&reel, &upload.id))
        .header("Upload-Expires", http_date(upload.expires_at));
    if with_data || upload.finished_video().is_some() {
        resp = resp.header("Upload-Offset", upload.received.to_string());
    }
    if let Some(video) = upload.finished_video() {
        resp = resp.header("Reel-Video-Id", video.to_string());
    }
    resp.finish()
}

#[handler]
async fn head(
    req: &Request,
    Path(id): Path<String>,
    reel: Data<&Reel>,
    caller: Data<&Caller>,
) -> Response {
    if let Err(resp) = check_version(req) {
        return resp;
    }
    let Some(id) = UploadId::parse(&id) else {
        return error(StatusCode::NOT_FOUND, "upload not found");
    };
    let upload = match reel.uploads.view(caller.app_id, &id).await {
        Ok(upload) => upload,
        Err(e) => return upload_error(e),
    };
    if let Some(refusal) = upload.refusal() {
        return upload_error(refusal);
    }
    let mut resp = tus()
        .status(StatusCode::OK)
        .header("Upload-Offset", upload.received.to_string())
        .header("Upload-Expires", http_date(upload.expires_at));
    resp = match upload.size {
        Some(size) => resp.header("Upload-Length", size.to_string()),
        None => resp.header("Upload-Defer-Length", "1"),
    };
    if let Some(meta) = &upload.tus_metadata {
        resp = resp.header("Upload-Metadata", meta.as_str());
    }
    match &upload.concat {
        Concat::Partial => resp = resp.header("Upload-Concat", "partial"),
        Concat::Final { parts } => {
            let urls: Vec<String> = parts
                .iter()
                .map(|p| format!("{}/{p}", routes::TUS))
                .collect();
            resp = resp.header("Upload-Concat", format!("final;{}", urls.join(" ")));
        }
        Concat::None => {}
    }
    if let Some(video) = upload.finished_video() {
        resp = resp.header("Reel-Video-Id", video.to_string());
    }
    resp.finish()
}

/// Streams one PATCH body into the upload.
async fn write(
    req: &Request,
    body: Body,
    reel: &Reel,
    caller: &Caller,
    id: &UploadId,
    offset: u64,
) -> Result<UploadView, UploadError> {
    let h = req.headers();
    let checksum = header(h, "Upload-Checksum")
        .map(ChunkChecksum::parse)
        .transpose()
        .map_err(|e| UploadError::BadRequest(e.to_string()))?;
    let length = match header(h, "Upload-Length") {
        Some(l) => Some(parse_u64(l).ok_or_else(|| {
            UploadError::BadRequest("Upload-Length must be a non-negative integer".into())
        })?),
        None => None,
    };
    let content_length = header(h, "Content-Length").and_then(parse_u64);
    reel.uploads
        .write_stream(
            caller.app_id,
            id,
            offset,
            body.into_bytes_stream(),
            content_length,
            checksum,
            length,
        )
        .await
}

#[handler]
async fn patch(
    req: &Request,
    body: Body,
    Path(id): Path<String>,
    reel: Data<&Reel>,
    caller: Data<&Caller>,
) -> Response {
    if let Err(resp) = check_version(req) {
        return resp;
    }
    if header(req.headers(), "Content-Type") != Some(OFFSET_OCTET_STREAM) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {OFFSET_OCTET_STREAM}"),
        );
    }
    let Some(offset) = header(req.headers(), "Upload-Offset").and_then(parse_u64) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Upload-Offset must be a non-negative integer",
        );
    };
    let Some(id) = UploadId::parse(&id) else {
        return error(StatusCode::NOT_FOUND, "upload not found");
    };
    match write(req, body, &reel, &caller, &id, offset).await {
        Ok(upload) => {
            let mut resp = tus()
                .status(StatusCode::NO_CONTENT)
                .header("Upload-Offset", upload.received.to_string())
                .header("Upload-Expires", http_date(upload.expires_at));
            if let Some(video) = upload.finished_video() {
                resp = resp.header("Reel-Video-Id", video.to_string());
            }
            resp.finish()
        }
        Err(e) => upload_error(e),
    }
}

#[handler]
async fn terminate(
    req: &Request,
    Path(id): Path<String>,
    reel: Data<&Reel>,
    caller: Data<&Caller>,
) -> Response {
    if let Err(resp) = check_version(req) {
        return resp;
    }
    let Some(id) = UploadId::parse(&id) else {
        return error(StatusCode::NOT_FOUND, "upload not found");
    };
    match reel.uploads.terminate(caller.app_id, &id).await {
        Ok(()) => tus().status(StatusCode::NO_CONTENT).finish(),
        Err(e) => upload_error(e),
    }
}
