//! Downloads through the built-in origin: the file name a browser saves them under.

use poem::Response;
use poem::http::{HeaderValue, header};

/// Adds `Content-Disposition: attachment` to a download (a file under a generation's
/// `downloads/`) when its URL names the file (`filename=`, as `Video.downloads` gives it).
/// The name is reduced to characters that cannot break the header; the UTF-8 original
/// goes in `filename*` (RFC 6266).
pub fn with_file_name(mut response: Response, path: &str, query: &[(String, String)]) -> Response {
    let in_downloads = path.rsplit('/').nth(1) == Some("downloads");
    let Some((_, name)) = query.iter().find(|(k, _)| k == "filename") else {
        return response;
    };
    if !in_downloads || !response.status().is_success() {
        return response;
    }
    let plain: String = name
        .chars()
        .take(120)
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '/' => c,
            _ => '_',
        })
        .collect();
    let encoded: String =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).collect();
    let value = format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}");
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disposition(path: &str, name: &str) -> Option<String> {
        let query = vec![("filename".to_string(), name.to_string())];
        let r = with_file_name(Response::builder().body("x"), path, &query);
        r.headers()
            .get(header::CONTENT_DISPOSITION)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn names_only_downloads_and_keeps_the_header_whole() {
        assert_eq!(
            disposition("videos/1/2/downloads/HD.mp4", "talk-HD.mp4").as_deref(),
            Some("attachment; filename=\"talk-HD.mp4\"; filename*=UTF-8''talk%2DHD%2Emp4")
        );
        let hostile = disposition("videos/1/2/downloads/HD.mp4", "a\"\r\nb.mp4").unwrap();
        assert!(hostile.starts_with("attachment; filename=\"a___b.mp4\";"));
        assert_eq!(disposition("videos/1/2/HD/seg_00000.ts", "x.mp4"), None);
    }
}
