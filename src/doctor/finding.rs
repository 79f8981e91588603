//! What the doctor found: one finding per thing that will go wrong, in compiler style
//! (`FILE:LINE: error: text`), and the summary and JSON around them.

use std::fmt::Write as _;

use crate::report::json_string;

/// How bad a finding is. Only errors make the doctor exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// keepalived will not do what the configuration says (a check dropped, a dead server
    /// read as up, a check killed before it can say why).
    Error,
    /// Works today, fails under conditions an operator should know about.
    Warning,
    /// A better way exists (FIFO mode, a check that says why).
    Hint,
}

impl Severity {
    /// `error`, `warning`, `hint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Hint => "hint",
        }
    }
}

/// Where a finding points: a file as keepalived names it, and a line (0: the whole file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The file, as keepalived sees it (inside `--root`).
    pub file: String,
    /// The line, from 1; 0 when the finding is about the file as a whole.
    pub line: u32,
}

impl Place {
    /// `file` at `line`.
    pub fn new(file: impl Into<String>, line: u32) -> Place {
        Place {
            file: file.into(),
            line,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where.
    pub place: Place,
    /// How bad.
    pub severity: Severity,
    /// The rule's name (`script-security`, `timeout-order`, ...), for tools and tests.
    pub rule: &'static str,
    /// What will go wrong and what to do, in one line.
    pub text: String,
}

impl Finding {
    /// `FILE:LINE: error: text` (`FILE: ...` for a whole file).
    pub fn line(&self) -> String {
        let mut out = self.place.file.clone();
        if self.place.line > 0 {
            let _ = write!(out, ":{}", self.place.line);
        }
        let _ = write!(
            out,
            ": {}: {} [{}]",
            self.severity.as_str(),
            self.text,
            self.rule
        );
        out
    }
}

/// Every finding, in file and line order.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    /// Adds a finding.
    pub fn push(&mut self, place: Place, severity: Severity, rule: &'static str, text: String) {
        self.items.push(Finding {
            place,
            severity,
            rule,
            text,
        });
    }

    /// The findings, sorted by place (then severity), duplicates removed: a script named
    /// by two notify lines is one finding per line, not two at one.
    pub fn sorted(mut self) -> Vec<Finding> {
        self.items
            .sort_by(|a, b| (&a.place, a.severity, &a.text).cmp(&(&b.place, b.severity, &b.text)));
        self.items.dedup();
        self.items
    }
}

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Hints.
    pub hints: usize,
}

impl Counts {
    /// The counts of `findings`.
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Hint => c.hints += 1,
            }
        }
        c
    }

    /// `2 errors, 1 warning, 0 hints in /etc/keepalived/keepalived.conf (3 files)`.
    pub fn summary(&self, config: &str, files: usize) -> String {
        let plural = |n: usize, one: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        format!(
            "{}, {}, {} in {config} ({})",
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.hints, "hint"),
            plural(files, "file")
        )
    }
}

/// The findings as one JSON object: `{"config":...,"files":[...],"findings":[...],
/// "errors":N,"warnings":N,"hints":N}`.
pub fn json(config: &str, files: &[String], findings: &[Finding]) -> String {
    let counts = Counts::of(findings);
    let mut out = format!("{{\"config\":{},\"files\":[", json_string(config));
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(f));
    }
    out.push_str("],\"findings\":[");
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"file\":{},\"line\":{},\"severity\":\"{}\",\"rule\":\"{}\",\"text\":{}}}",
            json_string(&f.place.file),
            f.place.line,
            f.severity.as_str(),
            f.rule,
            json_string(&f.text)
        );
    }
    let _ = write!(
        out,
        "],\"errors\":{},\"warnings\":{},\"hints\":{}}}",
        counts.errors, counts.warnings, counts.hints
    );
    out
}
