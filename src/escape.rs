//! Bytes on the command line and bytes in log lines.
//!
//! `--send 'QUIT\r\n'` must put a real CR LF on the wire (keepalived passes arguments without
//! a shell, so `$'\r\n'` is not available), and bytes a server sent must be shown in a
//! status line or the journal without letting a hostile server write control characters
//! or megabytes into either.

/// Turns `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` escapes into bytes. Any other backslash
/// sequence is an error, so a typo is reported instead of being sent as is.
pub fn unescape(input: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = (hex.len() == 2)
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("\\x needs two hex digits, got '\\x{hex}'"))?;
                out.push(byte);
            }
            Some(other) => {
                return Err(format!(
                    "unknown escape '\\{other}' (use \\r \\n \\t \\0 \\\\ or \\xHH)"
                ))
            }
            None => return Err("a trailing '\\' escapes nothing".into()),
        }
    }
    Ok(out)
}

/// Renders bytes for a log line or status line: printable ASCII as is, everything else
/// escaped, cut after `limit` bytes with a note of how many more there were.
pub fn printable(bytes: &[u8], limit: usize) -> String {
    let shown = &bytes[..bytes.len().min(limit)];
    let mut out = String::with_capacity(shown.len() + 16);
    for &b in shown {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > limit {
        out.push_str(&format!("... (+{} bytes)", bytes.len() - limit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_handles_every_documented_escape() {
        assert_eq!(unescape(r"QUIT\r\n").unwrap(), b"QUIT\r\n");
        assert_eq!(unescape(r"a\tb\0c\\d").unwrap(), b"a\tb\0c\\d");
        assert_eq!(unescape(r"\x41\xff").unwrap(), vec![0x41, 0xff]);
        assert_eq!(unescape("plain é").unwrap(), "plain é".as_bytes());
    }

    #[test]
    fn unescape_refuses_typos() {
        assert!(unescape(r"\q").unwrap_err().contains("unknown escape"));
        assert!(unescape(r"\x4").unwrap_err().contains("two hex digits"));
        assert!(unescape(r"\xzz").unwrap_err().contains("two hex digits"));
        assert!(unescape("end\\").unwrap_err().contains("trailing"));
    }

    #[test]
    fn printable_escapes_control_bytes_and_cuts_long_input() {
        assert_eq!(printable(b"SSH-2.0\r\n", 64), "SSH-2.0\\r\\n");
        assert_eq!(printable(&[0x1b, b'[', b'2', b'J'], 64), "\\x1b[2J");
        assert_eq!(printable(b"abcdef", 3), "abc... (+3 bytes)");
        assert_eq!(printable(br#"say "hi""#, 64), r#"say \"hi\""#);
    }
}
