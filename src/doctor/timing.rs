//! Timing that cannot work as meant: a `vrrp_script` whose timeout is longer than its
//! interval (runs are skipped), a `track_script` naming no script, and failure detection
//! much slower than VRRP's own.

use std::time::Duration;

use super::finding::{Findings, Severity};
use super::model::{Model, Role};

/// How many times slower than a dead node (3 x advert_int) a failed service may be
/// noticed before the doctor says so.
const SLOWER: u32 = 3;

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The timing rules.
pub fn check(model: &Model, findings: &mut Findings) {
    for script in &model.scripts {
        if let Role::VrrpScript {
            name,
            interval,
            timeout,
            timeout_given: true,
            ..
        } = &script.role
        {
            if timeout > interval {
                findings.push(
                    script.at.clone(),
                    Severity::Warning,
                    "timing",
                    format!(
                        "vrrp_script {name}: timeout {} is longer than interval {}: while a run hangs keepalived skips the next ones (\"already running\"), so a failure is seen only every {}",
                        secs(*timeout),
                        secs(*interval),
                        secs(*timeout)
                    ),
                );
            }
        }
    }
    for vrrp in &model.vrrp {
        for (at, tracked) in &vrrp.track_scripts {
            let script = model
                .scripts
                .iter()
                .find(|s| matches!(&s.role, Role::VrrpScript { name, .. } if name == tracked));
            let Some(script) = script else {
                findings.push(
                    at.clone(),
                    Severity::Error,
                    "track-script",
                    format!("{} {} tracks '{tracked}', but no vrrp_script {tracked} has a script: keepalived ignores it and the instance runs untracked", vrrp.kind, vrrp.name),
                );
                continue;
            };
            let (Some(advert), Role::VrrpScript { interval, fall, .. }) =
                (vrrp.advert_int, &script.role)
            else {
                continue;
            };
            let detection = interval.saturating_mul((*fall).max(1));
            let node = advert.saturating_mul(3);
            if detection > node.saturating_mul(SLOWER) {
                findings.push(
                    at.clone(),
                    Severity::Hint,
                    "timing",
                    format!(
                        "{} notices a failed service after fall x interval = {} x {} = {}, a dead node after 3 x advert_int = {}: a shorter interval (checks end by their --timeout) or keepalived-checkd's track files narrow the gap",
                        vrrp.name,
                        fall,
                        secs(*interval),
                        secs(detection),
                        secs(node)
                    ),
                );
            }
        }
    }
}
