//! One RTSP connection's request/response state, sans I/O: requests out as bytes, whole
//! messages in, and what to do next.
//!
//! Each request gets the next CSeq; its reply must carry the same CSeq. One request is
//! outstanding at a time, so a reply *without* a CSeq can only be the answer to it (VLC's
//! `401 Unauthorized` has none) and is taken, with a note at `-v`; a reply with a *wrong*
//! CSeq is refused. A 401 is answered once with the credentials (Digest preferred,
//! counting `nc` per nonce, a fresh `cnonce` each time); a second 401 is the verdict,
//! unless it says `stale=true` (the nonce expired, the credentials were right), which is
//! answered once more with the new nonce.
//!
//! The driver (`rtsp::probe`) sends what [`Session::request`] returns, frames replies off
//! the stream, and hands each to [`Session::handle`] until it yields a [`Step::Reply`].

use std::borrow::Cow;

use tracing::debug;

use super::auth::{self, Challenge};
use super::message::{parse_message, Message, Response};
use super::transport::{session_id, SessionId};
use super::url::Credentials;
use crate::{Outcome, Stage};

/// A request to write to the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// When the request carries credentials: the same request with the Authorization
    /// header redacted, for `-vv` logs.
    pub redacted: Option<Vec<u8>>,
}

impl Outgoing {
    /// What `-vv` logs of the request.
    pub fn logged(&self) -> &[u8] {
        self.redacted.as_deref().unwrap_or(&self.bytes)
    }
}

/// What a received message means for the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this (the request again, answering a challenge), then keep reading.
    Send(Outgoing),
    /// The reply to the outstanding request.
    Reply(Box<Response>),
    /// Not for us (a request from the server): keep reading.
    Ignore,
}

#[derive(Debug)]
struct Pending {
    method: &'static str,
    uri: String,
    extra_headers: String,
    cseq: u32,
    /// Challenges answered for this request (the first 401, and a stale nonce once).
    answered: u8,
}

/// One RTSP connection's conversation.
#[derive(Debug)]
pub struct Session {
    uri: String,
    /// The RTSP session SETUP opened: its id goes into every later request.
    session: Option<SessionId>,
    credentials: Option<Credentials>,
    cseq: u32,
    challenge: Option<Challenge>,
    /// Uses of the current Digest nonce.
    nc: u32,
    /// Whether the last request carried an Authorization header.
    sent_credentials: bool,
    pending: Option<Pending>,
}

impl Session {
    /// A conversation about `uri` (the Request-URI, no credentials in it).
    pub fn new(uri: String, credentials: Option<Credentials>) -> Self {
        Session {
            uri,
            session: None,
            credentials,
            cseq: 0,
            challenge: None,
            nc: 0,
            sent_credentials: false,
            pending: None,
        }
    }

    /// Starts `method` on the described URL with `extra_headers` (each ending in CRLF)
    /// and returns the bytes to send. Credentials go along once a challenge is known.
    pub fn request(&mut self, method: &'static str, extra_headers: &str) -> Outgoing {
        let uri = self.uri.clone();
        self.request_to(method, uri, extra_headers)
    }

    /// As [`Session::request`], on another URL: SETUP and PLAY go to the control URLs
    /// of the SDP. The RTSP session's id goes along once SETUP has opened one.
    pub fn request_to(
        &mut self,
        method: &'static str,
        uri: String,
        extra_headers: &str,
    ) -> Outgoing {
        self.cseq += 1;
        let out = self.encode(method, &uri, extra_headers);
        self.pending = Some(Pending {
            method,
            uri,
            extra_headers: extra_headers.to_string(),
            cseq: self.cseq,
            answered: 0,
        });
        out
    }

    /// The described URL: the Request-URI of OPTIONS and DESCRIBE.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The RTSP session SETUP opened, if any.
    pub fn session(&self) -> Option<&SessionId> {
        self.session.as_ref()
    }

    fn encode(&mut self, method: &str, uri: &str, extra_headers: &str) -> Outgoing {
        let session = match &self.session {
            Some(s) => format!("Session: {}\r\n", s.id),
            None => String::new(),
        };
        let head = format!(
            "{method} {uri} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: keepalived-checks/{}\r\n{session}{extra_headers}",
            self.cseq,
            env!("CARGO_PKG_VERSION")
        );
        let authorization = match (&self.challenge, &self.credentials) {
            (Some(challenge), Some(credentials)) => {
                self.nc += 1;
                Some(auth::authorization(
                    challenge,
                    credentials,
                    method,
                    uri,
                    self.nc,
                ))
            }
            _ => None,
        };
        self.sent_credentials = authorization.is_some();
        match authorization {
            Some(a) => Outgoing {
                bytes: format!("{head}Authorization: {a}\r\n\r\n").into_bytes(),
                redacted: Some(format!("{head}Authorization: <redacted>\r\n\r\n").into_bytes()),
            },
            None => Outgoing {
                bytes: format!("{head}\r\n").into_bytes(),
                redacted: None,
            },
        }
    }

    /// Takes one whole message framed off the connection. `Err` is an unhealthy outcome:
    /// bytes that are not RTSP/1.0, a reply to another request, an unanswerable challenge.
    pub fn handle(&mut self, msg: &[u8]) -> Result<Step, Outcome> {
        let resp = match parse_message(msg) {
            Err(why) => return Err(Outcome::unhealthy(Stage::Parse, why)),
            Ok(Message::Request(m)) => {
                debug!("ignored a {m} request from the server");
                return Ok(Step::Ignore);
            }
            Ok(Message::Response(resp)) => resp,
        };
        let Some(pending) = self.pending.as_mut() else {
            // Nothing is outstanding only while media is awaited after PLAY: a late or
            // duplicated reply says nothing about the stream.
            debug!(
                "ignored a reply {} to no outstanding request",
                resp.status()
            );
            return Ok(Step::Ignore);
        };
        let method = pending.method;
        if resp.version != "RTSP/1.0" {
            return Err(Outcome::unhealthy(
                Stage::Parse,
                format!(
                    "{} reply to an RTSP/1.0 {method}: {}",
                    resp.version,
                    resp.status()
                ),
            ));
        }
        match resp.cseq {
            Some(c) if c == pending.cseq => {}
            Some(c) => {
                return Err(Outcome::unhealthy(
                    Stage::Match,
                    format!(
                        "{method} reply {} has CSeq {c}, expected CSeq {}",
                        resp.status(),
                        pending.cseq
                    ),
                ))
            }
            None => debug!(
                "{method} reply {} has no CSeq; taken as the answer to CSeq {}, the only request outstanding",
                resp.status(),
                pending.cseq
            ),
        }
        if resp.code == 401 && self.credentials.is_some() && pending.answered < 2 {
            // The first 401 must carry a challenge we can answer; a later one is answered
            // again only if it says the nonce went stale, else it is the verdict.
            let challenge = match (auth::choose(&resp.challenges), pending.answered) {
                (Ok(c), _) => Some(c),
                (Err(why), 0) => {
                    let reason = format!("{method} {}: {why}", resp.status());
                    return Err(Outcome::unhealthy(Stage::Match, reason));
                }
                (Err(_), _) => None,
            };
            let stale = matches!(challenge, Some(Challenge::Digest { stale: true, .. }));
            let retry = pending.answered == 0 || (stale && self.sent_credentials);
            if let (true, Some(challenge)) = (retry, challenge) {
                pending.answered += 1;
                let (uri, extra_headers) = (pending.uri.clone(), pending.extra_headers.clone());
                debug!(
                    "answering the {} challenge{}",
                    challenge.scheme(),
                    if stale { " (stale nonce)" } else { "" }
                );
                self.challenge = Some(challenge);
                self.nc = 0;
                self.cseq += 1;
                if let Some(p) = self.pending.as_mut() {
                    p.cseq = self.cseq;
                }
                return Ok(Step::Send(self.encode(method, &uri, &extra_headers)));
            }
        }
        self.pending = None;
        // The session is SETUP's: a Session header on another reply (some servers put
        // one on DESCRIBE) is not the id PLAY must carry.
        if method == "SETUP" && (200..300).contains(&resp.code) {
            self.session = resp.session.as_deref().and_then(session_id);
        }
        Ok(Step::Reply(resp))
    }

    /// Why a reply is not healthy, with what an operator needs for a 401: whether the
    /// credentials were refused or none were given.
    pub fn refusal(&self, method: &str, resp: &Response, accepted: &str) -> String {
        let mut reason = format!("{method} {}{accepted}", resp.status());
        if resp.code == 401 {
            match (&self.credentials, self.sent_credentials) {
                (Some(c), true) => {
                    reason.push_str(&format!(
                        "; the server refused the credentials for user '{}'",
                        c.user
                    ));
                }
                _ => {
                    let scheme = auth::choose(&resp.challenges)
                        .map_or(Cow::Borrowed("an unsupported"), |c| {
                            Cow::Borrowed(c.scheme())
                        });
                    reason.push_str(&format!(
                        "; the server asks for {scheme} authentication: give credentials in the URL or --credentials-file"
                    ));
                }
            }
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "rtsp://127.0.0.1:8554/secure";

    fn session(with_credentials: bool) -> Session {
        let credentials = with_credentials.then(|| Credentials {
            user: "user".into(),
            password: "secret".into(),
        });
        Session::new(URI.into(), credentials)
    }

    fn reply(status: &str, cseq: Option<u32>, extra: &str) -> Vec<u8> {
        let cseq = cseq.map_or(String::new(), |c| format!("CSeq: {c}\r\n"));
        format!("RTSP/1.0 {status}\r\n{cseq}{extra}Content-Length: 0\r\n\r\n").into_bytes()
    }

    const DIGEST: &str = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n";

    fn text(out: &Outgoing) -> String {
        String::from_utf8(out.bytes.clone()).unwrap()
    }

    fn expect_send(step: Result<Step, Outcome>) -> Outgoing {
        match step {
            Ok(Step::Send(out)) => out,
            other => panic!("expected a request to send, got {other:?}"),
        }
    }

    fn expect_reply(step: Result<Step, Outcome>) -> Response {
        match step {
            Ok(Step::Reply(resp)) => *resp,
            other => panic!("expected the reply, got {other:?}"),
        }
    }

    #[test]
    fn each_request_gets_the_next_cseq_and_its_reply() {
        let mut s = session(false);
        let first = s.request("OPTIONS", "");
        assert!(text(&first).starts_with(&format!("OPTIONS {URI} RTSP/1.0\r\nCSeq: 1\r\n")));
        assert_eq!(first.logged(), first.bytes);
        assert_eq!(
            expect_reply(s.handle(&reply("200 OK", Some(1), ""))).code,
            200
        );
        let second = s.request("DESCRIBE", "Accept: application/sdp\r\n");
        assert!(text(&second).contains("CSeq: 2\r\n"));
        assert!(text(&second).ends_with("Accept: application/sdp\r\n\r\n"));
    }

    #[test]
    fn a_401_is_answered_once_then_200() {
        let mut s = session(true);
        s.request("OPTIONS", "");
        let retry = expect_send(s.handle(&reply("401 Unauthorized", Some(1), DIGEST)));
        let retry_text = text(&retry);
        assert!(retry_text.contains("CSeq: 2\r\n"), "{retry_text}");
        assert!(retry_text.contains("Authorization: Digest username=\"user\""));
        assert!(retry_text.contains("nonce=\"n1\""));
        // The log copy never carries the answer.
        let shown = String::from_utf8(retry.logged().to_vec()).unwrap();
        assert!(shown.contains("Authorization: <redacted>") && !shown.contains("response="));
        assert_eq!(
            expect_reply(s.handle(&reply("200 OK", Some(2), ""))).code,
            200
        );
        // Later requests answer the known challenge at once, counting the nonce's uses.
        let describe = text(&s.request("DESCRIBE", ""));
        assert!(describe.contains("CSeq: 3\r\nUser-Agent"), "{describe}");
        assert!(describe.contains("Authorization: Digest"), "{describe}");
    }

    #[test]
    fn a_second_401_is_the_verdict_and_names_the_refused_user() {
        let mut s = session(true);
        s.request("OPTIONS", "");
        expect_send(s.handle(&reply("401 Unauthorized", Some(1), DIGEST)));
        let again = expect_reply(s.handle(&reply("401 Unauthorized", Some(2), DIGEST)));
        assert_eq!(again.code, 401);
        assert_eq!(
            s.refusal("OPTIONS", &again, ""),
            "OPTIONS 401 Unauthorized; the server refused the credentials for user 'user'"
        );
    }

    #[test]
    fn a_second_401_without_a_challenge_is_still_the_verdict() {
        let mut s = session(true);
        s.request("OPTIONS", "");
        expect_send(s.handle(&reply("401 Unauthorized", Some(1), DIGEST)));
        let bare = expect_reply(s.handle(&reply("401 Unauthorized", Some(2), "")));
        assert_eq!(bare.code, 401);
        assert!(s
            .refusal("OPTIONS", &bare, "")
            .contains("refused the credentials"));
        // A first 401 without a usable challenge cannot be answered: say why.
        let mut s = session(true);
        s.request("OPTIONS", "");
        let why = s
            .handle(&reply("401 Unauthorized", Some(1), ""))
            .unwrap_err();
        assert!(why.reason.contains("no WWW-Authenticate"), "{}", why.reason);
    }

    #[test]
    fn a_stale_nonce_is_answered_once_more() {
        let mut s = session(true);
        s.request("OPTIONS", "");
        expect_send(s.handle(&reply("401 Unauthorized", Some(1), DIGEST)));
        let stale = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\", stale=true\r\n";
        let retry = text(&expect_send(s.handle(&reply(
            "401 Unauthorized",
            Some(2),
            stale,
        ))));
        assert!(retry.contains("CSeq: 3\r\n") && retry.contains("nonce=\"n2\""));
        // A third 401, stale or not, ends it.
        let third = s.handle(&reply("401 Unauthorized", Some(3), stale));
        assert_eq!(expect_reply(third).code, 401);
    }

    #[test]
    fn a_401_without_credentials_says_how_to_give_them() {
        let mut s = session(false);
        s.request("OPTIONS", "");
        let resp = expect_reply(s.handle(&reply("401 Unauthorized", Some(1), DIGEST)));
        assert!(s.refusal("OPTIONS", &resp, " (accepted: 2xx)").ends_with(
            "asks for Digest authentication: give credentials in the URL or --credentials-file"
        ));
    }

    #[test]
    fn vlcs_401_without_cseq_is_answered() {
        // VLC 3.0 with --sout-rtsp-user/--sout-rtsp-pwd: its 401 carries no CSeq.
        let mut s = session(true);
        s.request("OPTIONS", "");
        let vlc_401 = reply(
            "401 Unauthorized",
            None,
            "WWW-Authenticate: Basic realm=\"VLC stream\"\r\n",
        );
        let retry = text(&expect_send(s.handle(&vlc_401)));
        assert!(
            retry.contains("Authorization: Basic dXNlcjpzZWNyZXQ="),
            "{retry}"
        );
        assert_eq!(
            expect_reply(s.handle(&reply("200 OK", Some(2), ""))).code,
            200
        );
    }

    #[test]
    fn a_wrong_cseq_is_refused() {
        let mut s = session(true);
        s.request("OPTIONS", "");
        let wrong = s.handle(&reply("200 OK", Some(7), "")).unwrap_err();
        assert_eq!(wrong.stage, Stage::Match);
        assert_eq!(
            wrong.reason,
            "OPTIONS reply 200 OK has CSeq 7, expected CSeq 1"
        );
        let mut s = session(true);
        s.request("OPTIONS", "");
        let wrong_401 = s.handle(&reply("401 Unauthorized", Some(9), DIGEST));
        assert!(wrong_401.unwrap_err().reason.contains("CSeq 9"));
    }

    #[test]
    fn server_requests_are_ignored_and_other_versions_refused() {
        let mut s = session(false);
        s.request("OPTIONS", "");
        let request = b"GET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 5\r\n\r\n";
        assert_eq!(s.handle(request), Ok(Step::Ignore));
        let v2 = s.handle(b"RTSP/2.0 200 OK\r\nCSeq: 1\r\n\r\n").unwrap_err();
        assert_eq!(v2.reason, "RTSP/2.0 reply to an RTSP/1.0 OPTIONS: 200 OK");
        assert_eq!(
            s.handle(b"\x00garbage\r\n\r\n").unwrap_err().stage,
            Stage::Parse
        );
    }

    #[test]
    fn setup_opens_a_session_that_later_requests_carry() {
        let mut s = session(true);
        let media = "rtsp://127.0.0.1:8554/secure/stream=0";
        let setup = s.request_to("SETUP", media.into(), "Transport: RTP/AVP/TCP\r\n");
        assert!(text(&setup).starts_with(&format!("SETUP {media} RTSP/1.0\r\n")));
        assert!(!text(&setup).contains("Session:"));
        // A challenge on SETUP is answered for the SETUP's own URL, headers kept.
        let retry = text(&expect_send(s.handle(&reply(
            "401 Unauthorized",
            Some(1),
            DIGEST,
        ))));
        assert!(
            retry.starts_with(&format!("SETUP {media} RTSP/1.0\r\n")),
            "{retry}"
        );
        assert!(retry.contains(&format!("uri=\"{media}\"")), "{retry}");
        assert!(retry.contains("Transport: RTP/AVP/TCP\r\n"), "{retry}");
        let ok = reply("200 OK", Some(2), "Session: abc123;timeout=30\r\n");
        expect_reply(s.handle(&ok));
        assert_eq!(
            s.session(),
            Some(&SessionId {
                id: "abc123".into(),
                timeout: 30
            })
        );
        let play = text(&s.request_to("PLAY", URI.into(), ""));
        assert!(
            play.contains("CSeq: 3\r\n") && play.contains("Session: abc123\r\n"),
            "{play}"
        );
        // A later reply does not replace the session, and a reply to nothing is ignored.
        expect_reply(s.handle(&reply("200 OK", Some(3), "Session: other\r\n")));
        assert_eq!(s.session().map(|s| s.id.as_str()), Some("abc123"));
        assert_eq!(s.handle(&reply("200 OK", Some(3), "")), Ok(Step::Ignore));
    }

    #[test]
    fn a_refused_setup_opens_no_session() {
        let mut s = session(false);
        // A Session header on DESCRIBE's reply is not a session.
        s.request("DESCRIBE", "");
        expect_reply(s.handle(&reply("200 OK", Some(1), "Session: early\r\n")));
        assert_eq!(s.session(), None);
        s.request_to("SETUP", URI.into(), "");
        let refused = reply("461 Unsupported Transport", Some(2), "Session: x\r\n");
        assert_eq!(expect_reply(s.handle(&refused)).code, 461);
        assert_eq!(s.session(), None);
    }
}
