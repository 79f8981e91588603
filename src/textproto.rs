//! Framing shared by the HTTP-like text protocols we speak (SIP, RTSP): a start line,
//! header lines (folded continuations allowed, CRLF or bare LF line ends), a blank line,
//! and a body of exactly Content-Length bytes. No I/O.
//!
//! [`frame`] is the cheap test a stream reader runs after every read (mini-redis style):
//! is there a whole message in the buffer yet, and how long is it? [`split`] then takes
//! one whole message (a stream frame or a UDP datagram) apart, refusing truncated ones.

use std::borrow::Cow;
use std::str;

/// How a protocol's messages look, as far as framing needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// What a message is called, for errors: "a SIP message" gives "not a SIP message".
    pub what: &'static str,
    /// Whether the first bytes can begin a message of this protocol; checked early so
    /// garbage fails at once rather than at the deadline.
    pub plausible_start: fn(&[u8]) -> bool,
    /// Turns a header name as received into the canonical lower-case name (SIP maps its
    /// compact forms here); borrowed when no copy is needed (see [`lower_case`]).
    pub canonical_name: for<'a> fn(&'a str) -> Cow<'a, str>,
    /// Every spelling of Content-Length (SIP's compact `l` too), any case; must agree
    /// with `canonical_name`. Lets [`frame`] find the length without building a [`Head`].
    pub content_length_names: &'static [&'static str],
    /// Most header bytes before the blank line.
    pub max_header_bytes: usize,
    /// Largest acceptable Content-Length.
    pub max_body_bytes: usize,
}

impl Syntax {
    /// The most bytes a stream reader buffers: one maximal message plus a read's worth of
    /// the next.
    pub fn max_buffered(&self) -> usize {
        self.max_header_bytes + self.max_body_bytes + 8192
    }
}

/// What a stream buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Not a whole message yet: read more.
    Incomplete,
    /// A whole message at `buf[start..end]` (`start` skips keep-alive CRLFs).
    Message {
        /// Where the message starts.
        start: usize,
        /// Where it ends.
        end: usize,
    },
    /// The bytes can never become a message.
    Invalid(String),
}

/// A message's start line and headers, names canonical, folded lines joined. Borrowed
/// from the message where it can be: a daemon parses a thousand answers a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    /// The first line.
    pub start_line: &'a str,
    /// (canonical name, value) in order of appearance.
    pub headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// `name` in lower case, borrowed when it is already, or when it is one of `known`
/// (lower-case names, matched in any case).
pub fn lower_case<'a>(name: &'a str, known: &[&'static str]) -> Cow<'a, str> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Cow::Borrowed(k);
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

impl<'a> Head<'a> {
    /// The first value of header `name` (canonical, lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.value(name).map(|v| v.as_ref())
    }

    /// The first value of header `name` as stored: borrowed from the message unless it
    /// was folded, so a caller can keep it as long as the message.
    pub fn value(&self, name: &str) -> Option<&Cow<'a, str>> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every value of header `name`, in order.
    pub fn get_all<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Content-Length, 0 when absent. Several Content-Length headers (`Content-Length`
    /// and SIP's compact `l` both count) must agree: two lengths make the framing
    /// ambiguous, and a reader that picks one frames differently from a reader that picks
    /// the other (RFC 4475 section 3.3.9; RFC 7230 section 3.3.3 for HTTP).
    pub fn content_length(&self) -> Result<usize, String> {
        let mut found: Option<usize> = None;
        for v in self.get_all("content-length") {
            found = Some(one_length(found, v)?);
        }
        Ok(found.unwrap_or(0))
    }
}

/// Index just past the blank line that ends the headers.
pub fn header_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(nl) = buf[i..].iter().position(|&b| b == b'\n') {
        let next = i + nl + 1;
        match buf.get(next) {
            Some(b'\n') => return Some(next + 1),
            Some(b'\r') if buf.get(next + 1) == Some(&b'\n') => return Some(next + 2),
            _ => i = next,
        }
    }
    None
}

/// Whether `bytes` can begin `prefix` (compared case-insensitively, as far as both go).
pub fn starts_like(bytes: &[u8], prefix: &[u8]) -> bool {
    let n = bytes.len().min(prefix.len());
    bytes[..n].eq_ignore_ascii_case(&prefix[..n])
}

/// Whether `bytes` can begin a request line: an upper-case method token and a space.
pub fn starts_like_request(bytes: &[u8]) -> bool {
    let method_len = bytes
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    method_len > 0 && (method_len == bytes.len() || bytes[method_len] == b' ')
}

fn parse_head<'a>(bytes: &'a [u8], syntax: &Syntax) -> Result<Head<'a>, String> {
    let text = str::from_utf8(bytes).map_err(|_| "headers are not UTF-8".to_string())?;
    let mut lines = lines(text);
    let start_line = lines.next().unwrap_or("");
    let mut headers: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(12);
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded continuation: part of the previous header's value.
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| "continuation line before any header".to_string())?;
            let joined = value.to_mut();
            joined.push(' ');
            joined.push_str(trim_ascii(line));
            continue;
        }
        let (name, value) = split_once_ascii(line, b':')
            .ok_or_else(|| format!("header line without ':': '{line}'"))?;
        headers.push((
            (syntax.canonical_name)(trim_ascii(name)),
            Cow::Borrowed(trim_ascii(value)),
        ));
    }
    Ok(Head {
        start_line,
        headers,
    })
}

/// The lines of `text`, without their LF or CRLF ends.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    split_ascii(text, b'\n').map(|line| line.strip_suffix('\r').unwrap_or(line))
}

/// The pieces of `text` between `separator`s (an ASCII byte), as `str::split` gives them.
/// By byte search: `str::split` and `str::find` with a char pattern cost two to several
/// times as much on header-sized text (a call's set-up outweighs its word-at-a-time
/// search; measured with callgrind), and a daemon reads a thousand heads a second.
pub fn split_ascii(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == separator) {
            Some(at) => {
                // Next to an ASCII byte: both on character boundaries.
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// `text` split at the first `separator` (an ASCII byte), as `str::split_once` does; by
/// byte search, as [`split_ascii`].
pub fn split_once_ascii(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == separator)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` without the white space around it: ASCII white space only, which is all that
/// SIP's and RTSP's grammars allow there (`str::trim` also tests every character for
/// Unicode white space, and costs several times as much).
pub fn trim_ascii(text: &str) -> &str {
    let bytes = text.as_bytes();
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return "";
    };
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |last| last + 1);
    // Both ends sit next to ASCII bytes, so on character boundaries.
    text.get(start..end).unwrap_or("")
}

fn skip_crlf(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count()
}

/// The Content-Length of a head, as [`Head::content_length`] of [`parse_head`] would say,
/// without allocating a header: [`frame`] runs after every read, and a whole parse there
/// cost as much again as the parse of the message itself. A folded Content-Length (never
/// seen in practice) takes the whole parse.
fn content_length_in(head: &[u8], syntax: &Syntax) -> Result<usize, String> {
    let text = str::from_utf8(head).map_err(|_| "headers are not UTF-8".to_string())?;
    let mut found: Option<usize> = None;
    let mut in_header = false;
    let mut last_was_length = false;
    for line in lines(text).skip(1) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if !in_header {
                return Err("continuation line before any header".into());
            }
            if last_was_length {
                return parse_head(head, syntax)?.content_length();
            }
            continue;
        }
        let (name, value) = split_once_ascii(line, b':')
            .ok_or_else(|| format!("header line without ':': '{line}'"))?;
        in_header = true;
        let name = trim_ascii(name);
        last_was_length = syntax
            .content_length_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name));
        if last_was_length {
            let value = trim_ascii(value);
            if value.is_empty() {
                // Maybe folded onto the next line: the whole parse joins it.
                return parse_head(head, syntax)?.content_length();
            }
            found = Some(one_length(found, value)?);
        }
    }
    Ok(found.unwrap_or(0))
}

/// Adds one Content-Length `value` to what was `found` before: several must agree.
fn one_length(found: Option<usize>, value: &str) -> Result<usize, String> {
    let value = trim_ascii(value);
    let n: usize = value
        .parse()
        .map_err(|_| format!("bad Content-Length '{value}'"))?;
    match found {
        Some(first) if first != n => Err(format!(
            "conflicting Content-Length headers: {first} and {n}"
        )),
        _ => Ok(n),
    }
}

/// Finds the first whole message in a stream buffer.
pub fn frame(buf: &[u8], syntax: &Syntax) -> Frame {
    // Keep-alives (bare CRLFs) may precede or separate messages.
    let start = skip_crlf(buf);
    let rest = &buf[start..];
    if rest.is_empty() {
        return Frame::Incomplete;
    }
    if !(syntax.plausible_start)(rest) {
        return Frame::Invalid(format!("not {}", syntax.what));
    }
    let max = syntax.max_header_bytes;
    let Some(head_len) = header_end(rest) else {
        return if rest.len() > max {
            Frame::Invalid(format!("oversized: no end of headers in {max} bytes"))
        } else {
            Frame::Incomplete
        };
    };
    if head_len > max {
        return Frame::Invalid(format!("oversized: headers over {max} bytes"));
    }
    let body_len = match content_length_in(&rest[..head_len], syntax) {
        Ok(n) => n,
        Err(why) => return Frame::Invalid(why),
    };
    if body_len > syntax.max_body_bytes {
        return Frame::Invalid(format!("oversized: Content-Length {body_len}"));
    }
    let end = head_len + body_len;
    if rest.len() < end {
        return Frame::Incomplete;
    }
    Frame::Message {
        start,
        end: start + end,
    }
}

/// Takes one whole message apart into head and body. A message without the blank line
/// after its headers, or with fewer body bytes than its Content-Length, is truncated and
/// refused; bytes past Content-Length are ignored.
pub fn split<'a>(msg: &'a [u8], syntax: &Syntax) -> Result<(Head<'a>, &'a [u8]), String> {
    let msg = &msg[skip_crlf(msg)..];
    if msg.is_empty() {
        return Err("empty message".into());
    }
    if !(syntax.plausible_start)(msg) {
        return Err(format!("not {}", syntax.what));
    }
    let max = syntax.max_header_bytes;
    let head_len = header_end(msg).ok_or_else(|| {
        if msg.len() > max {
            format!("oversized: no end of headers in {max} bytes")
        } else {
            "truncated: no blank line after the headers".to_string()
        }
    })?;
    if head_len > max {
        return Err(format!("oversized: headers over {max} bytes"));
    }
    let head = parse_head(&msg[..head_len], syntax)?;
    let body_len = head.content_length()?;
    let body = &msg[head_len..];
    if body.len() < body_len {
        return Err(format!(
            "truncated: Content-Length {body_len} but {} body bytes",
            body.len()
        ));
    }
    Ok((head, &body[..body_len]))
}

/// What a start line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `PROTO/VER CODE REASON`.
    Status {
        /// `PROTO/VER`, as received.
        version: &'a str,
        /// 100 to 699.
        code: u16,
        /// Possibly empty.
        reason: &'a str,
    },
    /// A request line; its method.
    Request(&'a str),
}

/// Reads a start line of protocol `proto` ("SIP", "RTSP"): a status line, or else a
/// request line. A line that claims to be a status line but has no valid code is an error.
pub fn start_line<'a>(line: &'a str, proto: &str) -> Result<StartLine<'a>, String> {
    let (first, rest) = split_once_ascii(line, b' ').unwrap_or((line, ""));
    let is_status =
        split_once_ascii(first, b'/').is_some_and(|(name, _)| name.eq_ignore_ascii_case(proto));
    if !is_status {
        return Ok(StartLine::Request(first));
    }
    let (code, reason) = split_once_ascii(rest, b' ').unwrap_or((rest, ""));
    match code.parse::<u16>() {
        Ok(c @ 100..=699) if code.len() == 3 => Ok(StartLine::Status {
            version: first,
            code: c,
            reason: trim_ascii(reason),
        }),
        _ => Err(format!("bad status line '{line}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(name: &str) -> Cow<'_, str> {
        lower_case(name, &[])
    }

    const TEST: Syntax = Syntax {
        what: "a TEST message",
        plausible_start: |b| starts_like(b, b"TEST/1.0 ") || starts_like_request(b),
        canonical_name: lower,
        content_length_names: &["content-length"],
        max_header_bytes: 1024,
        max_body_bytes: 1024,
    };

    #[test]
    fn frames_by_blank_line_and_content_length() {
        let msg = b"TEST/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcTEST/1.0 ";
        assert_eq!(
            frame(msg, &TEST),
            Frame::Message {
                start: 0,
                end: msg.len() - 9
            }
        );
        assert_eq!(frame(&msg[..20], &TEST), Frame::Incomplete);
        assert_eq!(frame(&msg[..40], &TEST), Frame::Incomplete);
        let (head, body) = split(&msg[..msg.len() - 9], &TEST).unwrap();
        assert_eq!(head.start_line, "TEST/1.0 200 OK");
        assert_eq!(body, b"abc");
    }

    #[test]
    fn folding_lf_only_and_repeated_headers() {
        let (head, _) = split(b"TEST/1.0 200 OK\nA: one\n two\nA: three\n\n", &TEST).unwrap();
        assert_eq!(head.get("a"), Some("one two"));
        assert_eq!(head.get_all("a").collect::<Vec<_>>(), ["one two", "three"]);
    }

    #[test]
    fn refuses_garbage_truncation_and_oversize() {
        assert_eq!(
            frame(b"\x00garbage", &TEST),
            Frame::Invalid("not a TEST message".into())
        );
        assert_eq!(
            split(b"TEST/1.0 200 OK\r\nX: y\r\n", &TEST).unwrap_err(),
            "truncated: no blank line after the headers"
        );
        assert!(
            split(b"TEST/1.0 200 OK\r\nContent-Length: 9\r\n\r\nabc", &TEST)
                .unwrap_err()
                .starts_with("truncated: Content-Length 9")
        );
        let mut big = b"TEST/1.0 200 OK\r\nX: ".to_vec();
        big.extend(std::iter::repeat(b'a').take(2000));
        assert!(matches!(frame(&big, &TEST), Frame::Invalid(w) if w.starts_with("oversized")));
        assert!(matches!(
            frame(b"TEST/1.0 200 OK\r\nContent-Length: 5000\r\n\r\n", &TEST),
            Frame::Invalid(w) if w.starts_with("oversized")
        ));
    }

    #[test]
    fn framing_finds_the_length_the_full_parse_finds() {
        for head in [
            &b"TEST/1.0 200 OK\r\n\r\n"[..],
            b"TEST/1.0 200 OK\r\nContent-Length: 3\r\n\r\n",
            b"TEST/1.0 200 OK\nX: a\n b\nCONTENT-LENGTH:  7 \n\n",
            b"TEST/1.0 200 OK\r\nContent-Length: 2\r\n 0\r\n\r\n",
            b"TEST/1.0 200 OK\r\nContent-Length: x\r\n\r\n",
            b"TEST/1.0 200 OK\r\n folded\r\n\r\n",
            b"TEST/1.0 200 OK\r\nno colon\r\n\r\n",
            b"TEST/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"TEST/1.0 200 \xff\r\n\r\n",
            b"TEST/1.0 200 OK\r\nContent-Length:\r\n 4\r\n\r\n",
        ] {
            let full = parse_head(head, &TEST).and_then(|h| h.content_length());
            assert_eq!(content_length_in(head, &TEST), full, "{head:?}");
        }
        // The folded ones take the full parse in both: what it makes of them.
        let folded = b"TEST/1.0 200 OK\r\nContent-Length: 2\r\n 0\r\n\r\n";
        assert_eq!(
            content_length_in(folded, &TEST),
            Err("bad Content-Length '2 0'".to_string())
        );
        let empty_then_folded = b"TEST/1.0 200 OK\r\nContent-Length:\r\n 4\r\n\r\n";
        assert_eq!(content_length_in(empty_then_folded, &TEST), Ok(4));
    }

    #[test]
    fn conflicting_content_lengths_are_malformed() {
        // RFC 4475 3.3.9: "Content-Length: 0" and a compact "l: 150" in one message.
        let two = b"TEST/1.0 200 OK\r\nContent-Length: 0\r\ncontent-length: 150\r\n\r\n";
        assert!(matches!(frame(two, &TEST), Frame::Invalid(w) if w.contains("conflicting")));
        assert!(split(two, &TEST).unwrap_err().contains("conflicting"));
        // The same length twice is redundant, not ambiguous.
        let same = b"TEST/1.0 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc";
        assert_eq!(split(same, &TEST).unwrap().1, b"abc");
    }

    #[test]
    fn start_lines() {
        let status = |version, code, reason| {
            Ok(StartLine::Status {
                version,
                code,
                reason,
            })
        };
        assert_eq!(
            start_line("RTSP/1.0 200 OK", "RTSP"),
            status("RTSP/1.0", 200, "OK")
        );
        assert_eq!(
            start_line("RTSP/2.0 503", "rtsp"),
            status("RTSP/2.0", 503, "")
        );
        assert_eq!(
            start_line("OPTIONS * RTSP/1.0", "RTSP"),
            Ok(StartLine::Request("OPTIONS"))
        );
        assert!(start_line("RTSP/1.0 20 OK", "RTSP").is_err());
    }
}
