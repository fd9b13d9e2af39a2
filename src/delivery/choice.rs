//! Which CDN serves a viewer: the one asked for, else by policy (cheapest, weighted, or a
//! named one), the rest kept in order as fallbacks.

use super::cdn::Cdn;
use super::error::DeliveryError;

/// `cdns` that are enabled, the one for `viewer` first (`requested`, else by `policy`:
/// `cheapest`, `weighted`, or a CDN's name), then the others by cost and weight.
pub(super) fn choose<'a>(
    cdns: &'a [Cdn],
    policy: &str,
    requested: Option<&str>,
    viewer: &str,
) -> Result<Vec<&'a Cdn>, DeliveryError> {
    let mut all: Vec<&Cdn> = cdns.iter().filter(|c| c.enabled).collect();
    if all.is_empty() {
        return Err(DeliveryError::NoCdn);
    }
    let first = match requested.map(str::trim).filter(|r| !r.is_empty()) {
        Some(name) => all
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| DeliveryError::UnknownCdn(name.to_string()))?,
        None => match policy {
            "cheapest" => cheapest(&all),
            "weighted" => weighted(&all, viewer),
            named => all
                .iter()
                .position(|c| c.name == named)
                .unwrap_or_else(|| weighted(&all, viewer)),
        },
    };
    let chosen = all.remove(first);
    all.sort_by(|a, b| {
        a.cost_per_gb
            .total_cmp(&b.cost_per_gb)
            .then(b.weight.cmp(&a.weight))
    });
    all.insert(0, chosen);
    Ok(all)
}

fn cheapest(cdns: &[&Cdn]) -> usize {
    (0..cdns.len())
        .min_by(|&a, &b| cdns[a].cost_per_gb.total_cmp(&cdns[b].cost_per_gb))
        .unwrap_or(0)
}

/// Stable for a viewer and video, so the same edge (and its cache) keeps serving them.
fn weighted(cdns: &[&Cdn], viewer: &str) -> usize {
    let total: u64 = cdns.iter().map(|c| u64::from(c.weight)).sum();
    if total == 0 {
        return 0;
    }
    let mut pick = xxhash_rust::xxh3::xxh3_64(viewer.as_bytes()) % total;
    for (i, c) in cdns.iter().enumerate() {
        let w = u64::from(c.weight);
        if pick < w {
            return i;
        }
        pick -= w;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::delivery::CdnConfig;
    use crate::delivery::cdn::signer;

    fn cdn(name: &str, weight: u32, cost: f64) -> Cdn {
        Cdn {
            name: name.into(),
            base_url: format!("https://{name}"),
            origin: "local".into(),
            weight,
            cost_per_gb: cost,
            enabled: true,
            signer: signer(&CdnConfig::default()),
        }
    }

    #[test]
    fn weighted_is_stable_and_follows_weights() {
        let (a, b) = (cdn("a", 3, 0.0), cdn("b", 1, 0.0));
        let list = [&a, &b];
        let mut counts = [0usize; 2];
        for v in 0..4000 {
            let viewer = format!("viewer-{v}/42");
            let i = weighted(&list, &viewer);
            assert_eq!(i, weighted(&list, &viewer), "same viewer, same CDN");
            counts[i] += 1;
        }
        let share = counts[0] as f64 / 4000.0;
        assert!((0.70..0.80).contains(&share), "a got {share}");
        let zero = cdn("z", 0, 0.0);
        assert_eq!(weighted(&[&zero, &b], "x"), 1);
    }

    #[test]
    fn cheapest_picks_lowest_cost() {
        let (a, b, c) = (cdn("a", 1, 0.3), cdn("b", 1, 0.1), cdn("c", 1, 0.2));
        assert_eq!(cheapest(&[&a, &b, &c]), 1);
    }
}
