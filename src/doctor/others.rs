//! Scripts that are not ours: exit statuses that `misc_dynamic` misreads, shell scripts
//! wrapping tools whose failures look like something else, and notify scripts that
//! keepalived runs out of order.

use std::path::Path;

use super::finding::{Findings, Place, Severity};
use super::model::{Model, Role, Script};
use super::rooted::Root;
use super::scripts::Runnable;

/// The longest script read to look inside.
const MAX_SCRIPT: usize = 64 * 1024;

/// What a wrapper or tool exits with when something fails, besides 1.
fn unsafe_statuses(program: &str) -> Option<&'static str> {
    match program {
        "timeout" => Some("timeout(1) exits 124 when it kills the command"),
        "sipsak" => Some("sipsak exits 2 or 3 on errors"),
        p if p.starts_with("check_") => Some("a Nagios plugin exits 2 (CRITICAL) or 3 (UNKNOWN)"),
        _ => None,
    }
}

/// The rules for a script that is not ours.
pub fn check(script: &Script, run: &Runnable, root: &Root, findings: &mut Findings) {
    let dynamic = matches!(script.role, Role::Misc { dynamic: true, .. });
    let name = Path::new(&run.argv[0])
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if dynamic {
        match unsafe_statuses(name) {
            Some(why) => findings.push(
                script.at.clone(),
                Severity::Error,
                "exit-status",
                format!("{why}, and misc_dynamic reads 2..255 as up with weight status - 2: a dead server stays in the pool; use a check that exits 0 or 1 only (check-tcp, check-sip, check-rtsp)"),
            ),
            None => findings.push(
                script.at.clone(),
                Severity::Hint,
                "exit-status",
                format!("under misc_dynamic any exit status from 2 to 255 means up (weight status - 2): be sure {name} exits 0 or 1 when it means up or down"),
            ),
        }
    }
    if matches!(script.role, Role::VrrpScript { .. } | Role::Misc { .. }) {
        look_inside(script, run, dynamic, root, findings);
    }
}

/// A shell script's lines that run `timeout`, `sipsak`, Nagios plugins or `nc`.
fn look_inside(
    script: &Script,
    run: &Runnable,
    dynamic: bool,
    root: &Root,
    findings: &mut Findings,
) {
    let Ok(bytes) = root.read(&run.program, MAX_SCRIPT) else {
        return;
    };
    if !bytes.starts_with(b"#!") {
        return;
    }
    let file = run.program.display().to_string();
    let text = String::from_utf8_lossy(&bytes);
    for (n, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default();
        let words: Vec<&str> = code.split_whitespace().collect();
        let at = Place::new(file.clone(), u32::try_from(n + 1).unwrap_or(u32::MAX));
        let names: Vec<&str> = words
            .iter()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .collect();
        let why: Vec<&str> = names.iter().filter_map(|n| unsafe_statuses(n)).collect();
        if !why.is_empty() {
            let (severity, consequence) = if dynamic {
                (
                    Severity::Error,
                    "misc_dynamic reads them as up with a weight: a dead server stays in the pool",
                )
            } else {
                (Severity::Warning, "a vrrp_script reads any of them as down, but the reason goes to /dev/null with the output, and the same line under MISC_CHECK misc_dynamic would read them as up")
            };
            findings.push(
                at.clone(),
                severity,
                "exit-status",
                format!(
                    "`{}`: {}; {consequence}; check-sip/check-tcp/check-rtsp exit 0 or 1 only and log why (run by {}:{})",
                    code.trim(),
                    why.join(", "),
                    script.at.file,
                    script.at.line
                ),
            );
        }
        if names.contains(&"sipsak") {
            if let Some(uri) = words
                .iter()
                .find(|w| w.starts_with("sip:") && w.contains('@'))
            {
                findings.push(
                    at.clone(),
                    Severity::Warning,
                    "sip-uri",
                    format!("{uri} has a user part: a stock Kamailio answers OPTIONS to it with 404, not 200; ping sip:ADDR:PORT (check-sip sip:ADDR:PORT)"),
                );
            }
        }
        // nc's own options: from nc to the end of its command in a pipeline.
        let nc_waits = words
            .iter()
            .position(|w| *w == "nc" || w.ends_with("/nc"))
            .is_some_and(|i| {
                !words[i..]
                    .iter()
                    .take_while(|w| !matches!(**w, "|" | ";" | "&&" | "||"))
                    .any(|w| {
                        // -w/-q (also grouped, as in -zw1) end it; -z never waits.
                        w.starts_with('-') && !w.starts_with("--") && w.contains(['w', 'q', 'z'])
                    })
            });
        if nc_waits {
            findings.push(
                at,
                Severity::Warning,
                "hang",
                "nc without -w, -q or -z waits for the server to close the connection, which RTSP and SIP servers do not: the check hangs until keepalived kills it".into(),
            );
        }
    }
}

/// keepalived runs notify scripts given as arguments concurrently and unordered; the
/// FIFO is the only ordered way. One finding per instance or group.
pub fn notify_order(model: &Model, scripts: &[(&Script, bool)], findings: &mut Findings) {
    for vrrp in &model.vrrp {
        let notified: Vec<&(&Script, bool)> = scripts
            .iter()
            .filter(|(s, _)| {
                matches!(&s.role, Role::Notify { name: Some(n), block, .. } if *n == vrrp.name && block.starts_with("vrrp"))
            })
            .collect();
        let Some((first, ours)) = notified.first() else {
            continue;
        };
        if *ours {
            findings.push(
                first.at.clone(),
                Severity::Hint,
                "notify-order",
                format!("ka-notify as a notify script for {}: keepalived starts these concurrently and unordered, and ka-notify drops an event older than the one on record but cannot undo an action that ran late; `ka-notify fifo` as vrrp_notify_fifo_script gets the events in order", vrrp.name),
            );
        } else {
            findings.push(
                first.at.clone(),
                Severity::Warning,
                "notify-order",
                format!(
                    "keepalived runs {}'s notify scripts concurrently and unordered: a BACKUP's stop can finish before the MASTER's start that came first, leaving the service stopped on the MASTER; the notify FIFO (vrrp_notify_fifo with ka-notify fifo) delivers events in order",
                    vrrp.name
                ),
            );
        }
    }
}
