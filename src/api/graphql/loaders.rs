//! Batched reads of what each video in a result has (renditions, snapshots): a page of
//! videos costs one query per field, not one per video (async-graphql's DataLoader
//! gathers the keys of one execution step).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};

use super::errors::gql;
use crate::model::VideoId;
use crate::video::{Snapshot, Video, VideoService};

pub struct Renditions(VideoService);
pub struct Snapshots(VideoService);

impl Loader<VideoId> for Renditions {
    type Value = Vec<Video>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[VideoId]) -> Result<HashMap<VideoId, Vec<Video>>, Self::Error> {
        self.0.renditions_by_source(keys).await.map_err(gql)
    }
}

impl Loader<VideoId> for Snapshots {
    type Value = Vec<Snapshot>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[VideoId]) -> Result<HashMap<VideoId, Vec<Snapshot>>, Self::Error> {
        self.0.snapshots_by_video(keys).await.map_err(gql)
    }
}

/// The loaders a schema serves requests with. They keep no cache between loads, so one
/// pair serves every request (a video is never read stale).
pub fn loaders(videos: &VideoService) -> (DataLoader<Renditions>, DataLoader<Snapshots>) {
    (
        DataLoader::new(Renditions(videos.clone()), tokio::spawn),
        DataLoader::new(Snapshots(videos.clone()), tokio::spawn),
    )
}
