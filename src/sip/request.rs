//! The OPTIONS request check-sip sends.

use std::net::SocketAddr;

use super::uri::Transport;
use crate::token::{push_random_hex, random_hex};

/// The identifiers a response must echo to count as the answer to our request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIds {
    /// Via branch, `z9hG4bK` + random hex (the RFC 3261 magic cookie).
    pub branch: String,
    /// Call-ID.
    pub call_id: String,
    /// CSeq number (the method is always OPTIONS).
    pub cseq: u32,
}

impl RequestIds {
    /// Fresh random identifiers.
    pub fn fresh() -> Self {
        RequestIds {
            branch: {
                let mut branch = String::with_capacity(40);
                branch.push_str("z9hG4bK");
                push_random_hex(&mut branch);
                branch
            },
            call_id: random_hex(),
            cseq: 1,
        }
    }

    /// Why `resp` is not the answer to this request, or `None` when it is.
    pub fn mismatch(&self, resp: &super::message::Response<'_>) -> Option<String> {
        if resp.branch.as_deref() != Some(self.branch.as_str()) {
            return Some(format!(
                "Via branch {:?}, ours {}",
                resp.branch, self.branch
            ));
        }
        if resp.call_id.as_deref() != Some(self.call_id.as_str()) {
            return Some(format!("Call-ID {:?}, ours {}", resp.call_id, self.call_id));
        }
        match &resp.cseq {
            Some((n, m)) if *n == self.cseq && m.eq_ignore_ascii_case("OPTIONS") => None,
            other => Some(format!("CSeq {other:?}, ours {} OPTIONS", self.cseq)),
        }
    }
}

/// Builds the OPTIONS request: `request_uri` to the server, from our `local` address.
pub fn options(
    request_uri: &str,
    transport: Transport,
    local: SocketAddr,
    ids: &RequestIds,
) -> Vec<u8> {
    // Pieces pushed in order rather than format!: a daemon builds a thousand of these a
    // second.
    let mut out = String::with_capacity(512);
    let push = |out: &mut String, parts: &[&str]| parts.iter().for_each(|p| out.push_str(p));
    push(
        &mut out,
        &[
            "OPTIONS ",
            request_uri,
            " SIP/2.0\r\nVia: SIP/2.0/",
            transport.via_name(),
            " ",
        ],
    );
    crate::target::push_socket_addr(&mut out, local);
    push(
        &mut out,
        &[
            ";branch=",
            &ids.branch,
            ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:check-sip@",
        ],
    );
    crate::target::push_host(&mut out, local.ip());
    push(
        &mut out,
        &[
            ">;tag=",
            &ids.call_id[..8],
            "\r\nTo: <",
            request_uri,
            ">\r\nCall-ID: ",
            &ids.call_id,
            "\r\nCSeq: ",
        ],
    );
    crate::decimal::push_decimal(&mut out, u64::from(ids.cseq));
    push(
        &mut out,
        &[
            " OPTIONS\r\nAccept: application/sdp\r\nUser-Agent: keepalived-checks/",
            env!("CARGO_PKG_VERSION"),
            "\r\nContent-Length: 0\r\n\r\n",
        ],
    );
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{parse_message, Message};

    #[test]
    fn fresh_ids_are_random_and_well_formed() {
        let a = RequestIds::fresh();
        let b = RequestIds::fresh();
        assert_ne!(a.branch, b.branch);
        assert_ne!(a.call_id, b.call_id);
        assert!(a.branch.starts_with("z9hG4bK") && a.branch.len() == 7 + 32);
    }

    #[test]
    fn request_is_well_formed_for_v4_and_v6() {
        let ids = RequestIds {
            branch: "z9hG4bKabc".into(),
            call_id: "0123456789abcdef".into(),
            cseq: 1,
        };
        let req = options(
            "sip:127.0.0.1:5060",
            Transport::Udp,
            "127.0.0.1:40000".parse().unwrap(),
            &ids,
        );
        let text = String::from_utf8(req.clone()).unwrap();
        assert!(text.starts_with("OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"));
        assert!(text.contains("\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc;rport\r\n"));
        assert!(text.contains("\r\nFrom: <sip:check-sip@127.0.0.1>;tag=01234567\r\n"));
        assert!(text.contains("\r\nTo: <sip:127.0.0.1:5060>\r\n"));
        assert!(text.contains("\r\nCSeq: 1 OPTIONS\r\nAccept: application/sdp\r\n"));
        assert!(text.contains("\r\nMax-Forwards: 70\r\n"));
        assert!(text.ends_with("\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!(parse_message(&req), Ok(Message::Request("OPTIONS")));

        let v6 = options(
            "sip:[::1]:15060",
            Transport::Tcp,
            "[::1]:40001".parse().unwrap(),
            &ids,
        );
        let text = String::from_utf8(v6).unwrap();
        assert!(text.contains("Via: SIP/2.0/TCP [::1]:40001;branch="));
        assert!(text.contains("From: <sip:check-sip@[::1]>;tag="));
    }

    #[test]
    fn mismatch_names_the_field_that_differs() {
        let ids = RequestIds {
            branch: "z9hG4bKb".into(),
            call_id: "c".into(),
            cseq: 1,
        };
        let mut r = crate::sip::message::Response {
            code: 200,
            reason: "OK",
            branch: Some("z9hG4bKb".into()),
            call_id: Some("c".into()),
            cseq: Some((1, "OPTIONS".into())),
            server: None,
        };
        assert_eq!(ids.mismatch(&r), None);
        r.call_id = Some("other".into());
        assert!(ids.mismatch(&r).unwrap().starts_with("Call-ID"));
        r.call_id = Some("c".into());
        r.branch = Some("z9hG4bKzzz".into());
        assert!(ids.mismatch(&r).unwrap().starts_with("Via branch"));
        r.branch = Some("z9hG4bKb".into());
        r.cseq = Some((2, "OPTIONS".into()));
        assert!(ids.mismatch(&r).unwrap().starts_with("CSeq"));
    }
}
