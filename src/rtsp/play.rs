//! `--play`: after DESCRIBE, SETUP the chosen media with RTP interleaved on the
//! connection, PLAY, and wait for its first RTP packet; then TEARDOWN. The verdict is
//! the first packet's arrival (or why it did not come), with a little of the deadline
//! kept back so that the check, not the deadline, says what went wrong and TEARDOWN
//! still goes out.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UdpSocket;
use tokio::time::timeout_at;
use tracing::debug;

use super::link::Link;
use super::link::Seen;
use super::message::Response;
use super::probe::details;
use super::rtp::{Expect, FirstRtp, Watch};
use super::sdp::Sdp;
use super::transport::{self, Asked, RtpTransport};
use super::{control, Play};
use crate::deadline::format_ms;
use crate::net::{describe_io, ProbeContext};
use crate::{Outcome, Stage};

/// The most of the deadline kept back from waiting for media: enough for TEARDOWN's
/// reply on a live server, and for the verdict to be the check's own.
const RESERVE: Duration = Duration::from_millis(100);

/// The longest wait for TEARDOWN's reply; the verdict is known by then.
const TEARDOWN_WAIT: Duration = Duration::from_millis(250);

/// TEARDOWN ends at least this long before the deadline.
const TEARDOWN_MARGIN: Duration = Duration::from_millis(20);

/// What is kept back from waiting for media: [`RESERVE`], or a tenth of a short budget.
fn reserve(ctx: &ProbeContext) -> Duration {
    RESERVE.min(ctx.deadline.budget() / 10)
}

/// SETUP, PLAY and the first packet of the media `choice` picks from `sdp`, on the
/// connection that described it. `started` is when the first request went out.
pub(super) async fn play<S: AsyncRead + AsyncWrite + Unpin>(
    link: &mut Link<S>,
    sdp: &Sdp,
    describe: &Response,
    asked: &Play,
    started: Instant,
    ctx: &ProbeContext,
) -> Result<Outcome, Outcome> {
    let unusable = |why: String| {
        Err(details(
            Outcome::unhealthy(Stage::Match, format!("DESCRIBE 200 but {why}")),
            describe,
        ))
    };
    let (index, media) = match asked.media.pick(sdp) {
        Ok(found) => found,
        Err(why) => return unusable(why),
    };
    if !media.is_plain_rtp() {
        return unusable(format!(
            "media {index} ({}) is carried in '{}'; --play reads RTP/AVP or RTP/AVPF only",
            media.kind, media.proto
        ));
    }
    if media.payload_types.is_empty() {
        return unusable(format!(
            "the m= line of media {index} ({}) lists no RTP payload type",
            media.kind
        ));
    }
    let described = link.session.uri().to_string();
    let base = control::base(
        describe.content_base.as_deref(),
        describe.content_location.as_deref(),
        &described,
    )
    .to_string();
    let setup_url = control::resolve(&base, media.control.as_deref());
    let play_url = control::resolve(&base, sdp.control.as_deref());
    debug!(
        "media {index} ({}): SETUP {setup_url}, PLAY {play_url}",
        media.kind
    );

    let udp = match asked.rtp_transport {
        RtpTransport::Tcp => None,
        RtpTransport::Udp => Some(
            UdpPair::bind(link.ends)
                .map_err(|why| Outcome::unhealthy(Stage::Setup, format!("RTP over UDP: {why}")))?,
        ),
    };
    let asking = match &udp {
        None => Asked::Interleaved,
        Some(pair) => Asked::Udp {
            rtp_port: pair.port,
        },
    };
    let transport_header = format!("Transport: {}\r\n", asking.header());
    let setup = link
        .exchange_to("SETUP", setup_url, &transport_header, ctx)
        .await?;
    let failed = |why: String, resp: &Response| {
        Err(details(
            Outcome::unhealthy(Stage::Match, why).with_rtt(started.elapsed()),
            resp,
        ))
    };
    if !(200..300).contains(&setup.code) {
        let mut why = link.session.refusal("SETUP", &setup, "");
        if setup.code == 461 && asking == Asked::Interleaved {
            why.push_str(
                ": the server will not send RTP over the RTSP connection (try --rtp-transport udp)",
            );
        }
        return failed(why, &setup);
    }
    let Some(session) = link.session.session().cloned() else {
        return failed("SETUP 200 without a Session header".into(), &setup);
    };
    let channels = match transport::granted(setup.transport.as_deref(), asking) {
        Ok(granted) => granted,
        Err(why) => {
            // The server opened a session for a transport the check cannot use: close it
            // rather than leave it to the server's idle timeout.
            teardown(link, play_url, ctx).await;
            return failed(why, &setup);
        }
    };
    debug!(
        "session {} (timeout {} s), RTP on channel {}, RTCP on {}",
        session.id, session.timeout, channels.rtp, channels.rtcp
    );
    if udp.is_none() {
        link.expect_interleaved();
    }

    let expect = Expect {
        channels,
        payload_types: media.payload_types.clone(),
    };
    link.watch(Watch::new(expect, Instant::now()));
    let verdict = watch_media(link, udp.as_ref(), &play_url, started, ctx).await;
    // The check's time ends with the verdict, not with TEARDOWN's reply.
    let rtt = started.elapsed();
    teardown(link, play_url, ctx).await;

    let (first, play) = verdict?;
    let encoding = media.encoding(first.payload_type);
    let reason = format!(
        "first RTP packet ({encoding}, {}) {} after PLAY",
        media.kind,
        format_ms(first.after_play)
    );
    Ok(details(Outcome::healthy(reason, rtt), &play)
        .with_detail("media", media.kind.clone())
        .with_detail("encoding", encoding)
        .with_detail("payload_type", first.payload_type.to_string())
        .with_detail("ssrc", format!("{:08X}", first.ssrc))
        .with_detail("first_rtp_ms", format_ms(first.after_play))
        .with_detail("session_timeout", session.timeout.to_string()))
}

/// PLAY, then frames until the first RTP packet, or the end of the time for media.
async fn watch_media<S: AsyncRead + AsyncWrite + Unpin>(
    link: &mut Link<S>,
    udp: Option<&UdpPair>,
    play_url: &str,
    started: Instant,
    ctx: &ProbeContext,
) -> Result<(FirstRtp, Response), Outcome> {
    let end = ctx.deadline.end();
    let until = end.checked_sub(reserve(ctx)).unwrap_or(end);
    let play = link
        .exchange_to("PLAY", play_url.to_string(), "Range: npt=0.000-\r\n", ctx)
        .await?;
    if !(200..300).contains(&play.code) {
        let why = link.session.refusal("PLAY", &play, "");
        let refused = Outcome::unhealthy(Stage::Match, why).with_rtt(started.elapsed());
        return Err(details(refused, &play));
    }
    ctx.progress.enter(
        Stage::Receive,
        "waiting for the first RTP packet after PLAY",
    );
    let waiting = async {
        match udp {
            None => link.media(ctx).await,
            Some(pair) => pair.media(link, ctx).await,
        }
    };
    let seen = match timeout_at(until.into(), waiting).await {
        Ok(seen) => seen.map_err(|o| after_play(o, &play))?,
        Err(_) => {
            let why = link
                .watching()
                .map_or_else(|| "no media".to_string(), |w| w.no_media(Instant::now()));
            let reason = format!("PLAY {} but {why}", play.status());
            return Err(details(Outcome::unhealthy(Stage::Receive, reason), &play));
        }
    };
    match seen {
        Some(Ok(first)) => Ok((first, play)),
        Some(Err(why)) => Err(details(
            Outcome::unhealthy(Stage::Match, format!("PLAY {} but {why}", play.status())),
            &play,
        )),
        None => {
            let reason = link.watching().map_or_else(
                || "the server closed the connection after PLAY".to_string(),
                |w| w.closed(Instant::now()),
            );
            Err(details(Outcome::unhealthy(Stage::Receive, reason), &play))
        }
    }
}

/// An I/O or framing failure while media was awaited, said as such.
fn after_play(failed: Outcome, play: &Response) -> Outcome {
    let reason = format!("after PLAY {}: {}", play.status(), failed.reason);
    details(Outcome::unhealthy(failed.stage, reason), play)
}

/// TEARDOWN, best effort: the verdict is known, so a failure here is only logged. Its
/// reply is awaited (while the connection still frames) for at most [`TEARDOWN_WAIT`],
/// and never past the deadline.
async fn teardown<S: AsyncRead + AsyncWrite + Unpin>(
    link: &mut Link<S>,
    url: String,
    ctx: &ProbeContext,
) {
    // Well short of the deadline: the caller's timeout fires at it, and tokio's timers
    // tick in whole milliseconds, so ending at the same moment could let a bare timeout
    // replace the verdict.
    let now = Instant::now();
    let margin = (reserve(ctx) / 2).max(TEARDOWN_MARGIN);
    let end = ctx.deadline.end().checked_sub(margin).unwrap_or(now);
    let until = end.min(now + TEARDOWN_WAIT);
    if until <= now {
        debug!("TEARDOWN skipped: the deadline is here");
        return;
    }
    let done = if !link.is_broken() {
        timeout_at(until.into(), async {
            link.exchange_to("TEARDOWN", url, "", ctx)
                .await
                .map(|r| r.status())
        })
        .await
    } else {
        // The stream no longer frames: send, and do not wait for a reply.
        let out = link.session.request_to("TEARDOWN", url, "");
        timeout_at(until.into(), async {
            link.send(&out, "TEARDOWN", ctx)
                .await
                .map(|()| "sent".to_string())
        })
        .await
    };
    match done {
        Ok(Ok(status)) => debug!("TEARDOWN {status}"),
        Ok(Err(failed)) => debug!("TEARDOWN: {}", failed.reason),
        Err(_) => debug!("TEARDOWN: no reply within {}", format_ms(TEARDOWN_WAIT)),
    }
}

/// The two local UDP ports RTP and RTCP are asked to, and the server whose datagrams
/// count.
struct UdpPair {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    /// The RTP port (even; RTCP on the next, RFC 3550 section 11).
    port: u16,
    server: IpAddr,
}

impl UdpPair {
    /// Binds an even port and the next on the connection's local address.
    fn bind(ends: Option<(IpAddr, IpAddr)>) -> Result<UdpPair, String> {
        let (local, server) = ends.ok_or("the connection's addresses are unknown")?;
        let open = |port: u16| -> std::io::Result<UdpSocket> {
            let socket = std::net::UdpSocket::bind((local, port))?;
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket)
        };
        let mut last = String::from("no even port offered");
        // The kernel hands out ports at random: an odd one, or a taken neighbour, is
        // tried again.
        for _ in 0..32 {
            let rtp = open(0).map_err(|e| describe_io(&e))?;
            let port = rtp.local_addr().map_err(|e| describe_io(&e))?.port();
            if port % 2 != 0 {
                continue;
            }
            match port.checked_add(1).map(open) {
                Some(Ok(rtcp)) => {
                    debug!("RTP over UDP to {local} ports {port}-{}", port + 1);
                    return Ok(UdpPair {
                        rtp,
                        rtcp,
                        port,
                        server,
                    });
                }
                Some(Err(e)) => last = describe_io(&e),
                None => {}
            }
        }
        Err(format!("no free pair of UDP ports on {local}: {last}"))
    }

    /// Reads datagrams from the server (and the RTSP connection, which may close) until
    /// the watch has a verdict; `None` when the server closed the connection first.
    async fn media<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        link: &mut Link<S>,
        ctx: &ProbeContext,
    ) -> Result<Option<Seen>, Outcome> {
        // Only the RTP header is read; a longer datagram is truncated, not an error.
        let mut rtp = [0u8; 64];
        let mut rtcp = [0u8; 8];
        loop {
            let (channel, got) = tokio::select! {
                got = self.rtp.recv_from(&mut rtp) => (0, got),
                got = self.rtcp.recv_from(&mut rtcp) => (1, got),
                seen = link.media(ctx) => return seen,
            };
            let (n, from) = got.map_err(|e| {
                Outcome::unhealthy(Stage::Receive, format!("RTP over UDP: {}", describe_io(&e)))
            })?;
            if from.ip() != self.server {
                debug!("ignored a datagram from {from}, not the server");
                link.foreign_datagram();
                continue;
            }
            let packet = if channel == 0 { &rtp[..n] } else { &rtcp[..n] };
            link.packet(channel, packet, Instant::now());
            if let Some(seen) = link.take_seen() {
                return Ok(Some(seen));
            }
        }
    }
}
