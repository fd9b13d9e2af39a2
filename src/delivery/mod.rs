//! Delivery (DESIGN §11): origins that hold published renditions, CDNs in front of them,
//! and signed play URLs handed to players.

mod choice;
pub mod config;
pub mod origins;
mod playback;
pub mod playlist;
pub mod signing;
pub mod token;

pub use origins::{Origin, Origins, PublishError};
pub use playback::{Cdn, Delivery, DeliveryError, PlayUrl};

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::settings;

/// The key of `/media/` tokens: from the config, else the one stored in Postgres (made
/// by the first node that starts), so every node signs and verifies alike.
pub async fn media_key(conn: &mut AsyncPgConnection, configured: &str) -> QueryResult<Vec<u8>> {
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    diesel::insert_into(settings::table)
        .values((settings::name.eq("media_key"), settings::value.eq(&fresh)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let stored: String = settings::table
        .find("media_key")
        .select(settings::value)
        .get_result(conn)
        .await?;
    Ok(stored.into_bytes())
}
