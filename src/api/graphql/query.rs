//! Reading an app's videos.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ID, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::enums::GqlVideoStatus;
use super::errors::{allowed, coded, gql, reel, video_id};
use super::types::VideoObject;
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::model::VideoId;

#[derive(Default)]
pub struct VideoQuery;

/// Opaque, stable position in a listing (the id of the last video seen).
pub struct VideoCursor(VideoId);

impl CursorType for VideoCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> std::result::Result<Self, Self::Error> {
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| "malformed cursor")?;
        let text = String::from_utf8(raw).map_err(|_| "malformed cursor")?;
        let id = text
            .strip_prefix("v1:")
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or("malformed cursor")?;
        Ok(Self(VideoId(id)))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}", self.0))
    }
}

pub type VideoConnection = Connection<VideoCursor, VideoObject>;

#[Object]
impl VideoQuery {
    /// A video of the caller's app (source or rendition); null when it does not exist.
    async fn video(&self, ctx: &Context<'_>, id: ID) -> Result<Option<VideoObject>> {
        let caller = allowed(ctx, Scope::Read)?;
        let id = video_id(&id)?;
        let video = reel(ctx).videos.get(caller.app_id, id).await.map_err(gql)?;
        Ok(video.map(VideoObject))
    }

    /// The caller's source videos, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn videos(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to the configured maximum (default 20).")] first: Option<
            i32,
        >,
        after: Option<String>,
        status: Option<GqlVideoStatus>,
    ) -> Result<VideoConnection> {
        let caller = allowed(ctx, Scope::Read)?;
        let reel = reel(ctx);
        let max = reel.config.graphql.max_page_size;
        let first = i64::from(first.unwrap_or(20));
        if !(1..=max).contains(&first) {
            return Err(coded(
                ErrorCode::BadRequest,
                format!("first must be between 1 and {max}"),
            ));
        }
        let after = after
            .map(|c| VideoCursor::decode_cursor(&c))
            .transpose()
            .map_err(|e| coded(ErrorCode::BadRequest, e))?;
        let page = reel
            .videos
            .list(
                caller.app_id,
                status.map(Into::into),
                after.as_ref().map(|c| c.0),
                first,
            )
            .await
            .map_err(gql)?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(
            page.videos
                .into_iter()
                .map(|v| Edge::new(VideoCursor(v.id), VideoObject(v))),
        );
        Ok(connection)
    }
}
