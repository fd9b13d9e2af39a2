//! The one video state machine (docs/architecture.md, "Status"): names, storage and legal
//! transitions. `video::lifecycle` is the one place that moves a video along it.

use std::fmt;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VideoStatus {
    Uploading,
    Uploaded,
    UploadFailed,
    TranscodeQueued,
    Transcoding,
    Transcoded,
    TranscodeFailed,
    Playable,
}

impl VideoStatus {
    pub const ALL: [VideoStatus; 8] = [
        Self::Uploading,
        Self::Uploaded,
        Self::UploadFailed,
        Self::TranscodeQueued,
        Self::Transcoding,
        Self::Transcoded,
        Self::TranscodeFailed,
        Self::Playable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "UPLOADING",
            Self::Uploaded => "UPLOADED",
            Self::UploadFailed => "UPLOAD_FAILED",
            Self::TranscodeQueued => "TRANSCODE_QUEUED",
            Self::Transcoding => "TRANSCODING",
            Self::Transcoded => "TRANSCODED",
            Self::TranscodeFailed => "TRANSCODE_FAILED",
            Self::Playable => "PLAYABLE",
        }
    }

    /// The states from which the machine allows reaching `next`.
    pub fn predecessors(next: VideoStatus) -> Vec<VideoStatus> {
        Self::ALL
            .into_iter()
            .filter(|from| from.can_become(next))
            .collect()
    }

    /// Whether the machine allows moving from `self` to `next`.
    pub fn can_become(self, next: VideoStatus) -> bool {
        use VideoStatus::*;
        matches!(
            (self, next),
            (Uploading, Uploaded | UploadFailed)
                | (
                    Uploaded | Transcoded | TranscodeFailed | Playable,
                    TranscodeQueued
                )
                | (TranscodeQueued, Transcoding)
                // A crashed or retried attempt goes back to the queue.
                | (Transcoding, TranscodeQueued | Transcoded | TranscodeFailed)
                | (Transcoded, Playable)
        )
    }
}

impl fmt::Display for VideoStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown video status {0:?}")]
pub struct UnknownStatus(String);

impl FromStr for VideoStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl ToSql<Text, Pg> for VideoStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for VideoStatus {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Ok(text.parse()?)
    }
}

#[cfg(test)]
mod tests {
    use super::VideoStatus::{self, *};

    #[test]
    fn names_round_trip() {
        for status in VideoStatus::ALL {
            assert_eq!(status.as_str().parse::<VideoStatus>().unwrap(), status);
        }
        assert!("DELETED".parse::<VideoStatus>().is_err());
    }

    #[test]
    fn transitions_follow_design() {
        assert!(Uploading.can_become(Uploaded));
        assert!(Uploading.can_become(UploadFailed));
        assert!(Playable.can_become(TranscodeQueued));
        assert!(Transcoded.can_become(Playable));
        assert!(!Uploading.can_become(TranscodeQueued));
        assert!(!UploadFailed.can_become(TranscodeQueued));
        assert!(!TranscodeQueued.can_become(Playable));
        assert!(!Playable.can_become(Uploading));
    }
}
