//! RTSP responses from bytes, on [`crate::textproto`]'s framing. No I/O.

use crate::textproto::{self, starts_like, starts_like_request, StartLine, Syntax};

pub use crate::textproto::Frame;

/// The most header bytes before the blank line; a server sending more is broken.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The largest body accepted (an SDP is a few hundred bytes to a few KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// RTSP as the framing sees it. Any `RTSP/` version passes here so that an RTSP/2.0 reply
/// is reported as such rather than as garbage.
pub const RTSP: Syntax = Syntax {
    what: "an RTSP message",
    plausible_start: |b| starts_like(b, b"RTSP/") || starts_like_request(b),
    canonical_name: |name| {
        crate::textproto::lower_case(
            name,
            &[
                "cseq",
                "content-length",
                "content-type",
                "content-base",
                "content-location",
                "session",
                "transport",
                "public",
            ],
        )
    },
    content_length_names: &["content-length"],
    max_header_bytes: MAX_HEADER_BYTES,
    max_body_bytes: MAX_BODY_BYTES,
};

/// A parsed RTSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `RTSP/1.0`, normally.
    pub version: String,
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// CSeq, if present and numeric.
    pub cseq: Option<u32>,
    /// Content-Type without parameters, lower case.
    pub content_type: Option<String>,
    /// Every WWW-Authenticate challenge.
    pub challenges: Vec<String>,
    /// Server header.
    pub server: Option<String>,
    /// Content-Base: the base URL of the SDP's control URLs.
    pub content_base: Option<String>,
    /// Content-Location, the base when there is no Content-Base.
    pub content_location: Option<String>,
    /// Session: the id (and timeout) SETUP opened.
    pub session: Option<String>,
    /// Transport: what SETUP granted.
    pub transport: Option<String>,
    /// Exactly Content-Length bytes of body.
    pub body: Vec<u8>,
}

impl Response {
    /// `200 OK`, or the code alone when there is no reason phrase.
    pub fn status(&self) -> String {
        if self.reason.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {}", self.code, self.reason)
        }
    }
}

/// A parsed message: a response, or a request the server sent us (its method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A response.
    Response(Box<Response>),
    /// A request from the server, e.g. GET_PARAMETER; a check ignores these.
    Request(String),
}

/// Finds the first whole RTSP message in a stream buffer.
pub fn frame(buf: &[u8]) -> Frame {
    textproto::frame(buf, &RTSP)
}

/// Parses one whole message that [`frame`] delimited.
pub fn parse_message(msg: &[u8]) -> Result<Message, String> {
    let (head, body) = textproto::split(msg, &RTSP)?;
    let (version, code, reason) = match textproto::start_line(head.start_line, "RTSP")? {
        StartLine::Request(method) => return Ok(Message::Request(method.to_string())),
        StartLine::Status {
            version,
            code,
            reason,
        } => (version, code, reason),
    };
    Ok(Message::Response(Box::new(Response {
        version: version.to_ascii_uppercase(),
        code,
        reason: reason.to_string(),
        cseq: head.get("cseq").and_then(|v| v.trim().parse().ok()),
        content_type: head.get("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        }),
        challenges: head
            .get_all("www-authenticate")
            .map(str::to_string)
            .collect(),
        server: head.get("server").map(str::to_string),
        content_base: head.get("content-base").map(str::to_string),
        content_location: head.get("content-location").map(str::to_string),
        session: head.get("session").map(str::to_string),
        transport: head.get("transport").map(str::to_string),
        body: body.to_vec(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GStreamer rtsp-server 1.22's answer to DESCRIBE, as captured on the wire.
    const GST_DESCRIBE: &[u8] = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1:36955/test/\r\nServer: GStreamer RTSP server\r\nDate: Sun, 22 Nov 2026 00:42:37 GMT\r\nContent-Length: 131\r\n\r\nv=0\r\no=- 7774751563738017159 1 IN IP4 127.0.0.1\r\ns=Session streamed with GStreamer\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\nc=IN IP4 0.0.0.0\r\n";

    fn response(bytes: &[u8]) -> Response {
        match parse_message(bytes) {
            Ok(Message::Response(r)) => *r,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn gstreamer_describe_parses() {
        assert_eq!(
            frame(GST_DESCRIBE),
            Frame::Message {
                start: 0,
                end: GST_DESCRIBE.len()
            }
        );
        let r = response(GST_DESCRIBE);
        assert_eq!(
            (r.version.as_str(), r.code, r.reason.as_str()),
            ("RTSP/1.0", 200, "OK")
        );
        assert_eq!(r.cseq, Some(2));
        assert_eq!(r.content_type.as_deref(), Some("application/sdp"));
        assert_eq!(r.server.as_deref(), Some("GStreamer RTSP server"));
        assert_eq!(r.body.len(), 131);
        assert_eq!(
            r.content_base.as_deref(),
            Some("rtsp://127.0.0.1:36955/test/")
        );
        assert_eq!(super::super::sdp::parse(&r.body).media[0].kind, "video");
    }

    #[test]
    fn challenges_are_all_kept() {
        let r = response(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nWWW-Authenticate: Basic realm=\"r\"\r\n\r\n");
        assert_eq!(r.challenges.len(), 2);
        assert_eq!(r.status(), "401 Unauthorized");
    }

    #[test]
    fn other_versions_parse_so_they_can_be_reported() {
        let r = response(b"RTSP/2.0 200 OK\r\nCSeq: 1\r\n\r\n");
        assert_eq!(r.version, "RTSP/2.0");
    }

    #[test]
    fn server_requests_and_garbage() {
        assert_eq!(
            parse_message(b"GET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"),
            Ok(Message::Request("GET_PARAMETER".into()))
        );
        assert_eq!(
            frame(b"HTTP/1.1 200 OK\r\n"),
            Frame::Invalid("not an RTSP message".into())
        );
        assert_eq!(
            frame(b"$\x00\x00\x10"),
            Frame::Invalid("not an RTSP message".into())
        );
        let short = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 500\r\n\r\nv=0\r\n";
        assert_eq!(frame(short), Frame::Incomplete);
    }
}
