//! Which URL SETUP and PLAY go to: an SDP `a=control:` resolved against the base URL
//! (RFC 2326 appendix C.1.1). No I/O.
//!
//! The base is the DESCRIBE reply's `Content-Base`, else its `Content-Location`, else the
//! URL that was described. A control that is an absolute URL is used as it is; `*` means
//! the base itself; anything else is appended to the base with one `/` between them.
//! That last rule is what ffmpeg, live555 and GStreamer do rather than RFC 3986's
//! "replace the last path segment": servers that send a Content-Base without its
//! trailing `/` (`rtsp://host/live` with `a=control:track1`) mean `rtsp://host/live/track1`.

use crate::target::split_scheme;

/// The base URL of a described stream.
pub fn base<'a>(
    content_base: Option<&'a str>,
    content_location: Option<&'a str>,
    described: &'a str,
) -> &'a str {
    [content_base, content_location]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|url| is_absolute(url))
        .unwrap_or(described)
}

/// `control` (an `a=control:` value, or none) resolved against `base`.
pub fn resolve(base: &str, control: Option<&str>) -> String {
    let control = control.map(str::trim).unwrap_or("*");
    if control.is_empty() || control == "*" {
        return base.to_string();
    }
    if is_absolute(control) {
        return control.to_string();
    }
    if let Some(path) = control.strip_prefix('/') {
        // An absolute path: the base's scheme and authority, this path.
        let authority_end = split_scheme(base).map_or(base.len(), |(_, rest)| {
            let start = base.len() - rest.len();
            rest.find('/').map_or(base.len(), |j| start + j)
        });
        return format!("{}/{path}", &base[..authority_end]);
    }
    let slash = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{slash}{control}")
}

/// Whether `url` starts with an `rtsp://` or `rtsps://` scheme, in any case.
fn is_absolute(url: &str) -> bool {
    split_scheme(url).is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("rtsp") || scheme.eq_ignore_ascii_case("rtsps")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "rtsp://127.0.0.1:8554/test";

    #[test]
    fn the_base_prefers_content_base_then_content_location() {
        let cb = Some("rtsp://127.0.0.1:8554/test/");
        let cl = Some("rtsp://127.0.0.1:8554/moved");
        assert_eq!(base(cb, cl, URL), "rtsp://127.0.0.1:8554/test/");
        assert_eq!(base(None, cl, URL), "rtsp://127.0.0.1:8554/moved");
        assert_eq!(base(None, None, URL), URL);
        // A relative or empty header is no base.
        assert_eq!(base(Some("test/"), Some(" "), URL), URL);
    }

    #[test]
    fn controls_resolve_as_players_do() {
        let gst = "rtsp://127.0.0.1:8554/test/";
        for (base, control, want) in [
            (gst, Some("stream=0"), "rtsp://127.0.0.1:8554/test/stream=0"),
            (
                URL,
                Some("trackID=1"),
                "rtsp://127.0.0.1:8554/test/trackID=1",
            ),
            (URL, Some("*"), URL),
            (URL, None, URL),
            (URL, Some(""), URL),
            (
                URL,
                Some("rtsp://10.0.0.1/other/track1"),
                "rtsp://10.0.0.1/other/track1",
            ),
            (URL, Some("RTSP://h/x"), "RTSP://h/x"),
            (gst, Some("/abs/track"), "rtsp://127.0.0.1:8554/abs/track"),
            ("rtsp://h", Some("/abs"), "rtsp://h/abs"),
        ] {
            assert_eq!(resolve(base, control), want, "{base} + {control:?}");
        }
    }
}
