//! Webhook endpoints of the caller's app, and what was sent to them (docs/api.md, "Webhooks").

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::{allowed, coded, gql, reel};
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::webhook::{AttemptRow, DeliveryRow, WebhookRow};

fn webhook_id(id: &ID) -> Result<i64> {
    id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        coded(
            ErrorCode::BadRequest,
            format!("{:?} is not a webhook id", id.as_str()),
        )
    })
}

/// An endpoint; its secret shows only in the answer that created it.
pub struct WebhookObject {
    row: WebhookRow,
    secret_shown: bool,
}

#[Object(name = "Webhook")]
impl WebhookObject {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    async fn url(&self) -> &str {
        &self.row.url
    }
    /// Event names it receives; empty means every event.
    async fn events(&self) -> &[String] {
        &self.row.events
    }
    /// Verifies `Reel-Signature`: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    /// Shown once, by `createWebhook`; null afterwards (keep it when you create one).
    async fn secret(&self) -> Option<&str> {
        self.secret_shown.then_some(self.row.secret.as_str())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// The newest deliveries first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<DeliveryObject>> {
        let caller = allowed(ctx, Scope::Manage)?;
        let rows = reel(ctx)
            .webhooks
            .deliveries(caller.app_id, self.row.id, i64::from(first.clamp(1, 100)))
            .await
            .map_err(gql)?;
        Ok(rows.into_iter().map(DeliveryObject).collect())
    }
}

pub struct DeliveryObject(DeliveryRow);

#[Object(name = "WebhookDelivery")]
impl DeliveryObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The same for every endpoint and every retry: receivers dedupe by it.
    async fn event_id(&self) -> &str {
        &self.0.event_id
    }
    async fn event(&self) -> &str {
        &self.0.event
    }
    async fn video_id(&self) -> ID {
        ID(self.0.video_id.to_string())
    }
    /// `pending` (retrying), `delivered` or `failed` (gave up).
    async fn state(&self) -> &str {
        &self.0.state
    }
    async fn payload(&self) -> &serde_json::Value {
        &self.0.payload
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Every POST made, oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<AttemptObject>> {
        let rows = reel(ctx).webhooks.attempts(self.0.id).await.map_err(gql)?;
        Ok(rows.into_iter().map(AttemptObject::from).collect())
    }
}

#[derive(SimpleObject)]
#[graphql(name = "WebhookAttempt")]
pub struct AttemptObject {
    at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it could not be reached.
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i32,
}

impl From<AttemptRow> for AttemptObject {
    fn from(a: AttemptRow) -> Self {
        Self {
            at: a.at,
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The caller's webhook endpoints.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<WebhookObject>> {
        let caller = allowed(ctx, Scope::Manage)?;
        let rows = reel(ctx).webhooks.list(caller.app_id).await.map_err(gql)?;
        let listed = |row| WebhookObject {
            row,
            secret_shown: false,
        };
        Ok(rows.into_iter().map(listed).collect())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for `events` (default: all of `video.uploaded`,
    /// `video.upload_failed`, `video.transcoding`, `video.transcoded`,
    /// `video.transcode_failed`, `video.playable`, `video.ladder_complete`, `video.deleted`).
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        url: String,
        #[graphql(default)] events: Vec<String>,
    ) -> Result<WebhookObject> {
        let caller = allowed(ctx, Scope::Manage)?;
        let row = reel(ctx)
            .webhooks
            .create(caller.app_id, &url, &events)
            .await
            .map_err(gql)?;
        Ok(WebhookObject {
            row,
            secret_shown: true,
        })
    }

    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = allowed(ctx, Scope::Manage)?;
        reel(ctx)
            .webhooks
            .delete(caller.app_id, webhook_id(&id)?)
            .await
            .map_err(gql)?;
        Ok(true)
    }
}
