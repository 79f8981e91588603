//! `check-tcp`: connect, optionally send, optionally expect.

use crate::cli::check_tcp::CheckTcp;
use crate::cli::CommonArgs;
use crate::deadline::format_ms;
use crate::escape::printable;
use crate::net::{self, ProbeContext, ReadEnd, SHOWN_BYTES};
use crate::runner::Check;
use crate::target::{Host, Target};
use crate::{CheckError, Outcome, Stage};

impl Check for CheckTcp {
    const LABEL: &'static str = "TCP";
    const PROGRAM: &'static str = "check-tcp";

    fn common(&self) -> &CommonArgs {
        &self.common
    }

    fn target(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.target)
    }

    async fn probe(&self, ctx: &ProbeContext) -> Result<Outcome, CheckError> {
        let target = Target::parse(&self.target, "tcp", None)?;
        Ok(probe(&target, self, ctx)
            .await
            .unwrap_or_else(|failed| failed))
    }
}

async fn probe(target: &Target, args: &CheckTcp, ctx: &ProbeContext) -> Result<Outcome, Outcome> {
    let addrs = net::resolve(target, ctx).await?;
    let mut conn = net::connect_tcp(&addrs, ctx).await?;
    // Name the address only when the target did not already: "db1:5432 connected to
    // 10.0.0.5:5432", but "127.0.0.1:22 connected".
    let to = match target.host {
        Host::Name(_) => format!(" to {}", conn.peer),
        Host::Ip(_) => String::new(),
    };
    if let Some(send) = &args.send {
        net::send(&mut conn.stream, &send.0, ctx).await?;
    }
    let Some(expect) = &args.expect else {
        return Ok(Outcome::healthy(
            format!("connected{to} in {}", format_ms(conn.connect_time)),
            conn.connect_time,
        ));
    };

    let want = &expect.0;
    let shown_want = printable(want, SHOWN_BYTES);
    ctx.progress
        .enter(Stage::Receive, format!("waiting for \"{shown_want}\""));
    let mut reply = Vec::new();
    let max = args.max_bytes as usize;
    let end = net::read_until(&mut conn.stream, &mut reply, max, ctx, |buf| {
        contains(buf, want)
    })
    .await?;
    let rtt = conn.started.elapsed();
    let got = printable(&reply, SHOWN_BYTES);
    let outcome = match end {
        ReadEnd::Done => Outcome::healthy(
            format!("matched \"{shown_want}\"{to} in {}", format_ms(rtt)),
            rtt,
        ),
        ReadEnd::Closed if reply.is_empty() => Outcome::unhealthy(
            Stage::Receive,
            format!("connection closed without a reply, expected \"{shown_want}\""),
        ),
        ReadEnd::Closed => Outcome::unhealthy(
            Stage::Match,
            format!(
                "expected \"{shown_want}\", connection closed after {} bytes: \"{got}\"",
                reply.len()
            ),
        ),
        ReadEnd::Full => Outcome::unhealthy(
            Stage::Match,
            format!("expected \"{shown_want}\" not in the first {max} bytes: \"{got}\""),
        ),
    };
    Ok(outcome)
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn contains_finds_anywhere_including_across_reads() {
        assert!(contains(b"SSH-2.0-OpenSSH\r\n", b"SSH-2.0"));
        assert!(contains(b"220 ready\r\n", b"ready"));
        assert!(!contains(b"220 rea", b"ready"));
        assert!(!contains(b"", b"x"));
    }
}
