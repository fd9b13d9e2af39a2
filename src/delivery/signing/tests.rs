//! `UrlSigner`: prefixes, console TTL, unsigned schemes, bad input, scheme names.

use super::*;

// Keys of the providers' worked examples.
const ALI_KEY: &str = "aliyuncdnexp1234";
const TC_KEY: &str = "dimtm5evg50ijsx2hvuwyfoiu65";
const SEG: &str = "/videos/12/g3/HD/seg_00001.m4s";

fn signer(scheme: SigningScheme, key: &str) -> UrlSigner {
    UrlSigner::new(scheme, key)
}

// Derived vectors for a base URL with a path prefix; t = 1700000000 = 0x6553f100,
// 2023-11-15 06:13 UTC+8. Hashed strings (md5sum):
//   "/vod/videos/12/g3/HD/seg_00001.m4s-1700000000-477b3bbc253f467b8def6711128c7bec-0-aliyuncdnexp1234"
//     = 6411c446591aed06ce435a3098a8d48e
//   "aliyuncdnexp1234202311150613/vod/videos/12/g3/HD/seg_00001.m4s" = d3394653147f69c4ad862d450221a759
//   "dimtm5evg50ijsx2hvuwyfoiu65/vod/videos/12/g3/HD/seg_00001.m4s6553f100" = ac201e19ab8f1b9930803173645f1f30
//   "dimtm5evg50ijsx2hvuwyfoiu65/vod/videos/12/g3/HD/seg_00001.m4s1700000000" = b43dcda9868c987aa3af1de9e84cb453
#[test]
fn base_url_prefix_is_part_of_the_signed_uri() {
    let base = "https://cdn.example.com/vod";
    let t = 1_700_000_000;
    let rand = "477b3bbc253f467b8def6711128c7bec";
    let sign = |scheme, key| signer(scheme, key).sign(base, SEG, t, rand).unwrap();
    assert_eq!(
        sign(SigningScheme::AliyunA, ALI_KEY),
        format!("{base}{SEG}?auth_key=1700000000-{rand}-0-6411c446591aed06ce435a3098a8d48e")
    );
    assert_eq!(
        sign(SigningScheme::AliyunB, ALI_KEY),
        format!("https://cdn.example.com/202311150613/d3394653147f69c4ad862d450221a759/vod{SEG}")
    );
    assert_eq!(
        sign(SigningScheme::TencentC, TC_KEY),
        format!("https://cdn.example.com/ac201e19ab8f1b9930803173645f1f30/6553f100/vod{SEG}")
    );
    assert_eq!(
        sign(SigningScheme::TencentD, TC_KEY),
        format!("{base}{SEG}?sign=b43dcda9868c987aa3af1de9e84cb453&t=1700000000")
    );
}

#[test]
fn console_ttl_moves_the_signing_time_back() {
    let mut s = signer(SigningScheme::TencentD, TC_KEY);
    s.console_ttl_secs = 3600;
    let later = s
        .sign(
            "http://cloud.tencent.com",
            "/test.jpg",
            1_582_791_032 + 3600,
            "",
        )
        .unwrap();
    s.console_ttl_secs = 0;
    let direct = s
        .sign("http://cloud.tencent.com", "/test.jpg", 1_582_791_032, "")
        .unwrap();
    assert_eq!(later, direct);
    assert!(later.ends_with("&t=1582791032"));

    s.console_ttl_secs = -1;
    assert_eq!(
        s.sign("http://h", "/a", 10, ""),
        Err(SignError::NegativeTtl(-1))
    );
    s.console_ttl_secs = 1800;
    let too_early = s.sign("http://h", "/a", 1799, "");
    assert!(matches!(too_early, Err(SignError::TimeOutOfRange { .. })));
    let overflow = s.sign("http://h", "/a", i64::MIN, "");
    assert!(matches!(overflow, Err(SignError::TimeOutOfRange { .. })));
    s.console_ttl_secs = 0;
    assert!(s.sign("http://h", "/a", i64::MAX, "").is_err());
}

#[test]
fn none_returns_the_unsigned_url() {
    let s = signer(SigningScheme::None, "");
    assert_eq!(
        s.sign("https://cdn.example.com/vod", SEG, 0, "").unwrap(),
        format!("https://cdn.example.com/vod{SEG}")
    );
    assert_eq!(
        s.sign("https://cdn.example.com/", "/a.m3u8", -5, "")
            .unwrap(),
        "https://cdn.example.com/a.m3u8"
    );
}

#[test]
fn hmac_is_not_signed_here() {
    let s = signer(SigningScheme::Hmac, "k");
    assert_eq!(
        s.sign("https://h", "/a", 1, ""),
        Err(SignError::NotCdnScheme)
    );
}

#[test]
fn empty_key_is_rejected_for_every_cdn_scheme() {
    for scheme in SigningScheme::ALL
        .into_iter()
        .filter(|s| s.signs_each_file())
    {
        let err = signer(scheme, "").sign("https://h", "/a", 1_700_000_000, "r");
        assert_eq!(err, Err(SignError::EmptyKey(scheme)), "{scheme}");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let s = signer(SigningScheme::TencentA, TC_KEY);
    let sign = |base: &str, path: &str, rand: &str| s.sign(base, path, 1_700_000_000, rand);
    assert!(matches!(
        sign("https://h", "a.ts", ""),
        Err(SignError::PathNotAbsolute(_))
    ));
    assert!(matches!(
        sign("https://h", "", ""),
        Err(SignError::PathNotAbsolute(_))
    ));
    for path in ["/a?b=1", "/a#x", "/a b", "/视频.ts", "/a\n"] {
        assert!(
            matches!(sign("https://h", path, ""), Err(SignError::InvalidPath(_))),
            "{path}"
        );
    }
    for base in [
        "cdn.example.com",
        "https://",
        "https:///vod",
        "https://h/x?y=1",
        "://h",
        "1a://h",
        "https://h h",
    ] {
        assert!(
            matches!(sign(base, "/a", ""), Err(SignError::InvalidBaseUrl(_))),
            "{base}"
        );
    }
    assert!(matches!(
        sign("https://h", "/a", "a-b"),
        Err(SignError::InvalidField { field: "rand", .. })
    ));
    assert!(matches!(
        sign("https://h", "/a", &"r".repeat(101)),
        Err(SignError::InvalidField { .. })
    ));
    let mut bad_uid = s.clone();
    bad_uid.uid = "1-2".into();
    assert!(bad_uid.sign("https://h", "/a", 1, "r").is_err());
    let mut bad_param = s.clone();
    bad_param.param = Some("a&b".into());
    assert!(bad_param.sign("https://h", "/a", 1, "r").is_err());
    bad_param.param = Some(String::new());
    assert!(bad_param.sign("https://h", "/a", 1, "r").is_err());
}

#[test]
fn scheme_names_round_trip() {
    let names = [
        "none",
        "aliyun-a",
        "aliyun-b",
        "aliyun-c",
        "tencent-a",
        "tencent-b",
        "tencent-c",
        "tencent-d",
        "hmac",
    ];
    for (scheme, name) in SigningScheme::ALL.into_iter().zip(names) {
        assert_eq!(scheme.as_str(), name);
        assert_eq!(scheme.to_string(), name);
        assert_eq!(name.parse::<SigningScheme>(), Ok(scheme));
        assert_eq!(name.to_uppercase().parse::<SigningScheme>(), Ok(scheme));
        let json = serde_json::to_string(&scheme).unwrap();
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(
            serde_json::from_str::<SigningScheme>(&json).unwrap(),
            scheme
        );
        assert_eq!(
            scheme.signs_each_file(),
            name.starts_with("aliyun") || name.starts_with("tencent")
        );
    }
}

#[test]
fn unknown_scheme_name_lists_the_valid_ones() {
    let err = "akamai".parse::<SigningScheme>().unwrap_err();
    assert_eq!(err, ParseSchemeError("akamai".into()));
    assert_eq!(
        err.to_string(),
        "unknown signing scheme \"akamai\"; expected one of: none, aliyun-a, aliyun-b, aliyun-c, \
         tencent-a, tencent-b, tencent-c, tencent-d, hmac"
    );
    assert!(serde_json::from_str::<SigningScheme>("\"aliyun_a\"").is_err());
}
