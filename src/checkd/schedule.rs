//! When each check probes next. Ticks are fixed points, `origin + k * interval`, so the
//! time a probe takes never shifts the next one (no creep under load); a tick that passes
//! while a probe runs is skipped, never queued, so a slow target is not probed back to
//! back. Sans I/O: the caller passes `now`.

use std::time::{Duration, Instant};

/// A check's ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticks {
    origin: Instant,
    interval: Duration,
}

/// The next tick, and how many were skipped on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    /// When to probe next.
    pub at: Instant,
    /// Ticks that passed while the last probe ran.
    pub skipped: u64,
}

impl Ticks {
    /// Ticks every `interval` (more than zero) from `origin`, the first probe's time.
    pub fn new(origin: Instant, interval: Duration) -> Ticks {
        Ticks {
            origin,
            interval: interval.max(Duration::from_millis(1)),
        }
    }

    /// The tick after the one at `due` (the probe that just ran), for a probe that ended
    /// at `now`: the first tick after `due` that is not past.
    pub fn after(&self, due: Instant, now: Instant) -> Next {
        let step = self.interval.as_nanos();
        let index = |t: Instant| t.saturating_duration_since(self.origin).as_nanos() / step;
        let due_k = index(due);
        // The first tick at or after now, and at least one after due.
        let now_ns = now.saturating_duration_since(self.origin).as_nanos();
        let next_k = (now_ns.div_ceil(step)).max(due_k + 1);
        let skipped = u64::try_from(next_k - due_k - 1).unwrap_or(u64::MAX);
        let offset = Duration::from_nanos(u64::try_from(next_k * step).unwrap_or(u64::MAX));
        Next {
            at: self.origin + offset,
            skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn probe_time_does_not_shift_the_ticks() {
        let t0 = Instant::now();
        let ticks = Ticks::new(t0, 100 * MS);
        let mut due = t0;
        // A thousand probes of 37 ms each: the thousandth tick is exactly at 100 s.
        for _ in 0..1000 {
            let next = ticks.after(due, due + 37 * MS);
            assert_eq!(next.skipped, 0);
            due = next.at;
        }
        assert_eq!(due, t0 + 100_000 * MS);
    }

    #[test]
    fn ticks_that_pass_during_a_slow_probe_are_skipped_not_queued() {
        let t0 = Instant::now();
        let ticks = Ticks::new(t0, 100 * MS);
        // A probe due at 200 ms that ends at 450 ms: next at 500 ms, 300 and 400 skipped.
        let next = ticks.after(t0 + 200 * MS, t0 + 450 * MS);
        assert_eq!(next.at, t0 + 500 * MS);
        assert_eq!(next.skipped, 2);
        // Ending exactly on a tick probes at that tick.
        let next = ticks.after(t0 + 200 * MS, t0 + 400 * MS);
        assert_eq!((next.at, next.skipped), (t0 + 400 * MS, 1));
        // A late wake-up (the runtime was busy) does not shift later ticks either.
        let next = ticks.after(t0 + 300 * MS, t0 + 330 * MS);
        assert_eq!(next.at, t0 + 400 * MS);
    }

    #[test]
    fn a_clock_before_the_origin_still_moves_forward() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let ticks = Ticks::new(t0, 100 * MS);
        let next = ticks.after(t0, t0);
        assert_eq!(next.at, t0 + 100 * MS);
    }
}
