//! What `--play` reads from a server: an SDP, a SETUP reply's Transport header, and the
//! interleaved stream after PLAY. The input's first byte says how much of it (times four)
//! is the SDP and Transport text, split at the first newline after the SDP's last line
//! (`\n\n`); the rest is the stream. Properties: nothing panics, every `$` frame taken is
//! within the frame limit, and a packet the watch takes as the first RTP packet is one.
#![no_main]

mod frames;

use std::time::{Duration, Instant};

use keepalived_checks::rtsp::control;
use keepalived_checks::rtsp::interleaved::{self, MAX_FRAME};
use keepalived_checks::rtsp::message::{parse_message, Message};
use keepalived_checks::rtsp::rtp::{Expect, Watch};
use keepalived_checks::rtsp::sdp::{self, MediaChoice};
use keepalived_checks::rtsp::transport::{self, Asked, Granted};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text_len = data
        .len()
        .min(usize::from(data.first().copied().unwrap_or(0)) * 4);
    let (text, stream) = data.split_at(text_len);
    let text = String::from_utf8_lossy(text.get(1..).unwrap_or_default());
    let (sdp_text, transport_header) = text.split_once("\n\n").unwrap_or((&text, ""));
    let sdp = sdp::parse(sdp_text.as_bytes());
    let mut payload_types = Vec::new();
    for choice in [
        MediaChoice::First,
        MediaChoice::Kind("video".into()),
        MediaChoice::Index(1),
    ] {
        if let Ok((_, media)) = choice.pick(&sdp) {
            for pt in &media.payload_types {
                let _ = media.encoding(*pt);
            }
            let base = control::base(Some(transport_header), None, "rtsp://h/live");
            let _ = control::resolve(base, media.control.as_deref());
            payload_types.clone_from(&media.payload_types);
        }
    }
    let _ = transport::granted(Some(transport_header), Asked::Udp { rtp_port: 5000 });
    let _ = transport::session_id(transport_header);
    let channels =
        transport::granted(Some(transport_header), Asked::Interleaved).unwrap_or(Granted {
            rtp: 0,
            rtcp: 1,
            ssrc: None,
        });
    let t0 = Instant::now();
    let mut watch = Watch::new(
        Expect {
            channels,
            payload_types: payload_types.clone(),
        },
        t0,
    );
    frames::each(stream, interleaved::frame, |frame| {
        match interleaved::data(frame) {
            Some((channel, packet)) => {
                assert!(
                    packet.len() <= MAX_FRAME,
                    "a {}-byte frame taken",
                    packet.len()
                );
                if let Ok(Some(first)) = watch.frame(channel, packet, t0 + Duration::from_millis(5))
                {
                    assert_eq!(channel, channels.rtp);
                    assert_eq!(packet[0] >> 6, 2, "not RTP version 2");
                    assert!(payload_types.contains(&first.payload_type));
                    assert_eq!(first.after_play, Duration::from_millis(5));
                }
            }
            None => {
                if let Ok(Message::Response(r)) = parse_message(frame) {
                    let _ = r.status();
                }
            }
        }
        true
    });
    let _ = watch.no_media(t0);
    let _ = watch.closed(t0);
});
