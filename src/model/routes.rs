//! Where each protocol lives on the server (fixed by the API contract): the route table
//! and every URL handed out are built from these.

use super::ids::UploadId;

pub const GRAPHQL: &str = "/graphql";
pub const GRAPHQL_WS: &str = "/graphql/ws";
pub const GRAPHIQL: &str = "/graphiql";
/// tus uploads.
pub const TUS: &str = "/files";
/// The seed's REST API.
pub const REST: &str = "/video";
/// The built-in origin.
pub const MEDIA: &str = "/media";
pub const PLAYGROUND: &str = "/playground";
pub const HEALTH: &str = "/healthz";
pub const METRICS: &str = "/metrics";

/// Where a tus client sends the bytes of upload `id`.
pub fn tus_upload_url(base: &str, id: &UploadId) -> String {
    format!("{base}{TUS}/{id}")
}

/// Where a seed-API client sends the parts of upload `id` (`&pseq=N`).
pub fn part_upload_url(base: &str, id: &UploadId) -> String {
    format!("{base}{REST}/upload/upload?upid={id}")
}
