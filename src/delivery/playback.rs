//! Choosing a CDN for a viewer and signing the URLs a player needs.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cdn::{Cdn, signer};
use super::error::DeliveryError;
use super::origins::Origins;
use super::playlist::{self, UriMapper};
use super::signing::SigningScheme;
use super::token::MediaToken;
use crate::config::delivery::{BUILTIN_CDN, CdnConfig, DeliveryConfig};
use crate::db::models::Video;
use crate::model::{Definition, Generation, VideoStatus, random_id, routes};

/// Signed URLs of one video for one CDN.
#[derive(Debug, Clone)]
pub struct PlayUrl {
    pub cdn: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// The same master playlist through the other enabled CDNs, in preference order.
    pub fallbacks: Vec<(String, String)>,
    /// Media playlist of each rendition, through the chosen CDN.
    pub definitions: Vec<(Definition, String)>,
}

#[derive(Clone)]
pub struct Delivery {
    inner: Arc<Inner>,
}

struct Inner {
    cdns: Vec<Cdn>,
    policy: String,
    default_ttl: i64,
    max_ttl: i64,
    key: Vec<u8>,
    /// `{public}/media`: where Reel serves playlists and the built-in origin.
    media_base: String,
    origins: Origins,
    media_origin: String,
}

impl Delivery {
    pub fn new(config: &DeliveryConfig, origins: Origins, key: Vec<u8>, public_base: &str) -> Self {
        let media_base = format!("{public_base}{}", routes::MEDIA);
        let mut cdns: Vec<Cdn> = Vec::new();
        let builtin_configured = config.cdns.contains_key(BUILTIN_CDN);
        let media_origin_is_fs = origins
            .get(&config.media_origin)
            .is_some_and(|o| o.fs_root.is_some());
        if !builtin_configured && media_origin_is_fs {
            cdns.push(Cdn {
                name: BUILTIN_CDN.into(),
                base_url: media_base.clone(),
                origin: config.media_origin.clone(),
                weight: 1,
                cost_per_gb: 0.0,
                // With CDNs configured, the built-in origin is their fallback, not a peer.
                enabled: true,
                signer: signer(&CdnConfig {
                    scheme: SigningScheme::Hmac,
                    ..CdnConfig::default()
                }),
            });
        }
        for (name, cfg) in &config.cdns {
            let base = if cfg.base_url.is_empty() {
                media_base.clone()
            } else {
                cfg.base_url.trim_end_matches('/').to_string()
            };
            cdns.push(Cdn {
                name: name.clone(),
                base_url: base,
                origin: cfg.origin.clone(),
                weight: cfg.weight,
                cost_per_gb: cfg.cost_per_gb,
                enabled: cfg.enabled,
                signer: signer(cfg),
            });
        }
        // A configured CDN takes viewers before the built-in origin does.
        if cdns.len() > 1 && !builtin_configured {
            cdns[0].weight = 0;
            cdns[0].cost_per_gb = f64::INFINITY;
        }
        Self {
            inner: Arc::new(Inner {
                cdns,
                policy: config.policy.clone(),
                default_ttl: config.url_ttl_secs,
                max_ttl: config.max_url_ttl_secs,
                key,
                media_base,
                origins,
                media_origin: config.media_origin.clone(),
            }),
        }
    }

    pub fn origins(&self) -> &Origins {
        &self.inner.origins
    }

    /// Directory `/media/` serves, when the media origin is on local disk.
    pub fn media_root(&self) -> Option<&std::path::Path> {
        self.inner
            .origins
            .get(&self.inner.media_origin)
            .and_then(|o| o.fs_root.as_deref())
    }

    pub fn key(&self) -> &[u8] {
        &self.inner.key
    }

    pub fn cdn(&self, name: &str) -> Option<&Cdn> {
        self.inner.cdns.iter().find(|c| c.name == name)
    }

    /// The CDN for `viewer` and the others in preference order. `requested` wins.
    pub fn choose(
        &self,
        requested: Option<&str>,
        viewer: &str,
    ) -> Result<Vec<&Cdn>, DeliveryError> {
        super::choice::choose(&self.inner.cdns, &self.inner.policy, requested, viewer)
    }

    fn expiry(&self, expires_in: Option<i64>) -> Result<i64, DeliveryError> {
        let ttl = expires_in.unwrap_or(self.inner.default_ttl);
        if ttl < 1 || ttl > self.inner.max_ttl {
            return Err(DeliveryError::BadTtl(self.inner.max_ttl));
        }
        Ok(Utc::now().timestamp() + ttl)
    }

    /// Play URLs of a source video: published renditions only.
    pub fn play_url(
        &self,
        video: &Video,
        renditions: &[Video],
        requested: Option<&str>,
        expires_in: Option<i64>,
        viewer: &str,
    ) -> Result<PlayUrl, DeliveryError> {
        let (generation, master) =
            published_master(video).ok_or(DeliveryError::NotPlayable(video.status))?;
        let expires_at = self.expiry(expires_in)?;
        let cdns = self.choose(requested, &format!("{viewer}/{}", video.id))?;
        let url =
            |cdn: &Cdn, key: &str| self.playlist_url(cdn, generation.prefix(), key, expires_at);
        let chosen = cdns[0];
        // Renditions listed are the published generation's only.
        let definitions = renditions
            .iter()
            .filter(|r| generation.contains(&r.storage_uri))
            .filter_map(|r| Some((r.definition?, url(chosen, &r.storage_uri).ok()?)))
            .collect();
        Ok(PlayUrl {
            cdn: chosen.name.clone(),
            url: url(chosen, &master)?,
            expires_at: DateTime::from_timestamp(expires_at, 0).unwrap_or_default(),
            fallbacks: cdns[1..]
                .iter()
                .filter_map(|c| Some((c.name.clone(), url(c, &master).ok()?)))
                .collect(),
            definitions,
        })
    }

    /// A playlist's URL through `cdn`. With `none` and `hmac` the CDN serves playlists and
    /// segments; with per-file schemes Reel serves the playlists (rewritten per viewer)
    /// and the CDN the segments.
    fn playlist_url(
        &self,
        cdn: &Cdn,
        generation: &str,
        key: &str,
        exp: i64,
    ) -> Result<String, DeliveryError> {
        let token = |cdn_name: &str| MediaToken {
            expires_at: exp,
            scope: format!("/{generation}"),
            cdn: cdn_name.to_string(),
        };
        Ok(match cdn.signer.scheme {
            SigningScheme::None => format!("{}/{key}", cdn.base_url),
            SigningScheme::Hmac => format!(
                "{}/{key}?{}",
                cdn.base_url,
                token("").query(&self.inner.key)
            ),
            _ => format!(
                "{}/{key}?{}",
                self.inner.media_base,
                token(&cdn.name).query(&self.inner.key)
            ),
        })
    }

    /// URL of one published file (snapshot, sprite, WebVTT): through the built-in origin
    /// when there is one, else through the preferred CDN. The token opens its directory.
    pub fn file_url(&self, key: &str) -> Option<String> {
        let dir = key.rsplit_once('/').map(|(d, _)| format!("{d}/"))?;
        let exp = Utc::now().timestamp() + self.inner.default_ttl;
        let cdn = self
            .cdn(BUILTIN_CDN)
            .filter(|c| c.enabled)
            .or_else(|| self.choose(None, key).ok()?.into_iter().next())?;
        match cdn.signer.scheme {
            SigningScheme::None | SigningScheme::Hmac => {
                self.playlist_url(cdn, &dir, key, exp).ok()
            }
            _ => cdn
                .signer
                .sign(&cdn.base_url, &format!("/{key}"), exp, &random_id())
                .ok(),
        }
    }

    /// URL of a download: `file_url`, and the file name the built-in origin puts in its
    /// `Content-Disposition` (other CDNs ignore it).
    pub fn download_url(&self, key: &str, file_name: &str) -> Option<String> {
        let url = self.file_url(key)?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let name: String = url::form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
        Some(format!("{url}{sep}filename={name}"))
    }

    /// A URL of Reel's own `/media/` for `relative` (a file under the video's published
    /// generation, such as an image made on demand) with `query`, signed for the
    /// generation with the default lifetime; `None` while nothing is published. Never
    /// through a CDN's scheme: only Reel makes what it names.
    pub fn generation_url(&self, video: &Video, relative: &str, query: &str) -> Option<String> {
        let (generation, master) = published_master(video)?;
        // An instant clip plays its parent's generation: its images would be the parent's.
        Generation::of_master(&master)?;
        let token = MediaToken {
            expires_at: Utc::now().timestamp() + self.inner.default_ttl,
            scope: format!("/{}", generation.prefix()),
            cdn: String::new(),
        };
        let sep = if query.is_empty() { "" } else { "&" };
        Some(format!(
            "{}/{}{relative}?{query}{sep}{}",
            self.inner.media_base,
            generation.prefix(),
            token.query(&self.inner.key)
        ))
    }

    /// A playlist from the media origin, rewritten for the holder of `token`.
    pub fn rewrite_playlist(
        &self,
        body: &str,
        path: &str,
        token: &MediaToken,
    ) -> Result<String, DeliveryError> {
        let dir = path
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        let dir = dir.trim_start_matches('/');
        let cdn = match token.cdn.as_str() {
            "" => None,
            name => Some(
                self.cdn(name)
                    .ok_or_else(|| DeliveryError::UnknownCdn(name.into()))?,
            ),
        };
        let mapper = Mapper {
            query: token.query(&self.inner.key),
            cdn: cdn.filter(|c| c.signer.scheme.signs_each_file()),
            expires_at: token.expires_at,
        };
        Ok(playlist::rewrite(body, dir, &mapper))
    }
}

struct Mapper<'a> {
    query: String,
    cdn: Option<&'a Cdn>,
    expires_at: i64,
}

impl UriMapper for Mapper<'_> {
    fn map(&self, uri: &str, resolved: &str) -> String {
        match self.cdn {
            // Playlists and the key stay with Reel: the key only for the token's holder.
            Some(cdn) if !resolved.ends_with(".m3u8") && !is_key(resolved) => cdn
                .signer
                .sign(
                    &cdn.base_url,
                    &format!("/{resolved}"),
                    self.expires_at,
                    &random_id(),
                )
                .unwrap_or_else(|e| {
                    tracing::warn!(cdn = %cdn.name, error = %e, "cannot sign a segment URL");
                    uri.to_string()
                }),
            _ => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                format!("{uri}{sep}{}", self.query)
            }
        }
    }
}

/// Whether `path` names an encrypted playlist's key (served by Reel, never stored).
pub fn is_key(path: &str) -> bool {
    path.rsplit('/').next() == Some(crate::model::layout::KEY_FILE)
}

/// The generation players may be given and the master playlist in it (the generation's,
/// or an instant clip's beside it): published, and the video not failed or gone.
fn published_master(video: &Video) -> Option<(Generation, String)> {
    use VideoStatus::*;
    match video.status {
        Playable | TranscodeQueued | Transcoding | Transcoded => {
            let master = video.published_uri.clone()?;
            Some((Generation::of_playlist(&master)?, master))
        }
        _ => None,
    }
}
