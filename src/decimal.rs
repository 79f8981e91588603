//! Numbers and durations appended to a `String` by hand. A daemon writes a few of them per
//! probe, a thousand probes a second, and `format!` costs several hundred instructions
//! each through the formatting machinery (a float over a thousand); these cost tens.

use std::time::Duration;

/// Appends `n` in decimal.
pub fn push_decimal(out: &mut String, n: u64) {
    push_padded(out, n, 1);
}

/// `n` in decimal.
pub fn decimal_text(n: u64) -> String {
    let mut text = String::with_capacity(20);
    push_decimal(&mut text, n);
    text
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (at most 20).
pub fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let start = write_digits(&mut digits, n).min(digits.len() - width.min(digits.len()));
    push_ascii(out, &digits[start..]);
}

/// Writes `n`'s digits at the end of `digits`; returns where they start.
fn write_digits(digits: &mut [u8; 20], mut n: u64) -> usize {
    let mut i = digits.len();
    loop {
        i -= 1;
        // n % 10 < 10: the cast cannot truncate.
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return i;
        }
    }
}

/// Appends an IPv4 address, dotted: the four octets written into one buffer and appended
/// at once (a daemon's SIP probe writes five addresses).
pub fn push_ipv4(out: &mut String, octets: [u8; 4]) {
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in octets.into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    push_ascii(out, &text[..len]);
}

/// Appends ASCII digits and dots, written above. As characters: a UTF-8 check and
/// `push_str` cost twice as much for a few bytes.
fn push_ascii(out: &mut String, ascii: &[u8]) {
    out.extend(ascii.iter().map(|&b| char::from(b)));
}

/// Appends a duration the way status lines show it (see [`crate::deadline::format_ms`]):
/// `0.213 ms`, `12.3 ms`, `1.50 s`, each rounded half up.
pub fn push_ms(out: &mut String, d: Duration) {
    let ns = d.as_nanos();
    // (unit in ns, decimals, suffix): milliseconds to three places under 10 ms, to one
    // under a second, seconds to two places above.
    let (unit, decimals, suffix) = if ns < 10_000_000 {
        (1_000_000, 3, " ms")
    } else if ns < 1_000_000_000 {
        (1_000_000, 1, " ms")
    } else {
        (1_000_000_000, 2, " s")
    };
    let step = unit / 10u128.pow(decimals);
    let steps = (ns + step / 2) / step;
    let scale = 10u128.pow(decimals);
    // An hour-long deadline is 3.6e12 ns: far inside u64.
    let whole = u64::try_from(steps / scale).unwrap_or(u64::MAX);
    let fraction = u64::try_from(steps % scale).unwrap_or(0);
    push_decimal(out, whole);
    out.push('.');
    push_padded(out, fraction, decimals as usize);
    out.push_str(suffix);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(n: u64) -> String {
        let mut s = String::new();
        push_decimal(&mut s, n);
        s
    }

    fn ms(d: Duration) -> String {
        let mut s = String::new();
        push_ms(&mut s, d);
        s
    }

    #[test]
    fn decimals_read_as_display_writes_them() {
        for n in [0, 7, 10, 255, 5060, 65535, 1_000_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        let mut s = String::new();
        push_padded(&mut s, 7, 3);
        push_padded(&mut s, 0, 0);
        push_padded(&mut s, 1234, 2);
        assert_eq!(s, "00701234");
    }

    #[test]
    fn addresses_read_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.2.30.104",
            "127.0.0.1",
            "1.20.100.9",
        ] {
            let ip: std::net::Ipv4Addr = ip.parse().unwrap();
            let mut s = String::from("x");
            push_ipv4(&mut s, ip.octets());
            assert_eq!(s, format!("x{ip}"));
        }
    }

    #[test]
    fn durations_round_half_up_at_each_precision() {
        assert_eq!(ms(Duration::ZERO), "0.000 ms");
        assert_eq!(ms(Duration::from_nanos(213_499)), "0.213 ms");
        assert_eq!(ms(Duration::from_nanos(213_500)), "0.214 ms");
        // Under 10 ms before rounding, so three places even when it rounds up to 10.
        assert_eq!(ms(Duration::from_nanos(9_999_600)), "10.000 ms");
        assert_eq!(ms(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(ms(Duration::from_micros(12_350)), "12.4 ms");
        assert_eq!(ms(Duration::from_micros(999_960)), "1000.0 ms");
        assert_eq!(ms(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(ms(Duration::from_millis(3_600_000)), "3600.00 s");
    }

    #[test]
    fn durations_agree_with_float_formatting_away_from_halves() {
        // The figures `format!("{:.3}")` of the float gave before, for durations that are
        // not an exact half between two shown values.
        for micros in [
            1, 49, 51, 999, 1_001, 9_999, 10_001, 99_999, 123_456, 999_949,
        ] {
            let d = Duration::from_micros(micros) + Duration::from_nanos(17);
            let f = d.as_secs_f64() * 1000.0;
            let float = if f < 10.0 {
                format!("{f:.3} ms")
            } else if f < 1000.0 {
                format!("{f:.1} ms")
            } else {
                format!("{:.2} s", d.as_secs_f64())
            };
            assert_eq!(ms(d), float, "{d:?}");
        }
    }
}
