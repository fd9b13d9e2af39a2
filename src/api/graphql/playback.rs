//! GraphQL views of play URLs.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use super::enums::GqlDefinition;
use crate::delivery::PlayUrl;

/// Signed URLs of a video's HLS master playlist through one CDN.
#[derive(SimpleObject)]
#[graphql(name = "PlayUrl")]
pub struct PlayUrlObject {
    /// The master playlist, ready for a player (hls.js, AVPlayer, ExoPlayer, ffmpeg).
    pub url: String,
    /// The CDN it goes through.
    pub cdn: String,
    pub expires_at: DateTime<Utc>,
    /// The same playlist through the other enabled CDNs, in preference order.
    pub fallbacks: Vec<CdnUrlObject>,
    /// One media playlist per rendition, through the same CDN.
    pub definitions: Vec<DefinitionUrlObject>,
}

#[derive(SimpleObject)]
#[graphql(name = "CdnUrl")]
pub struct CdnUrlObject {
    pub cdn: String,
    pub url: String,
}

#[derive(SimpleObject)]
#[graphql(name = "DefinitionUrl")]
pub struct DefinitionUrlObject {
    pub definition: GqlDefinition,
    pub url: String,
}

impl From<PlayUrl> for PlayUrlObject {
    fn from(p: PlayUrl) -> Self {
        Self {
            url: p.url,
            cdn: p.cdn,
            expires_at: p.expires_at,
            fallbacks: p
                .fallbacks
                .into_iter()
                .map(|(cdn, url)| CdnUrlObject { cdn, url })
                .collect(),
            definitions: p
                .definitions
                .into_iter()
                .map(|(d, url)| DefinitionUrlObject {
                    definition: d.into(),
                    url,
                })
                .collect(),
        }
    }
}
