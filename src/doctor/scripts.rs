//! Whether keepalived will run a script at all, and as whom: the command's form, the
//! program's path, the user, execute permission, and script security (`lib/notify.c`'s
//! rules, read in keepalived 2.2's source).
//!
//! keepalived drops a script it cannot run, or will not run, with a log line at start-up
//! and nothing after: a `vrrp_script` dropped this way leaves its instance without the
//! tracker. Each such case here is an error.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::finding::{Findings, Severity};
use super::model::{Model, Role, Script};
use super::rooted::{Resolved, Root};
use super::users::{User, Users};

/// keepalived's fallback search path (`confstr(_CS_PATH)` plus the sbin directories a
/// root shell has); a bare name is searched there.
const SEARCH_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// A script keepalived will run: its words and the program found.
#[derive(Debug, Clone)]
pub struct Runnable {
    /// The command split as keepalived splits it.
    pub argv: Vec<String>,
    /// The program, inside the root, links resolved.
    pub program: PathBuf,
}

/// Examines `script`; `None` when keepalived will not run it (the findings say why) or it
/// is not a program (a `</dev/tcp` line).
pub fn examine(
    script: &Script,
    model: &Model,
    root: &Root,
    users: &Users,
    findings: &mut Findings,
) -> Option<Runnable> {
    let at = &script.at;
    let raw = &script.command.text;
    if !script.command.quoted && raw.starts_with('\'') {
        findings.push(
            at.clone(),
            Severity::Warning,
            "read",
            format!("{raw}: keepalived reads a single-quoted command here, the doctor does not, so it is not examined; write it in double quotes"),
        );
        return None;
    }
    let mut error = |text: String| findings.push(at.clone(), Severity::Error, "script", text);
    let is_notify = matches!(script.role, Role::Notify { .. } | Role::FifoScript { .. });
    if !script.extra.is_empty() && !is_notify {
        error(format!(
            "keepalived runs only \"{raw}\" and drops {:?}: quote the whole command line",
            script.extra.join(" ")
        ));
    }
    if raw.starts_with("</") {
        shell_redirection(script, root, findings);
        return None;
    }
    let argv = match crate::words::split(raw) {
        Ok(argv) if !argv.is_empty() => argv,
        Ok(_) => {
            error("an empty command".into());
            return None;
        }
        Err(why) => {
            error(why);
            return None;
        }
    };
    if let Some(word) = argv.iter().find(|w| is_shell_syntax(w)) {
        error(format!(
            "'{word}' is shell syntax, but keepalived runs no shell: it is passed to {} as an argument; put the pipeline in a script",
            argv[0]
        ));
    }
    // A notify script's extra words are its user and group.
    let explicit = match (&script.user, is_notify) {
        (Some(u), _) => Some(u.clone()),
        (None, true) if !script.extra.is_empty() => {
            Some((script.extra[0].clone(), script.extra.get(1).cloned()))
        }
        _ => None,
    };
    let user = run_as(script, explicit, model, users, findings)?;
    let resolved = find_program(script, &argv[0], &user, root, findings)?;
    if !may_execute(&resolved, &user, root, script, findings) {
        return None;
    }
    security(&resolved, &user, model, script, findings);
    Some(Runnable {
        argv,
        program: resolved.target,
    })
}

/// Who runs the script: its own user, `script_user`, `keepalived_script`, root, as
/// keepalived chooses; `None` (with a finding) when keepalived will drop it.
fn run_as(
    script: &Script,
    explicit: Option<(String, Option<String>)>,
    model: &Model,
    users: &Users,
    findings: &mut Findings,
) -> Option<User> {
    let at = &script.at;
    if let Some((name, group)) = explicit {
        let Some(mut user) = users.find(&name) else {
            let why = if matches!(script.role, Role::Notify { .. }) && script.user.is_none() {
                format!(
                    "keepalived reads '{name}' after the unquoted command as the user to run it as, and there is no such user: the script is ignored; quote the whole command line (\"{} {}\")",
                    script.command.text,
                    script.extra.join(" ")
                )
            } else {
                format!("user '{name}' does not exist: keepalived drops the script")
            };
            findings.push(at.clone(), Severity::Error, "user", why);
            return None;
        };
        if let Some(group) = group {
            match users.group(&group) {
                Some(gid) => user.gid = gid,
                None => {
                    findings.push(
                        at.clone(),
                        Severity::Error,
                        "user",
                        format!("group '{group}' does not exist: keepalived drops the script"),
                    );
                    return None;
                }
            }
        }
        return Some(user);
    }
    if let Some((place, name, group)) = &model.script_user {
        let gid = group.as_ref().map(|g| users.group(g).ok_or(g));
        return match (users.find(name), gid) {
            (Some(user), None) => Some(user),
            (Some(user), Some(Ok(gid))) => Some(User { gid, ..user }),
            (Some(_), Some(Err(group))) => {
                findings.push(
                    place.clone(),
                    Severity::Error,
                    "user",
                    format!("script_user's group '{group}' does not exist: keepalived runs no script that names no user of its own"),
                );
                None
            }
            (None, _) => {
                findings.push(
                    place.clone(),
                    Severity::Error,
                    "user",
                    format!("script_user '{name}' does not exist: keepalived runs no script that names no user of its own"),
                );
                None
            }
        };
    }
    if let Some(user) = users.find("keepalived_script") {
        return Some(user);
    }
    if model.script_security.is_some() {
        findings.push(
            at.clone(),
            Severity::Error,
            "user",
            "with enable_script_security, no script_user and no user keepalived_script, keepalived drops this script (it will not fall back to root): add `script_user root` or create keepalived_script".into(),
        );
        return None;
    }
    users.find("root")
}

/// The program, resolved inside the root, or `None` with a finding.
fn find_program(
    script: &Script,
    program: &str,
    user: &User,
    root: &Root,
    findings: &mut Findings,
) -> Option<Resolved> {
    let at = &script.at;
    if program.starts_with('/') {
        return match root.resolve(Path::new(program)) {
            Ok(resolved) => Some(resolved),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                findings.push(
                    at.clone(),
                    Severity::Warning,
                    "read",
                    format!(
                        "{program}: {e}: the doctor cannot examine it as this user; run it as root"
                    ),
                );
                None
            }
            Err(e) => {
                findings.push(
                    at.clone(),
                    Severity::Error,
                    "script",
                    format!("{program}: {e}: keepalived disables the script"),
                );
                None
            }
        };
    }
    if program.contains('/') {
        findings.push(
            at.clone(),
            Severity::Error,
            "script",
            format!("{program} is a relative path: keepalived resolves it from its working directory (/), not from the configuration's; write the full path"),
        );
        return None;
    }
    let found = SEARCH_PATH.iter().find_map(|d| {
        let path = Path::new(d).join(program);
        root.resolve(&path)
            .ok()
            .filter(|r| r.meta().is_file() && executable_by(r.meta(), user))
            .map(|r| (path, r))
    });
    match found {
        Some((path, resolved)) => {
            findings.push(
                at.clone(),
                Severity::Warning,
                "script-path",
                format!("{program} has no path: keepalived finds it by searching PATH ({}) and logs a warning at every start; write the full path", path.display()),
            );
            Some(resolved)
        }
        None => {
            findings.push(
                at.clone(),
                Severity::Error,
                "script",
                format!(
                    "{program} has no path and is not found in {}: keepalived disables the script",
                    SEARCH_PATH.join(":")
                ),
            );
            None
        }
    }
}

/// Whether `meta` has the execute bit that applies to `user` (root: any).
fn executable_by(meta: &std::fs::Metadata, user: &User) -> bool {
    permitted(meta, user, 0o1)
}

/// Whether the permission `bit` (1 execute, 2 write, 4 read) of the class that applies to
/// `user` is set; root needs it in any class for execute and none for read.
fn permitted(meta: &std::fs::Metadata, user: &User, bit: u32) -> bool {
    let mode = meta.permissions().mode();
    if user.uid == 0 {
        return bit != 0o1 || mode & 0o111 != 0;
    }
    let shift = if meta.uid() == user.uid {
        6
    } else if meta.gid() == user.gid {
        3
    } else {
        0
    };
    mode >> shift & bit != 0
}

/// Whether `user` may run the resolved program; a finding when not.
fn may_execute(
    resolved: &Resolved,
    user: &User,
    root: &Root,
    script: &Script,
    findings: &mut Findings,
) -> bool {
    let target = resolved.target.display();
    let mut fail = |text: String| {
        findings.push(script.at.clone(), Severity::Error, "executable", text);
        false
    };
    if !resolved.meta().is_file() {
        return fail(format!(
            "{target} is not a regular file: keepalived disables the script"
        ));
    }
    if let Some(dir) = resolved
        .steps
        .iter()
        .find(|s| s.meta.is_dir() && user.uid != 0 && !permitted(&s.meta, user, 0o1))
    {
        return fail(format!(
            "{} may not be searched by {} (uid {}): keepalived cannot reach {target} and disables the script",
            dir.path.display(),
            user.name,
            user.uid
        ));
    }
    if !executable_by(resolved.meta(), user) {
        return fail(format!(
            "{target} is not executable for {} (uid {}, mode {:o}): keepalived disables the script at start-up, with or without script security",
            user.name,
            user.uid,
            resolved.meta().permissions().mode() & 0o7777
        ));
    }
    // An interpreted script is read by its interpreter, as the user.
    if user.uid != 0 && !permitted(resolved.meta(), user, 0o4) {
        // What the doctor may not read itself (an execute-only binary, run unprivileged)
        // it does not judge.
        let head = root.read(&resolved.target, 2).unwrap_or_default();
        if head.starts_with(b"#!") {
            return fail(format!(
                "{target} is a script {} (uid {}) may not read, so its interpreter cannot run it",
                user.name, user.uid
            ));
        }
    }
    true
}

/// keepalived's script security, for scripts run as root (uid or gid 0): every component
/// of the real path owned by root; no directory without the sticky bit, and not the file,
/// writable by a group other than root or by others.
fn security(
    resolved: &Resolved,
    user: &User,
    model: &Model,
    script: &Script,
    findings: &mut Findings,
) {
    if user.uid != 0 && user.gid != 0 {
        return;
    }
    let unsafe_step = resolved
        .real_parents()
        .chain(resolved.steps.last())
        .find_map(|step| {
            let meta = &step.meta;
            let mode = meta.permissions().mode();
            let sticky_dir = meta.is_dir() && mode & 0o1000 != 0;
            let why = if meta.uid() != 0 {
                Some(format!("owned by uid {}", meta.uid()))
            } else if !sticky_dir && mode & 0o002 != 0 {
                Some("writable by everyone".into())
            } else if !sticky_dir && mode & 0o020 != 0 && meta.gid() != 0 {
                Some(format!("writable by group {}", meta.gid()))
            } else {
                None
            };
            why.map(|why| (step.path.clone(), why))
        });
    let Some((path, why)) = unsafe_step else {
        return;
    };
    match &model.script_security {
        Some(_) => findings.push(
            script.at.clone(),
            Severity::Error,
            "script-security",
            format!(
                "{} is {why}: with enable_script_security keepalived disables this script at start-up without another word (a vrrp_script's instance carries on without it)",
                path.display()
            ),
        ),
        None => findings.push(
            script.at.clone(),
            Severity::Warning,
            "script-security",
            format!(
                "{} is {why}, and the script runs as root: whoever can change it runs code as root; fix the permissions and set enable_script_security",
                path.display()
            ),
        ),
    }
}

/// Words a shell would have given meaning to.
fn is_shell_syntax(word: &str) -> bool {
    matches!(
        word,
        "|" | "||" | "&&" | ";" | "&" | ">" | ">>" | "<" | "2>&1"
    ) || word.starts_with("$(")
        || word.starts_with('`')
        || word.starts_with('>')
        || word.starts_with("2>")
}

/// A command starting `</`: keepalived hands it to `/bin/sh -c` (the one exception to
/// "no shell"). `/dev/tcp/...` is a bash feature; where /bin/sh is dash it always fails.
fn shell_redirection(script: &Script, root: &Root, findings: &mut Findings) {
    let raw = &script.command.text;
    if !(raw.contains("/dev/tcp/") || raw.contains("/dev/udp/")) {
        return;
    }
    let sh = root
        .resolve(Path::new("/bin/sh"))
        .map(|r| r.target)
        .unwrap_or_default();
    let name = sh.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "bash" {
        findings.push(
            script.at.clone(),
            Severity::Hint,
            "shell",
            format!("\"{raw}\" runs through /bin/sh (bash here): it says nothing about why a connection failed; check-tcp does the same with a deadline and a reason in the journal"),
        );
    } else {
        findings.push(
            script.at.clone(),
            Severity::Error,
            "shell",
            format!(
                "\"{raw}\": keepalived runs it with /bin/sh, which is {} here and has no /dev/tcp (a bash feature): it fails every time; use check-tcp",
                if name.is_empty() { "not bash".to_string() } else { name.to_string() }
            ),
        );
    }
}
