//! A certificate's end of validity, read from its DER bytes, and dates as status lines
//! show them. No I/O.
//!
//! rustls checks validity but does not hand the dates out, and a general X.509 parser
//! (x509-parser: nom, asn1-rs, der-parser, time) would be most of a check's code for one
//! field. `notAfter` sits at a fixed place in every certificate (RFC 5280 section 4.1):
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
//!     [0] EXPLICIT version OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
//!     issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, ... }, ... }
//! Time ::= UTCTime (YYMMDDHHMMSSZ) | GeneralizedTime (YYYYMMDDHHMMSSZ)
//! ```

use std::time::{Duration, UNIX_EPOCH};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The certificate's `notAfter`, in seconds since the Unix epoch; `None` for bytes that
/// are not a certificate as RFC 5280 lays it out.
pub fn not_after(certificate: &[u8]) -> Option<i64> {
    let (certificate, _) = take(certificate, 0x30)?;
    let (mut tbs, _) = take(certificate, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        tbs = take(tbs, 0xa0)?.1;
    }
    for tag in [0x02, 0x30, 0x30] {
        tbs = take(tbs, tag)?.1;
    }
    let (validity, _) = take(tbs, 0x30)?;
    let not_before_tag = *validity.first()?;
    let (_, rest) = take(validity, not_before_tag)?;
    let tag = *rest.first()?;
    let (time, _) = take(rest, tag)?;
    parse_time(tag, time)
}

/// One DER element of `tag` at the start of `input`: (its content, what follows).
fn take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (&rest[..len], &rest[len..]))
}

/// A UTCTime (tag 0x17: years 1950 to 2049) or GeneralizedTime (0x18), in UTC ("Z"), as
/// seconds since the epoch; the calendar is humantime's RFC 3339 parser (years 1970 to
/// 9999: a certificate ending before 1970 has no date worth showing).
fn parse_time(tag: u8, time: &[u8]) -> Option<i64> {
    let digits = std::str::from_utf8(time.strip_suffix(b"Z")?).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: u32 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| &rest[2 * i..2 * i + 2];
    let rfc3339 = format!(
        "{year:04}-{}-{}T{}:{}:{}Z",
        field(0),
        field(1),
        field(2),
        field(3),
        field(4)
    );
    let since_epoch = humantime::parse_rfc3339(&rfc3339)
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?;
    i64::try_from(since_epoch.as_secs()).ok()
}

/// The date of `secs` since the epoch, `YYYY-MM-DD` (UTC); clamped to 1970 to 9999, the
/// years an RFC 3339 date can show.
pub fn date(secs: i64) -> String {
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = u64::try_from(secs.clamp(0, LAST)).unwrap_or(0);
    let mut text =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string();
    text.truncate(10);
    text
}

/// Whole days from `now` to `until` (both seconds since the epoch), rounded down: a
/// certificate that ends in 23 hours has 0 days left, one that ended an hour ago -1.
pub fn days_left(until: i64, now: i64) -> i64 {
    (until - now).div_euclid(DAY)
}

/// `n` days in words: "1 day", "0 days", "12 days".
pub fn days(n: i64) -> String {
    if n.abs() == 1 {
        format!("{n} day")
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(4_102_444_799), "2099-12-31");
        assert_eq!(date(-DAY), "1970-01-01", "clamped");
        assert_eq!(date(i64::MAX), "9999-12-31", "clamped");
    }

    #[test]
    fn both_time_forms() {
        assert_eq!(parse_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(parse_time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(parse_time(0x18, b"20000229120000Z"), Some(951_825_600));
        assert_eq!(parse_time(0x17, b"700101000000"), None);
        assert_eq!(parse_time(0x17, b"701301000000Z"), None);
        assert_eq!(parse_time(0x18, b"700101000000Z"), None);
        assert_eq!(parse_time(0x17, b"70010100000aZ"), None);
        // The calendar is checked: no 30 February, no year before 1970.
        assert_eq!(parse_time(0x18, b"20010230000000Z"), None);
        assert_eq!(parse_time(0x17, b"690101000000Z"), None);
    }

    #[test]
    fn days_left_rounds_down() {
        assert_eq!(days_left(DAY * 10, 0), 10);
        assert_eq!(days_left(DAY - 1, 0), 0);
        assert_eq!(days_left(-1, 0), -1);
    }

    #[test]
    fn not_after_of_certificates_openssl_wrote() {
        // `openssl req -x509 -days 30` and `-days 40000` (past 2049: GeneralizedTime);
        // the fuzz target's seeds. `openssl x509 -enddate` and `date +%s` say when.
        let utc = include_bytes!("../../fuzz/seeds/certificate_validity/utctime.der");
        assert_eq!(not_after(utc), Some(1_797_945_580));
        assert_eq!(date(1_797_945_580), "2026-12-22");
        let generalized =
            include_bytes!("../../fuzz/seeds/certificate_validity/generalizedtime.der");
        assert_eq!(not_after(generalized), Some(5_251_353_580));
        assert_eq!(date(5_251_353_580), "2136-05-29");
    }

    #[test]
    fn not_after_of_hand_built_certificates() {
        // Just the fields walked: version, serial, algorithm, issuer, validity, subject.
        fn cert(version: bool, long_form: bool, not_after: &[u8]) -> Vec<u8> {
            let mut tbs = Vec::new();
            if version {
                tbs.extend_from_slice(&[0xa0, 3, 0x02, 1, 2]);
            }
            tbs.extend_from_slice(&[0x02, 1, 7, 0x30, 0, 0x30, 0]);
            let mut validity = vec![0x17, 13];
            validity.extend_from_slice(b"000101000000Z");
            validity.push(if not_after.len() == 13 { 0x17 } else { 0x18 });
            validity.push(u8::try_from(not_after.len()).unwrap());
            validity.extend_from_slice(not_after);
            tbs.push(0x30);
            tbs.push(u8::try_from(validity.len()).unwrap());
            tbs.extend_from_slice(&validity);
            tbs.extend_from_slice(&[0x30, 0]);
            let mut inner = vec![0x30];
            if long_form {
                inner.extend_from_slice(&[0x81, u8::try_from(tbs.len()).unwrap()]);
            } else {
                inner.push(u8::try_from(tbs.len()).unwrap());
            }
            inner.extend_from_slice(&tbs);
            let mut outer = vec![0x30, 0x82, 0, u8::try_from(inner.len()).unwrap()];
            outer.extend_from_slice(&inner);
            outer
        }
        assert_eq!(not_after(&cert(true, false, b"700102000000Z")), Some(DAY));
        assert_eq!(not_after(&cert(false, true, b"19700102000000Z")), Some(DAY));
        let good = cert(true, true, b"700102000000Z");
        for cut in 0..good.len() {
            assert_eq!(not_after(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(not_after(b"\x04\x00"), None);
    }
}
