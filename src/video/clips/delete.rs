//! Deleting a clip, or a video clips were cut from: an instant clip's playlists go, and
//! a generation goes only when no instant clip plays it any more.

use crate::db;
use crate::db::clips::Clip;
use crate::model::VideoId;
use crate::video::VideoService;

/// Of a deleted instant clip's generation: whether nothing needs it any more (no other
/// clip, and not what its parent plays or is about to play).
async fn generation_unused(
    conn: &mut diesel_async::AsyncPgConnection,
    clip: &Clip,
) -> diesel::QueryResult<Option<String>> {
    let Some(generation) = clip.generation.clone() else {
        return Ok(None);
    };
    if db::clips::generation_in_use(conn, &generation).await? {
        return Ok(None);
    }
    if let Some(parent) = clip.parent_id
        && let Some(parent) = db::videos::find_any(conn, parent).await?
    {
        let current = [parent.generation(), parent.published_generation()];
        if current.iter().flatten().any(|g| g.prefix() == generation) {
            return Ok(None);
        }
    }
    Ok(Some(generation))
}

/// What deleting a video means for clips: an instant clip's playlists (and its parent's
/// generation when nothing else needs it) go; a parent's generations its instant clips
/// point into stay.
pub(in crate::video) struct Deleting {
    clip: Option<Clip>,
    kept: Vec<String>,
    unused: Option<String>,
}

impl Deleting {
    /// Read before the rows go.
    pub(in crate::video) async fn before(
        conn: &mut diesel_async::AsyncPgConnection,
        id: VideoId,
    ) -> diesel::QueryResult<Self> {
        Ok(Self {
            clip: db::clips::find(conn, id).await?.filter(|c| !c.precise),
            kept: db::clips::generations_of_parent(conn, id).await?,
            unused: None,
        })
    }

    /// Read after, in the same transaction.
    pub(in crate::video) async fn after(
        mut self,
        conn: &mut diesel_async::AsyncPgConnection,
    ) -> diesel::QueryResult<Self> {
        if let Some(clip) = &self.clip {
            self.unused = generation_unused(conn, clip).await?;
        }
        Ok(self)
    }
}

impl VideoService {
    /// The directories to remove for a deleted video, given what its clips need.
    pub(in crate::video) async fn without_clipped(
        &self,
        deleting: Deleting,
        dirs: Vec<String>,
    ) -> Vec<String> {
        if let Some(clip) = &deleting.clip {
            self.remove_files(&clip.files).await;
        }
        let mut out: Vec<String> = Vec::new();
        for dir in dirs {
            let inside = |g: &String| g.starts_with(&dir) && *g != dir;
            if deleting.kept.contains(&dir) {
                continue;
            }
            if !deleting.kept.iter().any(inside) {
                out.push(dir);
                continue;
            }
            // Remove the rest of the directory around the generations clips still play.
            match self.storage.children(&dir).await {
                Ok(children) => out.extend(
                    children
                        .into_iter()
                        .filter(|c| !deleting.kept.iter().any(|g| g.starts_with(c.as_str()))),
                ),
                Err(e) => {
                    tracing::warn!(dir, error = %e, "could not list a deleted video's outputs")
                }
            }
        }
        out.extend(deleting.unused);
        out
    }
}
