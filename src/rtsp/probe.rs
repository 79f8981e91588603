//! The check-rtsp conversation: OPTIONS, then DESCRIBE if asked, on one connection.
//!
//! Each request waits for the response with its CSeq, framed by Content-Length, and the
//! connection is closed as soon as the verdict is known: RTSP servers never close first,
//! which is why `nc`-based scripts hang until keepalived kills them.

use std::borrow::Cow;
use std::time::Instant;

use tokio::net::TcpStream;
use tracing::debug;

use super::auth::{self, Challenge};
use super::message::{
    frame, parse_message, sdp_media, Message, Response, MAX_BODY_BYTES, MAX_HEADER_BYTES,
};
use super::url::{mask_password, Credentials, RtspUrl};
use crate::cli::check_rtsp::CheckRtsp;
use crate::cli::CommonArgs;
use crate::deadline::format_ms;
use crate::net::{self, ProbeContext};
use crate::runner::Check;
use crate::{CheckError, Outcome, Stage};

impl Check for CheckRtsp {
    const LABEL: &'static str = "RTSP";
    const PROGRAM: &'static str = "check-rtsp";

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> Cow<'_, str> {
        Cow::Owned(mask_password(&self.url))
    }

    async fn probe(&self, ctx: &ProbeContext) -> Result<Outcome, CheckError> {
        let url = RtspUrl::parse(&self.url)?;
        if self.describe && url.path.trim_matches('/').is_empty() {
            return Err(CheckError::Option(
                "--describe needs the stream's path in the URL, e.g. rtsp://host/live".into(),
            ));
        }
        let credentials = self.credentials(&url)?;
        Ok(self
            .converse(&url, credentials.as_ref(), ctx)
            .await
            .unwrap_or_else(|failed| failed))
    }
}

impl CheckRtsp {
    /// Credentials from the URL or `--credentials-file`, not both.
    fn credentials(&self, url: &RtspUrl) -> Result<Option<Credentials>, CheckError> {
        let Some(path) = &self.credentials_file else {
            return Ok(url.credentials.clone());
        };
        if url.credentials.is_some() {
            return Err(CheckError::Option(
                "credentials in both the URL and --credentials-file; give one".into(),
            ));
        }
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| {
            CheckError::Option(format!("cannot read --credentials-file {shown}: {e}"))
        })?;
        let line = text.lines().next().unwrap_or("");
        match line.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Some(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            })),
            _ => Err(CheckError::Option(format!(
                "--credentials-file {shown}: the first line must be USER:PASSWORD"
            ))),
        }
    }

    async fn converse(
        &self,
        url: &RtspUrl,
        credentials: Option<&Credentials>,
        ctx: &ProbeContext,
    ) -> Result<Outcome, Outcome> {
        let addrs = net::resolve(&url.target, ctx).await?;
        let conn = net::connect_tcp(&addrs, ctx).await?;
        let mut session = Session {
            stream: conn.stream,
            buf: Vec::new(),
            uri: url.request_uri(),
            cseq: 0,
            credentials,
            challenge: None,
            nc: 0,
            sent_credentials: false,
        };
        let started = Instant::now();
        // Dropping the session on return closes the connection; the server never would.
        self.verdict(&mut session, started, ctx).await
    }

    async fn verdict(
        &self,
        session: &mut Session<'_>,
        started: Instant,
        ctx: &ProbeContext,
    ) -> Result<Outcome, Outcome> {
        let options = session.request("OPTIONS", "", ctx).await?;
        let rtt = started.elapsed();
        if !self.accept.accepts(options.code) {
            let reason = session.refusal(
                "OPTIONS",
                &options,
                &format!(" (accepted: {})", self.accept),
            );
            return Err(details(
                Outcome::unhealthy(Stage::Match, reason).with_rtt(rtt),
                &options,
            ));
        }
        if !self.describe {
            let reason = format!("{} in {}", options.status(), format_ms(rtt));
            return Ok(details(Outcome::healthy(reason, rtt), &options));
        }
        if !(200..300).contains(&options.code) {
            // --accept let a non-2xx OPTIONS answer through (a 401 without credentials):
            // there is nothing to DESCRIBE with.
            let reason = format!(
                "{} in {} (accepted; DESCRIBE skipped)",
                options.status(),
                format_ms(rtt)
            );
            return Ok(details(Outcome::healthy(reason, rtt), &options));
        }
        let describe = session
            .request("DESCRIBE", "Accept: application/sdp\r\n", ctx)
            .await?;
        let rtt = started.elapsed();
        let failed = |why: String| {
            Err(details(
                Outcome::unhealthy(Stage::Match, why).with_rtt(rtt),
                &describe,
            ))
        };
        if describe.code != 200 {
            return failed(session.refusal("DESCRIBE", &describe, ""));
        }
        match describe.content_type.as_deref() {
            Some("application/sdp") => {}
            other => {
                return failed(format!(
                    "DESCRIBE 200 but Content-Type is {}, not application/sdp",
                    other.unwrap_or("missing")
                ))
            }
        }
        let media = sdp_media(&describe.body);
        if media.is_empty() {
            return failed(format!(
                "DESCRIBE 200 but the {}-byte SDP has no m= line: stream not published?",
                describe.body.len()
            ));
        }
        let reason = format!(
            "{}, DESCRIBE {} with {} media ({}) in {}",
            options.status(),
            describe.status(),
            media.len(),
            media.join(", "),
            format_ms(rtt)
        );
        Ok(details(Outcome::healthy(reason, rtt), &describe).with_detail("media", media.join(",")))
    }
}

fn details(outcome: Outcome, resp: &Response) -> Outcome {
    let outcome = outcome
        .with_detail("code", resp.code.to_string())
        .with_detail("reason_phrase", &resp.reason);
    match &resp.server {
        Some(server) => outcome.with_detail("server", server),
        None => outcome,
    }
}

/// One RTSP connection and its request state.
struct Session<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    uri: String,
    cseq: u32,
    credentials: Option<&'a Credentials>,
    challenge: Option<Challenge>,
    /// Uses of the current Digest nonce.
    nc: u32,
    /// Whether the last request carried an Authorization header.
    sent_credentials: bool,
}

impl Session<'_> {
    /// Sends `method` and returns its response; a 401 is answered once with credentials.
    async fn request(
        &mut self,
        method: &str,
        extra: &str,
        ctx: &ProbeContext,
    ) -> Result<Response, Outcome> {
        let mut answered = false;
        loop {
            self.cseq += 1;
            let head = format!(
                "{method} {} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: keepalived-checks/{}\r\n{extra}",
                self.uri,
                self.cseq,
                env!("CARGO_PKG_VERSION")
            );
            let authorization = match (&self.challenge, self.credentials) {
                (Some(challenge), Some(credentials)) => {
                    self.nc += 1;
                    Some(auth::authorization(
                        challenge,
                        credentials,
                        method,
                        &self.uri,
                        self.nc,
                    ))
                }
                _ => None,
            };
            self.sent_credentials = authorization.is_some();
            let request = match &authorization {
                Some(a) => format!("{head}Authorization: {a}\r\n\r\n"),
                None => format!("{head}\r\n"),
            };
            let shown = match &authorization {
                Some(_) => format!("{head}Authorization: <redacted>\r\n\r\n"),
                None => request.clone(),
            };
            net::send_logged_as(&mut self.stream, request.as_bytes(), shown.as_bytes(), ctx)
                .await?;
            ctx.progress
                .enter(Stage::Receive, format!("waiting for the {method} reply"));
            let resp = self.response(method, ctx).await?;
            if resp.code == 401 && !answered && self.credentials.is_some() {
                let challenge = auth::choose(&resp.challenges).map_err(|why| {
                    Outcome::unhealthy(Stage::Match, format!("{method} {}: {why}", resp.status()))
                })?;
                debug!("answering the {} challenge", challenge.scheme());
                self.challenge = Some(challenge);
                self.nc = 0;
                answered = true;
                continue;
            }
            return Ok(resp);
        }
    }

    /// Reads the response to the request just sent (the one with `self.cseq`).
    async fn response(&mut self, method: &str, ctx: &ProbeContext) -> Result<Response, Outcome> {
        let max = MAX_HEADER_BYTES + MAX_BODY_BYTES + 8192;
        loop {
            let next = net::next_message(&mut self.stream, &mut self.buf, max, frame, ctx).await?;
            let Some((start, end)) = next else {
                return Err(Outcome::unhealthy(
                    Stage::Receive,
                    format!("connection closed without a reply to {method}"),
                ));
            };
            let parsed = parse_message(&self.buf[start..end]);
            self.buf.drain(..end);
            let resp = match parsed {
                Err(why) => return Err(Outcome::unhealthy(Stage::Parse, why)),
                Ok(Message::Request(m)) => {
                    debug!("ignored a {m} request from the server");
                    continue;
                }
                Ok(Message::Response(resp)) => resp,
            };
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
            if resp.cseq != Some(self.cseq) {
                let got = resp
                    .cseq
                    .map_or("no CSeq".to_string(), |c| format!("CSeq {c}"));
                return Err(Outcome::unhealthy(
                    Stage::Match,
                    format!(
                        "{method} reply {} has {got}, expected CSeq {}",
                        resp.status(),
                        self.cseq
                    ),
                ));
            }
            return Ok(resp);
        }
    }

    /// Why an answer is not healthy, with what an operator needs for a 401.
    fn refusal(&self, method: &str, resp: &Response, accepted: &str) -> String {
        let mut reason = format!("{method} {}{accepted}", resp.status());
        if resp.code == 401 {
            match (self.credentials, self.sent_credentials) {
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
