//! Reel: a self-hostable video-on-demand backend (uploads, storage, HLS transcoding,
//! signed playback, GraphQL). `main.rs` is the CLI; everything else lives here, in the
//! layers docs/architecture.md draws (each module imports only those below it).

pub mod api;
pub mod apps;
pub mod auth;
pub mod client;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod events;
pub mod jobs;
pub mod kv;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod model;
pub mod outbound;
pub mod queue;
pub mod sealing;
pub mod services;
pub mod storage;
pub mod telemetry;
pub mod tls;
pub mod upload;
pub mod video;
pub mod webhook;

pub use services::Reel;
