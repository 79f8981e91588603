//! The target of check-sip: `sip:[user@]host[:port][;transport=udp|tcp]`.

use std::fmt;

use crate::target::{mask_userinfo, mask_userinfo_unparsed, Target};
use crate::CheckError;

/// The default SIP port.
pub const DEFAULT_PORT: u16 = 5060;

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
}

impl Transport {
    /// Lower case, as in status lines and `;transport=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }

    /// Parses `udp` or `tcp` (any case), as in `;transport=`.
    pub fn parse(name: &str) -> Result<Transport, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            other => Err(format!("transport '{other}' is not supported (udp or tcp)")),
        }
    }

    /// Upper case, as in the Via header.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
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
    /// `;transport=` if given.
    pub transport: Option<Transport>,
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
        if lower.starts_with("sips:") {
            return Err(bad(
                "sips: (SIP over TLS) is not supported yet; use sip: with udp or tcp",
            ));
        }
        let rest = if lower.starts_with("sip:") {
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
        let target = Target::parse(hostport, "sip", Some(DEFAULT_PORT)).map_err(|e| match e {
            CheckError::Target { why, .. } => bad(&why),
            other => other,
        })?;
        let mut transport = None;
        for param in params.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("transport") {
                transport = Some(Transport::parse(value).map_err(|why| bad(&why))?);
            }
        }
        Ok(SipUri {
            user,
            target,
            transport,
            shown: mask_userinfo(input, "sip"),
        })
    }

    /// The Request-URI: `sip:[user@]host:port`, the user being `user` if given, else the
    /// URI's own. No user part by default: stock Kamailio answers `200 Keepalive` only to
    /// an OPTIONS without one, and 404 to `sip:s@host`.
    pub fn request_uri(&self, user: Option<&str>) -> String {
        let user = user.or(self.user.as_deref());
        let mut uri = String::with_capacity(48);
        uri.push_str("sip:");
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
    fn refuses_what_it_cannot_do() {
        for (input, why) in [
            ("sips:127.0.0.1", "not supported yet"),
            ("sip://127.0.0.1", "not sip://"),
            ("sip:127.0.0.1;transport=tls", "transport 'tls'"),
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
