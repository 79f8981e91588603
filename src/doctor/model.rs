//! What the doctor needs from the configuration's statements: every script keepalived
//! will run and in which role, the VRRP instances and groups, the script user and
//! security settings, the track files. Values keepalived defaults are filled in here, with
//! keepalived's defaults.

use std::time::Duration;

use super::finding::Place;
use super::reader::{Conf, Statement, Word};

/// The keywords of a `vrrp_instance` or `vrrp_sync_group` that name a script
/// (`notify_priority_changes` is a switch).
const NOTIFY_SCRIPTS: [&str; 7] = [
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify_deleted",
    "notify_master_rx_lower_pri",
];

/// keepalived's default `delay_loop` (and so `misc_timeout`).
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);

/// Where and why keepalived runs a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// `vrrp_script NAME { script ... }`.
    VrrpScript {
        /// The script's name.
        name: String,
        /// `interval` (default 1 s).
        interval: Duration,
        /// `timeout` (default: the interval).
        timeout: Duration,
        /// Whether `timeout` was given.
        timeout_given: bool,
        /// `fall` (default 1).
        fall: u32,
    },
    /// `MISC_CHECK { misc_path ... }` in a real server.
    Misc {
        /// `misc_dynamic`: exit 2..255 means up with weight status - 2.
        dynamic: bool,
        /// `misc_timeout`, or the virtual server's `delay_loop`.
        timeout: Duration,
    },
    /// A notify script run with its arguments (`notify_master`, `notify`, ...).
    Notify {
        /// The keyword.
        keyword: String,
        /// `vrrp_instance`, `vrrp_sync_group`, `real_server`, `virtual_server`, `global_defs`.
        block: String,
        /// The block's name (the instance or group), if it has one.
        name: Option<String>,
    },
    /// `*notify_fifo_script`: keepalived appends the FIFO's path.
    FifoScript {
        /// The keyword.
        keyword: String,
        /// The FIFO (`*notify_fifo`), if configured.
        fifo: Option<String>,
    },
}

/// One script keepalived will run.
#[derive(Debug, Clone)]
pub struct Script {
    /// The statement naming it.
    pub at: Place,
    /// Why keepalived runs it.
    pub role: Role,
    /// The command as configured (the first word after the keyword, quotes removed).
    pub command: Word,
    /// Unquoted words after the command: the user and group of a notify script, and
    /// dropped by keepalived after `script` and `misc_path`.
    pub extra: Vec<String>,
    /// `user USER [GROUP]` of a `vrrp_script` or `MISC_CHECK`.
    pub user: Option<(String, Option<String>)>,
}

/// A `vrrp_instance` or `vrrp_sync_group`.
#[derive(Debug, Clone)]
pub struct Vrrp {
    /// `vrrp_instance` or `vrrp_sync_group`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// `advert_int` (default 1 s); none for a group.
    pub advert_int: Option<Duration>,
    /// The scripts named in its `track_script` block.
    pub track_scripts: Vec<(Place, String)>,
    /// The track files named in its `track_file` block.
    pub track_files: Vec<(Place, String)>,
}

/// A top-level `track_file NAME { file PATH }`.
#[derive(Debug, Clone)]
pub struct TrackFile {
    /// Where it is.
    pub at: Place,
    /// Its name.
    pub name: String,
    /// `file`.
    pub file: Option<String>,
}

/// The configuration, as far as the doctor looks.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// `global_defs { script_user USER [GROUP] }`.
    pub script_user: Option<(Place, String, Option<String>)>,
    /// `enable_script_security`.
    pub script_security: Option<Place>,
    /// Every script, in file order.
    pub scripts: Vec<Script>,
    /// Every VRRP instance and sync group.
    pub vrrp: Vec<Vrrp>,
    /// Every track file.
    pub track_files: Vec<TrackFile>,
    /// `FILE_CHECK { track_file NAME }` references.
    pub file_checks: Vec<(Place, String)>,
    /// Values that do not parse, for findings.
    pub bad_values: Vec<(Place, String)>,
}

impl Model {
    /// The instance or group `name`.
    pub fn vrrp(&self, name: &str) -> Option<&Vrrp> {
        self.vrrp.iter().find(|v| v.name == name)
    }
}

/// What the doctor needs from `conf`.
pub fn model(conf: &Conf) -> Model {
    let mut m = Model::default();
    for s in &conf.top {
        match s.keyword() {
            "global_defs" => global_defs(s, &mut m),
            "vrrp_script" => vrrp_script(s, &mut m),
            "vrrp_instance" | "vrrp_sync_group" => vrrp(s, &mut m),
            "virtual_server" | "virtual_server_group" => virtual_server(s, &mut m),
            "track_file" | "vrrp_track_file" => m.track_files.push(TrackFile {
                at: s.at.clone(),
                name: s.arg(0).unwrap_or_default().to_string(),
                file: s.find("file").and_then(|f| f.arg(0)).map(str::to_string),
            }),
            _ => {}
        }
    }
    m
}

fn global_defs(s: &Statement, m: &mut Model) {
    for st in &s.block {
        let keyword = st.keyword();
        match keyword {
            "script_user" => {
                if let Some(user) = st.arg(0) {
                    m.script_user = Some((
                        st.at.clone(),
                        user.to_string(),
                        st.arg(1).map(str::to_string),
                    ));
                }
            }
            "enable_script_security" => m.script_security = Some(st.at.clone()),
            "startup_script" | "shutdown_script" => {
                push_script(st, notify_role(st, "global_defs", None), None, m);
            }
            // notify_fifo_script, vrrp_notify_fifo_script, lvs_notify_fifo_script: the
            // FIFO is the keyword without `_script`.
            _ => {
                let Some(fifo_keyword) = keyword
                    .strip_suffix("_script")
                    .filter(|k| k.ends_with("notify_fifo"))
                else {
                    continue;
                };
                let fifo = s
                    .find(fifo_keyword)
                    .and_then(|f| f.arg(0))
                    .map(str::to_string);
                let role = Role::FifoScript {
                    keyword: keyword.to_string(),
                    fifo,
                };
                push_script(st, role, None, m);
            }
        }
    }
}

fn notify_role(st: &Statement, block: &str, name: Option<&str>) -> Role {
    Role::Notify {
        keyword: st.keyword().to_string(),
        block: block.to_string(),
        name: name.map(str::to_string),
    }
}

fn push_script(st: &Statement, role: Role, user: Option<(String, Option<String>)>, m: &mut Model) {
    let Some(command) = st.words.get(1) else {
        return;
    };
    m.scripts.push(Script {
        at: st.at.clone(),
        role,
        command: command.clone(),
        extra: st.words[2..].iter().map(|w| w.text.clone()).collect(),
        user,
    });
}

fn user_of(block: &Statement) -> Option<(String, Option<String>)> {
    let st = block.find("user")?;
    Some((st.arg(0)?.to_string(), st.arg(1).map(str::to_string)))
}

fn seconds(st: Option<&Statement>, m: &mut Model) -> Option<Duration> {
    let st = st?;
    let text = st.arg(0)?;
    match text.parse::<f64>() {
        // A day is more than any interval or timeout keepalived is given in earnest.
        Ok(v) if (0.0..=86_400.0).contains(&v) => Some(Duration::from_secs_f64(v)),
        _ => {
            m.bad_values.push((
                st.at.clone(),
                format!(
                    "{} {text}: not a number of seconds from 0 to 86400",
                    st.keyword()
                ),
            ));
            None
        }
    }
}

fn vrrp_script(s: &Statement, m: &mut Model) {
    let interval = seconds(s.find("interval"), m)
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(1));
    let given = seconds(s.find("timeout"), m).filter(|d| !d.is_zero());
    let fall = s
        .find("fall")
        .and_then(|f| f.arg(0))
        .and_then(|f| f.parse().ok())
        .unwrap_or(1);
    let role = Role::VrrpScript {
        name: s.arg(0).unwrap_or_default().to_string(),
        interval,
        timeout: given.unwrap_or(interval),
        timeout_given: given.is_some(),
        fall,
    };
    if let Some(st) = s.find("script") {
        push_script(st, role, user_of(s), m);
    }
}

fn vrrp(s: &Statement, m: &mut Model) {
    let kind = if s.keyword() == "vrrp_instance" {
        "vrrp_instance"
    } else {
        "vrrp_sync_group"
    };
    let name = s.arg(0).unwrap_or_default().to_string();
    let advert_int = (kind == "vrrp_instance")
        .then(|| seconds(s.find("advert_int"), m).unwrap_or(Duration::from_secs(1)));
    let names = |keyword: &str| -> Vec<(Place, String)> {
        s.all(keyword)
            .flat_map(|b| b.block.iter())
            .filter_map(|st| Some((st.at.clone(), st.words.first()?.text.clone())))
            .collect()
    };
    m.vrrp.push(Vrrp {
        kind,
        name: name.clone(),
        advert_int,
        track_scripts: names("track_script"),
        track_files: names("track_file"),
    });
    for st in &s.block {
        if NOTIFY_SCRIPTS.contains(&st.keyword()) && st.words.len() > 1 {
            push_script(st, notify_role(st, kind, Some(&name)), None, m);
        }
    }
}

fn virtual_server(s: &Statement, m: &mut Model) {
    let delay_loop = seconds(s.find("delay_loop"), m).unwrap_or(DEFAULT_DELAY_LOOP);
    for st in &s.block {
        match st.keyword() {
            "quorum_up" | "quorum_down" => {
                push_script(st, notify_role(st, "virtual_server", None), None, m);
            }
            "real_server" => real_server(st, delay_loop, m),
            _ => {}
        }
    }
}

fn real_server(s: &Statement, delay_loop: Duration, m: &mut Model) {
    for st in &s.block {
        match st.keyword() {
            "notify_up" | "notify_down" => {
                push_script(st, notify_role(st, "real_server", None), None, m);
            }
            "MISC_CHECK" => {
                let timeout = seconds(st.find("misc_timeout"), m)
                    .filter(|d| !d.is_zero())
                    .unwrap_or(delay_loop);
                let role = Role::Misc {
                    dynamic: st.find("misc_dynamic").is_some(),
                    timeout,
                };
                if let Some(path) = st.find("misc_path") {
                    push_script(path, role, user_of(st), m);
                }
            }
            "FILE_CHECK" => {
                if let Some(name) = st.find("track_file").and_then(|t| t.arg(0)) {
                    m.file_checks.push((st.at.clone(), name.to_string()));
                }
            }
            _ => {}
        }
    }
}
