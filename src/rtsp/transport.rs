//! The `Transport` a check asks for in SETUP, what the server's answer means, and the
//! `Session` header it keeps (RFC 2326 sections 12.37 and 12.39). No I/O.
//!
//! By default a check asks for RTP interleaved on the RTSP connection (`RTP/AVP/TCP`): no
//! UDP ports to open, no firewall holes, and a server that cannot send media fails on the
//! same connection that asked for it. Servers that send RTP over UDP only (VLC's RTSP
//! output, Perl's RTSP::Server) are asked for `RTP/AVP` to two local ports instead.

use std::fmt;

/// How RTP is to reach the check: `--rtp-transport`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RtpTransport {
    /// Interleaved on the RTSP connection.
    #[default]
    Tcp,
    /// Datagrams to two local ports.
    Udp,
}

impl std::str::FromStr for RtpTransport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(RtpTransport::Tcp),
            "udp" => Ok(RtpTransport::Udp),
            _ => Err(format!("'{s}' is not tcp or udp")),
        }
    }
}

impl fmt::Display for RtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RtpTransport::Tcp => "tcp",
            RtpTransport::Udp => "udp",
        })
    }
}

/// What SETUP asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// RTP on channel 0 and RTCP on 1 of the RTSP connection.
    Interleaved,
    /// RTP to this (even) local port, RTCP to the next.
    Udp {
        /// The RTP port.
        rtp_port: u16,
    },
}

impl Asked {
    /// The Transport header's value.
    pub fn header(&self) -> String {
        match self {
            Asked::Interleaved => "RTP/AVP/TCP;unicast;interleaved=0-1".into(),
            Asked::Udp { rtp_port } => format!(
                "RTP/AVP;unicast;client_port={rtp_port}-{}",
                rtp_port.saturating_add(1)
            ),
        }
    }
}

/// What the server agreed to: where RTP and RTCP arrive, as interleaved channels (for UDP,
/// 0 stands for the RTP port and 1 for the RTCP port), and the SSRC it announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    /// The channel RTP arrives on.
    pub rtp: u8,
    /// The channel RTCP arrives on.
    pub rtcp: u8,
    /// The SSRC the server announced, if it did.
    pub ssrc: Option<u32>,
}

/// What the server's `Transport` header grants for what was `asked`, or why a check
/// cannot use it.
pub fn granted(header: Option<&str>, asked: Asked) -> Result<Granted, String> {
    let Some(header) = header else {
        return Err("SETUP 200 without a Transport header".into());
    };
    // A server may list several; the first is its choice.
    let spec = header.split(',').next().unwrap_or("").trim();
    let mut params = spec.split(';').map(str::trim);
    let protocol = params.next().unwrap_or("").to_ascii_uppercase();
    let tcp = protocol == "RTP/AVP/TCP";
    let udp = protocol == "RTP/AVP" || protocol == "RTP/AVP/UDP";
    let wanted = match asked {
        Asked::Interleaved if !tcp => "RTP/AVP/TCP",
        Asked::Udp { .. } if !udp => "RTP/AVP (UDP)",
        _ => "",
    };
    if !wanted.is_empty() {
        return Err(format!(
            "SETUP 200 but the server chose transport '{spec}', not the {wanted} asked for"
        ));
    }
    let mut channels = None;
    let mut client_port = None;
    let mut ssrc = None;
    for param in params {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim().trim_matches('"');
        let unreadable = || format!("SETUP 200 with an unreadable {name}={value} in '{spec}'");
        match name.trim().to_ascii_lowercase().as_str() {
            "interleaved" => channels = Some(pair(value).ok_or_else(unreadable)?),
            "client_port" => client_port = Some(pair::<u16>(value).ok_or_else(unreadable)?),
            // Hex, RFC 2326's 8*8(HEX); some servers send fewer digits, or decimal with
            // a sign, which no RTP header can match: what is not hex is ignored.
            "ssrc" => ssrc = u32::from_str_radix(value, 16).ok(),
            _ => {}
        }
    }
    if let (Asked::Udp { rtp_port }, Some((rtp, rtcp))) = (asked, client_port) {
        if rtp != rtp_port {
            return Err(format!(
                "SETUP 200 but the server will send to client_port={rtp}-{rtcp}, not the {rtp_port}-{} asked for",
                rtp_port.saturating_add(1)
            ));
        }
    }
    // A server that leaves interleaved= out uses the channels asked for.
    let (rtp, rtcp) = match asked {
        Asked::Interleaved => channels.unwrap_or((0, 1)),
        Asked::Udp { .. } => (0, 1),
    };
    Ok(Granted { rtp, rtcp, ssrc })
}

/// `0-1`, or `4` alone (the second is the next number).
fn pair<T>(value: &str) -> Option<(T, T)>
where
    T: std::str::FromStr + Copy + TryFrom<u32> + Into<u32>,
{
    match value.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let a: T = value.parse().ok()?;
            let next = T::try_from(a.into().checked_add(1)?).ok()?;
            Some((a, next))
        }
    }
}

/// A `Session` header: the id to send back, and the timeout, in seconds, after which an
/// idle session is dropped (60 when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId {
    /// The id, as sent back in every later request.
    pub id: String,
    /// `;timeout=`, in seconds.
    pub timeout: u64,
}

/// Parses `12345678;timeout=60`. An empty id is none.
pub fn session_id(header: &str) -> Option<SessionId> {
    let mut parts = header.split(';').map(str::trim);
    let id = parts.next().filter(|id| !id.is_empty())?.to_string();
    let timeout = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("timeout"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(60);
    Some(SessionId { id, timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: Asked = Asked::Interleaved;
    const UDP: Asked = Asked::Udp { rtp_port: 5000 };

    #[test]
    fn interleaved_answers() {
        // GStreamer rtsp-server 1.22.
        let gst = "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=7E59C6A5;mode=\"PLAY\"";
        assert_eq!(
            granted(Some(gst), TCP),
            Ok(Granted {
                rtp: 0,
                rtcp: 1,
                ssrc: Some(0x7E59_C6A5)
            })
        );
        // Other channels, no SSRC, a bare channel.
        let other = granted(Some("rtp/avp/tcp;interleaved=2-3"), TCP).unwrap();
        assert_eq!((other.rtp, other.rtcp, other.ssrc), (2, 3, None));
        assert_eq!(
            granted(Some("RTP/AVP/TCP;interleaved=4"), TCP)
                .unwrap()
                .rtcp,
            5
        );
        assert_eq!(granted(Some("RTP/AVP/TCP;unicast"), TCP).unwrap().rtp, 0);
        assert_eq!(
            granted(Some("RTP/AVP/TCP;interleaved=255"), TCP),
            Err(
                "SETUP 200 with an unreadable interleaved=255 in 'RTP/AVP/TCP;interleaved=255'"
                    .into()
            )
        );
        assert!(granted(Some("RTP/AVP/TCP;interleaved=x-1"), TCP).is_err());
    }

    #[test]
    fn udp_answers() {
        // VLC 3.0's RTSP output.
        let vlc = "RTP/AVP/UDP;unicast;client_port=5000-5001;server_port=42106-42107;ssrc=1E2D3C4B;mode=play";
        assert_eq!(
            granted(Some(vlc), UDP),
            Ok(Granted {
                rtp: 0,
                rtcp: 1,
                ssrc: Some(0x1E2D_3C4B)
            })
        );
        // Perl's RTSP::Server echoes the request and adds server_port.
        let perl = "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971";
        assert_eq!(granted(Some(perl), UDP).unwrap().ssrc, None);
        assert_eq!(
            granted(Some("RTP/AVP;unicast;client_port=6000-6001"), UDP),
            Err("SETUP 200 but the server will send to client_port=6000-6001, not the 5000-5001 asked for".into())
        );
        assert_eq!(UDP.header(), "RTP/AVP;unicast;client_port=5000-5001");
    }

    #[test]
    fn what_a_check_cannot_use() {
        assert_eq!(
            granted(None, TCP),
            Err("SETUP 200 without a Transport header".into())
        );
        let udp = granted(
            Some("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971"),
            TCP,
        );
        assert_eq!(
            udp,
            Err("SETUP 200 but the server chose transport 'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971', not the RTP/AVP/TCP asked for".into())
        );
        assert_eq!(
            granted(Some("RTP/AVP/TCP;interleaved=0-1"), UDP),
            Err("SETUP 200 but the server chose transport 'RTP/AVP/TCP;interleaved=0-1', not the RTP/AVP (UDP) asked for".into())
        );
        assert_eq!("UDP".parse::<RtpTransport>(), Ok(RtpTransport::Udp));
        assert!("sctp".parse::<RtpTransport>().is_err());
    }

    #[test]
    fn session_ids_and_timeouts() {
        assert_eq!(
            session_id("kWZB7RhOl2ofsp3u;timeout=60"),
            Some(SessionId {
                id: "kWZB7RhOl2ofsp3u".into(),
                timeout: 60
            })
        );
        assert_eq!(session_id("1234 ; Timeout = 5").map(|s| s.timeout), Some(5));
        assert_eq!(session_id("abc").map(|s| s.timeout), Some(60));
        assert_eq!(session_id(" ;timeout=5"), None);
    }
}
