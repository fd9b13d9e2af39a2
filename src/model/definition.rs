//! Rendition levels of the HLS ladder (docs/architecture.md, "Media").

use std::fmt;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

#[allow(clippy::upper_case_acronyms)] // the industry names of the rungs
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    AsExpression,
    FromSqlRow,
)]
#[diesel(sql_type = Text)]
pub enum Definition {
    /// 360p
    LD,
    /// 480p
    SD,
    /// 720p
    HD,
    /// 1080p
    FHD,
    /// 1440p
    QHD,
    /// 2160p
    UHD,
}

impl Definition {
    pub const ALL: [Definition; 6] = [
        Self::LD,
        Self::SD,
        Self::HD,
        Self::FHD,
        Self::QHD,
        Self::UHD,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LD => "LD",
            Self::SD => "SD",
            Self::HD => "HD",
            Self::FHD => "FHD",
            Self::QHD => "QHD",
            Self::UHD => "UHD",
        }
    }

    /// Nominal height of the rung (the short side, for portrait sources).
    pub fn height(self) -> u32 {
        match self {
            Self::LD => 360,
            Self::SD => 480,
            Self::HD => 720,
            Self::FHD => 1080,
            Self::QHD => 1440,
            Self::UHD => 2160,
        }
    }
}

impl fmt::Display for Definition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown definition {0:?}")]
pub struct UnknownDefinition(String);

impl FromStr for Definition {
    type Err = UnknownDefinition;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownDefinition(s.to_string()))
    }
}

impl ToSql<Text, Pg> for Definition {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for Definition {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Ok(text.parse()?)
    }
}
