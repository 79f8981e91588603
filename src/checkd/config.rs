//! keepalived-checkd's configuration: TOML through serde, one `[[check]]` table per check.
//!
//! ```toml
//! status_socket = "/run/keepalived-checks/checkd.sock"    # the default
//! metrics_file = "/var/lib/prometheus/node-exporter/keepalived-checkd.prom"
//!
//! [[check]]
//! name = "kamailio"
//! check = "check-sip sip:127.0.0.1 --transport tcp --timeout 500ms"
//! interval = "100ms"
//! rise = 2
//! fall = 2
//! file = "/run/keepalived-checks/kamailio.track"
//! ```
//!
//! The `check` line is the one-shot program's command line, parsed by the same definition
//! (the caller passes that parser in, so this module knows no command-line types). Every
//! error names the file and line; all of them are reported, not only the first.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::hysteresis::Health;
use super::probe::CheckLine;
use crate::small_file::{self, Links};

/// Where the daemon reads its configuration by default.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived-checks/checkd.toml";
/// Where `status` finds the daemon by default.
pub const DEFAULT_STATUS_SOCKET: &str = "/run/keepalived-checks/checkd.sock";
/// The shortest interval: ten probes a second per check.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The largest configuration file read.
pub const MAX_CONFIG: usize = 1 << 20;
/// keepalived clamps a track file's effect on the priority to -254..253, so larger values
/// mean nothing and are surely typos.
pub const MAX_VALUE: i32 = 254;

/// The daemon's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// The Unix socket `keepalived-checkd status` reads.
    pub status_socket: PathBuf,
    /// node_exporter's textfile collector file, if wanted.
    pub metrics_file: Option<PathBuf>,
    /// The checks, in file order.
    pub checks: Vec<CheckConfig>,
}

/// One `[[check]]`.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// `name`: in the journal, `status` and metrics.
    pub name: String,
    /// `check` as written (passwords included: it is compared on reload, never shown).
    pub line: String,
    /// `check`, parsed.
    pub check: CheckLine,
    /// `interval` (default 1s, at least 100ms).
    pub interval: Duration,
    /// `rise` (default 1, as keepalived's).
    pub rise: u32,
    /// `fall` (default 1, as keepalived's).
    pub fall: u32,
    /// `file`: the track file written.
    pub file: PathBuf,
    /// `healthy_value` (default 0).
    pub healthy_value: i32,
    /// `failed_value` (default 1).
    pub failed_value: i32,
    /// `initial`: what the file says before the first verdict (default failed).
    pub initial: Health,
}

impl CheckConfig {
    /// The value the track file holds for `health`.
    pub fn value(&self, health: Health) -> i32 {
        match health {
            Health::Healthy => self.healthy_value,
            Health::Failed => self.failed_value,
        }
    }

    /// Whether `other` (a check of the same name) probes the same thing into the same
    /// file, so that a reload keeps this check's verdict and counts.
    pub fn same_probe(&self, other: &CheckConfig) -> bool {
        self.line == other.line && self.file == other.file
    }
}

/// What is wrong with a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The line, when known (1-based).
    pub line: Option<usize>,
    /// Why, in one line.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

/// Turns a check line into the probe it names; the command-line layer provides it.
pub type ParseCheck<'a> = &'a dyn Fn(&str) -> Result<CheckLine, String>;

/// Reads and parses `path` (a regular file, at most [`MAX_CONFIG`] bytes, read without
/// blocking).
pub fn load(path: &Path, parse_check: ParseCheck<'_>) -> Result<Config, Vec<ConfigError>> {
    let at = |reason: String| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: None,
            reason,
        }]
    };
    let text = read_text(path).map_err(at)?;
    parse(&text, path, parse_check)
}

/// The configuration file's text: a regular file of at most [`MAX_CONFIG`] bytes of UTF-8.
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = small_file::read(path, Links::Follow, MAX_CONFIG)
        .map_err(|e| format!("cannot read the configuration: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

/// The status socket `path` names, read leniently (the rest of the file may have errors
/// the running daemon refused): the default when it names none or cannot be read.
pub fn status_socket_of(path: &Path) -> PathBuf {
    #[derive(Deserialize)]
    struct SocketOnly {
        status_socket: Option<String>,
    }
    read_text(path)
        .ok()
        .and_then(|text| toml::from_str::<SocketOnly>(&text).ok())
        .and_then(|c| c.status_socket)
        .map_or_else(|| PathBuf::from(DEFAULT_STATUS_SOCKET), PathBuf::from)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    status_socket: Option<Spanned<String>>,
    metrics_file: Option<Spanned<String>>,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Spanned<String>,
    check: Spanned<String>,
    interval: Option<Spanned<String>>,
    rise: Option<Spanned<i64>>,
    fall: Option<Spanned<i64>>,
    file: Spanned<String>,
    healthy_value: Option<Spanned<i64>>,
    failed_value: Option<Spanned<i64>>,
    initial: Option<Spanned<String>>,
    only_if_master: Option<Spanned<String>>,
}

/// Parses the text of a configuration file; `path` is for messages.
pub fn parse(
    text: &str,
    path: &Path,
    parse_check: ParseCheck<'_>,
) -> Result<Config, Vec<ConfigError>> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: e.span().map(|s| line_of(s.start)),
            reason: e.message().trim().replace('\n', " "),
        }]
    })?;
    let mut errors = Vec::new();
    let mut fail = |span: std::ops::Range<usize>, reason: String| {
        errors.push(ConfigError {
            file: path.to_path_buf(),
            line: Some(line_of(span.start)),
            reason,
        })
    };
    let status_socket = match &raw.status_socket {
        Some(s) => absolute(s, "status_socket", &mut fail),
        None => Some(PathBuf::from(DEFAULT_STATUS_SOCKET)),
    };
    let metrics_file = raw
        .metrics_file
        .as_ref()
        .and_then(|s| absolute(s, "metrics_file", &mut fail));
    let mut checks = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    // Each check's name and file are claimed before its other fields are checked, so a
    // duplicate is found even next to a check with errors of its own.
    for raw_check in &raw.check {
        let raw_check = raw_check.get_ref();
        let (name, file) = (&raw_check.name, &raw_check.file);
        if let Some(first) = names.insert(name.get_ref().clone(), line_of(name.span().start)) {
            fail(
                name.span(),
                format!(
                    "a second check named '{}' (the first is on line {first})",
                    name.get_ref()
                ),
            );
            continue;
        }
        if let Some(other) = files.insert(PathBuf::from(file.get_ref()), name.get_ref().clone()) {
            fail(
                file.span(),
                format!(
                    "check '{}' writes {}, which check '{other}' writes too",
                    name.get_ref(),
                    file.get_ref()
                ),
            );
            continue;
        }
        if let Some(check) = one_check(raw_check, parse_check, &mut fail) {
            checks.push(check);
        }
    }
    if raw.check.is_empty() {
        errors.push(ConfigError {
            file: path.to_path_buf(),
            line: None,
            reason: "no [[check]]: nothing to do".into(),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
    Ok(Config {
        path: path.to_path_buf(),
        status_socket: status_socket.unwrap_or_default(),
        metrics_file,
        checks,
    })
}

fn absolute(
    s: &Spanned<String>,
    key: &str,
    fail: &mut impl FnMut(std::ops::Range<usize>, String),
) -> Option<PathBuf> {
    let path = PathBuf::from(s.get_ref());
    let file_name_ok = path.file_name().is_some_and(|n| n.to_str().is_some());
    if !path.is_absolute() || !file_name_ok {
        fail(
            s.span(),
            format!("{key} wants an absolute file path, not '{}'", s.get_ref()),
        );
        return None;
    }
    Some(path)
}

/// One check's fields, each checked; `None` after reporting what is wrong.
fn one_check(
    raw: &RawCheck,
    parse_check: ParseCheck<'_>,
    fail: &mut impl FnMut(std::ops::Range<usize>, String),
) -> Option<CheckConfig> {
    let mut errors = 0usize;
    let mut failed = |span, reason| {
        errors += 1;
        fail(span, reason)
    };
    let name = raw.name.get_ref().clone();
    if let Err(why) = valid_name(&name) {
        failed(raw.name.span(), why);
    }
    let interval = match &raw.interval {
        None => Duration::from_secs(1),
        Some(s) => match crate::deadline::parse_duration(s.get_ref()) {
            Ok(d) if d < MIN_INTERVAL => {
                failed(
                    s.span(),
                    format!("interval '{}' is below the 100ms minimum", s.get_ref()),
                );
                MIN_INTERVAL
            }
            Ok(d) => d,
            Err(why) => {
                failed(s.span(), format!("interval {why}"));
                MIN_INTERVAL
            }
        },
    };
    let mut count = |v: &Option<Spanned<i64>>, key: &str| match v {
        None => 1,
        Some(n) => match u32::try_from(*n.get_ref()) {
            Ok(n @ 1..=1000) => n,
            _ => {
                failed(
                    n.span(),
                    format!("{key} must be 1 to 1000, not {}", n.get_ref()),
                );
                1
            }
        },
    };
    let rise = count(&raw.rise, "rise");
    let fall = count(&raw.fall, "fall");
    let mut value = |v: &Option<Spanned<i64>>, key: &str, default: i32| match v {
        None => default,
        Some(n) => match i32::try_from(*n.get_ref()) {
            Ok(x) if x.abs() <= MAX_VALUE => x,
            _ => {
                failed(
                    n.span(),
                    format!(
                        "{key} must be -{MAX_VALUE} to {MAX_VALUE} (keepalived clamps beyond), not {}",
                        n.get_ref()
                    ),
                );
                default
            }
        },
    };
    let healthy_value = value(&raw.healthy_value, "healthy_value", 0);
    let failed_value = value(&raw.failed_value, "failed_value", 1);
    if healthy_value == failed_value {
        let span = raw
            .failed_value
            .as_ref()
            .or(raw.healthy_value.as_ref())
            .map_or(raw.name.span(), |v| v.span());
        failed(
            span,
            format!("healthy_value and failed_value are both {healthy_value}: keepalived could not tell them apart"),
        );
    }
    let initial = match &raw.initial {
        None => Health::Failed,
        Some(s) => match s.get_ref().as_str() {
            "failed" => Health::Failed,
            "healthy" => Health::Healthy,
            other => {
                failed(
                    s.span(),
                    format!("initial must be \"failed\" or \"healthy\", not '{other}'"),
                );
                Health::Failed
            }
        },
    };
    let file = absolute(&raw.file, "file", &mut failed);
    let line = raw.check.get_ref().clone();
    let check = if line.contains('\0') {
        failed(raw.check.span(), "a NUL byte in the check line".into());
        None
    } else {
        match (parse_check)(&line) {
            Ok(mut check) => {
                if let Some(gate) = &raw.only_if_master {
                    if check.only_if_master.is_some() {
                        failed(
                            gate.span(),
                            "only_if_master is given twice: here and as --only-if-master in the check line".into(),
                        );
                    }
                    check.only_if_master = Some(gate.get_ref().clone());
                }
                Some(check)
            }
            Err(why) => {
                failed(raw.check.span(), format!("check: {why}"));
                None
            }
        }
    };
    if errors > 0 {
        return None;
    }
    Some(CheckConfig {
        name,
        line,
        check: check?,
        interval,
        rise,
        fall,
        file: file?,
        healthy_value,
        failed_value,
        initial,
    })
}

/// A check name: it appears in the journal, in `status` and as a metrics label, so only
/// letters, digits, `_`, `-` and `.`, at most 64 of them.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name '{name}' must be 1 to 64 letters, digits, '_', '-' or '.'"
        ))
    }
}
