//! The parts of an SDP (RFC 4566) a player needs: each media's type, payload types,
//! encodings and control URL, and the session's aggregate control. No I/O.
//!
//! Lenient like a player: unknown lines are skipped, and a malformed `m=` line is kept as
//! a media with no payload types (which `--play` reports) rather than failing the parse.

use std::str::FromStr;

/// A parsed session description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sdp {
    /// The session-level `a=control:` (the aggregate control URL), if any.
    pub control: Option<String>,
    /// The `m=` sections, in order.
    pub media: Vec<Media>,
}

/// One `m=` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Media {
    /// `video`, `audio`, `application`, ...
    pub kind: String,
    /// The transport protocol: `RTP/AVP` normally.
    pub proto: String,
    /// The payload types the `m=` line lists (RTP/AVP formats are numbers 0-127).
    pub payload_types: Vec<u8>,
    /// `a=rtpmap:` entries: payload type and `ENCODING/CLOCK[/CHANNELS]`.
    pub rtpmap: Vec<(u8, String)>,
    /// The media-level `a=control:`, if any.
    pub control: Option<String>,
}

impl Media {
    /// The encoding of payload type `pt`: its `a=rtpmap`, else the static assignment of
    /// RFC 3551 for the common ones, else `payload type N`.
    pub fn encoding(&self, pt: u8) -> String {
        if let Some((_, name)) = self.rtpmap.iter().find(|(p, _)| *p == pt) {
            return name.clone();
        }
        let fixed = match pt {
            0 => "PCMU/8000",
            3 => "GSM/8000",
            8 => "PCMA/8000",
            9 => "G722/8000",
            10 => "L16/44100/2",
            11 => "L16/44100",
            14 => "MPA/90000",
            18 => "G729/8000",
            26 => "JPEG/90000",
            31 => "H261/90000",
            32 => "MPV/90000",
            33 => "MP2T/90000",
            34 => "H263/90000",
            _ => return format!("payload type {pt}"),
        };
        fixed.to_string()
    }

    /// Whether the media is carried in plain RTP (`RTP/AVP` or `RTP/AVPF`), the only
    /// profiles a check can read without keys.
    pub fn is_plain_rtp(&self) -> bool {
        ["RTP/AVP", "RTP/AVPF"]
            .iter()
            .any(|p| self.proto.eq_ignore_ascii_case(p))
    }
}

/// Parses an SDP body. Never fails: what is not understood is skipped.
pub fn parse(body: &[u8]) -> Sdp {
    let text = String::from_utf8_lossy(body);
    let mut sdp = Sdp::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(m) = line.strip_prefix("m=") {
            sdp.media.push(media_line(m));
        } else if let Some(attr) = line.strip_prefix("a=") {
            let (name, value) = attr.split_once(':').unwrap_or((attr, ""));
            let value = value.trim();
            match (name.trim(), sdp.media.last_mut()) {
                ("control", None) => sdp.control = Some(value.to_string()),
                ("control", Some(m)) => m.control = Some(value.to_string()),
                ("rtpmap", Some(m)) => {
                    let (pt, encoding) = value.split_once(' ').unwrap_or((value, ""));
                    if let (Ok(pt), false) = (pt.parse(), encoding.trim().is_empty()) {
                        m.rtpmap.push((pt, encoding.trim().to_string()));
                    }
                }
                _ => {}
            }
        }
    }
    sdp
}

/// `video 0 RTP/AVP 96 97`: kind, port, proto, formats.
fn media_line(m: &str) -> Media {
    let mut words = m.split_ascii_whitespace();
    let kind = words.next().unwrap_or("").to_string();
    let _port = words.next();
    let proto = words.next().unwrap_or("").to_string();
    let payload_types = words.filter_map(|f| f.parse().ok()).collect();
    Media {
        kind,
        proto,
        payload_types,
        ..Media::default()
    }
}

/// Which media `--play` plays: the first, the first of a type, or the Nth `m=` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MediaChoice {
    /// The first `m=` line.
    #[default]
    First,
    /// The first `m=` line of this type (`video`, `audio`, ...).
    Kind(String),
    /// The `m=` line at this index, counting from 0 as ffprobe's stream numbers do.
    Index(usize),
}

impl FromStr for MediaChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(n) = s.parse() {
            return Ok(MediaChoice::Index(n));
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Ok(MediaChoice::Kind(s.to_ascii_lowercase()));
        }
        Err(format!(
            "'{s}' is not a media type (video, audio, ...) or an index (0 for the first m= line)"
        ))
    }
}

impl MediaChoice {
    /// The chosen media and its index, or why there is none: "the SDP has no audio media
    /// (it has: video)".
    pub fn pick<'a>(&self, sdp: &'a Sdp) -> Result<(usize, &'a Media), String> {
        let found = match self {
            MediaChoice::First => sdp.media.first().map(|m| (0, m)),
            MediaChoice::Kind(kind) => sdp
                .media
                .iter()
                .enumerate()
                .find(|(_, m)| m.kind.eq_ignore_ascii_case(kind)),
            MediaChoice::Index(n) => sdp.media.get(*n).map(|m| (*n, m)),
        };
        found.ok_or_else(|| {
            let kinds: Vec<&str> = sdp.media.iter().map(|m| m.kind.as_str()).collect();
            let (n, kinds) = (kinds.len(), kinds.join(", "));
            match self {
                MediaChoice::First => "the SDP has no media".to_string(),
                MediaChoice::Index(i) => {
                    format!("the SDP has no media {i} (it has {n}, numbered from 0: {kinds})")
                }
                MediaChoice::Kind(kind) => {
                    format!("the SDP has no {kind} media (it has {n}: {kinds})")
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GStreamer rtsp-server 1.22, a video and an audio stream.
    const GST: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Session streamed with GStreamer\r\nt=0 0\r\na=tool:GStreamer\r\na=type:broadcast\r\na=control:*\r\na=range:npt=now-\r\nm=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:stream=0\r\nm=audio 0 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=control:stream=1\r\n";

    #[test]
    fn gstreamer_video_and_audio() {
        let sdp = parse(GST);
        assert_eq!(sdp.control.as_deref(), Some("*"));
        assert_eq!(sdp.media.len(), 2);
        let video = &sdp.media[0];
        assert_eq!(
            (video.kind.as_str(), video.proto.as_str()),
            ("video", "RTP/AVP")
        );
        assert_eq!(video.payload_types, [96]);
        assert_eq!(video.encoding(96), "H264/90000");
        assert_eq!(video.control.as_deref(), Some("stream=0"));
        let audio = &sdp.media[1];
        // No rtpmap: the static assignment names it.
        assert_eq!(audio.encoding(0), "PCMU/8000");
        assert_eq!(audio.encoding(77), "payload type 77");
        assert!(audio.is_plain_rtp());
    }

    #[test]
    fn choosing_media() {
        let sdp = parse(GST);
        assert_eq!(MediaChoice::First.pick(&sdp).map(|(i, _)| i), Ok(0));
        let audio: MediaChoice = "Audio".parse().unwrap();
        assert_eq!(
            audio.pick(&sdp).map(|(i, m)| (i, &*m.kind)),
            Ok((1, "audio"))
        );
        let second: MediaChoice = "1".parse().unwrap();
        assert_eq!(second.pick(&sdp).map(|(i, _)| i), Ok(1));
        let text: MediaChoice = "text".parse().unwrap();
        assert_eq!(
            text.pick(&sdp),
            Err("the SDP has no text media (it has 2: video, audio)".into())
        );
        assert_eq!(
            MediaChoice::Index(5).pick(&sdp),
            Err("the SDP has no media 5 (it has 2, numbered from 0: video, audio)".into())
        );
        assert!("vid eo".parse::<MediaChoice>().is_err());
        assert!("".parse::<MediaChoice>().is_err());
        assert!("-1".parse::<MediaChoice>().is_err());
    }

    #[test]
    fn odd_lines_are_skipped_not_fatal() {
        let sdp = parse(b"v=0\nm=video\na=rtpmap:x H264/90000\na=rtpmap:96\nm=audio 0 RTP/SAVP 0 x 300\n\xff\xfe");
        assert_eq!(sdp.media.len(), 2);
        assert!(sdp.media[0].payload_types.is_empty() && sdp.media[0].rtpmap.is_empty());
        assert_eq!(sdp.media[1].payload_types, [0]);
        assert!(!sdp.media[1].is_plain_rtp());
        assert_eq!(sdp.control, None);
    }
}
