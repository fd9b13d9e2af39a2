//! Rewriting an HLS playlist for one viewer: every URI gets the viewer's token (relative
//! URIs stay relative), or becomes an absolute URL on a CDN signed for that one file.

/// What a URI of the playlist becomes.
pub trait UriMapper {
    /// `uri`: as written in the playlist; `resolved`: its path relative to the media root
    /// (no leading `/`).
    fn map(&self, uri: &str, resolved: &str) -> String;
}

/// `dir`: the playlist's directory relative to the media root, ending with `/` (or empty).
pub fn rewrite(playlist: &str, dir: &str, mapper: &impl UriMapper) -> String {
    let mut out = String::with_capacity(playlist.len() * 2);
    for line in playlist.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            out.push('\n');
            continue;
        }
        if trimmed.starts_with('#') {
            out.push_str(&rewrite_attributes(trimmed, dir, mapper));
        } else {
            out.push_str(&map_one(trimmed, dir, mapper));
        }
        out.push('\n');
    }
    out
}

fn map_one(uri: &str, dir: &str, mapper: &impl UriMapper) -> String {
    // Absolute URLs and rooted paths are not ours to rewrite (ffmpeg writes neither).
    if uri.contains("://") || uri.starts_with('/') || uri.split('/').any(|s| s == "..") {
        return uri.to_string();
    }
    let resolved = format!("{dir}{}", uri.split(['?', '#']).next().unwrap_or(uri));
    mapper.map(uri, &resolved)
}

/// Tags such as `#EXT-X-MEDIA:…,URI="audio/index.m3u8"` and `#EXT-X-MAP:URI="init.mp4"`.
fn rewrite_attributes(tag: &str, dir: &str, mapper: &impl UriMapper) -> String {
    const ATTR: &str = "URI=\"";
    let mut out = String::new();
    let mut rest = tag;
    while let Some(at) = rest.find(ATTR) {
        let start = at + ATTR.len();
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&map_one(&rest[start..start + len], dir, mapper));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tag;
    impl UriMapper for Tag {
        fn map(&self, uri: &str, resolved: &str) -> String {
            if uri.ends_with(".m3u8") {
                format!("{uri}?t=1")
            } else {
                format!("https://cdn/{resolved}?s=2")
            }
        }
    }

    #[test]
    fn master_and_media_playlists() {
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"audio/index.m3u8\"\n\
                      #EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\nHD/index.m3u8\n";
        assert_eq!(
            rewrite(master, "videos/1/9/", &Tag),
            "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"audio/index.m3u8?t=1\"\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\nHD/index.m3u8?t=1\n"
        );
        let media = "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4.0,\r\nseg_001.m4s\r\n\r\n#EXT-X-ENDLIST\r\n";
        assert_eq!(
            rewrite(media, "videos/1/9/HD/", &Tag),
            "#EXTM3U\n#EXT-X-MAP:URI=\"https://cdn/videos/1/9/HD/init.mp4?s=2\"\n#EXTINF:4.0,\n\
             https://cdn/videos/1/9/HD/seg_001.m4s?s=2\n\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn leaves_foreign_uris_alone() {
        let p = "http://x/y.ts\n/abs.ts\n../up.ts\n#EXT-X-KEY:METHOD=NONE\n";
        assert_eq!(rewrite(p, "d/", &Tag), p);
    }
}
