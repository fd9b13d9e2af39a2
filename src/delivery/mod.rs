//! Delivery (docs/architecture.md, "Delivery"): origins that hold published renditions,
//! CDNs in front of them, and signed play URLs handed to players.

mod cdn;
mod choice;
mod error;
pub mod origins;
mod playback;
pub mod playlist;
pub mod signing;
pub mod token;

pub use cdn::Cdn;
pub use error::DeliveryError;
pub use origins::{Origin, Origins, PublishError};
pub use playback::{Delivery, PlayUrl, is_key};

/// A fresh key for `/media/` tokens, for the first node that needs one (the config's
/// `delivery.key` wins when set; see `db::settings`).
pub fn fresh_media_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
