//! Where things are stored. Keys are built only from ids, never from client input
//! (a client's `dst` prefix is validated before it becomes a `Generation`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{AppId, JobId, UploadId, VideoId};

/// File name of a generation's HLS master playlist.
pub const MASTER: &str = "master.m3u8";

/// The name an encrypted media playlist gives its key (relative): never a stored file;
/// the origin answers it from the database for a viewer whose token opens the generation.
pub const KEY_FILE: &str = "enc.key";

/// The uploaded bytes of a source video (shared by instant uploads through `unique_id`).
pub fn source_dir(owner: VideoId) -> String {
    format!("sources/{owner}/")
}

/// The key of a source's stored bytes.
pub fn source_key(owner: VideoId) -> String {
    format!("{}source", source_dir(owner))
}

/// Everything produced from a source: renditions, playlists, snapshots, sprites.
pub fn output_dir(source: VideoId) -> String {
    format!("videos/{source}/")
}

/// The source's video cut into chunks for transcode job `job` (deleted with the video).
pub fn chunk_dir(source: VideoId, job: JobId) -> String {
    format!("{}chunks/{job}/", output_dir(source))
}

/// Chunk `index` of `chunk_dir`.
pub fn chunk_key(source: VideoId, job: JobId, index: u32) -> String {
    format!("{}chunk_{index:05}.nut", chunk_dir(source, job))
}

/// Where an app's own `transcodeUri` keys live: every key it names (but the import
/// area's) is read and written under this prefix, so no app can name another's files.
pub fn app_area(app: AppId) -> String {
    format!("apps/{app}/")
}

/// An overlay image of an app's watermark profiles (`name`: random, with the image's
/// extension): each new image gets a new key, so a transcode that is reading the old one
/// never reads half of the new.
pub fn watermark_key(app: AppId, name: &str) -> String {
    format!("{}watermarks/{name}", app_area(app))
}

/// An image uploaded through tus for a watermark profile (`watermarkImage`), until
/// `createWatermark(uploadId:)` or `updateWatermark` takes it.
pub fn watermark_upload_key(app: AppId, upload: &UploadId) -> String {
    format!("{}watermarks/uploads/{upload}", app_area(app))
}

/// Whether `key` (or prefix) lies in, or is, one of Reel's own areas (sources, outputs,
/// staged upload bytes, the apps' areas), which clients may never name directly.
pub fn is_reserved(key: &str) -> bool {
    let key = key.trim_start_matches('/');
    ["sources", "videos", "staging", "apps"].iter().any(|area| {
        key.strip_prefix(area)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The outputs of one transcode: every file under one prefix, the master playlist at its
/// top. A retranscode writes a new generation beside the old one, so players holding the
/// old playlists keep working until it is purged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Generation(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a generation prefix")]
pub struct NotAGeneration(String);

impl Generation {
    /// The generation transcode job `job` writes for `video`: under `dst` (a validated
    /// prefix ending in `/`) when the client chose one, else under the video's output dir.
    pub fn new(dst: Option<&str>, video: VideoId, job: JobId) -> Self {
        match dst {
            Some(dst) => Self(format!("{dst}{video}/{job}/")),
            None => Self(format!("{}{job}/", output_dir(video))),
        }
    }

    /// The generation whose master playlist is `master_key`.
    pub fn of_master(master_key: &str) -> Option<Self> {
        master_key
            .strip_suffix(MASTER)
            .and_then(|prefix| Self::try_from(prefix.to_string()).ok())
    }

    /// The generation a top-level playlist (its master, or an instant clip's) sits in.
    pub fn of_playlist(key: &str) -> Option<Self> {
        let (dir, _) = key.rsplit_once('/')?;
        Self::try_from(format!("{dir}/")).ok()
    }

    /// The prefix every key of the generation starts with (ends with `/`).
    pub fn prefix(&self) -> &str {
        &self.0
    }

    /// The key of `relative` (a path inside the generation).
    pub fn key(&self, relative: &str) -> String {
        format!("{}{relative}", self.0)
    }

    pub fn master(&self) -> String {
        self.key(MASTER)
    }

    pub fn contains(&self, key: &str) -> bool {
        key.starts_with(&self.0)
    }

    /// The video whose outputs it would hold, read from its shape (`…/{video}/{job}/`,
    /// as `new` makes it); the caller checks the video does hold it.
    pub fn video(&self) -> Option<VideoId> {
        let mut dirs = self.0.trim_end_matches('/').rsplit('/');
        let _job: i64 = dirs.next()?.parse().ok()?;
        let id: i64 = dirs.next()?.parse().ok()?;
        (id > 0).then_some(VideoId(id))
    }
}

impl TryFrom<String> for Generation {
    type Error = NotAGeneration;

    /// A relative prefix ending in `/` with no empty, `.` or `..` segment.
    fn try_from(prefix: String) -> Result<Self, Self::Error> {
        let ok = prefix.strip_suffix('/').is_some_and(|dirs| {
            dirs.split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..")
        });
        if ok {
            Ok(Self(prefix))
        } else {
            Err(NotAGeneration(prefix))
        }
    }
}

impl From<Generation> for String {
    fn from(g: Generation) -> Self {
        g.0
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_round_trip_through_their_master() {
        let g = Generation::new(None, VideoId(7), JobId(42));
        assert_eq!(g.prefix(), "videos/7/42/");
        assert_eq!(g.master(), "videos/7/42/master.m3u8");
        assert_eq!(Generation::of_master(&g.master()), Some(g.clone()));
        assert!(g.contains("videos/7/42/HD/index.m3u8"));
        assert!(!g.contains("videos/7/4/HD/index.m3u8"));
        let dst = Generation::new(Some("exports/a/"), VideoId(7), JobId(42));
        assert_eq!(dst.master(), "exports/a/7/42/master.m3u8");
        assert_eq!(
            (g.video(), dst.video()),
            (Some(VideoId(7)), Some(VideoId(7)))
        );
        for other in [
            "videos/7/",
            "videos/x/42/",
            "videos/7/42/HD/",
            "videos/0/1/",
        ] {
            assert_eq!(
                Generation::try_from(other.to_string()).unwrap().video(),
                None
            );
        }
    }

    #[test]
    fn reserved_areas_however_written() {
        for key in [
            "sources",
            "sources/",
            "staging/x",
            "videos",
            "apps/1/x",
            "/staging/",
        ] {
            assert!(is_reserved(key), "{key}");
        }
        for key in ["imports/a.mp4", "sourcesx/a", "exports/videos/a"] {
            assert!(!is_reserved(key), "{key}");
        }
    }

    #[test]
    fn only_plain_relative_prefixes() {
        for bad in ["", "/", "a", "/a/", "a//", "../a/", "a/../b/", "./a/"] {
            assert!(Generation::try_from(bad.to_string()).is_err(), "{bad:?}");
        }
        assert_eq!(Generation::of_master("videos/1/2/index.m3u8"), None);
    }
}
