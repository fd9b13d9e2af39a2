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
