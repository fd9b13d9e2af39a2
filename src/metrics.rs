//! Prometheus metrics (`/metrics`): the recorder, and the names every part records
//! under (all prefixed `reel_`), kept here so they are written once. Gauges of what
//! every node shares are read at scrape time (`Reel::refresh_gauges`).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "reel_http_requests_total";
pub const HTTP_DURATION: &str = "reel_http_request_duration_seconds";
pub const UPLOAD_BYTES: &str = "reel_upload_bytes_total";
pub const UPLOADS_STARTED: &str = "reel_uploads_started_total";
pub const UPLOADS_COMPLETED: &str = "reel_uploads_completed_total";
pub const UPLOADS_FAILED: &str = "reel_uploads_failed_total";
pub const UPLOADS_ACTIVE: &str = "reel_uploads_active";
pub const JOBS: &str = "reel_jobs";
pub const TRANSCODE_SECONDS: &str = "reel_transcode_duration_seconds";
pub const TRANSCODE_REALTIME: &str = "reel_transcode_realtime_factor";
pub const PUBLISH_FAILURES: &str = "reel_publish_failures_total";
pub const SUBSCRIPTIONS: &str = "reel_subscriptions";
pub const EVENT_RENDERINGS: &str = "reel_event_renderings_total";
pub const IMAGES_MADE: &str = "reel_images_made_total";
pub const WS_CONNECTIONS: &str = "reel_websockets";
pub const RATE_LIMITED: &str = "reel_rate_limited_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (one per process).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(HTTP_DURATION.into()),
                &[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ],
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(TRANSCODE_SECONDS.into()),
                    &[
                        1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
                    ],
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(TRANSCODE_REALTIME.into()),
                    &[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
                )
            })
            .expect("bucket lists are non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (an embedding program); then ours
        // renders what it was given, which is nothing.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route, method and status");
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by an app's limits (requests, uploads, storage)"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by route"
    );
    describe_counter!(
        UPLOAD_BYTES,
        metrics::Unit::Bytes,
        "Upload bytes received (tus and parts)"
    );
    describe_counter!(UPLOADS_STARTED, "Upload sessions created");
    describe_counter!(UPLOADS_COMPLETED, "Uploads that became videos");
    describe_counter!(UPLOADS_FAILED, "Uploads that ended UPLOAD_FAILED");
    describe_gauge!(
        UPLOADS_ACTIVE,
        "Videos still uploading, all nodes (read at scrape time)"
    );
    describe_gauge!(
        JOBS,
        "Jobs in the queue by kind and state (read at scrape time)"
    );
    describe_histogram!(
        TRANSCODE_SECONDS,
        metrics::Unit::Seconds,
        "Wall time of successful transcodes"
    );
    describe_histogram!(
        TRANSCODE_REALTIME,
        "Seconds of video transcoded per second of wall time"
    );
    describe_counter!(
        PUBLISH_FAILURES,
        "Failed attempts to publish outputs to the origins"
    );
    describe_gauge!(SUBSCRIPTIONS, "Open GraphQL subscriptions on this node");
    describe_counter!(
        EVENT_RENDERINGS,
        "Answers to videoEvents subscriptions rendered: one per event and distinct request on a node, shared by its subscribers"
    );
    describe_counter!(
        IMAGES_MADE,
        "Images made on demand, by how their ffmpeg started (waiting: started ahead; started: for this image)"
    );
    describe_gauge!(
        WS_CONNECTIONS,
        "Open WebSockets on this node (capped by server.ws_max_connections)"
    );
}

/// Decrements a gauge when dropped (an open subscription, an upload in progress).
pub struct GaugeGuard(&'static str);

impl GaugeGuard {
    pub fn new(name: &'static str) -> Self {
        metrics::gauge!(name).increment(1.0);
        Self(name)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}
