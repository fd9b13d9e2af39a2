//! Where things are stored. Keys are built only from ids, never from client input.

use crate::ids::VideoId;

/// The uploaded bytes of a source video (shared by instant uploads through `unique_id`).
pub fn source_dir(owner: VideoId) -> String {
    format!("sources/{owner}/")
}

/// Everything produced from a source: renditions, playlists, snapshots, sprites.
pub fn output_dir(source: VideoId) -> String {
    format!("videos/{source}/")
}

/// Whether `key` lies in one of Reel's own areas (sources, outputs, staged upload bytes),
/// which clients may never name.
pub fn is_reserved(key: &str) -> bool {
    ["sources/", "videos/", "staging/"]
        .iter()
        .any(|area| key.starts_with(area))
}
