//! The doctor: reads keepalived.conf as keepalived does and says what will silently go
//! wrong, where `keepalived -t` checks the syntax only: scripts keepalived will drop
//! (missing, not executable for their user, insecure under `enable_script_security`),
//! commands that need a shell, exit statuses `misc_dynamic` reads as up, our checks'
//! deadlines against keepalived's, `--only-if-master` names and state directories, notify
//! scripts run out of order, track files nobody writes, and timing.
//!
//! - [`reader`]: the files, as keepalived's reader reads them, into statements.
//! - [`model`]: the scripts, instances and track files in them, keepalived's defaults
//!   applied.
//! - [`rooted`], [`users`]: the examined system's files and users (`/` or `--root`).
//! - [`scripts`]: will keepalived run a script, and as whom.
//! - [`ours`]: our own programs' command lines; [`others`]: everyone else's scripts.
//! - [`timing`], [`tracks`]: intervals and timeouts; track files and keepalived-checkd.
//! - [`finding`]: what is found, in compiler style or JSON.
//!
//! Our programs' command lines are parsed by their own definitions, which live in the
//! command-line layer: the caller passes that parser in ([`ours::ParseOurs`]).

pub mod finding;
pub mod model;
pub mod others;
pub mod ours;
pub mod reader;
pub mod rooted;
pub mod scripts;
pub mod timing;
pub mod tracks;
pub mod users;

use std::path::{Path, PathBuf};

use finding::{Finding, Findings, Place, Severity};
use rooted::Root;
use users::Users;

use crate::checkd::config::ParseCheck;

/// Where keepalived reads its configuration by default.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";
/// The one directory RHEL's SELinux policy labels for helpers keepalived runs unconfined.
pub const LIBEXEC: &str = "/usr/libexec/keepalived";

/// What to examine.
#[derive(Debug, Clone)]
pub struct Options {
    /// keepalived's configuration file, inside the root.
    pub config: PathBuf,
    /// The root of the examined system (`/`).
    pub root: PathBuf,
    /// keepalived's `--config-id` (default: the examined system's short host name).
    pub config_id: Option<String>,
    /// keepalived-checkd's configuration, inside the root.
    pub checkd_config: PathBuf,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            config: PathBuf::from(DEFAULT_CONFIG),
            root: PathBuf::from("/"),
            config_id: None,
            checkd_config: PathBuf::from(crate::checkd::config::DEFAULT_CONFIG),
        }
    }
}

/// The parsers of our own command lines, from the command-line layer.
#[derive(Clone, Copy)]
pub struct Parsers<'a> {
    /// A script's command line, if it runs one of our programs.
    pub ours: ours::ParseOurs<'a>,
    /// A keepalived-checkd check line.
    pub check: ParseCheck<'a>,
}

/// What the doctor found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The configuration file examined.
    pub config: String,
    /// Every file read.
    pub files: Vec<String>,
    /// The findings, in file and line order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether there is an error (the exit status is then 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The summary line.
    pub fn summary(&self) -> String {
        finding::Counts::of(&self.findings).summary(&self.config, self.files.len())
    }

    /// The report as one JSON object.
    pub fn json(&self) -> String {
        finding::json(&self.config, &self.files, &self.findings)
    }
}

/// Examines the configuration `opts` names.
pub fn examine(opts: &Options, parsers: Parsers<'_>) -> Report {
    let root = Root::new(&opts.root);
    let users = Users::new(&root);
    let mut findings = Findings::default();
    let config_id = opts.config_id.clone().unwrap_or_else(|| host_name(&root));
    let conf = reader::read(&root, &opts.config, &config_id, &mut findings);
    let model = model::model(&conf);
    for (at, why) in &model.bad_values {
        findings.push(at.clone(), Severity::Error, "value", why.clone());
    }
    let rhel = is_rhel_family(&root);
    let mut ours_found = Vec::new();
    let mut notify_scripts = Vec::new();
    for script in &model.scripts {
        let Some(run) = scripts::examine(script, &model, &root, &users, &mut findings) else {
            continue;
        };
        let ours = ours::recognise(script, &run, parsers.ours, &mut findings);
        placement(script, &run.program, ours.is_some(), rhel, &mut findings);
        notify_scripts.push((script, ours.is_some()));
        match ours {
            Some(o) => ours_found.push(o),
            None => others::check(script, &run, &root, &mut findings),
        }
    }
    if model.script_security.is_none() && !model.scripts.is_empty() {
        findings.push(
            Place::new(opts.config.display().to_string(), 0),
            Severity::Warning,
            "script-security",
            "enable_script_security is not set: keepalived runs the scripts even from paths others could change, and logs \"SECURITY VIOLATION\" at every start; set it in global_defs (with script_user)".into(),
        );
    }
    ours::check(&ours_found, &model, &mut findings);
    others::notify_order(&model, &notify_scripts, &mut findings);
    timing::check(&model, &mut findings);
    let checkd = tracks::load(&root, &opts.checkd_config, parsers.check, &mut findings);
    if let Some(checks) = &checkd {
        for c in checks {
            if let Some(name) = &c.only_if_master {
                let at = Place::new(opts.checkd_config.display().to_string(), 0);
                ours::gate(&at, name, &c.state_dir, &ours_found, &model, &mut findings);
            }
        }
    }
    tracks::check(
        &model,
        checkd.as_deref(),
        &opts.checkd_config,
        &mut findings,
    );
    Report {
        config: opts.config.display().to_string(),
        files: conf.files,
        findings: findings.sorted(),
    }
}

/// Where a program keepalived runs lives: on RHEL-family systems SELinux confines what
/// is not in [`LIBEXEC`]; anywhere, a script in keepalived's configuration directory is
/// one more thing to keep root-owned there.
fn placement(
    script: &model::Script,
    program: &Path,
    ours: bool,
    rhel: bool,
    findings: &mut Findings,
) {
    if program.starts_with(LIBEXEC) {
        return;
    }
    let shown = program.display();
    if rhel && (ours || program.starts_with("/etc")) {
        findings.push(
            script.at.clone(),
            Severity::Warning,
            "selinux",
            format!("{shown} is outside {LIBEXEC}: on this RHEL-family system SELinux runs it confined in keepalived_t, which may not connect to SIP (5060) or RTSP (554); run it from {LIBEXEC}"),
        );
    } else if program.starts_with("/etc/keepalived") {
        findings.push(
            script.at.clone(),
            Severity::Hint,
            "placement",
            format!("{shown} is a program kept with the configuration: {LIBEXEC} is where helpers go (the only place RHEL's SELinux lets them connect out), and a script the configuration tools rewrite is one more file that must stay root-owned"),
        );
    }
}

/// Whether the examined system is RHEL, CentOS, Fedora, Rocky, Alma... (`/etc/os-release`
/// ID or ID_LIKE).
fn is_rhel_family(root: &Root) -> bool {
    let text = root
        .read(Path::new("/etc/os-release"), 64 * 1024)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("ID=").or_else(|| l.strip_prefix("ID_LIKE=")))
        .flat_map(|v| {
            v.trim_matches('"')
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .any(|id| matches!(id.as_str(), "rhel" | "fedora" | "centos"))
}

/// keepalived's default config id: the host name up to its first dot (the examined
/// root's /etc/hostname under --root).
fn host_name(root: &Root) -> String {
    let name = if root.is_system() {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            String::new()
        }
    } else {
        root.read(Path::new("/etc/hostname"), 1024)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default()
    };
    name.split('.').next().unwrap_or_default().to_string()
}
