//! The `Transport` a check asks for in SETUP, what the server's answer means, and the
//! `Session` header it keeps (RFC 2326 sections 12.37 and 12.39). No I/O.
//!
//! A check asks for RTP interleaved on the RTSP connection (`RTP/AVP/TCP`): no UDP ports
//! to open, no firewall holes, and a server that cannot send media fails on the same
//! connection that asked for it.

/// The channels asked for: RTP on 0, RTCP on 1.
pub const REQUESTED: &str = "RTP/AVP/TCP;unicast;interleaved=0-1";

/// The interleaved transport the server agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interleaved {
    /// The channel RTP arrives on.
    pub rtp: u8,
    /// The channel RTCP arrives on.
    pub rtcp: u8,
    /// The SSRC the server announced, if it did.
    pub ssrc: Option<u32>,
}

/// What the server's `Transport` header grants, or why a check cannot use it.
pub fn granted(header: Option<&str>) -> Result<Interleaved, String> {
    let Some(header) = header else {
        return Err("SETUP 200 without a Transport header".into());
    };
    // A server may list several; the first is its choice.
    let spec = header.split(',').next().unwrap_or("").trim();
    let mut params = spec.split(';').map(str::trim);
    let protocol = params.next().unwrap_or("");
    if !protocol.eq_ignore_ascii_case("RTP/AVP/TCP") {
        return Err(format!(
            "SETUP 200 but the server chose transport '{spec}', not the RTP/AVP/TCP asked for"
        ));
    }
    let mut channels = None;
    let mut ssrc = None;
    for param in params {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim().trim_matches('"');
        match name.trim().to_ascii_lowercase().as_str() {
            "interleaved" => {
                channels = Some(interleaved(value).ok_or_else(|| {
                    format!("SETUP 200 with an unreadable interleaved={value} in '{spec}'")
                })?);
            }
            // Hex, RFC 2326's 8*8(HEX); some servers send fewer digits or decimal with
            // a sign, which no RTP header can match: ignore what is not hex.
            "ssrc" => ssrc = u32::from_str_radix(value, 16).ok(),
            _ => {}
        }
    }
    // A server that leaves interleaved= out uses the channels asked for.
    let (rtp, rtcp) = channels.unwrap_or((0, 1));
    Ok(Interleaved { rtp, rtcp, ssrc })
}

/// `0-1`, or `4` alone (RTCP on the next channel).
fn interleaved(value: &str) -> Option<(u8, u8)> {
    match value.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let a: u8 = value.parse().ok()?;
            Some((a, a.checked_add(1)?))
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

    #[test]
    fn the_servers_answers() {
        // GStreamer rtsp-server 1.22.
        let gst = "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=7E59C6A5;mode=\"PLAY\"";
        assert_eq!(
            granted(Some(gst)),
            Ok(Interleaved {
                rtp: 0,
                rtcp: 1,
                ssrc: Some(0x7E59_C6A5)
            })
        );
        // Other channels, no SSRC, a bare channel.
        let other = granted(Some("rtp/avp/tcp;interleaved=2-3")).unwrap();
        assert_eq!((other.rtp, other.rtcp, other.ssrc), (2, 3, None));
        assert_eq!(granted(Some("RTP/AVP/TCP;interleaved=4")).unwrap().rtcp, 5);
        assert_eq!(granted(Some("RTP/AVP/TCP;unicast")).unwrap().rtp, 0);
        assert_eq!(
            granted(Some("RTP/AVP/TCP;interleaved=255")),
            Err(
                "SETUP 200 with an unreadable interleaved=255 in 'RTP/AVP/TCP;interleaved=255'"
                    .into()
            )
        );
    }

    #[test]
    fn what_a_check_cannot_use() {
        assert_eq!(
            granted(None),
            Err("SETUP 200 without a Transport header".into())
        );
        let udp = granted(Some(
            "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971",
        ));
        assert_eq!(
            udp,
            Err("SETUP 200 but the server chose transport 'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971', not the RTP/AVP/TCP asked for".into())
        );
        assert!(granted(Some("RTP/AVP/TCP;interleaved=x-1")).is_err());
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
