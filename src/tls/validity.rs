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
/// seconds since the epoch.
fn parse_time(tag: u8, time: &[u8]) -> Option<i64> {
    let digits = time.strip_suffix(b"Z")?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        digits
            .get(range)?
            .iter()
            .try_fold(0i64, |n, &d| Some(n * 10 + i64::from(d - b'0')))
    };
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy = number(0..2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        (0x18, 14) => (number(0..4)?, 4),
        _ => return None,
    };
    let field = |i: usize| number(rest + 2 * i..rest + 2 * i + 2);
    let (month, day, hour, minute, second) =
        (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of `secs` since the epoch, `YYYY-MM-DD` (UTC).
pub fn date(secs: i64) -> String {
    // Hinnant's civil_from_days.
    let days = secs.div_euclid(DAY) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
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
    fn dates_round_trip_and_match_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(4_102_444_799), "2099-12-31");
        for days in [-1, 0, 59, 60, 10_956, 20_000, 47_482] {
            let secs = days * DAY;
            let text = date(secs);
            let parsed: Vec<i64> = text.split('-').map(|p| p.parse().unwrap()).collect();
            assert_eq!(
                days_from_civil(parsed[0], parsed[1], parsed[2]),
                days,
                "{text}"
            );
        }
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
