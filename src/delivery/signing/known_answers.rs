//! Known-answer tests: the providers' own worked examples, and the calendar helpers.

use super::*;

// Keys of the providers' worked examples.
const ALI_KEY: &str = "aliyuncdnexp1234";
const TC_KEY: &str = "dimtm5evg50ijsx2hvuwyfoiu65";
const EO_KEY: &str = "DvYmqE81E1F9R791H6lmht";

fn signer(scheme: SigningScheme, key: &str) -> UrlSigner {
    UrlSigner::new(scheme, key)
}

// Aliyun A doc (help.aliyun.com/document_detail/85113, older revision):
// md5sum("/video/standard/1K.html-1444435200-0-0-aliyuncdnexp1234") = 80cd3862d699b7118eed99103f2a3a4f
#[test]
fn aliyun_a_doc_example_1k_html() {
    let url = signer(SigningScheme::AliyunA, ALI_KEY)
        .sign(
            "http://cdn.example.com",
            "/video/standard/1K.html",
            1_444_435_200,
            "0",
        )
        .unwrap();
    assert_eq!(
        url,
        "http://cdn.example.com/video/standard/1K.html?auth_key=1444435200-0-0-80cd3862d699b7118eed99103f2a3a4f"
    );
}

// Aliyun A doc (current revision), signed at 2015-10-10 08:00:00 UTC+8 = 1444435200:
// md5sum("/video/standard/test.mp4-1444435200-0-0-aliyuncdnexp1234") = 23bf85053008f5c0e791667a313e28ce
// Here the console validity is 1800 s, so a URL expiring 1800 s later carries the doc's time.
#[test]
fn aliyun_a_doc_example_with_console_ttl() {
    let mut s = signer(SigningScheme::AliyunA, ALI_KEY);
    s.console_ttl_secs = 1800;
    let url = s
        .sign(
            "http://domain.example.com",
            "/video/standard/test.mp4",
            1_444_435_200 + 1800,
            "",
        )
        .unwrap();
    assert_eq!(
        url,
        "http://domain.example.com/video/standard/test.mp4?auth_key=1444435200-0-0-23bf85053008f5c0e791667a313e28ce"
    );
}

// Aliyun B doc: md5sum("aliyuncdnexp1234201508150800/4/44/44c0909bcfc20a01afaf256ca99a8b8b.mp3")
// = 9044548ef1527deadafa49a890a377f0; 2015-08-15 08:00 UTC+8 = 1439596800.
#[test]
fn aliyun_b_doc_example() {
    let path = "/4/44/44c0909bcfc20a01afaf256ca99a8b8b.mp3";
    let url = signer(SigningScheme::AliyunB, ALI_KEY)
        .sign("http://cdn.example.com", path, 1_439_596_800, "x")
        .unwrap();
    assert_eq!(
        url,
        "http://cdn.example.com/201508150800/9044548ef1527deadafa49a890a377f0/4/44/44c0909bcfc20a01afaf256ca99a8b8b.mp3"
    );
}

// Aliyun C doc: md5sum("aliyuncdnexp1234/test.flv55CE8100") = a37fa50a5fb8f71214b1e7c95ec7a1bd,
// 0x55CE8100 = 1439596800; both formats.
#[test]
fn aliyun_c_doc_example_both_formats() {
    let mut s = signer(SigningScheme::AliyunC, ALI_KEY);
    let path_form = s
        .sign("http://cdn.example.com", "/test.flv", 0x55CE_8100, "")
        .unwrap();
    assert_eq!(
        path_form,
        "http://cdn.example.com/a37fa50a5fb8f71214b1e7c95ec7a1bd/55CE8100/test.flv"
    );
    s.param = Some("KEY1".into());
    s.time_param = Some("KEY2".into());
    let query_form = s
        .sign("http://cdn.example.com", "/test.flv", 0x55CE_8100, "")
        .unwrap();
    assert_eq!(
        query_form,
        "http://cdn.example.com/test.flv?KEY1=a37fa50a5fb8f71214b1e7c95ec7a1bd&KEY2=55CE8100"
    );
    s.time_param = None;
    assert_eq!(
        s.sign("http://cdn.example.com", "/test.flv", 0x55CE_8100, ""),
        Err(SignError::IncompleteQueryForm)
    );
}

// Tencent A doc (cloud.tencent.com/document/product/228/41623):
// md5sum("/test.jpg-1582791032-im1acp76sx9sdqe601v-0-dimtm5evg50ijsx2hvuwyfoiu65")
// = 3fbb88382c9356b6faaf9d68c7b2ae3a
#[test]
fn tencent_a_doc_example() {
    let url = signer(SigningScheme::TencentA, TC_KEY)
        .sign(
            "http://cloud.tencent.com",
            "/test.jpg",
            1_582_791_032,
            "im1acp76sx9sdqe601v",
        )
        .unwrap();
    assert_eq!(
        url,
        "http://cloud.tencent.com/test.jpg?sign=1582791032-im1acp76sx9sdqe601v-0-3fbb88382c9356b6faaf9d68c7b2ae3a"
    );
}

// Tencent B doc (228/41871), signed 2020-02-27 16:10:32 UTC+8 = 1582791032:
// md5sum("dimtm5evg50ijsx2hvuwyfoiu65202002271610/test.jpg") = 2e03a07cfa55a47768226d3e5ea82a8d
#[test]
fn tencent_b_doc_example() {
    let url = signer(SigningScheme::TencentB, TC_KEY)
        .sign("http://cloud.tencent.com", "/test.jpg", 1_582_791_032, "")
        .unwrap();
    assert_eq!(
        url,
        "http://cloud.tencent.com/202002271610/2e03a07cfa55a47768226d3e5ea82a8d/test.jpg"
    );
}

// Tencent EdgeOne's Type C example (1552/109331), 2024-07-15 15:43:06 UTC+8 = 0x6694d30a:
// MD5("DvYmqE81E1F9R791H6lmht/foo.jpg6694d30a") = 6688749e8906a726c12fe1be3aacd016
#[test]
fn tencent_c_edgeone_doc_example() {
    let url = signer(SigningScheme::TencentC, EO_KEY)
        .sign("https://www.example.com", "/foo.jpg", 0x6694_d30a, "")
        .unwrap();
    assert_eq!(
        url,
        "https://www.example.com/6688749e8906a726c12fe1be3aacd016/6694d30a/foo.jpg"
    );
}

// Derived (the CDN page's own example is inconsistent, see tencent_c):
// printf %s 'dimtm5evg50ijsx2hvuwyfoiu65/test.jpg5e577978' | md5sum
// = 7913fc0c5c9e92dd3633b7895152bbb2, 0x5e577978 = 1582791032.
#[test]
fn tencent_c_derived_with_cdn_doc_key() {
    let url = signer(SigningScheme::TencentC, TC_KEY)
        .sign("http://cloud.tencent.com", "/test.jpg", 1_582_791_032, "")
        .unwrap();
    assert_eq!(
        url,
        "http://cloud.tencent.com/7913fc0c5c9e92dd3633b7895152bbb2/5e577978/test.jpg"
    );
}

// Tencent D doc (228/41625): md5sum("dimtm5evg50ijsx2hvuwyfoiu65/test.jpg1582791032")
// = 900a5049aa8ac1ab144527d9c2be4cea
#[test]
fn tencent_d_doc_example() {
    let url = signer(SigningScheme::TencentD, TC_KEY)
        .sign("http://cloud.tencent.com", "/test.jpg", 1_582_791_032, "")
        .unwrap();
    assert_eq!(
        url,
        "http://cloud.tencent.com/test.jpg?sign=900a5049aa8ac1ab144527d9c2be4cea&t=1582791032"
    );
}

// EdgeOne's Type D example (1552/109332) with its custom parameter name `token`:
// MD5("DvYmqE81E1F9R791H6lmht/foo.jpg1721029907") = cadcec4a04e67b9c2abf4b61c642a0dd
#[test]
fn tencent_d_custom_param_names() {
    let mut s = signer(SigningScheme::TencentD, EO_KEY);
    s.param = Some("token".into());
    let url = s
        .sign("https://www.example.com", "/foo.jpg", 1_721_029_907, "")
        .unwrap();
    assert_eq!(
        url,
        "https://www.example.com/foo.jpg?token=cadcec4a04e67b9c2abf4b61c642a0dd&t=1721029907"
    );
}

// Derived: same hashed string as tencent_c_derived_with_cdn_doc_key.
#[test]
fn tencent_d_hex_time_format() {
    let url = tencent_d(
        "http://cloud.tencent.com",
        "/test.jpg",
        1_582_791_032,
        TC_KEY,
        "sign",
        "t",
        true,
    );
    assert_eq!(
        url,
        "http://cloud.tencent.com/test.jpg?sign=7913fc0c5c9e92dd3633b7895152bbb2&t=5e577978"
    );
}

// Day numbers from `date -u -d DATE +%s` / 86400.
#[test]
fn civil_from_days_known_dates() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    assert_eq!(civil_from_days(47_541), (2100, 3, 1));
    assert_eq!(civil_from_days(-135_081), (1600, 2, 29));
    // Extreme inputs must not panic.
    let _ = civil_from_days(i64::MAX);
    let _ = civil_from_days(i64::MIN);
}

// From `TZ=Asia/Shanghai date -d @SECS +%Y%m%d%H%M`.
#[test]
fn utc8_minute_stamps() {
    assert_eq!(utc8_minute_stamp(0), "197001010800");
    assert_eq!(utc8_minute_stamp(1_582_791_032), "202002271610");
    assert_eq!(utc8_minute_stamp(1_709_222_340), "202402292359"); // leap day
    assert_eq!(utc8_minute_stamp(1_709_222_400), "202403010000"); // 16:00 UTC is already March in UTC+8
    assert_eq!(utc8_minute_stamp(MAX_SIGNING_TIME), "999912312359");
    let _ = utc8_minute_stamp(i64::MAX);
    let _ = utc8_minute_stamp(i64::MIN);
}
