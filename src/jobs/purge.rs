//! The `purge` job: remove a replaced generation from storage and every origin once the
//! viewers holding its playlists are done (`delivery.retain_replaced_secs`).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::model::Generation;
use crate::queue::{Claimed, Payload};

#[derive(Debug, Serialize, Deserialize)]
pub struct Purge {
    /// Checked when read: a relative prefix without `..` (see `Generation`).
    pub prefix: Generation,
}

impl Payload for Purge {
    const KIND: &'static str = "purge";
}

impl Job for Purge {
    async fn run(self, ctx: &JobContext, _: &Claimed) -> Result<(), JobError> {
        if !ctx.remove_generation(self.prefix.prefix()).await {
            return Ok(());
        }
        // Its key and timeline go with it: nobody can be given its playlists any more.
        let mut conn = ctx.db.get().await?;
        crate::db::tracks::delete_generation(&mut conn, self.prefix.prefix()).await?;
        Ok(())
    }
}
