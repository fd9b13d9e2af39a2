//! The vocabulary every layer shares: ids, the video status machine, rendition levels,
//! what a probe learns about a file, where things are stored and served. It imports nothing of
//! Reel, so everything may import it (docs/architecture.md, "Layers").

mod definition;
mod ids;
pub mod layout;
mod media_info;
pub mod routes;
mod status;
mod tracks;
mod watermark;

pub use definition::{Definition, UnknownDefinition};
pub use ids::{AppId, JobId, UploadId, VideoId, WatermarkId, random_id};
pub use layout::Generation;
pub use media_info::{AudioStream, MediaInfo, VideoStream};
pub use status::{UnknownStatus, VideoStatus};
pub use tracks::{AudioTrack, MediaKind, TextTrackKind, UnknownTrackKind};
pub use watermark::{UnknownPosition, WatermarkChoice, WatermarkPosition};
