//! Track files and keepalived-checkd: each `track_file` that keepalived reads should be
//! one keepalived-checkd writes (a missing file reads as 0, healthy), and each file the
//! daemon writes should be read by keepalived (or its verdicts change nothing).

use std::path::{Path, PathBuf};

use super::finding::{Findings, Place, Severity};
use super::model::Model;
use super::rooted::Root;
use crate::checkd::config::{self, ParseCheck, MAX_CONFIG};

/// What the track-file rules need from keepalived-checkd's configuration.
#[derive(Debug, Clone)]
pub struct CheckdCheck {
    /// The check's name.
    pub name: String,
    /// The track file it writes.
    pub file: PathBuf,
    /// `only_if_master` or the line's `--only-if-master`.
    pub only_if_master: Option<String>,
    /// The line's `--state-dir`.
    pub state_dir: PathBuf,
}

/// Reads keepalived-checkd's configuration at `path` (inside the root), if it is there:
/// its errors become findings.
pub fn load(
    root: &Root,
    path: &Path,
    parse_check: ParseCheck<'_>,
    findings: &mut Findings,
) -> Option<Vec<CheckdCheck>> {
    let shown = path.display().to_string();
    let bytes = match root.read(path, MAX_CONFIG) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            findings.push(
                Place::new(shown, 0),
                Severity::Error,
                "checkd",
                format!("cannot read keepalived-checkd's configuration: {e}"),
            );
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    match config::parse(&text, path, parse_check) {
        Ok(c) => Some(
            c.checks
                .into_iter()
                .map(|c| CheckdCheck {
                    name: c.name,
                    file: c.file,
                    only_if_master: c.check.only_if_master,
                    state_dir: c.check.state_dir,
                })
                .collect(),
        ),
        Err(errors) => {
            for e in errors {
                let line = e.line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
                findings.push(
                    Place::new(shown.clone(), line),
                    Severity::Error,
                    "checkd",
                    format!("{} (keepalived-checkd refuses to start)", e.reason),
                );
            }
            Some(Vec::new())
        }
    }
}

/// The track-file rules; `checkd` is keepalived-checkd's checks when its configuration
/// is there, found at `checkd_path`.
pub fn check(
    model: &Model,
    checkd: Option<&[CheckdCheck]>,
    checkd_path: &Path,
    findings: &mut Findings,
) {
    for (at, name) in model
        .file_checks
        .iter()
        .chain(model.vrrp.iter().flat_map(|v| v.track_files.iter()))
    {
        if !model.track_files.iter().any(|t| &t.name == name) {
            findings.push(
                at.clone(),
                Severity::Error,
                "track-file",
                format!("track_file '{name}' is not defined: keepalived ignores the reference"),
            );
        }
    }
    let Some(checks) = checkd else {
        for t in &model.track_files {
            if t.file
                .as_deref()
                .is_some_and(|f| f.starts_with(crate::state::DEFAULT_STATE_DIR))
            {
                findings.push(t.at.clone(), Severity::Warning, "track-file", format!("track_file {} is in keepalived-checkd's directory, but there is no {}: nothing writes the file, and keepalived reads a missing file as 0 (healthy)", t.name, checkd_path.display()));
            }
        }
        return;
    };
    for t in &model.track_files {
        let Some(file) = &t.file else {
            findings.push(
                t.at.clone(),
                Severity::Error,
                "track-file",
                format!("track_file {} has no file", t.name),
            );
            continue;
        };
        if !checks.iter().any(|c| c.file == Path::new(file)) {
            findings.push(t.at.clone(), Severity::Warning, "track-file", format!("no check in {} writes {file}: unless something else does, keepalived reads the missing file as 0 (healthy)", checkd_path.display()));
        }
    }
    for c in checks {
        if !model
            .track_files
            .iter()
            .any(|t| t.file.as_deref() == Some(&*c.file.to_string_lossy()))
        {
            findings.push(Place::new(checkd_path.display().to_string(), 0), Severity::Warning, "track-file", format!("check {} writes {}, but no track_file in the keepalived configuration reads it: its verdicts change nothing", c.name, c.file.display()));
        }
    }
}
