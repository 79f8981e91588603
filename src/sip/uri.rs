//! The target of check-sip: `sip:[user@]host[:port][;transport=udp|tcp|tls]`, or
//! `sips:[user@]host[:port]` (SIP over TLS).

use std::fmt;

use crate::target::{mask_userinfo, mask_userinfo_unparsed, split_host_port, Target};
use crate::CheckError;

/// The default SIP port.
pub const DEFAULT_PORT: u16 = 5060;

/// The default port of SIP over TLS (`sips:`, `;transport=tls`).
pub const DEFAULT_TLS_PORT: u16 = 5061;

/// Whether `user` can be the user part of a SIP URI as check-sip writes it: printable
/// ASCII except the characters that would end or bracket it (`user:password` is allowed).
pub fn valid_user(user: &str) -> bool {
    !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>\"@;".contains(c))
}

/// The transports check-sip speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// UDP, with RFC 3261 Timer A retransmissions.
    #[default]
    Udp,
    /// TCP, framed by Content-Length.
    Tcp,
    /// TLS over TCP, framed as TCP is.
    Tls,
}

impl Transport {
    /// Lower case, as in status lines and `;transport=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// Parses `udp`, `tcp` or `tls` (any case), as in `;transport=`.
    pub fn parse(name: &str) -> Result<Transport, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            other => Err(format!(
                "transport '{other}' is not supported (udp, tcp or tls)"
            )),
        }
    }

    /// Upper case, as in the Via header.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The port a URI without one means: 5061 over TLS, 5060 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tls => DEFAULT_TLS_PORT,
            Transport::Udp | Transport::Tcp => DEFAULT_PORT,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed SIP URI, as much of it as a health check needs. Its `Display` (and `Debug`) is
/// the URI as the operator wrote it with any password (`sip:user:password@host`) masked.
#[derive(Clone, PartialEq, Eq)]
pub struct SipUri {
    /// The user part, if the URI had one.
    pub user: Option<String>,
    /// Host and port (5060 when not given).
    pub target: Target,
    /// `;transport=` if given; TLS for a `sips:` URI.
    pub transport: Option<Transport>,
    /// A `sips:` URI: TLS, and the Request-URI keeps the scheme.
    pub secure: bool,
    /// Whether the URI gave a port (else the transport's default is used).
    pub explicit_port: bool,
    /// The input with the password masked, for display.
    shown: String,
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for SipUri {
    /// Never prints the password, whoever debug-prints a value holding it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SipUri({:?})", self.shown)
    }
}

impl std::str::FromStr for SipUri {
    type Err = CheckError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SipUri::parse(s)
    }
}

impl SipUri {
    /// Parses `sip:[user@]host[:port][;params]`; the `sip:` may be left out.
    pub fn parse(input: &str) -> Result<SipUri, CheckError> {
        let bad = |why: &str| CheckError::Target {
            input: mask_userinfo_unparsed(input, "sip"),
            why: why.to_string(),
        };
        let lower = input.to_ascii_lowercase();
        let secure = lower.starts_with("sips:");
        let rest = if secure {
            &input[5..]
        } else if lower.starts_with("sip:") {
            &input[4..]
        } else {
            input
        };
        if rest.starts_with("//") {
            return Err(bad("write sip:HOST, not sip://HOST"));
        }
        if rest.contains('?') {
            return Err(bad("URI headers ('?') are not supported"));
        }
        // Neither parameters nor headers may hold an '@': the user part (which may hold a
        // ';') ends at the last one.
        let (user, addr) = match rest.rsplit_once('@') {
            Some((user, addr)) => {
                if !valid_user(user) {
                    return Err(bad("the user part has characters not allowed in a SIP URI"));
                }
                (Some(user.to_string()), addr)
            }
            None => (None, rest),
        };
        let (hostport, params) = addr.split_once(';').unwrap_or((addr, ""));
        let mut transport = secure.then_some(Transport::Tls);
        for param in params.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("transport") {
                let given = Transport::parse(value).map_err(|why| bad(&why))?;
                // RFC 5630: sips: means TLS hop by hop; ;transport=tcp is its old spelling.
                if secure && given == Transport::Udp {
                    return Err(bad("sips: is SIP over TLS: ;transport=udp contradicts it"));
                }
                transport = Some(if secure { Transport::Tls } else { given });
            }
        }
        let default_port = transport.unwrap_or_default().default_port();
        let target = Target::parse(hostport, "sip", Some(default_port)).map_err(|e| match e {
            CheckError::Target { why, .. } => bad(&why),
            other => other,
        })?;
        let explicit_port = matches!(split_host_port(hostport), Ok((_, Some(_))));
        Ok(SipUri {
            user,
            target,
            transport,
            secure,
            explicit_port,
            shown: mask_userinfo(input, "sip"),
        })
    }

    /// The URI as sent over `transport` (a `--transport` that overrides the URI's): without
    /// a port of its own it gets the transport's default, 5061 for TLS. A `sips:` URI
    /// cannot go over anything but TLS.
    pub fn over(&self, transport: Transport) -> Result<SipUri, String> {
        if self.secure && transport != Transport::Tls {
            return Err(format!(
                "{self} is SIP over TLS: --transport {transport} contradicts it"
            ));
        }
        let mut uri = self.clone();
        if !uri.explicit_port {
            uri.target.port = transport.default_port();
        }
        Ok(uri)
    }

    /// The Request-URI: `sip:[user@]host:port` (`sips:` for a `sips:` URI), the user being
    /// `user` if given, else the URI's own. No user part by default: stock Kamailio answers
    /// `200 Keepalive` only to an OPTIONS without one, and 404 to `sip:s@host`.
    pub fn request_uri(&self, user: Option<&str>) -> String {
        let user = user.or(self.user.as_deref());
        let mut uri = String::with_capacity(48);
        uri.push_str(if self.secure { "sips:" } else { "sip:" });
        if let Some(u) = user {
            uri.push_str(u);
            uri.push('@');
        }
        self.target.push_to(&mut uri);
        uri
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_in_use() {
        let u = SipUri::parse("sip:127.0.0.1").unwrap();
        assert_eq!(u.target.to_string(), "127.0.0.1:5060");
        assert_eq!(u.user, None);
        assert_eq!(u.transport, None);
        assert_eq!(u.request_uri(None), "sip:127.0.0.1:5060");

        let u = SipUri::parse("sip:s@10.10.10.10:5060").unwrap();
        assert_eq!(u.user.as_deref(), Some("s"));
        assert_eq!(u.request_uri(None), "sip:s@10.10.10.10:5060");
        assert_eq!(u.request_uri(Some("ping")), "sip:ping@10.10.10.10:5060");

        let u = SipUri::parse("SIP:[::1]:15060;transport=TCP;lr").unwrap();
        assert_eq!(u.target.to_string(), "[::1]:15060");
        assert_eq!(u.transport, Some(Transport::Tcp));
        assert_eq!(u.request_uri(None), "sip:[::1]:15060");

        let u = SipUri::parse("proxy.example:65000").unwrap();
        assert_eq!(u.request_uri(None), "sip:proxy.example:65000");
    }

    #[test]
    fn passwords_never_show() {
        let u = SipUri::parse("sip:alice:secret@pbx.example").unwrap();
        assert_eq!(u.to_string(), "sip:alice:***@pbx.example");
        assert!(!format!("{u:?}").contains("secret"));
        assert_eq!(u.request_uri(None), "sip:alice:secret@pbx.example:5060");
        let err = SipUri::parse("sip:alice:secret@pbx:0")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn tls_forms_default_to_5061() {
        let u = SipUri::parse("sips:sbc.example").unwrap();
        assert_eq!((u.transport, u.secure), (Some(Transport::Tls), true));
        assert_eq!(u.target.to_string(), "sbc.example:5061");
        assert_eq!(u.request_uri(None), "sips:sbc.example:5061");
        let u = SipUri::parse("sip:127.0.0.1;transport=TLS").unwrap();
        assert_eq!((u.transport, u.secure), (Some(Transport::Tls), false));
        assert_eq!(u.request_uri(None), "sip:127.0.0.1:5061");
        let u = SipUri::parse("SIPS:[::1]:15061;transport=tcp").unwrap();
        assert_eq!(u.transport, Some(Transport::Tls));
        assert_eq!(u.target.to_string(), "[::1]:15061");
        // --transport tls: 5061 unless the URI gave a port.
        for (uri, target) in [
            ("sip:10.0.0.1", "10.0.0.1:5061"),
            ("sip:[::1]:5070", "[::1]:5070"),
            ("sip:[::1]", "[::1]:5061"),
            ("sip:sbc:5060", "sbc:5060"),
        ] {
            let u = SipUri::parse(uri).unwrap().over(Transport::Tls).unwrap();
            assert_eq!(u.target.to_string(), target, "{uri}");
        }
        let err = SipUri::parse("sips:sbc")
            .unwrap()
            .over(Transport::Udp)
            .unwrap_err();
        assert!(err.contains("contradicts"), "{err}");
        let u = SipUri::parse("sips:alice:secret@sbc").unwrap();
        assert!(!u.to_string().contains("secret"));
        assert_eq!(u.request_uri(None), "sips:alice:secret@sbc:5061");
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        for (input, why) in [
            ("sips:127.0.0.1;transport=udp", "contradicts"),
            ("sip://127.0.0.1", "not sip://"),
            ("sip:127.0.0.1;transport=sctp", "transport 'sctp'"),
            ("sip:127.0.0.1:0", "port 0"),
            ("sip:::1", "brackets"),
            ("sip:a b@host", "user part"),
            ("sip:host?subject=x", "'?'"),
            ("sip:", "empty host"),
        ] {
            let err = SipUri::parse(input).unwrap_err().to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
    }
}
