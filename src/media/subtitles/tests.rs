use super::*;

fn parse_str(s: &str) -> Result<Subtitles, SubtitleError> {
    parse(s.as_bytes(), SubtitleLimits::default())
}

#[test]
fn srt_with_crlf_and_bom_becomes_vtt() {
    let srt = b"\xEF\xBB\xBF1\r\n00:00:01,000 --> 00:00:02,500\r\nHello, world\r\n\r\n\
                2\r\n00:00:03,000 --> 00:00:04,200 X1:10 X2:20 Y1:5 Y2:6\r\nTwo\r\nlines\r\n";
    assert_eq!(
        parse(srt, SubtitleLimits::default()),
        Ok(Subtitles {
            vtt: "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello, world\n\n\
                  00:00:03.000 --> 00:00:04.200\nTwo\nlines\n\n"
                .into(),
            cues: 2,
            end_ms: 4200,
            format: SubtitleFormat::Srt,
        })
    );
}

#[test]
fn srt_markup_is_made_safe_for_vtt() {
    let srt = "1\n00:00:01,000 --> 00:00:02,000\n\
               {\\an8}<B>Top</B> & <font color=\"red\">red</font>\n\
               x < y &amp; a --> b <c.x>c</c> &#233; &#xE9;\n";
    assert_eq!(
        parse_str(srt).unwrap().vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<b>Top</b> &amp; red\n\
         x &lt; y &amp; a --&gt; b <c.x>c</c> &#233; &#xE9;\n\n"
    );
}

#[test]
fn srt_index_numbers_are_optional() {
    // CR line endings, a cue without its number, one-digit hours, '.' for ',', a cue with
    // no text, a zero-length cue and a line that is only an ASS override.
    let srt = "1\r00:00:01,000 --> 00:00:02,000\rOne\r\r\
               00:00:03.000 --> 00:00:04,000\rTwo\r\r\
               3\r0:00:05,000 --> 0:00:06,000\r\r\
               4\r00:00:07,000 --> 00:00:07,000\rZero\r\r\
               12\r10:00:08,000 --> 10:00:09,000\r{\\an8}\rTwelve\r";
    assert_eq!(
        parse_str(srt),
        Ok(Subtitles {
            vtt: "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\n\n\
                  00:00:03.000 --> 00:00:04.000\nTwo\n\n\
                  10:00:08.000 --> 10:00:09.000\nTwelve\n\n"
                .into(),
            cues: 3,
            end_ms: 36_009_000,
            format: SubtitleFormat::Srt,
        })
    );
}

#[test]
fn vtt_drops_note_style_region_and_keeps_ids_and_known_settings() {
    let vtt = "WEBVTT - Some title\nKind: captions\nLanguage: en\n\n\
               NOTE a comment\nspanning lines\n\n\
               STYLE\n::cue { color: red }\n\n\
               REGION\nid:fred width:40%\n\n\
               intro\n00:01.000 --> 00:02.500 align:start foo:bar position:10%  line:0 size:\n\
               <v Bob>Hi</v> <c.loud>there</c> <00:01.500>now\n\n\
               01:00:00.000 --> 01:00:01.000\nNOTE is text here\n\n\
               NOTE\n";
    assert_eq!(
        parse_str(vtt),
        Ok(Subtitles {
            vtt: "WEBVTT\n\nintro\n00:00:01.000 --> 00:00:02.500 align:start position:10% line:0\n\
                  <v Bob>Hi</v> <c.loud>there</c> <00:01.500>now\n\n\
                  01:00:00.000 --> 01:00:01.000\nNOTE is text here\n\n"
                .into(),
            cues: 2,
            end_ms: 3_601_000,
            format: SubtitleFormat::WebVtt,
        })
    );
}

#[test]
fn malformed_timing_names_the_line() {
    let srt = "1\n00:00:01,000 --> 00:00:02,000\nOne\ntwo lines\n\n2\n00:00:05,000 -> 00:00:06,000\nThree\n";
    let err = parse_str(srt).unwrap_err();
    assert_eq!(
        err,
        SubtitleError::BadTiming {
            line: 7,
            text: "00:00:05,000 -> 00:00:06,000".into(),
            format: SubtitleFormat::Srt,
        }
    );
    assert_eq!(
        err.to_string(),
        "line 7: \"00:00:05,000 -> 00:00:06,000\" is not a cue timing \
         (expected HH:MM:SS,mmm --> HH:MM:SS,mmm)"
    );

    let err = parse_str("WEBVTT\n\n00:00:01.000 --> 00:01:60.000\nx\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: \"00:00:01.000 --> 00:01:60.000\" is not a cue timing \
         (expected HH:MM:SS.mmm --> HH:MM:SS.mmm)"
    );

    let long = format!("00:00:01,000 --> {}", "9".repeat(100));
    let Err(SubtitleError::BadTiming { line: 2, text, .. }) = parse_str(&format!("1\n{long}\nx\n"))
    else {
        panic!("expected a bad timing on line 2");
    };
    assert_eq!(text, format!("{}…", &long[..80]));
}

#[test]
fn end_before_start_names_the_line() {
    let err = parse_str("1\n00:00:02,000 --> 00:00:01,000\nx\n").unwrap_err();
    assert_eq!(err, SubtitleError::EndBeforeStart { line: 2 });
    assert_eq!(err.to_string(), "line 2: the cue ends before it starts");
}

#[test]
fn missing_blank_lines_are_errors_not_merged_cues() {
    let srt = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
    assert_eq!(
        parse_str(srt),
        Err(SubtitleError::Malformed {
            line: 5,
            reason: "a blank line is needed before this cue timing".into(),
        })
    );
    assert_eq!(
        parse_str("WEBVTT\n00:00.000 --> 00:01.000\nx\n")
            .unwrap_err()
            .to_string(),
        "line 2: a blank line is needed between the WEBVTT header and the first cue"
    );
}

#[test]
fn not_utf8_names_the_line() {
    let err = parse(
        b"1\r\n00:00:01,000 --> 00:00:02,000\r\ncaf\xe9\r\n",
        SubtitleLimits::default(),
    )
    .unwrap_err();
    assert_eq!(err, SubtitleError::NotUtf8 { line: 3 });
    assert_eq!(
        err.to_string(),
        "line 3: the text is not UTF-8 (save the subtitles as UTF-8 and upload again)"
    );
}

#[test]
fn too_large_is_refused_before_parsing() {
    let srt = b"1\n00:00:01,000 --> 00:00:02,000\nx\n";
    let limits = |max_bytes| SubtitleLimits {
        max_bytes,
        max_cues: 10,
    };
    assert!(parse(srt, limits(srt.len())).is_ok());
    assert_eq!(
        parse(srt, limits(srt.len() - 1)),
        Err(SubtitleError::TooLarge {
            max_bytes: srt.len() - 1
        })
    );
    assert_eq!(
        SubtitleError::TooLarge { max_bytes: 2 << 20 }.to_string(),
        "the subtitle file is larger than 2 MiB"
    );
}

#[test]
fn too_many_cues() {
    let srt = "1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\n\n\
               3\n00:00:03,000 --> 00:00:04,000\nc\n";
    let limits = |max_cues| SubtitleLimits {
        max_bytes: 1 << 20,
        max_cues,
    };
    assert_eq!(parse(srt.as_bytes(), limits(3)).map(|s| s.cues), Ok(3));
    let err = parse(srt.as_bytes(), limits(2)).unwrap_err();
    assert_eq!(err, SubtitleError::TooManyCues { max: 2 });
    assert_eq!(err.to_string(), "the subtitle file has more than 2 cues");
}

#[test]
fn no_cues_is_empty() {
    for input in [
        &b""[..],
        b"\xEF\xBB\xBF\r\n \r\n",
        b"WEBVTT\n",
        b"WEBVTT\n\nNOTE only a note\n",
        b"1\n00:00:01,000 --> 00:00:01,000\nzero length\n",
    ] {
        assert_eq!(
            parse(input, SubtitleLimits::default()),
            Err(SubtitleError::Empty)
        );
    }
    assert_eq!(
        SubtitleError::Empty.to_string(),
        "the subtitle file has no cues"
    );
}

#[test]
fn plain_text_is_not_subtitles() {
    let err = parse_str("\n\nDear diary,\ntoday I uploaded a text file.\n").unwrap_err();
    assert_eq!(
        err,
        SubtitleError::NotSubtitles {
            first_line: "Dear diary,".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "not WebVTT or SRT: the first line is \"Dear diary,\""
    );
    assert_eq!(
        parse_str("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n"),
        Err(SubtitleError::NotSubtitles {
            first_line: "WEBVTTX".into()
        })
    );
}

#[test]
fn pathological_lines_stay_linear() {
    let line = "<&{\\".repeat(100_000);
    let srt = format!("1\n00:00:01,000 --> 00:00:02,000\n{line}\n");
    let expected = format!(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{}\n\n",
        "&lt;&amp;{\\".repeat(100_000)
    );
    assert_eq!(parse_str(&srt).unwrap().vtt, expected);
}

#[test]
fn timestamp_map_is_inserted_once() {
    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n\n";
    let mapped = with_timestamp_map(vtt, 900_000);
    assert_eq!(
        mapped,
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n\
         00:00:01.000 --> 00:00:02.000\nHi\n\n"
    );
    assert_eq!(with_timestamp_map(&mapped, 900_000), mapped);
    assert_eq!(
        with_timestamp_map(&mapped, 126_000),
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n\
         00:00:01.000 --> 00:00:02.000\nHi\n\n"
    );
}

#[test]
fn media_playlist_covers_the_duration() {
    assert_eq!(
        media_playlist("subs.vtt", 9500),
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:9.500,\nsubs.vtt\n#EXT-X-ENDLIST\n"
    );
    assert!(media_playlist("subs.vtt", 10_000).contains("TARGETDURATION:10\n"));
    assert!(media_playlist("subs.vtt", 10_000).contains("#EXTINF:10.000,\n"));
}
