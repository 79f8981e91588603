//! Framing of an RTSP connection once media flows on it (RFC 2326 section 10.12): `$`,
//! a channel byte, a 16-bit length and that many bytes of RTP or RTCP, between which
//! whole RTSP messages (replies, and requests from the server) may still arrive. No I/O.

use super::message;
use crate::textproto::Frame;

/// The longest interleaved frame accepted. Servers size RTP packets for the path MTU
/// even over TCP (GStreamer, VLC, ffmpeg and live555 all send about 1.4 KiB), so a length
/// far beyond that is a broken stream or garbage read as a length; it fails rather than
/// being buffered.
pub const MAX_FRAME: usize = 32 * 1024;

/// Finds the first whole frame (`$` data, or an RTSP message) in `buf`. A `$` frame is a
/// [`Frame::Message`] whose first byte is `$`: see [`data`].
pub fn frame(buf: &[u8]) -> Frame {
    // Keep-alive line ends between frames are skipped, as between messages.
    let start = buf
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(buf.len());
    let rest = &buf[start..];
    match rest.first() {
        None => Frame::Incomplete,
        Some(b'$') => {
            let [_, channel, hi, lo, ..] = *rest else {
                return Frame::Incomplete;
            };
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if len > MAX_FRAME {
                return Frame::Invalid(format!(
                    "an interleaved frame of {len} bytes on channel {channel}, over the {MAX_FRAME}-byte limit"
                ));
            }
            let end = start + 4 + len;
            if buf.len() < end {
                Frame::Incomplete
            } else {
                Frame::Message { start, end }
            }
        }
        Some(_) => match message::frame(buf) {
            Frame::Invalid(why) => Frame::Invalid(format!("{why} nor a $-framed packet")),
            other => other,
        },
    }
}

/// The channel and payload of a frame [`frame`] found, or `None` for an RTSP message.
pub fn data(frame: &[u8]) -> Option<(u8, &[u8])> {
    match frame {
        [b'$', channel, _, _, payload @ ..] => Some((*channel, payload)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_messages_interleave() {
        let mut buf = b"\r\n$\x00\x00\x03abc".to_vec();
        assert_eq!(frame(&buf), Frame::Message { start: 2, end: 9 });
        assert_eq!(data(&buf[2..9]), Some((0, &b"abc"[..])));
        buf.extend_from_slice(b"RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n");
        buf.drain(..9);
        assert_eq!(
            frame(&buf),
            Frame::Message {
                start: 0,
                end: buf.len()
            }
        );
        assert_eq!(data(&buf), None);
        // An empty frame is a frame.
        assert_eq!(frame(b"$\x01\x00\x00"), Frame::Message { start: 0, end: 4 });
        assert_eq!(data(b"$\x01\x00\x00"), Some((1, &b""[..])));
    }

    #[test]
    fn partial_frames_wait() {
        for partial in [&b""[..], b"\r\n", b"$", b"$\x00\x00", b"$\x00\x00\x05abcd"] {
            assert_eq!(frame(partial), Frame::Incomplete, "{partial:?}");
        }
    }

    #[test]
    fn oversized_frames_and_garbage_fail_at_once() {
        assert_eq!(
            frame(b"$\x00\xff\xff"),
            Frame::Invalid(
                "an interleaved frame of 65535 bytes on channel 0, over the 32768-byte limit"
                    .into()
            )
        );
        assert_eq!(
            frame(b"\x80\x60\x00\x01"),
            Frame::Invalid("not an RTSP message nor a $-framed packet".into())
        );
    }
}
