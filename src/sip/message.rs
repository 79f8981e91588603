//! SIP responses from bytes: framing and parsing, no I/O.
//!
//! Why not rsip: measured with rsip 0.4 (last release 2022), it ignores Content-Length (two
//! pipelined responses parse as one), accepts a truncated message, and rejects compact
//! header names, LF-only line ends and folded headers, all of which real servers and
//! proxies send. A health check reads five things from a response (status line, top Via
//! branch, Call-ID, CSeq, Content-Length), so a small parser with byte fixtures is less
//! code and less risk than working around a general one.
//!
//! Framing is [`crate::textproto`]'s, shared with RTSP; SIP adds its compact header names.
//! [`frame`] finds a whole message in a stream; [`parse_message`] reads one whole message
//! (for UDP the datagram is the message).

use std::borrow::Cow;

use crate::textproto::{
    self, split_ascii, split_once_ascii, starts_like, starts_like_request, trim_ascii, StartLine,
    Syntax,
};

pub use crate::textproto::Frame;

/// The most header bytes accepted before the blank line; more is "oversized".
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The largest body accepted (an OPTIONS answer may carry SDP; not megabytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// SIP as the framing sees it.
pub const SIP: Syntax = Syntax {
    what: "a SIP message",
    plausible_start: |b| starts_like(b, b"SIP/2.0 ") || starts_like_request(b),
    canonical_name,
    content_length_names: &["content-length", "l"],
    max_header_bytes: MAX_HEADER_BYTES,
    max_body_bytes: MAX_BODY_BYTES,
};

/// A parsed SIP response, borrowed from the message's bytes where it can be (a folded
/// header is joined into a copy): a daemon reads a thousand a second, and only the
/// reason and server outlive the message, in the outcome's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// Status code, 100 to 699.
    pub code: u16,
    /// Reason phrase, possibly empty.
    pub reason: &'a str,
    /// `branch` parameter of the topmost Via.
    pub branch: Option<Cow<'a, str>>,
    /// Call-ID.
    pub call_id: Option<Cow<'a, str>>,
    /// CSeq number and method.
    pub cseq: Option<(u32, Cow<'a, str>)>,
    /// Server (or User-Agent) header, for the status details.
    pub server: Option<Cow<'a, str>>,
}

/// A parsed message: the responses we wait for, or a request the server sent us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// A response.
    Response(Response<'a>),
    /// A request (its method); a check ignores these.
    Request(&'a str),
}

/// The canonical (lower-case, full) name of a header: RFC 3261 section 7.3.3's compact
/// forms expanded, and the names answers to OPTIONS carry borrowed rather than copied.
/// Looked up by length first: a daemon canonicalises every header of a thousand answers a
/// second, and a walk through the whole list cost as much as the rest of the line's parse.
fn canonical_name(name: &str) -> Cow<'_, str> {
    let known: &[&'static str] = match name.len() {
        1 => {
            let full = match name.as_bytes()[0].to_ascii_lowercase() {
                b'v' => "via",
                b'i' => "call-id",
                b'l' => "content-length",
                b'f' => "from",
                b't' => "to",
                b'm' => "contact",
                b'c' => "content-type",
                _ => return textproto::lower_case(name, &[]),
            };
            return Cow::Borrowed(full);
        }
        2 => &["to"],
        3 => &["via"],
        4 => &["from", "cseq"],
        5 => &["allow"],
        6 => &["server", "accept"],
        7 => &["call-id", "contact"],
        9 => &["supported"],
        10 => &["user-agent"],
        12 => &["content-type"],
        14 => &["content-length"],
        _ => &[],
    };
    textproto::lower_case(name, known)
}

/// Finds the first whole SIP message in a stream buffer.
pub fn frame(buf: &[u8]) -> Frame {
    textproto::frame(buf, &SIP)
}

/// Parses one whole message (a datagram, or what [`frame`] delimited). Truncated messages
/// are refused.
pub fn parse_message(msg: &[u8]) -> Result<Message<'_>, String> {
    let (head, _body) = textproto::split(msg, &SIP)?;
    let (code, reason) = match textproto::start_line(head.start_line, "SIP")? {
        StartLine::Request(method) => return Ok(Message::Request(method)),
        StartLine::Status { code, reason, .. } => (code, reason),
    };
    let cseq = head.value("cseq").and_then(|v| {
        let number = part_of(v, |v| {
            trim_ascii(v).split_once(char::is_whitespace).map(|p| p.0)
        })?;
        let method = part_of(v, |v| {
            let (_, method) = trim_ascii(v).split_once(char::is_whitespace)?;
            Some(trim_ascii(method))
        })?;
        Some((number.parse().ok()?, method))
    });
    Ok(Message::Response(Response {
        code,
        reason,
        branch: head.value("via").and_then(|v| part_of(v, top_via_branch)),
        call_id: head
            .value("call-id")
            .and_then(|v| part_of(v, |v| Some(trim_ascii(v)))),
        cseq,
        server: head
            .value("server")
            .or_else(|| head.value("user-agent"))
            .cloned(),
    }))
}

/// The part `pick` finds of a header value: borrowed from the message when the value is,
/// copied out of a joined (folded) value.
fn part_of<'a>(
    value: &Cow<'a, str>,
    pick: impl for<'v> Fn(&'v str) -> Option<&'v str>,
) -> Option<Cow<'a, str>> {
    match value {
        Cow::Borrowed(text) => pick(text).map(Cow::Borrowed),
        Cow::Owned(text) => pick(text).map(|part| Cow::Owned(part.to_string())),
    }
}

/// The `branch` parameter of the first Via value (a Via header may list several).
fn top_via_branch(via: &str) -> Option<&str> {
    let top = split_ascii(via, b',').next()?;
    split_ascii(top, b';').skip(1).find_map(|param| {
        let (name, value) = split_once_ascii(param, b'=')?;
        trim_ascii(name)
            .eq_ignore_ascii_case("branch")
            .then(|| trim_ascii(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kamailio 5.6's answer to OPTIONS, as captured on the wire.
    const KAMAILIO_200: &[u8] = b"SIP/2.0 200 Keepalive\r\nVia: SIP/2.0/UDP 127.0.0.1:41395;branch=z9hG4bKabc123;rport=41395;received=127.0.0.1\r\nFrom: <sip:check-sip@127.0.0.1>;tag=t1\r\nTo: <sip:127.0.0.1:25060>;tag=5497176f96ac98204aead303f19a0d17.d5f29c74\r\nCall-ID: cid1\r\nCSeq: 1 OPTIONS\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n";

    /// The frame of a buffer holding exactly one whole message.
    fn whole(msg: &[u8]) -> Frame {
        Frame::Message {
            start: 0,
            end: msg.len(),
        }
    }

    fn response(bytes: &[u8]) -> Response<'_> {
        match parse_message(bytes) {
            Ok(Message::Response(r)) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn known_names_are_borrowed_in_any_case_and_compact_forms_expanded() {
        for name in [
            "via",
            "from",
            "to",
            "call-id",
            "cseq",
            "content-length",
            "server",
            "user-agent",
            "allow",
            "accept",
            "supported",
            "contact",
            "content-type",
        ] {
            for spelt in [name.to_string(), name.to_ascii_uppercase()] {
                let canonical = canonical_name(&spelt);
                assert!(
                    matches!(canonical, Cow::Borrowed(n) if n == name),
                    "{spelt}"
                );
            }
        }
        for (compact, full) in [("V", "via"), ("i", "call-id"), ("L", "content-length")] {
            assert_eq!(canonical_name(compact), full);
        }
        assert_eq!(canonical_name("X-Custom"), "x-custom");
        assert_eq!(canonical_name("k"), "k");
    }

    #[test]
    fn kamailio_keepalive_parses() {
        let r = response(KAMAILIO_200);
        assert_eq!(r.code, 200);
        assert_eq!(r.reason, "Keepalive");
        assert_eq!(r.branch.as_deref(), Some("z9hG4bKabc123"));
        assert_eq!(r.call_id.as_deref(), Some("cid1"));
        assert_eq!(r.cseq, Some((1, "OPTIONS".into())));
        assert_eq!(r.server.as_deref(), Some("kamailio (5.6.3 (x86_64/linux))"));
        assert_eq!(frame(KAMAILIO_200), whole(KAMAILIO_200));
    }

    #[test]
    fn compact_names_lf_only_and_folded_headers() {
        let msg = b"SIP/2.0 200 OK\nv: SIP/2.0/TCP 10.0.0.1:5060\n ;branch=z9hG4bKx1 ;rport\ni: abc@host\nCSeq:   7\n\tOPTIONS\nl: 0\n\n";
        let r = response(msg);
        assert_eq!(r.branch.as_deref(), Some("z9hG4bKx1"));
        assert_eq!(r.call_id.as_deref(), Some("abc@host"));
        assert_eq!(r.cseq, Some((7, "OPTIONS".into())));
        assert_eq!(frame(msg), whole(msg));
    }

    #[test]
    fn top_via_is_the_first_of_a_list() {
        let r = response(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKtop, SIP/2.0/UDP b;branch=z9hG4bKsecond\r\nVia: SIP/2.0/UDP c;branch=z9hG4bKthird\r\n\r\n");
        assert_eq!(r.branch.as_deref(), Some("z9hG4bKtop"));
    }

    #[test]
    fn pipelined_responses_frame_one_at_a_time() {
        let first = b"SIP/2.0 100 Trying\r\nCall-ID: x\r\nContent-Length: 4\r\n\r\nbody".to_vec();
        let mut both = first.clone();
        both.extend_from_slice(KAMAILIO_200);
        assert_eq!(
            frame(&both),
            Frame::Message {
                start: 0,
                end: first.len()
            }
        );
        let rest = &both[first.len()..];
        assert_eq!(
            frame(rest),
            Frame::Message {
                start: 0,
                end: KAMAILIO_200.len()
            }
        );
        assert_eq!(response(&both[..first.len()]).code, 100);
    }

    #[test]
    fn split_messages_are_incomplete_until_whole() {
        for cut in [1, 10, KAMAILIO_200.len() - 3, KAMAILIO_200.len() - 1] {
            assert_eq!(
                frame(&KAMAILIO_200[..cut]),
                Frame::Incomplete,
                "cut at {cut}"
            );
        }
        let with_body = b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\n12345";
        assert_eq!(frame(with_body), Frame::Incomplete);
    }

    #[test]
    fn keepalive_crlfs_are_skipped() {
        let mut buf = b"\r\n\r\n".to_vec();
        buf.extend_from_slice(KAMAILIO_200);
        assert_eq!(
            frame(&buf),
            Frame::Message {
                start: 4,
                end: buf.len()
            }
        );
        assert_eq!(frame(b"\r\n\r\n"), Frame::Incomplete);
    }

    #[test]
    fn truncated_datagrams_are_refused() {
        let no_blank_line = &KAMAILIO_200[..KAMAILIO_200.len() - 2];
        assert_eq!(
            parse_message(no_blank_line).unwrap_err(),
            "truncated: no blank line after the headers"
        );
        let short_body = b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\n12345";
        assert_eq!(
            parse_message(short_body).unwrap_err(),
            "truncated: Content-Length 10 but 5 body bytes"
        );
    }

    #[test]
    fn garbage_and_bad_status_lines_are_refused() {
        assert_eq!(
            frame(b"HTTP/1.1 400 Bad Request\r\n"),
            Frame::Invalid("not a SIP message".into())
        );
        assert_eq!(
            frame(b"\x16\x03\x01\x02\x00"),
            Frame::Invalid("not a SIP message".into())
        );
        assert_eq!(parse_message(b"garbage").unwrap_err(), "not a SIP message");
        assert!(parse_message(b"SIP/2.0 20 OK\r\n\r\n")
            .unwrap_err()
            .contains("bad status line"));
        assert!(parse_message(b"SIP/2.0 999 Odd\r\n\r\n")
            .unwrap_err()
            .contains("bad status line"));
        assert!(parse_message(b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n")
            .unwrap_err()
            .contains("without ':'"));
        assert!(
            parse_message(b"SIP/2.0 200 OK\r\nContent-Length: many\r\n\r\n")
                .unwrap_err()
                .contains("bad Content-Length")
        );
        assert_eq!(
            frame(b"SIP/2.0 200 OK\r\nl: -1\r\n\r\n"),
            Frame::Invalid("bad Content-Length '-1'".into())
        );
    }

    #[test]
    fn oversized_headers_are_refused_without_waiting() {
        let mut big = b"SIP/2.0 200 OK\r\nX-Pad: ".to_vec();
        big.extend(std::iter::repeat(b'a').take(MAX_HEADER_BYTES + 1));
        assert!(matches!(frame(&big), Frame::Invalid(why) if why.starts_with("oversized")));
        assert!(parse_message(&big).unwrap_err().starts_with("oversized"));
        let huge_body = b"SIP/2.0 200 OK\r\nContent-Length: 99999999\r\n\r\n";
        assert!(matches!(frame(huge_body), Frame::Invalid(why) if why.starts_with("oversized")));
    }

    #[test]
    fn requests_from_the_server_are_recognised() {
        let msg = b"OPTIONS sip:check@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse_message(msg), Ok(Message::Request("OPTIONS")));
        assert_eq!(frame(msg), whole(msg));
    }

    #[test]
    fn reason_phrase_may_be_empty_or_have_spaces() {
        assert_eq!(response(b"SIP/2.0 503\r\n\r\n").reason, "");
        assert_eq!(
            response(b"SIP/2.0 503 Service Unavailable\r\n\r\n").reason,
            "Service Unavailable"
        );
    }

    #[test]
    fn two_different_content_lengths_are_malformed() {
        // RFC 4475 3.3.9 in SIP's spelling: the long and the compact name disagree.
        let msg = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\nl: 150\r\n\r\n";
        assert!(parse_message(msg)
            .unwrap_err()
            .contains("conflicting Content-Length"));
        assert!(matches!(frame(msg), Frame::Invalid(w) if w.contains("conflicting")));
    }

    #[test]
    fn content_length_spellings_agree_with_the_canonical_names() {
        for name in SIP.content_length_names {
            assert_eq!(canonical_name(name), "content-length");
            assert_eq!(canonical_name(&name.to_ascii_uppercase()), "content-length");
        }
    }
}
