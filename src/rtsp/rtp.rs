//! Watching interleaved packets after PLAY for the first RTP packet of the chosen media.
//! Sans I/O: the driver hands each `$` frame over with the time it arrived.
//!
//! RTP (RFC 3550 section 5.1) on the granted RTP channel must be version 2, carry a
//! payload type the SDP announced for the media, and the SSRC of the Transport header
//! when the server gave one. RTCP, on the RTCP channel or multiplexed on the RTP channel
//! (RFC 5761: packet types 192-223), is counted but is no proof of media: a server sends
//! sender reports for a stream whose source has stopped. Anything on another channel is
//! a stream the check did not set up.

use std::time::{Duration, Instant};

use super::transport::Granted;
use crate::deadline::format_ms;

/// What the first RTP packet must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The channels SETUP granted (for UDP, 0 for the RTP port and 1 for RTCP), and
    /// the SSRC it announced.
    pub channels: Granted,
    /// The payload types of the media's `m=` line.
    pub payload_types: Vec<u8>,
}

/// The fixed header of the first RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstRtp {
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Time from PLAY sent to this packet.
    pub after_play: Duration,
}

/// The packets seen since PLAY was sent.
#[derive(Debug)]
pub struct Watch {
    expect: Expect,
    play_sent: Instant,
    rtcp: usize,
    /// UDP datagrams from addresses other than the server's, dropped.
    foreign: usize,
}

impl Watch {
    /// Starts watching when PLAY is sent.
    pub fn new(expect: Expect, play_sent: Instant) -> Self {
        Watch {
            expect,
            play_sent,
            rtcp: 0,
            foreign: 0,
        }
    }

    /// Takes one interleaved frame that arrived at `now`: `Ok(Some)` for the first RTP
    /// packet, `Ok(None)` for RTCP, `Err` (the reason) for anything a healthy stream
    /// does not send.
    pub fn frame(
        &mut self,
        channel: u8,
        packet: &[u8],
        now: Instant,
    ) -> Result<Option<FirstRtp>, String> {
        let Granted { rtp, rtcp, ssrc } = self.expect.channels;
        if channel == rtcp || (channel == rtp && is_rtcp(packet)) {
            self.rtcp += 1;
            return Ok(None);
        }
        if channel != rtp {
            return Err(format!(
                "a {}-byte packet on interleaved channel {channel}; SETUP granted {rtp}-{rtcp}",
                packet.len()
            ));
        }
        let [b0, b1, s0, s1, _, _, _, _, i0, i1, i2, i3, ..] = *packet else {
            return Err(format!(
                "a {}-byte packet on the RTP channel, too short for RTP (12 bytes at least)",
                packet.len()
            ));
        };
        let version = b0 >> 6;
        if version != 2 {
            return Err(format!("an RTP packet of version {version}, not 2"));
        }
        let payload_type = b1 & 0x7f;
        if !self.expect.payload_types.contains(&payload_type) {
            let announced: Vec<String> = self
                .expect
                .payload_types
                .iter()
                .map(u8::to_string)
                .collect();
            return Err(format!(
                "RTP payload type {payload_type} where the SDP announced {}",
                if announced.is_empty() {
                    "none".to_string()
                } else {
                    announced.join(" ")
                }
            ));
        }
        let got = u32::from_be_bytes([i0, i1, i2, i3]);
        if let Some(want) = ssrc.filter(|want| *want != got) {
            return Err(format!(
                "RTP SSRC {got:08X} where SETUP's Transport announced ssrc={want:08X}"
            ));
        }
        Ok(Some(FirstRtp {
            payload_type,
            sequence: u16::from_be_bytes([s0, s1]),
            ssrc: got,
            after_play: now.saturating_duration_since(self.play_sent),
        }))
    }

    /// Counts a UDP datagram that came from another address than the server's.
    pub fn foreign_datagram(&mut self) {
        self.foreign += 1;
    }

    /// What was dropped, for a reason: a multi-homed server sending from another
    /// address looks like no media otherwise.
    fn dropped(&self) -> String {
        match self.foreign {
            0 => String::new(),
            1 => " (1 datagram from another address ignored)".into(),
            n => format!(" ({n} datagrams from other addresses ignored)"),
        }
    }

    /// Why the server's closing the connection at `now` left no media.
    pub fn closed(&self, now: Instant) -> String {
        let after = format_ms(now.saturating_duration_since(self.play_sent));
        let rtcp = match self.rtcp {
            0 => String::new(),
            1 => " (1 RTCP packet)".to_string(),
            n => format!(" ({n} RTCP packets)"),
        };
        format!(
            "the server closed the connection {after} after PLAY, before any RTP packet{rtcp}{}",
            self.dropped()
        )
    }

    /// Why there was no media by `now`: nothing at all, or RTCP only.
    pub fn no_media(&self, now: Instant) -> String {
        let waited = format_ms(now.saturating_duration_since(self.play_sent));
        match self.rtcp {
            0 => format!("no media within {waited} after PLAY{}", self.dropped()),
            n => format!(
                "only RTCP ({n} packet{}) within {waited} after PLAY, no RTP{}",
                if n == 1 { "" } else { "s" },
                self.dropped()
            ),
        }
    }
}

/// Whether a packet on the RTP channel is RTCP multiplexed with it (RFC 5761 section 4:
/// the second byte is in 192-223, where RTCP packet types live and RTP payload types
/// 64-95 with the marker bit would collide).
fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet, [b0, 192..=223, ..] if b0 >> 6 == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(ssrc: Option<u32>) -> (Watch, Instant) {
        let t0 = Instant::now();
        let expect = Expect {
            channels: Granted {
                rtp: 0,
                rtcp: 1,
                ssrc,
            },
            payload_types: vec![96],
        };
        (Watch::new(expect, t0), t0)
    }

    /// An RTP header: version 2, marker off, `pt`, sequence 7, timestamp 0, `ssrc`.
    fn rtp(pt: u8, ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 7, 0, 0, 0, 0];
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(b"payload");
        p
    }

    const SENDER_REPORT: &[u8] = &[0x80, 200, 0, 6, 0, 0, 0, 1];

    #[test]
    fn the_first_rtp_packet_with_its_time() {
        let (mut w, t0) = watch(Some(0xABCD));
        let at = t0 + Duration::from_millis(212);
        assert_eq!(
            w.frame(0, &rtp(96, 0xABCD), at),
            Ok(Some(FirstRtp {
                payload_type: 96,
                sequence: 7,
                ssrc: 0xABCD,
                after_play: Duration::from_millis(212)
            }))
        );
        // Without an announced SSRC any is taken.
        let (mut w, t0) = watch(None);
        assert!(matches!(w.frame(0, &rtp(96, 5), t0), Ok(Some(_))));
    }

    #[test]
    fn rtcp_is_counted_not_taken() {
        let (mut w, t0) = watch(None);
        assert_eq!(w.frame(1, SENDER_REPORT, t0), Ok(None));
        // Multiplexed on the RTP channel.
        assert_eq!(w.frame(0, SENDER_REPORT, t0), Ok(None));
        assert_eq!(
            w.no_media(t0 + Duration::from_millis(800)),
            "only RTCP (2 packets) within 800.0 ms after PLAY, no RTP"
        );
        assert_eq!(
            w.closed(t0 + Duration::from_millis(3)),
            "the server closed the connection 3.000 ms after PLAY, before any RTP packet (2 RTCP packets)"
        );
        let (w, t0) = watch(None);
        assert_eq!(
            w.closed(t0),
            "the server closed the connection 0.000 ms after PLAY, before any RTP packet"
        );
        assert_eq!(
            w.no_media(t0 + Duration::from_millis(800)),
            "no media within 800.0 ms after PLAY"
        );
    }

    #[test]
    fn what_a_healthy_stream_does_not_send() {
        let (mut w, t0) = watch(Some(0xABCD));
        assert_eq!(
            w.frame(4, &rtp(96, 0xABCD), t0),
            Err("a 19-byte packet on interleaved channel 4; SETUP granted 0-1".into())
        );
        assert_eq!(
            w.frame(0, &rtp(97, 0xABCD), t0),
            Err("RTP payload type 97 where the SDP announced 96".into())
        );
        assert_eq!(
            w.frame(0, &rtp(96, 0x1234), t0),
            Err("RTP SSRC 00001234 where SETUP's Transport announced ssrc=0000ABCD".into())
        );
        let mut v1 = rtp(96, 0xABCD);
        v1[0] = 0x40;
        assert_eq!(
            w.frame(0, &v1, t0),
            Err("an RTP packet of version 1, not 2".into())
        );
        assert_eq!(
            w.frame(0, b"short", t0),
            Err("a 5-byte packet on the RTP channel, too short for RTP (12 bytes at least)".into())
        );
    }
}
