//! Which status codes count as healthy: `--accept 200,404,4xx` or `--accept any`.
//!
//! Shared by the request/response checks (SIP, RTSP). Some setups treat any final answer
//! as "the stack is alive" (Asterisk qualify, many Kamailio dispatcher setups), some a
//! 401 or 404 from a server that is up but strict; the default is every 2xx.

use std::fmt;
use std::str::FromStr;

/// One entry of the list: an exact code or a class (`4xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeMatch {
    Exact(u16),
    Class(u16),
}

/// The set of status codes that make a check healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptPolicy {
    any: bool,
    codes: Vec<CodeMatch>,
}

impl Default for AcceptPolicy {
    /// Every 2xx.
    fn default() -> Self {
        AcceptPolicy {
            any: false,
            codes: vec![CodeMatch::Class(2)],
        }
    }
}

impl AcceptPolicy {
    /// Whether a final status `code` is healthy.
    pub fn accepts(&self, code: u16) -> bool {
        self.any
            || self.codes.iter().any(|m| match *m {
                CodeMatch::Exact(c) => c == code,
                CodeMatch::Class(k) => code / 100 == k,
            })
    }
}

impl FromStr for AcceptPolicy {
    type Err = String;

    /// `any`, or a comma-separated list of codes (`200`) and classes (`2xx`), 100 to 699.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("any") {
            return Ok(AcceptPolicy {
                any: true,
                codes: Vec::new(),
            });
        }
        let mut codes = Vec::new();
        for item in s.split(',').map(str::trim) {
            let lower = item.to_ascii_lowercase();
            let m = match lower.strip_suffix("xx") {
                Some(class) => match class.parse::<u16>() {
                    Ok(k @ 1..=6) if class.len() == 1 => CodeMatch::Class(k),
                    _ => return Err(format!("'{item}' is not a class from 1xx to 6xx")),
                },
                None => match lower.parse::<u16>() {
                    Ok(c @ 100..=699) => CodeMatch::Exact(c),
                    _ => {
                        return Err(format!(
                        "'{item}' is not a status code from 100 to 699, a class like 2xx, or any"
                    ))
                    }
                },
            };
            codes.push(m);
        }
        Ok(AcceptPolicy { any: false, codes })
    }
}

impl fmt::Display for AcceptPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.any {
            return f.write_str("any");
        }
        for (i, m) in self.codes.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match m {
                CodeMatch::Exact(c) => write!(f, "{c}")?,
                CodeMatch::Class(k) => write!(f, "{k}xx")?,
            }
        }
        Ok(())
    }
}

/// clap value parser for `--accept`.
pub fn parse_accept(s: &str) -> Result<AcceptPolicy, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_every_2xx() {
        let p = AcceptPolicy::default();
        assert!(p.accepts(200) && p.accepts(202) && p.accepts(299));
        assert!(!p.accepts(404) && !p.accepts(100) && !p.accepts(503));
        assert_eq!(p.to_string(), "2xx");
    }

    #[test]
    fn lists_mix_codes_and_classes() {
        let p: AcceptPolicy = "200, 404,4XX".parse().unwrap();
        assert!(p.accepts(200) && p.accepts(404) && p.accepts(401));
        assert!(!p.accepts(202) && !p.accepts(503));
        assert_eq!(p.to_string(), "200,404,4xx");
    }

    #[test]
    fn any_accepts_every_final_code() {
        let p: AcceptPolicy = "ANY".parse().unwrap();
        assert!(p.accepts(200) && p.accepts(503) && p.accepts(699));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "", "2x", "7xx", "0xx", "99", "700", "ok", "200,,404", "22xx",
        ] {
            assert!(bad.parse::<AcceptPolicy>().is_err(), "{bad}");
        }
    }
}
