//! The rendition ladder: which rungs a source gets (never upscaled) and their sizes and bitrates.

use crate::model::Definition;

/// One output of the transcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rung {
    pub definition: Definition,
    pub width: u32,
    pub height: u32,
    /// Target video bitrate, kbit/s.
    pub video_kbps: u32,
}

impl Rung {
    pub fn max_kbps(&self) -> u32 {
        self.video_kbps * 3 / 2
    }
}

/// Sources smaller than this on either side are refused (x264 and players need some pixels).
pub const MIN_SIDE: u32 = 16;

fn kbps(definition: Definition) -> u32 {
    match definition {
        Definition::LD => 800,
        Definition::SD => 1_400,
        Definition::HD => 2_800,
        Definition::FHD => 5_000,
        Definition::QHD => 8_000,
        Definition::UHD => 14_000,
    }
}

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

/// The rungs for a source displayed at `width`×`height`, smallest first. A rung's
/// nominal size is the short side, so portrait videos get portrait renditions. A source
/// smaller than the smallest rung gets one rung at its own size.
pub fn ladder(width: u32, height: u32, enabled: &[Definition]) -> Vec<Rung> {
    let short = width.min(height);
    let landscape = width >= height;
    let scaled = |nominal: u32| {
        let ratio = f64::from(width.max(height)) / f64::from(short);
        let long = even(f64::from(nominal) * ratio);
        let nominal = even(f64::from(nominal));
        if landscape {
            (long, nominal)
        } else {
            (nominal, long)
        }
    };
    let mut enabled: Vec<Definition> = enabled.to_vec();
    enabled.sort();
    enabled.dedup();
    let mut rungs: Vec<Rung> = enabled
        .iter()
        .filter(|d| d.height() <= short)
        .map(|&definition| {
            let (w, h) = scaled(definition.height());
            Rung {
                definition,
                width: w,
                height: h,
                video_kbps: kbps(definition),
            }
        })
        .collect();
    if rungs.is_empty() {
        let definition = enabled.first().copied().unwrap_or(Definition::LD);
        let area_share = f64::from(short) / f64::from(definition.height());
        rungs.push(Rung {
            definition,
            width: even(f64::from(width)),
            height: even(f64::from(height)),
            video_kbps: ((f64::from(kbps(definition)) * area_share * area_share) as u32).max(150),
        });
    }
    rungs
}

#[cfg(test)]
mod tests {
    use super::*;
    use Definition::*;

    fn defs(r: &[Rung]) -> Vec<Definition> {
        r.iter().map(|r| r.definition).collect()
    }

    #[test]
    fn full_hd_gets_four_rungs() {
        let r = ladder(1920, 1080, &Definition::ALL);
        assert_eq!(defs(&r), vec![LD, SD, HD, FHD]);
        assert_eq!((r[0].width, r[0].height), (640, 360));
        assert_eq!((r[1].width, r[1].height), (854, 480));
        assert_eq!((r[3].width, r[3].height), (1920, 1080));
    }

    #[test]
    fn no_upscaling_and_small_sources_get_one_rung() {
        assert_eq!(defs(&ladder(1280, 720, &Definition::ALL)), vec![LD, SD, HD]);
        let r = ladder(320, 240, &Definition::ALL);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].width, r[0].height), (320, 240));
        assert!(r[0].video_kbps < 800);
    }

    #[test]
    fn portrait_stays_portrait() {
        let r = ladder(1080, 1920, &Definition::ALL);
        assert_eq!(defs(&r), vec![LD, SD, HD, FHD]);
        assert_eq!((r[0].width, r[0].height), (360, 640));
        assert_eq!((r[2].width, r[2].height), (720, 1280));
    }

    #[test]
    fn configured_subset_and_odd_sizes() {
        let r = ladder(1920, 1080, &[HD, LD]);
        assert_eq!(defs(&r), vec![LD, HD]);
        let r = ladder(1000, 563, &Definition::ALL);
        assert!(r.iter().all(|r| r.width % 2 == 0 && r.height % 2 == 0));
        assert_eq!(defs(&r), vec![LD, SD]);
    }
}
