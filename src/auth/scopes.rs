//! What a caller may do. A signed request may do everything; a browser token only what
//! its scopes say (`createToken(scopes:)`, every scope but `MANAGE` by default), so a
//! token handed to a web page cannot manage webhooks or read other storage.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Videos, uploads, events: everything a listing or a subscription shows.
    Read,
    /// Uploads, transcodes and retranscodes, deleting videos.
    Upload,
    /// Signed play URLs and the other media URLs (snapshots, sprites).
    Play,
    /// Webhooks, `transcodeUri`, tokens that may manage.
    Manage,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Self::Read, Self::Upload, Self::Play, Self::Manage];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "READ",
            Self::Upload => "UPLOAD",
            Self::Play => "PLAY",
            Self::Manage => "MANAGE",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// What a signed request may do.
    pub const ALL: Scopes = Scopes(0b1111);
    /// What a token gets when it names no scopes (and tokens from before scopes had).
    pub const DEFAULT: Scopes = Scopes(0b0111);

    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().fold(0, |bits, s| bits | s.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is also in `other`.
    pub fn within(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl Default for Scopes {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// In JWT claims: a list of names.
impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Scope::as_str))
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut scopes = Vec::with_capacity(names.len());
        for name in names {
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown scope {name:?}")))?;
            scopes.push(scope);
        }
        Ok(Self::of(scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_their_names() {
        assert!(!Scopes::DEFAULT.contains(Scope::Manage));
        assert!(Scopes::DEFAULT.within(Scopes::ALL));
        assert!(!Scopes::ALL.within(Scopes::DEFAULT));
        let read_play = Scopes::of([Scope::Read, Scope::Play]);
        let json = serde_json::to_string(&read_play).unwrap();
        assert_eq!(json, r#"["READ","PLAY"]"#);
        assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), read_play);
        assert!(serde_json::from_str::<Scopes>(r#"["ROOT"]"#).is_err());
    }
}
