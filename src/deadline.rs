//! The one deadline type every check runs under.
//!
//! keepalived kills a script that overruns its `timeout` (SIGTERM, then SIGKILL two seconds
//! later) and counts that as a failure without telling anyone why. A check that ends itself
//! first can say which stage was slow. So the whole run (name resolution, connect, send,
//! receive) shares one end-to-end deadline that starts when the process starts, and every
//! stage asks this type how much time is left rather than carrying a timeout of its own.

use std::time::{Duration, Instant};

/// An end-to-end deadline: a start instant and the instant by which the check must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    start: Instant,
    end: Instant,
}

impl Deadline {
    /// A deadline `budget` after `start` (normally the moment the process started).
    pub fn new(start: Instant, budget: Duration) -> Self {
        // A budget so large that it overflows Instant is "no practical deadline"; clamp it
        // rather than panic on operator input.
        let end = start
            .checked_add(budget)
            .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365));
        Deadline { start, end }
    }

    /// When the check must be finished.
    pub fn end(&self) -> Instant {
        self.end
    }

    /// The whole budget, start to end.
    pub fn budget(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }

    /// Time left at `now`; zero once the deadline has passed.
    pub fn remaining_at(&self, now: Instant) -> Duration {
        self.end.saturating_duration_since(now)
    }

    /// Time spent since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// A fair share of what is left for one of `attempts_left` further attempts (each
    /// address of a name that resolved to several): a black-holed first address must not
    /// eat the time the second one needs.
    pub fn share_at(&self, now: Instant, attempts_left: usize) -> Duration {
        let left = self.remaining_at(now);
        match u32::try_from(attempts_left.max(1)) {
            Ok(n) => left / n,
            Err(_) => left,
        }
    }
}

/// Parses a humantime duration ("800ms", "2s", "1s 500ms") of at most an hour (a longer
/// one is surely a typo for a check or an interval); `--timeout` and keepalived-checkd's
/// `interval` add their own lower bounds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration like 800ms or 2s ({e})"))?;
    if d > Duration::from_secs(3600) {
        return Err(format!("'{s}' is longer than an hour"));
    }
    Ok(d)
}

/// Formats a duration the way status lines show it: milliseconds with enough precision to
/// tell loopback (0.05 ms) from a LAN (0.5 ms) from a slow server (250 ms).
pub fn format_ms(d: Duration) -> String {
    let mut text = String::with_capacity(12);
    crate::decimal::push_ms(&mut text, d);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_counts_down_and_stops_at_zero() {
        let start = Instant::now();
        let d = Deadline::new(start, Duration::from_millis(800));
        assert_eq!(d.budget(), Duration::from_millis(800));
        assert_eq!(d.remaining_at(start), Duration::from_millis(800));
        assert_eq!(
            d.remaining_at(start + Duration::from_millis(300)),
            Duration::from_millis(500)
        );
        assert_eq!(
            d.remaining_at(start + Duration::from_secs(5)),
            Duration::ZERO
        );
    }

    #[test]
    fn share_splits_what_is_left_between_attempts() {
        let start = Instant::now();
        let d = Deadline::new(start, Duration::from_millis(900));
        assert_eq!(d.share_at(start, 3), Duration::from_millis(300));
        assert_eq!(d.share_at(start, 1), Duration::from_millis(900));
        // Zero attempts left is treated as one: never a division by zero.
        assert_eq!(d.share_at(start, 0), Duration::from_millis(900));
        let later = start + Duration::from_millis(500);
        assert_eq!(d.share_at(later, 2), Duration::from_millis(200));
    }

    #[test]
    fn huge_budget_does_not_panic() {
        let d = Deadline::new(Instant::now(), Duration::MAX);
        assert!(d.budget() > Duration::from_secs(86_400));
    }

    #[test]
    fn ms_formatting_keeps_useful_precision() {
        assert_eq!(format_ms(Duration::from_micros(213)), "0.213 ms");
        assert_eq!(format_ms(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(format_ms(Duration::from_millis(1500)), "1.50 s");
    }
}
