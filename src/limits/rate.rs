//! The request rate of each app as a GCRA (generic cell rate algorithm) in one Redis
//! key: the theoretical arrival time of the next request. One script call per request,
//! atomic across nodes, with Redis' clock so nodes' clocks do not matter.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use crate::error::InfraError;
use crate::kv::Kv;
use crate::model::AppId;

/// Returns 0 when the request may pass, else the microseconds until it would.
static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - interval * burst
if now < allow_at then
  return allow_at - now
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
",
    )
});

/// Takes one request from `app`'s budget: `None` when it may pass, else how long to wait.
pub(super) async fn take(
    kv: &Kv,
    app: AppId,
    rps: u32,
    burst: u32,
) -> Result<Option<Duration>, InfraError> {
    let interval_us = 1_000_000 / u64::from(rps.max(1));
    let wait_us: u64 = GCRA
        .key(kv.key(&format!("rate:{app}")))
        .arg(interval_us.max(1))
        .arg(burst.max(1))
        .invoke_async(&mut kv.conn())
        .await?;
    Ok((wait_us > 0).then(|| Duration::from_micros(wait_us)))
}
