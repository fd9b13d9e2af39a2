//! Watermarks as every layer names them: where the overlay sits, and what an upload asks
//! for (docs/api.md, "Watermarks").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::WatermarkId;

/// Where the overlay sits on the picture (its margin keeps it off the edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WatermarkPosition {
    TopLeft,
    #[default]
    TopRight,
    BottomLeft,
    BottomRight,
    Center,
}

impl WatermarkPosition {
    pub const ALL: [Self; 5] = [
        Self::TopLeft,
        Self::TopRight,
        Self::BottomLeft,
        Self::BottomRight,
        Self::Center,
    ];

    /// As stored (`watermarks.position`) and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopLeft => "TOP_LEFT",
            Self::TopRight => "TOP_RIGHT",
            Self::BottomLeft => "BOTTOM_LEFT",
            Self::BottomRight => "BOTTOM_RIGHT",
            Self::Center => "CENTER",
        }
    }
}

impl fmt::Display for WatermarkPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown watermark position {0:?} (TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT or CENTER)"
)]
pub struct UnknownPosition(String);

impl FromStr for WatermarkPosition {
    type Err = UnknownPosition;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| UnknownPosition(s.to_string()))
    }
}

/// What an upload asks for: no watermark, or a profile of its app. An upload that asks
/// nothing gets the app's default profile (if any) at each transcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatermarkChoice {
    None,
    Profile(WatermarkId),
}

impl WatermarkChoice {
    /// `none`, or a profile id (tus metadata `watermark`, seed `watermark=`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") {
            return Ok(Self::None);
        }
        s.parse::<WatermarkId>()
            .ok()
            .filter(|id| id.0 > 0)
            .map(Self::Profile)
            .ok_or_else(|| format!("watermark {s:?} is neither a watermark id nor `none`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_choices_parse() {
        for p in WatermarkPosition::ALL {
            assert_eq!(p.as_str().parse::<WatermarkPosition>().unwrap(), p);
        }
        assert_eq!(
            "bottom-left".parse::<WatermarkPosition>().unwrap(),
            WatermarkPosition::BottomLeft
        );
        assert!("MIDDLE".parse::<WatermarkPosition>().is_err());
        assert_eq!(WatermarkChoice::parse("None"), Ok(WatermarkChoice::None));
        assert_eq!(
            WatermarkChoice::parse(" 12 "),
            Ok(WatermarkChoice::Profile(WatermarkId(12)))
        );
        for bad in ["", "0", "-3", "x1"] {
            assert!(WatermarkChoice::parse(bad).is_err(), "{bad:?}");
        }
    }
}
