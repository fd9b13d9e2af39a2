//! Tracks that join a master playlist after its transcode (docs/architecture.md,
//! "Tracks"): the subtitles group and audio renditions added from audio files, written
//! in place of whatever such tracks it listed before, so the master changes and never a
//! segment.

use super::master::quoted;
use crate::model::TextTrackKind;

/// A text track as the master playlist lists it.
pub struct TextEntry<'a> {
    pub language: &'a str,
    pub name: &'a str,
    pub kind: TextTrackKind,
    pub default: bool,
    /// Its media playlist, relative to the master.
    pub uri: String,
}

/// An audio rendition added from an audio file.
pub struct AudioEntry<'a> {
    pub language: &'a str,
    pub name: &'a str,
    /// Its directory in the generation (`audio_t{id}`): added renditions are told from
    /// the source's by it.
    pub dir: String,
}

const SUBS: &str = ",SUBTITLES=\"subs\"";
const AUDIO_GROUP: &str = ",AUDIO=\"audio\"";
const AAC: &str = ",mp4a.40.2";

fn is_added_audio(line: &str) -> bool {
    line.starts_with("#EXT-X-MEDIA:TYPE=AUDIO") && line.contains("URI=\"audio_t")
}

/// `master` listing `audio` (after the source's audio renditions; a silent video gains an
/// audio group) and `text` (the subtitles group), and no other added track.
pub fn with_tracks(master: &str, audio: &[AudioEntry<'_>], text: &[TextEntry<'_>]) -> String {
    let base: Vec<&str> = master
        .lines()
        .filter(|l| !l.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES") && !is_added_audio(l))
        .collect();
    let source_audio = base
        .iter()
        .any(|l| l.starts_with("#EXT-X-MEDIA:TYPE=AUDIO"));
    let mut out = String::with_capacity(master.len() + 200 * (audio.len() + text.len()));
    let mut listed = false;
    for line in base {
        if !line.starts_with("#EXT-X-STREAM-INF:") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if !listed {
            listed = true;
            for (i, a) in audio.iter().enumerate() {
                out.push_str(&audio_line(a, !source_audio && i == 0));
            }
            for t in text {
                out.push_str(&text_line(t));
            }
        }
        let mut inf = line.replace(SUBS, "");
        if !source_audio {
            // A silent source: the audio group exists only while tracks were added.
            inf = inf.replace(AUDIO_GROUP, "").replace(AAC, "");
            if !audio.is_empty() {
                inf = with_aac(&inf) + AUDIO_GROUP;
            }
        }
        out.push_str(&inf);
        if !text.is_empty() {
            out.push_str(SUBS);
        }
        out.push('\n');
    }
    out
}

/// A variant's `CODECS` with AAC added.
fn with_aac(inf: &str) -> String {
    const CODECS: &str = "CODECS=\"";
    let Some(at) = inf.find(CODECS).map(|i| i + CODECS.len()) else {
        return inf.to_string();
    };
    match inf[at..].find('"') {
        Some(end) => format!("{}{AAC}{}", &inf[..at + end], &inf[at + end..]),
        None => inf.to_string(),
    }
}

fn audio_line(a: &AudioEntry<'_>, default: bool) -> String {
    let default = if default { "YES" } else { "NO" };
    format!(
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"{}\",LANGUAGE=\"{}\",\
         DEFAULT={default},AUTOSELECT=YES,URI=\"{}/index.m3u8\"\n",
        quoted(a.name),
        quoted(a.language),
        a.dir
    )
}

fn text_line(t: &TextEntry<'_>) -> String {
    let default = if t.default { "YES" } else { "NO" };
    let characteristics = match t.kind {
        TextTrackKind::Captions => {
            ",CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,\
             public.accessibility.describes-music-and-sound\""
        }
        TextTrackKind::Subtitles => "",
    };
    format!(
        "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"{}\",LANGUAGE=\"{}\",\
         DEFAULT={default},AUTOSELECT=YES,FORCED=NO{characteristics},URI=\"{}\"\n",
        quoted(t.name),
        quoted(t.language),
        t.uri
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ladder::ladder;
    use crate::media::master::master_playlist;
    use crate::model::{AudioTrack, Definition};

    fn fr() -> TextEntry<'static> {
        TextEntry {
            language: "fr",
            name: "Fran\"çais",
            kind: TextTrackKind::Subtitles,
            default: true,
            uri: "text/7.m3u8".into(),
        }
    }

    #[test]
    fn text_tracks_replace_the_subtitles_group() {
        let rungs = ladder(640, 360, &Definition::ALL);
        let master = master_playlist(&rungs, 25.0, &[]);
        let once = with_tracks(&master, &[], &[fr()]);
        assert!(
            once.contains("NAME=\"Fran'çais\",LANGUAGE=\"fr\",DEFAULT=YES"),
            "{once}"
        );
        assert!(once.contains("SUBTITLES=\"subs\"\nLD/index.m3u8"), "{once}");
        let cc = TextEntry {
            language: "en",
            name: "English CC",
            kind: TextTrackKind::Captions,
            default: false,
            uri: "text/8.m3u8".into(),
        };
        let twice = with_tracks(&once, &[], &[cc]);
        assert_eq!(twice.matches("TYPE=SUBTITLES").count(), 1, "{twice}");
        assert_eq!(twice.matches("SUBTITLES=\"subs\"").count(), 1, "{twice}");
        assert!(twice.contains("describes-music-and-sound"), "{twice}");
        assert_eq!(with_tracks(&twice, &[], &[]), master);
    }

    #[test]
    fn added_audio_joins_the_source_audio_or_makes_a_group() {
        let rungs = ladder(640, 360, &Definition::ALL);
        let de = AudioEntry {
            language: "de",
            name: "Deutsch",
            dir: "audio_t3".into(),
        };
        let with_audio =
            master_playlist(&rungs, 25.0, &[AudioTrack::of_stream(0, Some("en"), None)]);
        let added = with_tracks(&with_audio, &[de], &[fr()]);
        assert_eq!(added.matches("TYPE=AUDIO").count(), 2, "{added}");
        assert!(
            added.contains("LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,URI=\"audio_t3/index.m3u8\""),
            "{added}"
        );
        assert_eq!(with_tracks(&added, &[], &[]), with_audio);

        let silent = master_playlist(&rungs, 25.0, &[]);
        let de = AudioEntry {
            language: "de",
            name: "Deutsch",
            dir: "audio_t3".into(),
        };
        let voiced = with_tracks(&silent, &[de], &[]);
        assert!(
            voiced.contains("DEFAULT=YES,AUTOSELECT=YES,URI=\"audio_t3/index.m3u8\""),
            "{voiced}"
        );
        assert!(
            voiced.contains("mp4a.40.2\",AUDIO=\"audio\"\nLD/index.m3u8"),
            "{voiced}"
        );
        assert_eq!(with_tracks(&voiced, &[], &[]), silent);
    }
}
