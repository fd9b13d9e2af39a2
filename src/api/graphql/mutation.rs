//! Changing videos, and tokens for browsers.

use async_graphql::{Context, ID, Object, Result};

use super::enums::GqlTokenScope;
use super::errors::{allowed, caller, gql, reel, video_id};
use super::types::{TokenObject, VideoObject};
use crate::auth::{Scope, Scopes};

#[derive(Default)]
pub struct VideoMutation;

#[Object]
impl VideoMutation {
    /// Deletes a video of the caller's app with its renditions, snapshots and stored bytes.
    async fn delete_video(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = video_id(&id)?;
        reel(ctx)
            .videos
            .delete(caller.app_id, id)
            .await
            .map_err(gql)?;
        Ok(true)
    }

    /// Queues a transcode of a source (`UPLOADED`, `TRANSCODED`, `TRANSCODE_FAILED` or
    /// `PLAYABLE`); `priority` orders the queue (higher first).
    async fn transcode(
        &self,
        ctx: &Context<'_>,
        id: ID,
        priority: Option<i32>,
    ) -> Result<VideoObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = video_id(&id)?;
        let video = reel(ctx)
            .videos
            .transcode((caller.app_id, &caller.app_key), id, priority)
            .await
            .map_err(gql)?;
        Ok(VideoObject(video))
    }

    /// A new video from a file already in storage (`src`: `fs://key`, `s3://bucket/key` or
    /// `oss://bucket/key` of the configured storage), queued for transcoding; `dst` (a
    /// storage URI prefix) chooses where the outputs go.
    async fn transcode_uri(
        &self,
        ctx: &Context<'_>,
        src: String,
        dst: Option<String>,
        priority: Option<i32>,
    ) -> Result<VideoObject> {
        let caller = allowed(ctx, Scope::Manage)?;
        let video = reel(ctx)
            .videos
            .transcode_uri(
                (caller.app_id, &caller.app_key),
                &src,
                dst.as_deref(),
                priority,
            )
            .await
            .map_err(gql)?;
        Ok(VideoObject(video))
    }

    /// Transcodes again; the current renditions keep playing until the new ones replace them.
    async fn retranscode(&self, ctx: &Context<'_>, id: ID) -> Result<VideoObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = video_id(&id)?;
        let video = reel(ctx)
            .videos
            .transcode((caller.app_id, &caller.app_key), id, None)
            .await
            .map_err(gql)?;
        Ok(VideoObject(video))
    }

    /// A JWT for browsers, scoped to the caller's app and to `scopes` (every scope but
    /// `MANAGE` when none are named). Defaults to the configured TTL; a token-authenticated
    /// caller gets no token outliving its own, nor one with scopes it lacks.
    async fn create_token(
        &self,
        ctx: &Context<'_>,
        ttl_seconds: Option<i32>,
        scopes: Option<Vec<GqlTokenScope>>,
    ) -> Result<TokenObject> {
        let caller = caller(ctx)?;
        let scopes = scopes.map(|s| Scopes::of(s.into_iter().map(Scope::from)));
        let token = reel(ctx)
            .auth
            .issue_token(caller, ttl_seconds.map(i64::from), scopes)
            .await
            .map_err(gql)?;
        Ok(TokenObject {
            token: token.token,
            expires_at: token.expires_at,
        })
    }
}
