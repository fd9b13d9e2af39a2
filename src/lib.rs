//! Reel: a self-hostable video-on-demand backend (uploads, storage, HLS transcoding,
//! signed playback, GraphQL). `main.rs` is the CLI; everything else lives here.

pub mod api;
pub mod apps;
pub mod auth;
pub mod client;
pub mod config;
pub mod context;
pub mod db;
pub mod delivery;
pub mod error;
pub mod events;
pub mod ids;
pub mod jobs;
pub mod kv;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod storage;
pub mod telemetry;
pub mod upload;
pub mod video;
pub mod webhook;

pub use context::Reel;
