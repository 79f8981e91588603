//! Rise and fall: how many probes in a row it takes to change a check's verdict, as
//! keepalived's `rise`/`fall` do for a `vrrp_script`. Sans I/O: the caller feeds each
//! probe's result and writes the track file when the verdict changes.

/// What a track file says about a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The service answers as it should.
    Healthy,
    /// It does not, or it has not been measured yet.
    Failed,
}

impl Health {
    /// `healthy` or `failed`, for status lines, JSON and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Failed => "failed",
        }
    }
}

/// A verdict reached: after `run` probes in a row with the same result. `from` is `None`
/// for the first verdict of a check, which until then showed its initial value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The verdict before; `None` when there was none yet.
    pub from: Option<Health>,
    /// The verdict now.
    pub to: Health,
    /// How many probes in a row gave it.
    pub run: u32,
}

/// One check's rise/fall state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    rise: u32,
    fall: u32,
    initial: Health,
    verdict: Option<Health>,
    ok_run: u32,
    fail_run: u32,
    transitions: u64,
    probes: u64,
}

impl Tracker {
    /// A check not probed yet, showing `initial`; `rise` and `fall` are at least 1.
    pub fn new(rise: u32, fall: u32, initial: Health) -> Tracker {
        Tracker {
            rise: rise.max(1),
            fall: fall.max(1),
            initial,
            verdict: None,
            ok_run: 0,
            fail_run: 0,
            transitions: 0,
            probes: 0,
        }
    }

    /// Takes one probe's result; returns the verdict reached, if this probe reached one.
    /// A healthy check fails after `fall` failures in a row, a failed one recovers after
    /// `rise` successes in a row; before the first verdict either can come first.
    pub fn observe(&mut self, ok: bool) -> Option<Change> {
        self.probes += 1;
        let (run, needed, to) = if ok {
            self.ok_run = self.ok_run.saturating_add(1);
            self.fail_run = 0;
            (self.ok_run, self.rise, Health::Healthy)
        } else {
            self.fail_run = self.fail_run.saturating_add(1);
            self.ok_run = 0;
            (self.fail_run, self.fall, Health::Failed)
        };
        if self.verdict == Some(to) || run < needed {
            return None;
        }
        let from = self.verdict.replace(to);
        if from.is_some() {
            self.transitions += 1;
        }
        Some(Change { from, to, run })
    }

    /// What the track file should say: the verdict, or the initial value before one.
    pub fn health(&self) -> Health {
        self.verdict.unwrap_or(self.initial)
    }

    /// The verdict reached; `None` before the first (the file shows the initial value).
    pub fn verdict(&self) -> Option<Health> {
        self.verdict
    }

    /// Successes in a row.
    pub fn ok_run(&self) -> u32 {
        self.ok_run
    }

    /// Failures in a row.
    pub fn fail_run(&self) -> u32 {
        self.fail_run
    }

    /// Verdict changes after the first verdict.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Probes taken.
    pub fn probes(&self) -> u64 {
        self.probes
    }

    /// New `rise` and `fall` (a reload), keeping the verdict and the counts.
    pub fn retune(&mut self, rise: u32, fall: u32) {
        self.rise = rise.max(1);
        self.fall = fall.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut Tracker, results: &str) -> Vec<Option<Change>> {
        results.chars().map(|c| t.observe(c == '+')).collect()
    }

    #[test]
    fn the_first_verdict_needs_rise_or_fall_in_a_row() {
        let mut t = Tracker::new(2, 3, Health::Failed);
        assert_eq!(feed(&mut t, "+-+"), [None, None, None]);
        assert_eq!(t.verdict(), None);
        assert_eq!(t.health(), Health::Failed);
        let reached = t.observe(true);
        assert_eq!(
            reached,
            Some(Change {
                from: None,
                to: Health::Healthy,
                run: 2
            })
        );
        assert_eq!(t.transitions(), 0, "the first verdict is not a transition");

        let mut t = Tracker::new(2, 3, Health::Failed);
        let out = feed(&mut t, "---");
        assert_eq!(
            out[2],
            Some(Change {
                from: None,
                to: Health::Failed,
                run: 3
            })
        );
        assert!(t.verdict().is_some());
    }

    #[test]
    fn fall_and_rise_need_runs_and_a_mixed_run_resets() {
        let mut t = Tracker::new(2, 2, Health::Failed);
        feed(&mut t, "++");
        assert_eq!(t.health(), Health::Healthy);
        // One failure, then a success: still healthy, the failure run starts over.
        assert_eq!(feed(&mut t, "-+-"), [None, None, None]);
        assert_eq!(t.health(), Health::Healthy);
        assert_eq!(
            t.observe(false),
            Some(Change {
                from: Some(Health::Healthy),
                to: Health::Failed,
                run: 2
            })
        );
        // Further failures change nothing.
        assert_eq!(feed(&mut t, "---"), [None, None, None]);
        assert_eq!(t.fail_run(), 5);
        assert_eq!(feed(&mut t, "+-++"), [None, None, None, t_change()]);
        assert_eq!(t.transitions(), 2);
        assert_eq!(t.probes(), 13);
    }

    fn t_change() -> Option<Change> {
        Some(Change {
            from: Some(Health::Failed),
            to: Health::Healthy,
            run: 2,
        })
    }

    #[test]
    fn an_initially_healthy_check_needs_fall_failures() {
        let mut t = Tracker::new(1, 2, Health::Healthy);
        assert_eq!(t.observe(false), None);
        assert_eq!(t.health(), Health::Healthy);
        assert_eq!(
            t.observe(false).map(|c| (c.from, c.to)),
            Some((None, Health::Failed))
        );
    }

    #[test]
    fn retune_keeps_the_verdict_and_counts() {
        let mut t = Tracker::new(1, 5, Health::Failed);
        feed(&mut t, "+---");
        assert_eq!(t.health(), Health::Healthy);
        t.retune(1, 4);
        assert_eq!((t.fail_run(), t.probes()), (3, 4));
        assert_eq!(t.observe(false).map(|c| c.run), Some(4));
    }
}
