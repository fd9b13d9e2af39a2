//! Queries on webhooks, their deliveries and attempts. (`webhook::outbox` records
//! deliveries in the transaction that changes the video.)

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use crate::model::{AppId, VideoId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct WebhookRow {
    pub id: i64,
    pub app_id: AppId,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub app_id: AppId,
    pub event_id: String,
    pub event: String,
    pub video_id: i64,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts, check_for_backend(diesel::pg::Pg))]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    app: AppId,
    url: &str,
    events: &[String],
    secret: &str,
) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::app_id.eq(app),
            webhooks::url.eq(url),
            webhooks::events.eq(events),
            webhooks::secret.eq(secret),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .await
}

/// Every endpoint's `(id, app, stored secret)`.
pub async fn secrets(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(i64, AppId, String)>> {
    webhooks::table
        .select((webhooks::id, webhooks::app_id, webhooks::secret))
        .load(conn)
        .await
}

/// Stores a secret in another form if it is still `old`; false when it changed.
pub async fn replace_secret(
    conn: &mut AsyncPgConnection,
    id: i64,
    old: &str,
    new: &str,
) -> QueryResult<bool> {
    let n = diesel::update(webhooks::table.find(id).filter(webhooks::secret.eq(old)))
        .set(webhooks::secret.eq(new))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn list(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .filter(webhooks::app_id.eq(app))
        .order(webhooks::id.asc())
        .select(WebhookRow::as_select())
        .load(conn)
        .await
}

pub async fn delete(conn: &mut AsyncPgConnection, app: AppId, id: i64) -> QueryResult<bool> {
    let n =
        diesel::delete(webhooks::table.filter(webhooks::id.eq(id).and(webhooks::app_id.eq(app))))
            .execute(conn)
            .await?;
    Ok(n == 1)
}

/// One event for one endpoint, to be sent by a job; returns its id.
pub async fn insert_delivery(
    conn: &mut AsyncPgConnection,
    hook: &WebhookRow,
    video: VideoId,
    event_id: &str,
    event: &str,
    payload: &serde_json::Value,
) -> QueryResult<i64> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(hook.id),
            webhook_deliveries::app_id.eq(hook.app_id),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::event.eq(event),
            webhook_deliveries::video_id.eq(video.0),
            webhook_deliveries::payload.eq(payload),
        ))
        .returning(webhook_deliveries::id)
        .get_result(conn)
        .await
}

/// A delivery with the endpoint it goes to.
pub async fn find_delivery(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<(DeliveryRow, WebhookRow)>> {
    webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), WebhookRow::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Records one POST and the delivery's new state (`delivered`, `pending` or `failed`).
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    delivery: i64,
    status_code: Option<i32>,
    error: Option<&str>,
    duration_ms: i32,
    state: &str,
) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(delivery),
            webhook_attempts::status_code.eq(status_code),
            webhook_attempts::error.eq(error),
            webhook_attempts::duration_ms.eq(duration_ms),
        ))
        .execute(conn)
        .await?;
    let delivered_at = (state == "delivered").then(Utc::now);
    diesel::update(webhook_deliveries::table.find(delivery))
        .set((
            webhook_deliveries::state.eq(state),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest deliveries of an endpoint of `app`.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    app: AppId,
    webhook: i64,
    first: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::app_id.eq(app))
        .order(webhook_deliveries::id.desc())
        .limit(first)
        .select(DeliveryRow::as_select())
        .load(conn)
        .await
}

pub async fn attempts(conn: &mut AsyncPgConnection, delivery: i64) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery))
        .order(webhook_attempts::id.asc())
        .select(AttemptRow::as_select())
        .load(conn)
        .await
}
