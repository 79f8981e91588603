//! The target of check-rtsp: `rtsp://[user[:password]@]host[:port][/path]`, or the seed
//! script's bare `HOST` / `HOST:PORT`.
//!
//! Parsed by hand like the other targets: the `url` crate would bring in IDNA tables for
//! nothing a health check needs.

use std::fmt;

use crate::target::{mask_userinfo, mask_userinfo_unparsed, split_scheme, Target};
use crate::CheckError;

/// The default RTSP port.
pub const DEFAULT_PORT: u16 = 554;

/// The default port of RTSP over TLS (`rtsps://`; IANA's port for rtsps).
pub const DEFAULT_TLS_PORT: u16 = 322;

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the password, whoever debug-prints a value holding it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials {{ user: {:?}, password: <redacted> }}",
            self.user
        )
    }
}

/// A parsed RTSP URL. Its `Display` is the URL as the operator wrote it with any password
/// replaced by `***`, so it can go to a status line or the journal as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtspUrl {
    /// Credentials from the user-info part, percent-decoded.
    pub credentials: Option<Credentials>,
    /// Host and port (554 when not given, 322 for `rtsps://`).
    pub target: Target,
    /// An `rtsps://` URL: RTSP over TLS.
    pub secure: bool,
    /// The path, with its leading `/`, or empty.
    pub path: String,
    /// The input with the password masked, for display.
    shown: String,
}

impl fmt::Display for RtspUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::str::FromStr for RtspUrl {
    type Err = CheckError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RtspUrl::parse(s)
    }
}

impl RtspUrl {
    /// Parses an `rtsp://` or `rtsps://` URL, or a bare `HOST[:PORT]`.
    pub fn parse(input: &str) -> Result<RtspUrl, CheckError> {
        let bad = |why: String| CheckError::Target {
            input: mask_userinfo_unparsed(input, "rtsp"),
            why,
        };
        let (secure, rest) = match split_scheme(input) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("rtsp") => (false, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("rtsps") => (true, rest),
            Some((scheme, _)) => {
                return Err(bad(format!("scheme '{scheme}' is not 'rtsp' or 'rtsps'")))
            }
            None => (false, input),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], &rest[i..]),
            Some(i) => {
                return Err(bad(format!(
                    "unexpected '{}' before the path",
                    &rest[i..i + 1]
                )))
            }
            None => (rest, ""),
        };
        let (credentials, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let credentials = Credentials {
                    user: percent_decode(user).map_err(&bad)?,
                    password: percent_decode(password).map_err(&bad)?,
                };
                if credentials.user.is_empty() {
                    return Err(bad("empty user name before '@'".into()));
                }
                (Some(credentials), hostport)
            }
            None => (None, authority),
        };
        let port = if secure {
            DEFAULT_TLS_PORT
        } else {
            DEFAULT_PORT
        };
        let target = Target::parse(hostport, "rtsp", Some(port)).map_err(|e| match e {
            CheckError::Target { why, .. } => bad(why),
            other => other,
        })?;
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "the path has spaces or control characters (percent-encode them)".into(),
            ));
        }
        Ok(RtspUrl {
            credentials,
            target,
            secure,
            path: path.to_string(),
            shown: mask_userinfo(input, "rtsp"),
        })
    }

    /// The URL to put in requests: no credentials, the port always written, and `/` for
    /// an empty path.
    pub fn request_uri(&self) -> String {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        let scheme = if self.secure { "rtsps" } else { "rtsp" };
        format!("{scheme}://{}{path}", self.target)
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // The escape is not quoted in the message: it may be part of the password.
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or("a '%' in the user-info is not followed by two hex digits")?;
            let byte = u8::from_str_radix(hex, 16)
                .map_err(|_| "a '%' in the user-info is not followed by two hex digits")?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user-info is not UTF-8 once decoded".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_the_seed_form() {
        let u = RtspUrl::parse("rtsp://10.10.3.20/live/ch1").unwrap();
        assert_eq!(u.request_uri(), "rtsp://10.10.3.20:554/live/ch1");
        assert_eq!(u.credentials, None);

        let u = RtspUrl::parse("10.10.3.20").unwrap();
        assert_eq!(u.request_uri(), "rtsp://10.10.3.20:554/");

        let u = RtspUrl::parse("RTSP://[::1]:8554").unwrap();
        assert_eq!(u.request_uri(), "rtsp://[::1]:8554/");

        let u = RtspUrl::parse("rtsp://cam%40site:p%3Ass@cam1.example:8554/stream").unwrap();
        let c = u.credentials.clone().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("cam@site", "p:ss"));
        assert_eq!(u.request_uri(), "rtsp://cam1.example:8554/stream");
    }

    #[test]
    fn rtsps_is_tls_on_port_322() {
        let u = RtspUrl::parse("rtsps://cam1.example/live").unwrap();
        assert!(u.secure);
        assert_eq!(u.target.to_string(), "cam1.example:322");
        assert_eq!(u.request_uri(), "rtsps://cam1.example:322/live");
        let u = RtspUrl::parse("RTSPS://user:pw@[::1]:8322/x").unwrap();
        assert_eq!(u.request_uri(), "rtsps://[::1]:8322/x");
        assert!(!u.to_string().contains("pw"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for (input, why) in [
            ("http://host/", "scheme 'http'"),
            ("rtsp://host:0/", "port 0"),
            ("rtsp://::1/", "brackets"),
            ("rtsp://:pw@host/", "empty user"),
            ("rtsp://u:%zz@host/", "not followed by two hex digits"),
            ("rtsp://u:%+f@host/", "not followed by two hex digits"),
            ("rtsp://host/a b", "spaces"),
            ("rtsp://host?x", "unexpected '?'"),
        ] {
            let err = RtspUrl::parse(input).unwrap_err().to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
    }

    #[test]
    fn passwords_never_show() {
        for input in [
            "rtsp://user:secret@host/x",
            "user:secret@host/x",
            "rtsp://user:s%65cret@host:8554/x",
        ] {
            let url = RtspUrl::parse(input).unwrap();
            assert_eq!(url.credentials.unwrap().user, "user");
            let shown = RtspUrl::parse(input).unwrap().to_string();
            assert!(
                !shown.contains("secret") && !shown.contains("%65"),
                "{shown}"
            );
            assert!(shown.contains("user:***@host"), "{shown}");
        }
        assert_eq!(
            RtspUrl::parse("rtsp://user@host/x").unwrap().to_string(),
            "rtsp://user@host/x"
        );
        for bad in [
            "rtsp://user:secret@host:0/",
            "user:secret@host:0/x",
            "user:secret@[zz",
        ] {
            let err = RtspUrl::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{err}");
        }
        let c = Credentials {
            user: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
