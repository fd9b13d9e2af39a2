//! Text and audio tracks in GraphQL (DESIGN §14): `Video.textTracks`, `Video.audioTracks`,
//! `Video.kind`, `Video.encrypted`, `addTextTrack`, `deleteTextTrack`.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::errors::{allowed, coded, gql, reel, video_id as video_id_of};
use crate::auth::Scope;
use crate::db::models::{AddedAudio, TextTrack};
use crate::error::ErrorCode;
use crate::media::subtitles::SubtitleLimits;
use crate::model::{AudioTrack, MediaKind, TextTrackKind};
use crate::video::tracks::TextTrackInput;
use crate::video::{Video, VideoService};

/// Pictures and sound, or sound only.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "MediaKind", remote = "MediaKind")]
pub enum GqlMediaKind {
    Video,
    Audio,
}

/// Subtitles translate the dialogue; captions also describe the sounds.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "TextTrackKind", remote = "TextTrackKind")]
pub enum GqlTextTrackKind {
    Subtitles,
    Captions,
}

/// A subtitles or captions track of a video.
pub struct TextTrackObject {
    track: TextTrack,
    /// Its media playlist, signed; none before the video is published.
    url: Option<String>,
}

impl TextTrackObject {
    pub fn new(track: TextTrack, video: &Video, videos: &VideoService) -> Self {
        let url = videos.text_track_url(video, track.id);
        Self { track, url }
    }
}

#[Object(name = "TextTrack")]
impl TextTrackObject {
    async fn id(&self) -> ID {
        ID(self.track.id.to_string())
    }
    /// BCP 47 language tag (`fr`, `pt-BR`).
    async fn language(&self) -> &str {
        &self.track.language
    }
    async fn name(&self) -> &str {
        &self.track.name
    }
    async fn kind(&self) -> GqlTextTrackKind {
        self.track.track_kind().into()
    }
    /// Players show it unless the viewer chose another.
    async fn default(&self) -> bool {
        self.track.is_default
    }
    /// Number of cues.
    async fn cues(&self) -> i32 {
        self.track.cues
    }
    /// Signed URL of its HLS media playlist (WebVTT); null until the video is published.
    async fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

/// One audio rendition: a language of the source, or a track added from an audio file.
#[derive(SimpleObject)]
#[graphql(name = "AudioTrack")]
pub struct AudioTrackObject {
    /// An added track's id (for `deleteAudioTrack`); null for the source's own.
    id: Option<ID>,
    /// ISO 639 / BCP 47 code (from the source's tags, or as added); null when unknown.
    language: Option<String>,
    name: String,
    default: bool,
}

impl From<AudioTrack> for AudioTrackObject {
    fn from(t: AudioTrack) -> Self {
        Self {
            id: None,
            language: t.language,
            name: t.name,
            default: t.default,
        }
    }
}

impl From<AddedAudio> for AudioTrackObject {
    fn from(t: AddedAudio) -> Self {
        Self {
            id: Some(ID(t.id.to_string())),
            language: Some(t.language),
            name: t.name,
            default: false,
        }
    }
}

/// The tracks of a source, read by `VideoObject`.
pub async fn text_tracks(ctx: &Context<'_>, video: &Video) -> Result<Vec<TextTrackObject>> {
    let reel = reel(ctx);
    let tracks = reel
        .videos
        .tracks()
        .list(video.app_id, video.id)
        .await
        .map_err(gql)?;
    Ok(tracks
        .into_iter()
        .map(|t| TextTrackObject::new(t, video, &reel.videos))
        .collect())
}

/// The audio renditions of a source: its own (once probed), then those added.
pub async fn audio_tracks(ctx: &Context<'_>, video: &Video) -> Result<Vec<AudioTrackObject>> {
    let mut out: Vec<AudioTrackObject> = match video.info() {
        Some(info) => AudioTrack::of_info(&info)
            .into_iter()
            .map(Into::into)
            .collect(),
        None => Vec::new(),
    };
    let added = reel(ctx)
        .videos
        .tracks()
        .added_audio(video.app_id, video.id)
        .await
        .map_err(gql)?;
    out.extend(added.into_iter().map(AudioTrackObject::from));
    Ok(out)
}

#[derive(Default)]
pub struct TrackMutation;

#[Object]
impl TrackMutation {
    /// Adds a subtitles or captions track to a video (WebVTT or SRT in `content`, or
    /// `uploadId`: a finished tus upload made with `textTrackFor`), or replaces its track
    /// of the same language and kind. The master playlist lists it at once, while or
    /// after the video transcodes; nothing is re-encoded.
    #[allow(clippy::too_many_arguments)] // the contract's arguments (DESIGN §14)
    async fn add_text_track(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        language: String,
        name: Option<String>,
        #[graphql(default_with = "Some(GqlTextTrackKind::Subtitles)")] kind: Option<
            GqlTextTrackKind,
        >,
        #[graphql(default_with = "Some(false)")] default: Option<bool>,
        content: Option<String>,
        upload_id: Option<ID>,
    ) -> Result<TextTrackObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = video_id_of(&video_id)?;
        let reel = reel(ctx);
        let tracks = reel.videos.tracks();
        let kind = kind.unwrap_or(GqlTextTrackKind::Subtitles);
        let default = default.unwrap_or(false);
        let track = match (content, upload_id) {
            (Some(content), None) => {
                let input = TextTrackInput {
                    video: id,
                    language,
                    name,
                    kind: kind.into(),
                    default,
                    content: content.into_bytes(),
                };
                tracks
                    .add(caller.app_id, input, SubtitleLimits::default())
                    .await
                    .map_err(gql)?
            }
            (None, Some(upload)) => {
                let language = crate::video::tracks::check_language(&language).map_err(gql)?;
                let uploaded = reel
                    .uploads
                    .text_track_of(caller.app_id, upload.as_str(), id)
                    .await
                    .map_err(gql)?;
                tracks
                    .list(caller.app_id, id)
                    .await
                    .map_err(gql)?
                    .into_iter()
                    .find(|t| t.language == language && t.track_kind() == TextTrackKind::from(kind))
                    .filter(|_| uploaded)
                    .ok_or_else(|| {
                        coded(
                            ErrorCode::NotFound,
                            "no text track of this language and kind came from that upload",
                        )
                    })?
            }
            _ => {
                return Err(coded(
                    ErrorCode::BadRequest,
                    "give either content or uploadId",
                ));
            }
        };
        let video = reel
            .videos
            .get(caller.app_id, id)
            .await
            .map_err(gql)?
            .ok_or_else(|| coded(ErrorCode::NotFound, "video not found"))?;
        Ok(TextTrackObject::new(track, &video, &reel.videos))
    }

    /// The audio track a finished tus upload made (metadata `audioTrackFor` = the video,
    /// `language`, `name`): it is encoded into the video's playlists in the background.
    async fn add_audio_track(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        upload_id: ID,
    ) -> Result<AudioTrackObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = video_id_of(&video_id)?;
        let reel = reel(ctx);
        reel.videos
            .tracks()
            .added_audio_of_upload(caller.app_id, id, upload_id.as_str())
            .await
            .map_err(gql)?
            .map(AudioTrackObject::from)
            .ok_or_else(|| {
                coded(
                    ErrorCode::NotFound,
                    "no audio track of this video came from that upload (tus metadata \
                     audioTrackFor, and the upload finished)",
                )
            })
    }

    /// Deletes an added audio track; false when there is no such track.
    async fn delete_audio_track(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id: i64 = id
            .parse()
            .map_err(|_| coded(ErrorCode::BadRequest, "not an audio track id"))?;
        reel(ctx)
            .videos
            .tracks()
            .delete_audio(caller.app_id, id)
            .await
            .map_err(gql)
    }

    /// Deletes a text track; false when there is no such track.
    async fn delete_text_track(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id: i64 = id
            .parse()
            .map_err(|_| coded(ErrorCode::BadRequest, "not a text track id"))?;
        reel(ctx)
            .videos
            .tracks()
            .delete(caller.app_id, id)
            .await
            .map_err(gql)
    }
}
