use super::args::{Input, Source, args, palette_args};
use super::hls::{choose, media_playlist, variants};
use super::*;

fn parse(name: &str, query: &str) -> Result<ImageSpec, BadSpec> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    ImageSpec::parse(name, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn equal_requests_have_one_name_and_round_trip_through_their_query() {
    let a = parse("thumbnail.jpg", "time=2.5&width=320&exp=1&sig=x").unwrap();
    let b = parse("thumbnail.jpg", "width=0320&time=2.500&fit=crop").unwrap();
    // Crop without a height is preserve: nothing to cut.
    assert_eq!(a, b);
    assert_eq!(
        a.cache_name(),
        "images/thumbnail_2500ms_320xauto_preserve.jpg"
    );
    assert_eq!(a.query(), "time=2.5&width=320");
    assert_eq!(parse("thumbnail.jpg", &a.query()).unwrap(), a);

    let crop = parse("thumbnail.webp", "time=0&width=200&height=200&fit=CROP").unwrap();
    assert_eq!(crop.cache_name(), "images/thumbnail_0ms_200x200_crop.webp");
    assert_eq!(crop.content_type(), "image/webp");
    assert_eq!(parse("thumbnail.webp", &crop.query()).unwrap(), crop);

    let gif = parse("animated.gif", "start=1&end=3.25").unwrap();
    assert_eq!(gif.query(), "start=1&end=3.25&width=320&fps=15");
    assert_eq!(
        gif.cache_name(),
        "images/animated_1000-3250ms_320w_15fps.gif"
    );
    assert_eq!(parse("animated.gif", &gif.query()).unwrap(), gif);
    assert_eq!(gif.file_name(), "animated.gif");
}

#[test]
fn bad_requests_say_what_is_wrong() {
    for (name, query, says) in [
        ("thumbnail.jpg", "width=320", "time"),
        ("thumbnail.jpg", "time=-1", "0 or more"),
        ("thumbnail.jpg", "time=abc", "number"),
        ("thumbnail.jpg", "time=NaN", "number"),
        ("thumbnail.jpg", "time=1e12", "past the end"),
        ("thumbnail.jpg", "time=1&width=0", "between 1 and 1920"),
        ("thumbnail.jpg", "time=1&width=100000", "between 1 and 1920"),
        ("thumbnail.jpg", "time=1&height=-5", "between 1 and 1920"),
        ("thumbnail.jpg", "time=1&width=1.5", "whole number"),
        (
            "thumbnail.jpg",
            "time=1&fit=stretch",
            "preserve, crop or pad",
        ),
        ("animated.gif", "start=1", "required"),
        ("animated.gif", "start=3&end=3", "before end"),
        ("animated.gif", "start=4&end=2", "before end"),
        ("animated.gif", "start=0&end=11", "at most 10 s"),
        (
            "animated.gif",
            "start=0&end=2&width=641",
            "between 1 and 640",
        ),
        ("animated.webp", "start=0&end=2&fps=31", "between 1 and 30"),
        ("animated.webp", "start=0&end=2&fps=0", "between 1 and 30"),
        ("animated.gif", "start=0&end=2&height=100", "width only"),
        ("thumbnail.bmp", "time=1", "thumbnail.jpg"),
    ] {
        let err = parse(name, query).unwrap_err();
        assert!(err.0.contains(says), "{name}?{query}: {err}");
    }
}

#[test]
fn times_past_the_end_are_refused() {
    let at = |t| parse("thumbnail.jpg", &format!("time={t}")).unwrap();
    assert!(at("5.999").within(6000).is_ok());
    let err = at("6").within(6000).unwrap_err();
    assert_eq!(err.0, "time 6 is past the end of the video (6 s)");
    let gif = parse("animated.gif", "start=4&end=6").unwrap();
    assert!(gif.within(6000).is_ok());
    assert!(gif.within(5999).unwrap_err().0.contains("end 6"));
}

const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:6\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"a, b\",URI=\"audio/index.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=3000,RESOLUTION=1280x720,FRAME-RATE=25.000,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\nHD/index.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"audio\"\nLD/index.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=1x1\n../escape/index.m3u8\n";

fn thumb(w: Option<i64>, h: Option<i64>, fit: Fit) -> ImageSpec {
    ImageSpec::Thumbnail(Thumbnail::new(1.0, w, h, fit, ImageFormat::Jpg).unwrap())
}

#[test]
fn the_smallest_rung_that_covers_the_asked_size() {
    let v = variants(MASTER);
    assert_eq!(
        v.iter().map(|v| v.uri.as_str()).collect::<Vec<_>>(),
        ["LD/index.m3u8", "HD/index.m3u8"]
    );
    let pick = |spec: &ImageSpec| choose(&v, spec).unwrap().uri.as_str();
    assert_eq!(
        pick(&thumb(Some(320), None, Fit::Preserve)),
        "LD/index.m3u8"
    );
    assert_eq!(
        pick(&thumb(Some(640), None, Fit::Preserve)),
        "LD/index.m3u8"
    );
    assert_eq!(
        pick(&thumb(Some(641), None, Fit::Preserve)),
        "HD/index.m3u8"
    );
    assert_eq!(
        pick(&thumb(None, Some(400), Fit::Preserve)),
        "HD/index.m3u8"
    );
    // A square box: preserve fits the width, crop must cover the height.
    assert_eq!(
        pick(&thumb(Some(400), Some(400), Fit::Preserve)),
        "LD/index.m3u8"
    );
    assert_eq!(
        pick(&thumb(Some(400), Some(400), Fit::Pad)),
        "LD/index.m3u8"
    );
    assert_eq!(
        pick(&thumb(Some(400), Some(400), Fit::Crop)),
        "HD/index.m3u8"
    );
    // Larger than any rung: the largest, scaled up.
    assert_eq!(
        pick(&thumb(Some(1920), None, Fit::Preserve)),
        "HD/index.m3u8"
    );
    assert_eq!(pick(&thumb(None, None, Fit::Preserve)), "HD/index.m3u8");
    let gif =
        ImageSpec::Animated(Animated::new(0.0, 2.0, None, None, AnimatedFormat::Gif).unwrap());
    assert_eq!(pick(&gif), "LD/index.m3u8");
    assert!(variants(&crate::media::master::audio_only_master()).is_empty());
}

#[test]
fn the_segments_that_hold_the_asked_times() {
    let playlist = media_playlist(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"enc.key\",IV=0x00\n\
         #EXTINF:4.000000,\nseg_00000.ts\n#EXTINF:4.000000,\nseg_00001.ts\n\
         #EXTINF:2.040000,\nseg_00002.ts\n#EXT-X-ENDLIST\n",
    );
    assert!(playlist.encrypted);
    assert_eq!(playlist.duration_ms(), 10_040);
    let at = |t: f64| {
        let spec = ImageSpec::Thumbnail(
            Thumbnail::new(t, None, None, Fit::Preserve, ImageFormat::Png).unwrap(),
        );
        playlist.cut(&spec).map(|c| {
            (
                c.segments.iter().map(|s| s.uri.clone()).collect::<Vec<_>>(),
                c.offset,
            )
        })
    };
    assert_eq!(at(0.0).unwrap(), (vec!["seg_00000.ts".to_string()], 0.0));
    assert_eq!(at(4.0).unwrap(), (vec!["seg_00001.ts".to_string()], 0.0));
    let (segs, offset) = at(9.5).unwrap();
    assert_eq!(segs, ["seg_00002.ts"]);
    assert!((offset - 1.5).abs() < 1e-9);
    assert!(at(10.04).is_err());

    let gif = |s: f64, e: f64| {
        let spec =
            ImageSpec::Animated(Animated::new(s, e, None, None, AnimatedFormat::Gif).unwrap());
        playlist.cut(&spec).map(|c| (c.segments.len(), c.offset))
    };
    assert_eq!(gif(3.0, 8.0).unwrap(), (2, 3.0));
    assert_eq!(gif(3.0, 8.5).unwrap(), (3, 3.0));
    assert_eq!(gif(4.0, 5.0).unwrap(), (1, 0.0));
    assert!(gif(9.0, 11.0).is_err());
    assert!(!media_playlist("#EXTINF:4,\nseg.ts\n").encrypted);
    assert!(
        media_playlist("#EXTINF:4,\n../x.ts\n#EXTINF:4,\nhttp://a/b.ts\n")
            .segments
            .is_empty()
    );
}

#[test]
fn commands_read_only_our_segments_and_write_to_stdout() {
    let source = Source {
        inputs: vec![
            Input {
                path: "/s/a.ts".into(),
                key: Some(([1; 16], [2; 16])),
            },
            Input {
                path: "/s/b.ts".into(),
                key: Some(([1; 16], [2; 16])),
            },
        ],
        offset: 1.5,
        threads: 1,
    };
    let crop = thumb(Some(300), Some(200), Fit::Crop);
    let line = args(&crop, &source, None).join(" ");
    assert!(
        line.contains("-key 01010101010101010101010101010101 -iv 0202"),
        "{line}"
    );
    assert!(line.contains("-i crypto:/s/a.ts"), "{line}");
    assert!(
        line.contains("-format_whitelist mpegts -protocol_whitelist file,crypto"),
        "{line}"
    );
    assert!(
        line.contains("[0:v][1:v]concat=n=2:v=1:a=0,fps=fps=1000:start_time=1.500"),
        "{line}"
    );
    assert!(
        line.contains("force_original_aspect_ratio=increase,crop=300:200"),
        "{line}"
    );
    assert!(
        line.ends_with("-frames:v 1 -c:v mjpeg -q:v 3 -pix_fmt yuvj420p -f image2pipe pipe:1"),
        "{line}"
    );

    let gif = ImageSpec::Animated(
        Animated::new(1.5, 4.0, Some(200), Some(10), AnimatedFormat::Gif).unwrap(),
    );
    let palette = palette_args(&gif, &source).unwrap().join(" ");
    assert!(
        palette.contains("fps=fps=5:start_time=1.500:round=down,trim=end=4.000"),
        "{palette}"
    );
    assert!(palette.contains("palettegen"), "{palette}");
    let line = args(&gif, &source, Some(std::path::Path::new("/w/p.png"))).join(" ");
    assert!(line.contains("fps=fps=10:start_time=1.500"), "{line}");
    assert!(line.contains("-i /w/p.png"), "{line}");
    assert!(line.contains("[v][2:v]paletteuse"), "{line}");
    let webp =
        ImageSpec::Animated(Animated::new(0.0, 1.0, None, None, AnimatedFormat::Webp).unwrap());
    assert!(palette_args(&webp, &source).is_none());
    assert!(
        args(&webp, &source, None)
            .join(" ")
            .contains("libwebp_anim")
    );
}
