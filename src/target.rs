//! Where a check connects to: a host (address or name) and a port.
//!
//! Operators write targets the way they appear in keepalived configs and runbooks:
//! `10.0.0.5:22`, `db1:5432`, `[2001:db8::5]:5060`, or as a URL (`tcp://db1:5432`).
//! Protocol modules with URIs of their own (SIP, RTSP) parse those and build a [`Target`]
//! from the host and port they contain, so every check resolves and prints hosts alike.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::decimal::push_decimal;
use crate::CheckError;

/// A host: an address literal, which needs no resolution, or a name, which does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (or `localhost`), resolved at check time.
    Name(String),
}

impl Host {
    /// Parses a host as found inside a URL or `host:port`: IPv6 literals may carry their
    /// brackets.
    pub fn parse(input: &str) -> Result<Host, String> {
        let bare = input
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(input);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if bare.is_empty() {
            return Err("empty host".into());
        }
        if bare.contains(':') {
            return Err("an IPv6 address needs brackets, e.g. [::1]:22".into());
        }
        if bare.len() > 253 {
            return Err("host name longer than 253 characters".into());
        }
        let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if let Some(c) = bare.chars().find(|c| !name_char(*c)) {
            return Err(format!("character {c:?} is not allowed in a host name"));
        }
        Ok(Host::Name(bare.to_ascii_lowercase()))
    }
}

impl Host {
    /// Appends the host as a URL writes it (an IPv6 address in brackets), without the
    /// formatting machinery: a SIP probe puts it in every request.
    pub fn push_to(&self, out: &mut String) {
        match self {
            Host::Ip(ip) => push_host(out, *ip),
            Host::Name(name) => out.push_str(name),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(40);
        self.push_to(&mut text);
        f.write_str(&text)
    }
}

/// A host and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host to resolve or use as is.
    pub host: Host,
    /// The port, never zero.
    pub port: u16,
}

impl Target {
    /// Parses `host:port`, `[v6]:port` or `SCHEME://host:port` where `SCHEME` is
    /// `scheme`. Without a port, `default_port` is used, or the input is refused when
    /// there is none.
    pub fn parse(
        input: &str,
        scheme: &str,
        default_port: Option<u16>,
    ) -> Result<Target, CheckError> {
        let bad = |why: String| CheckError::Target {
            input: mask_userinfo_unparsed(input, scheme),
            why,
        };
        let rest = match split_scheme(input) {
            Some((given, rest)) if given.eq_ignore_ascii_case(scheme) => rest,
            Some((given, _)) => {
                return Err(bad(format!("scheme '{given}' is not '{scheme}'")));
            }
            None => input,
        };
        if let Some(junk) = rest.find(['/', '?', '#', '@']) {
            return Err(bad(format!(
                "unexpected '{}': write host:port",
                &rest[junk..junk + 1]
            )));
        }
        let (host, port) = split_host_port(rest).map_err(bad)?;
        let host = Host::parse(host).map_err(bad)?;
        let port = match port {
            Some(p) => parse_port(p).map_err(bad)?,
            None => default_port.ok_or_else(|| bad("missing port, write host:port".into()))?,
        };
        Ok(Target { host, port })
    }
}

/// `SCHEME://REST` split when SCHEME is a scheme name (RFC 3986: a letter, then letters,
/// digits, `+`, `-` or `.`). Anything else before a `://` is not a scheme but the start of
/// a bare `user:password@host` whose password holds `//`: reporting it as a scheme would
/// show the password.
pub fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// `input` with any password in its user-info replaced by `***`, for status lines, logs
/// and error messages: `rtsp://admin:secret@cam/x`, the bare `admin:secret@cam/x` and
/// `sip:alice:secret@pbx` all keep the user and lose the password, however it is spelled
/// (percent-encoded included: the whole password is replaced, never decoded).
///
/// The user-info is what precedes the last `@` of the authority. When the input did not
/// parse, where the authority ends is uncertain (a password may hold a `/`), so errors are
/// masked up to the last `@` of the whole input: masking too much is harmless there.
///
/// `scheme` says what kind of input it is (`sip`, `rtsp`, `tcp`): only that scheme's
/// prefix (`sip:`/`sips:`, `rtsp://`/`rtsps://`, ...) is taken for one.
pub fn mask_userinfo(input: &str, scheme: &str) -> String {
    mask(input, scheme, false)
}

/// [`mask_userinfo`] for input that failed to parse: up to the last `@` anywhere.
pub fn mask_userinfo_unparsed(input: &str, scheme: &str) -> String {
    mask(input, scheme, true)
}

fn mask(input: &str, scheme: &str, to_last_at: bool) -> String {
    // Userinfo ends at an '@': without one there is nothing to mask.
    if !input.contains('@') {
        return input.to_string();
    }
    let sip = scheme == "sip";
    // Only this input's own scheme is skipped: in a bare `admin://secret@cam` the
    // "scheme" is the user and the "//" the start of the password, and in a bare RTSP
    // `sip:secret@cam` "sip" is the user.
    let start = if sip {
        ["sips:", "sip:"]
    } else {
        ["://", "s://"]
    }
    .into_iter()
    .map(|tail| {
        if sip {
            tail.to_string()
        } else {
            format!("{scheme}{tail}")
        }
    })
    .find(|prefix| {
        input
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    })
    .map_or(0, |prefix| prefix.len());
    let rest = &input[start..];
    // A SIP URI has no path, and neither its parameters nor its headers may hold an '@',
    // so its user-info (which may hold '/', '#' or ';') ends at the last '@'. Elsewhere it
    // ends with the authority.
    let scope = if to_last_at || sip {
        rest
    } else {
        &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())]
    };
    let Some(at) = scope.rfind('@') else {
        return input.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &input[..start],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => input.to_string(),
    }
}

/// Splits `host:port` / `[v6]:port` / `host` / `[v6]`; an unbracketed string with more
/// than one colon is an IPv6 literal without a port.
pub(crate) fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(after_bracket) = s.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or_else(|| "missing ']' after IPv6 address".to_string())?;
        let host = &s[..close + 2];
        return match &s[close + 2..] {
            "" => Ok((host, None)),
            tail => match tail.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected '{tail}' after ']'")),
            },
        };
    }
    match s.matches(':').count() {
        0 => Ok((s, None)),
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((h, Some(p)))
        }
        _ => Err("an IPv6 address needs brackets, e.g. [::1]:22".into()),
    }
}

/// Parses a port number, 1 to 65535.
fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) => Err("port 0 is not a port to check".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("port '{p}' is not a number from 1 to 65535")),
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(48);
        self.push_to(&mut text);
        f.write_str(&text)
    }
}

impl Target {
    /// Appends the target as `Display` writes it (`host:port`), without the formatting
    /// machinery.
    pub fn push_to(&self, out: &mut String) {
        self.host.push_to(out);
        out.push(':');
        push_decimal(out, u64::from(self.port));
    }
}

/// Appends `ip` as a URI host: IPv6 in brackets. IPv4 by hand: `Display` goes through the
/// formatting machinery, about a thousand instructions an address, and a daemon's SIP
/// probe writes five.
pub fn push_host(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => crate::decimal::push_ipv4(out, v4.octets()),
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "[{v6}]");
        }
    }
}

/// Appends `addr` as `Display` writes it: `1.2.3.4:5060`, `[::1]:5060`.
pub fn push_socket_addr(out: &mut String, addr: SocketAddr) {
    push_host(out, addr.ip());
    out.push(':');
    push_decimal(out, u64::from(addr.port()));
}

/// `addr` as text (see [`push_socket_addr`]).
pub fn socket_addr_text(addr: SocketAddr) -> String {
    let mut out = String::with_capacity(24);
    push_socket_addr(&mut out, addr);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn tcp(s: &str) -> Result<Target, String> {
        Target::parse(s, "tcp", None).map_err(|e| e.to_string())
    }

    #[test]
    fn addresses_read_as_display_writes_them() {
        for addr in [
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.2.30.104:5060",
            "[::1]:5060",
            "[2001:db8::5]:1",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(socket_addr_text(addr), addr.to_string());
            let target = Target {
                host: Host::Ip(addr.ip()),
                port: addr.port(),
            };
            let mut pushed = String::new();
            target.push_to(&mut pushed);
            assert_eq!(pushed, addr.to_string());
        }
        let named = Target {
            host: Host::Name("sip.example".into()),
            port: 5061,
        };
        assert_eq!(named.to_string(), "sip.example:5061");
    }

    #[test]
    fn accepts_the_forms_operators_write() {
        let t = tcp("127.0.0.1:22").unwrap();
        assert_eq!(t.host, Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(t.port, 22);
        let t = tcp("[::1]:5060").unwrap();
        assert_eq!(t.host, Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(t.to_string(), "[::1]:5060");
        let t = tcp("tcp://DB1.example:5432").unwrap();
        assert_eq!(t.host, Host::Name("db1.example".into()));
        assert_eq!(t.to_string(), "db1.example:5432");
        let t = tcp("TCP://[2001:db8::5]:65535").unwrap();
        assert_eq!(t.port, 65535);
    }

    #[test]
    fn default_port_fills_in_only_when_missing() {
        let t = Target::parse("video1", "rtsp", Some(554)).unwrap();
        assert_eq!(t.to_string(), "video1:554");
        let t = Target::parse("[::1]", "rtsp", Some(554)).unwrap();
        assert_eq!(t.to_string(), "[::1]:554");
        let t = Target::parse("video1:8554", "rtsp", Some(554)).unwrap();
        assert_eq!(t.port, 8554);
    }

    #[test]
    fn passwords_are_masked_in_every_spelling() {
        for (input, shown) in [
            ("rtsp://admin:secret@cam/x", "rtsp://admin:***@cam/x"),
            ("admin:secret@127.0.0.1:1/x", "admin:***@127.0.0.1:1/x"),
            (
                "rtsp://admin:s%65cr%65t@cam:8554/",
                "rtsp://admin:***@cam:8554/",
            ),
            ("sip:alice:secret@pbx:5060", "sip:alice:***@pbx:5060"),
            ("SIPS:alice:secret@pbx", "SIPS:alice:***@pbx"),
            (
                "sip:alice:se/cr#et@pbx;transport=tcp",
                "sip:alice:***@pbx;transport=tcp",
            ),
            // Found by fuzzing: a ';' in a SIP user part, which RFC 3261 allows.
            (
                "sip:a;b:secret@pbx;transport=tcp",
                "sip:a;b:***@pbx;transport=tcp",
            ),
            ("rtsp://user@cam/x", "rtsp://user@cam/x"),
            ("rtsp://cam/a@b:c", "rtsp://cam/a@b:c"),
            ("127.0.0.1:22", "127.0.0.1:22"),
        ] {
            let scheme = if input.to_ascii_lowercase().starts_with("sip") {
                "sip"
            } else {
                "rtsp"
            };
            assert_eq!(mask_userinfo(input, scheme), shown, "{input}");
        }
        // Unparsed input: a '/' in the password cannot hide the rest of it.
        let masked = mask_userinfo_unparsed("rtsp://admin:pa/ss@cam/x", "rtsp");
        assert_eq!(masked, "rtsp://admin:***@cam/x");
        // Found by fuzzing: a bare `user:password@host` whose password starts with "//"
        // looks like a scheme; only our own schemes are taken for one.
        assert_eq!(
            mask_userinfo_unparsed("admin://secret@cam", "rtsp"),
            "admin:***@cam"
        );
        assert_eq!(
            mask_userinfo_unparsed("sip:secret@cam", "rtsp"),
            "sip:***@cam"
        );
        assert_eq!(mask_userinfo_unparsed(":////@", "rtsp"), ":***@");
        let err = tcp("tcp://user:secret@host:80").unwrap_err();
        assert!(
            !err.contains("secret") && err.contains("user:***@host"),
            "{err}"
        );
    }

    #[test]
    fn refuses_what_would_be_guesswork() {
        for (input, why) in [
            ("127.0.0.1", "missing port"),
            ("::1:22", "needs brackets"),
            ("host:0", "port 0"),
            ("host:70000", "1 to 65535"),
            ("host:ssh", "1 to 65535"),
            (":22", "empty host"),
            ("http://host:80", "scheme 'http'"),
            ("tcp://host:80/path", "unexpected '/'"),
            ("tcp://user@host:80", "unexpected '@'"),
            ("[::1:22", "missing ']'"),
            ("[::1]22", "unexpected '22'"),
            ("ho st:22", "not allowed"),
            ("", "empty host"),
        ] {
            let err = tcp(input).expect_err(input);
            assert!(err.contains(why), "{input}: {err}");
        }
    }
}
