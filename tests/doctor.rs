//! `keepalived-checks doctor` on whole systems laid out in a temporary root (`--root`):
//! the example configurations, both seed documents' setups with their scripts, one small
//! configuration per rule with a case that trips it and one that does not, broken and
//! unreadable files, and a run as an unprivileged user.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{run, run_command, Run};

/// Our programs, as the package installs them.
const OURS: [&str; 5] = [
    "check-tcp",
    "check-sip",
    "check-rtsp",
    "ka-notify",
    "keepalived-checkd",
];

/// A system under a temporary directory: root-owned, with /etc/passwd, /bin/sh (dash),
/// our programs in /usr/libexec/keepalived (stand-ins: the doctor reads and parses, it
/// never runs them) and a few tools in /usr/bin.
struct Sysroot(PathBuf);

impl Sysroot {
    fn new(tag: &str) -> Sysroot {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "needs root: files owned by root (CI runs as root)"
        );
        let dir = std::env::temp_dir().join(format!("kc-doctor-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("root dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod root");
        let root = Sysroot(dir);
        root.file("/etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        root.file("/etc/group", 0o644, "root:x:0:\nnogroup:x:65534:\n");
        root.file("/etc/hostname", 0o644, "lb1.example\n");
        for tool in [
            "/bin/dash",
            "/bin/bash",
            "/usr/bin/x",
            "/usr/bin/timeout",
            "/usr/bin/killall",
            "/usr/lib/nagios/plugins/check_tcp",
        ] {
            root.file(tool, 0o755, "#!/bin/sh\nexit 0\n");
        }
        symlink("dash", root.host("/bin/sh")).expect("/bin/sh");
        for p in OURS {
            root.file(
                &format!("/usr/libexec/keepalived/{p}"),
                0o755,
                "\x7fELF stand-in",
            );
        }
        fs::create_dir_all(root.host("/run/keepalived-checks")).expect("run dir");
        root
    }

    fn host(&self, path: &str) -> PathBuf {
        self.0.join(path.trim_start_matches('/'))
    }

    fn file(&self, path: &str, mode: u32, text: &str) {
        let host = self.host(path);
        fs::create_dir_all(host.parent().expect("parent")).expect("dirs");
        fs::write(&host, text).expect("write");
        fs::set_permissions(&host, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn chmod(&self, path: &str, mode: u32) {
        fs::set_permissions(self.host(path), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn chown(&self, path: &str, uid: u32) {
        std::os::unix::fs::chown(self.host(path), Some(uid), None).expect("chown");
    }

    /// keepalived.conf with `text`.
    fn conf(&self, text: &str) {
        self.file("/etc/keepalived/keepalived.conf", 0o644, text);
    }

    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<String> {
        let mut args = vec![
            "doctor".to_string(),
            "--root".into(),
            self.0.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// The doctor's JSON report on keepalived.conf, and its exit status.
    fn doctor(&self) -> Doctor {
        let args = self.args(&["--format", "json"]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Doctor::of(run("keepalived-checks", &refs))
    }
}

impl Drop for Sysroot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A doctor's run and its findings.
struct Doctor {
    run: Run,
    json: Value,
}

impl Doctor {
    fn of(run: Run) -> Doctor {
        let json = run.json();
        Doctor { run, json }
    }

    fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().expect("findings")
    }

    /// The findings of `rule` (with `severity`) whose text contains `text`.
    fn with(&self, rule: &str, severity: &str, text: &str) -> Vec<&Value> {
        self.findings()
            .iter()
            .filter(|f| {
                f["rule"] == rule
                    && f["severity"] == severity
                    && f["text"].as_str().is_some_and(|t| t.contains(text))
            })
            .collect()
    }

    /// Exactly one such finding, at `file:line`.
    fn one(&self, rule: &str, severity: &str, text: &str, file: &str, line: u64) {
        let found = self.with(rule, severity, text);
        assert_eq!(
            found.len(),
            1,
            "one {severity} [{rule}] with {text:?} expected: {:#?}",
            self.json
        );
        assert_eq!(
            (found[0]["file"].as_str(), found[0]["line"].as_u64()),
            (Some(file), Some(line)),
            "{:#?}",
            found[0]
        );
    }

    fn none(&self, rule: &str) {
        let found: Vec<&Value> = self
            .findings()
            .iter()
            .filter(|f| f["rule"] == rule)
            .collect();
        assert!(found.is_empty(), "no [{rule}] expected: {found:#?}");
    }

    fn exit(&self, code: i32) -> &Self {
        assert_eq!(self.run.code, Some(code), "{:#?}", self.json);
        self
    }
}

const CONF: &str = "/etc/keepalived/keepalived.conf";

const SECURE: &str = "global_defs {\n    script_user root\n    enable_script_security\n}\n";

const INSTANCE: &str = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    advert_int 1\n}\n";

/// keepalived.conf with script security, one instance and `body`; the doctor on it.
fn doctor_on(root: &Sysroot, body: &str) -> Doctor {
    root.conf(&format!("{SECURE}{INSTANCE}{body}"));
    root.doctor()
}

/// keepalived.conf with the one global_defs line `global`, one instance and the check
/// `vrrp_script chk` running /usr/bin/x (its script on line 11); the doctor on it.
fn doctor_with_global(root: &Sysroot, global: &str) -> Doctor {
    root.conf(&format!(
        "global_defs {{\n    {global}\n}}\n{INSTANCE}{}",
        vrrp_script("/usr/bin/x", "")
    ));
    root.doctor()
}

fn vrrp_script(script: &str, extra: &str) -> String {
    format!("vrrp_script chk {{\n    script {script}\n{extra}}}\n")
}

#[test]
fn every_example_configuration_has_no_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/keepalived");
    let mut seen = 0;
    for sub in ["kamailio", "rtsp-lvs"] {
        for entry in fs::read_dir(dir.join(sub)).expect("contrib") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_string();
            let root = Sysroot::new(&format!("contrib-{seen}"));
            root.conf(&fs::read_to_string(&path).expect("read"));
            if let Some(node) = name
                .strip_prefix("keepalived-checkd-")
                .and_then(|n| n.strip_suffix(".conf"))
            {
                let toml = fs::read_to_string(dir.join(sub).join(format!("checkd-{node}.toml")))
                    .expect("toml");
                root.file("/etc/keepalived-checks/checkd.toml", 0o644, &toml);
            }
            let d = root.doctor();
            let errors: Vec<&Value> = d
                .findings()
                .iter()
                .filter(|f| f["severity"] == "error")
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            assert_eq!(d.run.code, Some(0), "{name}");
            d.none("track-file");
            seen += 1;
        }
    }
    assert_eq!(seen, 6, "the six example configurations");
}

#[test]
fn the_kamailio_document_gets_what_an_operator_would_say() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doctor/kamailio-seed");
    let root = Sysroot::new("kamailio-seed");
    let read = |name: &str| fs::read_to_string(seed.join(name)).expect("seed file");
    root.conf(&read("keepalived.conf"));
    root.file("/etc/keepalived/checksip.sh", 0o755, &read("checksip.sh"));
    root.file(
        "/etc/keepalived/master-backup.sh",
        0o755,
        &read("master-backup.sh"),
    );
    let d = root.doctor();
    // timeout 1 sipsak: 124 and 2/3, pointed at the script's own line.
    d.one(
        "exit-status",
        "warning",
        "timeout(1) exits 124 when it kills the command, sipsak exits 2 or 3",
        "/etc/keepalived/checksip.sh",
        4,
    );
    d.one(
        "sip-uri",
        "warning",
        "sip:s@10.10.10.10:5060 has a user part",
        "/etc/keepalived/checksip.sh",
        4,
    );
    // The notify script in argument mode, once for the instance, at its first notify.
    d.one(
        "notify-order",
        "warning",
        "runs SBC_1's notify scripts concurrently and unordered",
        CONF,
        27,
    );
    // Scripts under /etc/keepalived, and script security off.
    assert_eq!(
        d.with("placement", "hint", "kept with the configuration")
            .len(),
        4,
        "{:#?}",
        d.json
    );
    d.one(
        "script-security",
        "warning",
        "enable_script_security is not set",
        CONF,
        0,
    );
    d.one("timing", "hint", "fall x interval = 2 x 5s = 10s", CONF, 25);
    // None of it stops keepalived from running: warnings, not errors.
    d.exit(0);
    // The seed's sample checks: a bare name found by PATH search, and a bash redirection
    // that Debian's /bin/sh (dash) cannot do.
    root.conf(&read("samples.conf"));
    let d = root.doctor();
    d.one(
        "script-path",
        "warning",
        "killall has no path: keepalived finds it by searching PATH (/usr/bin/killall)",
        CONF,
        3,
    );
    d.one(
        "shell",
        "error",
        "/bin/sh, which is dash here and has no /dev/tcp",
        CONF,
        11,
    );
    d.exit(1);
    fs::remove_file(root.host("/bin/sh")).expect("rm sh");
    symlink("bash", root.host("/bin/sh")).expect("sh -> bash");
    let d = root.doctor();
    d.one(
        "shell",
        "hint",
        "runs through /bin/sh (bash here)",
        CONF,
        11,
    );
    d.exit(0);
}

#[test]
fn the_rtsp_document_gets_what_an_operator_would_say() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doctor/rtsp-seed");
    let root = Sysroot::new("rtsp-seed");
    root.conf(&fs::read_to_string(seed.join("keepalived.conf")).expect("conf"));
    root.file(
        "/etc/keepalived/rtsp.sh",
        0o755,
        &fs::read_to_string(seed.join("rtsp.sh")).expect("rtsp.sh"),
    );
    let d = root.doctor();
    // nc waits for a close that never comes: found in the script, once per line.
    d.one(
        "hang",
        "warning",
        "nc without -w, -q or -z",
        "/etc/keepalived/rtsp.sh",
        4,
    );
    assert_eq!(
        d.with("placement", "hint", "/etc/keepalived/rtsp.sh").len(),
        2
    );
    d.none("selinux");
    d.exit(0);
    // The document's system is CentOS: SELinux confines scripts from /etc/keepalived.
    root.file(
        "/etc/os-release",
        0o644,
        "NAME=\"CentOS Linux\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\n",
    );
    let d = root.doctor();
    assert_eq!(
        d.with(
            "selinux",
            "warning",
            "/etc/keepalived/rtsp.sh is outside /usr/libexec/keepalived"
        )
        .len(),
        2,
        "{:#?}",
        d.json
    );
    d.none("placement");
    // With misc_dynamic, the same script's statuses are a pool that keeps dead servers.
    let conf = fs::read_to_string(seed.join("keepalived.conf"))
        .expect("conf")
        .replace("misc_timeout 3", "misc_timeout 3\n            misc_dynamic");
    root.conf(&conf);
    let d = root.doctor();
    assert_eq!(
        d.with(
            "exit-status",
            "hint",
            "under misc_dynamic any exit status from 2 to 255 means up"
        )
        .len(),
        2,
        "{:#?}",
        d.json
    );
}

#[test]
fn scripts_keepalived_drops() {
    let root = Sysroot::new("drops");
    // Missing, then present.
    doctor_on(&root, &vrrp_script("\"/usr/local/bin/nope --x\"", "")).one(
        "script",
        "error",
        "/usr/local does not exist: keepalived disables the script",
        CONF,
        12,
    );
    doctor_on(&root, &vrrp_script("\"/usr/bin/x --x\"", ""))
        .exit(0)
        .none("script");
    // Not executable, for root and for its user.
    root.chmod("/usr/bin/x", 0o644);
    doctor_on(&root, &vrrp_script("/usr/bin/x", "")).one(
        "executable",
        "error",
        "/usr/bin/x is not executable for root",
        CONF,
        12,
    );
    root.chmod("/usr/bin/x", 0o744);
    doctor_on(&root, &vrrp_script("/usr/bin/x", "    user nobody\n")).one(
        "executable",
        "error",
        "not executable for nobody (uid 65534, mode 744)",
        CONF,
        12,
    );
    root.chmod("/usr/bin/x", 0o755);
    doctor_on(&root, &vrrp_script("/usr/bin/x", "    user nobody\n"))
        .exit(0)
        .none("executable");
    // A number is a name keepalived looks up like any other.
    doctor_on(&root, &vrrp_script("/usr/bin/x", "    user 0\n")).one(
        "user",
        "error",
        "user '0' does not exist",
        CONF,
        12,
    );
    // A script runs with one group, the configured one or the user's primary group;
    // supplementary groups give it nothing.
    root.file(
        "/etc/group",
        0o644,
        "root:x:0:\nnogroup:x:65534:\nvideo:x:44:nobody\n",
    );
    root.file("/usr/bin/g", 0o750, "#!/bin/sh\n");
    std::os::unix::fs::chown(root.host("/usr/bin/g"), Some(0), Some(44)).expect("chgrp");
    doctor_on(&root, &vrrp_script("/usr/bin/g", "    user nobody video\n"))
        .exit(0)
        .none("executable");
    doctor_on(&root, &vrrp_script("/usr/bin/g", "    user nobody\n")).one(
        "executable",
        "error",
        "/usr/bin/g is not executable for nobody",
        CONF,
        12,
    );
    doctor_on(
        &root,
        &vrrp_script("/usr/bin/g", "    user nobody nosuch\n"),
    )
    .one("user", "error", "group 'nosuch' does not exist", CONF, 12);
    // Unknown user.
    doctor_on(&root, &vrrp_script("/usr/bin/x", "    user nosuch\n")).one(
        "user",
        "error",
        "user 'nosuch' does not exist",
        CONF,
        12,
    );
    // Unquoted arguments: dropped after script, a user name after notify_master.
    doctor_on(&root, &vrrp_script("/usr/bin/x --flag", "")).one(
        "script",
        "error",
        "keepalived runs only \"/usr/bin/x\" and drops \"--flag\"",
        CONF,
        12,
    );
    let notify = |cmd: &str| {
        format!("vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    notify_master {cmd}\n}}\n")
    };
    doctor_on(&root, &notify("/usr/bin/x MASTER")).one(
        "user",
        "error",
        "reads 'MASTER' after the unquoted command as the user",
        CONF,
        15,
    );
    doctor_on(&root, &notify("\"/usr/bin/x MASTER\"")).none("user");
    // Shell syntax without a shell.
    doctor_on(&root, &vrrp_script("\"/usr/bin/x | grep ok\"", "")).one(
        "script",
        "error",
        "'|' is shell syntax, but keepalived runs no shell",
        CONF,
        12,
    );
    // A relative path.
    doctor_on(&root, &vrrp_script("\"bin/x\"", "")).one(
        "script",
        "error",
        "bin/x is a relative path",
        CONF,
        12,
    );
}

#[test]
fn script_security_and_the_default_user() {
    let root = Sysroot::new("security");
    root.file("/opt/checks/c", 0o755, "#!/bin/sh\n");
    doctor_on(&root, &vrrp_script("/opt/checks/c", ""))
        .exit(0)
        .none("script-security");
    root.chmod("/opt/checks", 0o777);
    doctor_on(&root, &vrrp_script("/opt/checks/c", "")).one("script-security", "error", "/opt/checks is writable by everyone: with enable_script_security keepalived disables this script", CONF, 12);
    // A sticky directory (like /tmp) is safe.
    root.chmod("/opt/checks", 0o1777);
    doctor_on(&root, &vrrp_script("/opt/checks/c", "")).none("script-security");
    root.chmod("/opt/checks", 0o755);
    root.chown("/opt/checks/c", 65534);
    doctor_on(&root, &vrrp_script("/opt/checks/c", "")).one(
        "script-security",
        "error",
        "/opt/checks/c is owned by uid 65534",
        CONF,
        12,
    );
    // Through a link: the real path is what counts.
    root.chown("/opt/checks/c", 0);
    symlink("/opt/checks/c", root.host("/usr/bin/linked")).expect("link");
    root.chmod("/opt", 0o775);
    std::os::unix::fs::chown(root.host("/opt"), None, Some(65534)).expect("chgrp");
    doctor_on(&root, &vrrp_script("/usr/bin/linked", "")).one(
        "script-security",
        "error",
        "/opt is writable by group 65534",
        CONF,
        12,
    );
    // Without script security: a warning, and keepalived runs it.
    root.conf(&format!("{INSTANCE}{}", vrrp_script("/usr/bin/linked", "")));
    root.doctor().exit(0).one(
        "script-security",
        "warning",
        "/opt is writable by group 65534, and the script runs as root",
        CONF,
        8,
    );
    // With script security and neither script_user nor keepalived_script, no script runs.
    doctor_with_global(&root, "enable_script_security")
        .exit(1)
        .one(
            "user",
            "error",
            "no script_user and no user keepalived_script, keepalived drops this script",
            CONF,
            11,
        );
    // A script_user that does not exist, or with a group that does not.
    doctor_with_global(&root, "script_user nosuch").exit(1).one(
        "user",
        "error",
        "script_user 'nosuch' does not exist",
        CONF,
        2,
    );
    doctor_with_global(&root, "script_user nobody nosuch")
        .exit(1)
        .one(
            "user",
            "error",
            "script_user's group 'nosuch' does not exist",
            CONF,
            2,
        );
    // keepalived_script, when it exists, is the default user script security accepts.
    let passwd = fs::read_to_string(root.host("/etc/passwd")).expect("passwd");
    root.file(
        "/etc/passwd",
        0o644,
        &format!("{passwd}keepalived_script:x:990:990::/:/usr/sbin/nologin\n"),
    );
    doctor_with_global(&root, "enable_script_security")
        .exit(0)
        .none("user");
}

#[test]
fn our_programs_arguments_deadlines_and_exit_statuses() {
    let root = Sysroot::new("ours");
    let sip = "/usr/libexec/keepalived/check-sip";
    doctor_on(
        &root,
        &vrrp_script(&format!("\"{sip} sip:127.0.0.1 --bogus\""), ""),
    )
    .one(
        "arguments",
        "error",
        "check-sip: unexpected argument '--bogus' found",
        CONF,
        12,
    );
    // --timeout against the interval (the timeout when none is given), and misc_timeout.
    doctor_on(
        &root,
        &vrrp_script(&format!("\"{sip} sip:127.0.0.1 --timeout 1s\""), ""),
    )
    .one(
        "timeout-order",
        "error",
        "check-sip --timeout 1s is not below the vrrp_script's interval",
        CONF,
        12,
    );
    doctor_on(&root, &vrrp_script(&format!("\"{sip} sip:127.0.0.1\""), ""))
        .exit(0)
        .none("timeout-order");
    doctor_on(
        &root,
        &vrrp_script(
            &format!("\"{sip} sip:127.0.0.1 --timeout 2s\""),
            "    interval 5\n    timeout 3\n",
        ),
    )
    .exit(0)
    .none("timeout-order");
    let misc = |args: &str, extra: &str| {
        format!("virtual_server 198.18.0.1 554 {{\n    delay_loop 5\n    real_server 198.18.0.2 554 {{\n        MISC_CHECK {{\n            misc_path \"/usr/libexec/keepalived/check-rtsp rtsp://198.18.0.2/live {args}\"\n            misc_timeout 3\n{extra}        }}\n    }}\n}}\n")
    };
    doctor_on(&root, &misc("--timeout 3s", "")).one(
        "timeout-order",
        "error",
        "check-rtsp --timeout 3s is not below misc_timeout",
        CONF,
        15,
    );
    doctor_on(&root, &misc("--timeout 2s", ""))
        .exit(0)
        .none("timeout-order");
    // --format nagios exits 2: up under misc_dynamic.
    doctor_on(
        &root,
        &misc("--format nagios", "            misc_dynamic\n"),
    )
    .one(
        "exit-status",
        "error",
        "--format nagios exits 2 or 3 when unhealthy, and misc_dynamic reads those as up",
        CONF,
        15,
    );
    doctor_on(&root, &misc("--format nagios", ""))
        .exit(0)
        .none("exit-status");
    doctor_on(&root, &misc("", "            misc_dynamic\n"))
        .exit(0)
        .none("exit-status");
    // Other programs under misc_dynamic: timeout(1) and a Nagios plugin.
    let other = |cmd: &str| {
        misc("", "            misc_dynamic\n").replace(
            "/usr/libexec/keepalived/check-rtsp rtsp://198.18.0.2/live ",
            cmd,
        )
    };
    doctor_on(&root, &other("/usr/bin/timeout 2 /usr/bin/x")).one(
        "exit-status",
        "error",
        "timeout(1) exits 124",
        CONF,
        15,
    );
    doctor_on(
        &root,
        &other("/usr/lib/nagios/plugins/check_tcp -H 198.18.0.2 -p 554"),
    )
    .one(
        "exit-status",
        "error",
        "a Nagios plugin exits 2 (CRITICAL) or 3 (UNKNOWN)",
        CONF,
        15,
    );
}

#[test]
fn only_if_master_state_and_notify_modes() {
    let root = Sysroot::new("gate");
    let fifo = "global_defs {\n    vrrp_notify_fifo /run/keepalived.fifo\n    vrrp_notify_fifo_script \"/usr/libexec/keepalived/ka-notify fifo\"\n}\n";
    let check = |name: &str, extra: &str| {
        vrrp_script(&format!("\"/usr/libexec/keepalived/check-sip sip:127.0.0.1 --only-if-master {name}{extra}\""), "")
    };
    doctor_on(&root, &format!("{fifo}{}", check("VI_1", "")))
        .exit(0)
        .none("only-if-master");
    doctor_on(&root, &format!("{fifo}{}", check("VI_2", ""))).one(
        "only-if-master",
        "error",
        "no vrrp_instance or vrrp_sync_group is called VI_2",
        CONF,
        16,
    );
    doctor_on(&root, &check("VI_1", "")).one(
        "only-if-master",
        "error",
        "no ka-notify in this configuration records VI_1's state",
        CONF,
        12,
    );
    doctor_on(&root, &format!("{fifo}{}", check("VI_1", " --state-dir /run/elsewhere"))).one("state-dir", "error", "reads /run/elsewhere but ka-notify (/etc/keepalived/keepalived.conf:13) writes /run/keepalived-checks", CONF, 16);
    // ka-notify as notify_master needs to be told the instance; FIFO mode is the ordered one.
    let notify = |args: &str| {
        format!("vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 52\n    notify_master \"/usr/libexec/keepalived/ka-notify {args}\"\n}}\n")
    };
    let d = doctor_on(&root, &notify("MASTER"));
    d.one(
        "notify-mode",
        "error",
        "cannot tell which instance the event is about",
        CONF,
        14,
    );
    let d2 = doctor_on(&root, &notify("--instance VI_2 MASTER"));
    d2.exit(0).none("notify-mode");
    d2.one(
        "notify-order",
        "hint",
        "`ka-notify fifo` as vrrp_notify_fifo_script gets the events in order",
        CONF,
        14,
    );
    doctor_on(
        &root,
        &fifo.replace("    vrrp_notify_fifo /run/keepalived.fifo\n", ""),
    )
    .one(
        "notify-mode",
        "error",
        "vrrp_notify_fifo_script without vrrp_notify_fifo",
        CONF,
        12,
    );
    doctor_on(&root, fifo).exit(0).none("notify-order");
}

#[test]
fn timing_and_tracks() {
    let root = Sysroot::new("timing");
    doctor_on(
        &root,
        &vrrp_script("/usr/bin/x", "    interval 1\n    timeout 3\n"),
    )
    .one(
        "timing",
        "warning",
        "timeout 3s is longer than interval 1s",
        CONF,
        12,
    );
    doctor_on(
        &root,
        &vrrp_script("/usr/bin/x", "    interval 2\n    timeout 1\n"),
    )
    .exit(0)
    .none("timing");
    let tracked = |extra: &str| {
        format!("{}vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 52\n    advert_int 1\n    track_script {{\n        chk\n        gone\n    }}\n}}\n", vrrp_script("/usr/bin/x", extra))
    };
    let d = doctor_on(&root, &tracked("    interval 5\n    fall 2\n"));
    d.one(
        "timing",
        "hint",
        "fall x interval = 2 x 5s = 10s, a dead node after 3 x advert_int = 3s",
        CONF,
        21,
    );
    d.one(
        "track-script",
        "error",
        "tracks 'gone', but no vrrp_script gone",
        CONF,
        22,
    );
    doctor_on(&root, &tracked("    interval 1\n    fall 3\n")).none("timing");
    // Track files and keepalived-checkd's configuration.
    let track = "track_file sip {\n    file /run/keepalived-checks/sip.track\n    weight 0\n}\n";
    doctor_on(&root, track).one(
        "track-file",
        "warning",
        "there is no /etc/keepalived-checks/checkd.toml",
        CONF,
        11,
    );
    root.file("/etc/keepalived-checks/checkd.toml", 0o644, "[[check]]\nname = \"sip\"\ncheck = \"check-sip sip:127.0.0.1 --timeout 300ms\"\ninterval = \"100ms\"\nfile = \"/run/keepalived-checks/sip.track\"\n");
    doctor_on(&root, track).exit(0).none("track-file");
    let d = doctor_on(&root, &track.replace("sip.track", "other.track"));
    d.one(
        "track-file",
        "warning",
        "no check in /etc/keepalived-checks/checkd.toml writes /run/keepalived-checks/other.track",
        CONF,
        11,
    );
    d.one(
        "track-file",
        "warning",
        "check sip writes /run/keepalived-checks/sip.track, but no track_file",
        "/etc/keepalived-checks/checkd.toml",
        0,
    );
    root.file("/etc/keepalived-checks/checkd.toml", 0o644, "[[check]]\nname = \"sip\"\ncheck = \"check-sip sip:127.0.0.1 --bogus\"\nfile = \"/run/keepalived-checks/sip.track\"\n");
    doctor_on(&root, track).exit(1).one(
        "checkd",
        "error",
        "unexpected argument '--bogus'",
        "/etc/keepalived-checks/checkd.toml",
        3,
    );
}

#[test]
fn selinux_placement_on_rhel() {
    let root = Sysroot::new("selinux");
    root.file("/usr/bin/check-tcp", 0o755, "\x7fELF stand-in");
    root.file(
        "/etc/os-release",
        0o644,
        "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
    );
    doctor_on(
        &root,
        &vrrp_script("\"/usr/bin/check-tcp 127.0.0.1:22\"", ""),
    )
    .one(
        "selinux",
        "warning",
        "/usr/bin/check-tcp is outside /usr/libexec/keepalived",
        CONF,
        12,
    );
    doctor_on(
        &root,
        &vrrp_script("\"/usr/libexec/keepalived/check-tcp 127.0.0.1:22\"", ""),
    )
    .exit(0)
    .none("selinux");
    root.file("/etc/os-release", 0o644, "ID=debian\n");
    doctor_on(
        &root,
        &vrrp_script("\"/usr/bin/check-tcp 127.0.0.1:22\"", ""),
    )
    .exit(0)
    .none("selinux");
}

#[test]
fn includes_definitions_and_broken_files_are_findings() {
    let root = Sysroot::new("read");
    root.file(
        "/etc/keepalived/conf.d/a.conf",
        0o644,
        &vrrp_script("\"$CHECK sip:127.0.0.1\"", ""),
    );
    root.conf(&format!("$CHECK=/usr/libexec/keepalived/check-sip\n{SECURE}{INSTANCE}include conf.d/*.conf\ninclude missing/*.conf\n"));
    let d = root.doctor();
    d.exit(1).one(
        "read",
        "error",
        "include /etc/keepalived/missing/*.conf: no file matches",
        CONF,
        13,
    );
    assert_eq!(
        d.json["files"].as_array().map(Vec::len),
        Some(2),
        "{:#?}",
        d.json
    );
    d.none("script");
    // An executable configuration file is skipped by keepalived.
    root.chmod("/etc/keepalived/conf.d/a.conf", 0o755);
    root.doctor().one(
        "read",
        "error",
        "conf.d/a.conf is executable, and keepalived skips executable configuration files",
        CONF,
        12,
    );
    // Unbalanced braces and an undefined name, no crash.
    root.conf("vrrp_script x {\n    script \"/usr/bin/x ${NOPE}\"\n");
    let d = root.doctor();
    d.exit(1)
        .one("read", "warning", "$NOPE is not defined", CONF, 2);
    d.one(
        "read",
        "error",
        "'vrrp_script' opens a block that is never closed",
        CONF,
        1,
    );
    // A file that includes itself is read once; definitions apply to include lines.
    root.chmod("/etc/keepalived/conf.d/a.conf", 0o644);
    root.conf("include keepalived.conf\ninclude ${_PWD}/conf.d/*.conf\n");
    let d = root.doctor();
    d.one(
        "read",
        "error",
        "/etc/keepalived/keepalived.conf includes itself",
        CONF,
        1,
    );
    assert_eq!(
        d.json["files"].as_array().map(Vec::len),
        Some(2),
        "{:#?}",
        d.json
    );
    // What the doctor does not expand, it says; a value keepalived could not use is an error.
    root.conf(&format!(
        "{SECURE}{INSTANCE}~SEQ(n, 1, 3) vrrp_script s$n {{ }}\n{}",
        vrrp_script("/usr/bin/x", "    interval 1e30\n")
    ));
    let d = root.doctor();
    d.one(
        "read",
        "warning",
        "the doctor does not expand ~SEQ lines",
        CONF,
        11,
    );
    d.one(
        "value",
        "error",
        "interval 1e30: not a number of seconds",
        CONF,
        14,
    );
    // A switch among the notify keywords is not a script.
    root.conf(&format!(
        "{SECURE}{}",
        INSTANCE.replace(
            "advert_int 1\n",
            "advert_int 1\n    notify_priority_changes true\n"
        )
    ));
    root.doctor().exit(0).none("script");
    // A missing configuration.
    let args = root.args(&["-f", "/etc/keepalived/none.conf"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = run("keepalived-checks", &refs);
    assert_eq!(text.code, Some(1));
    assert!(
        text.stdout.starts_with(
            "/etc/keepalived/none.conf: error: cannot read /etc/keepalived/none.conf: No such file"
        ),
        "{text:#?}"
    );
    assert!(
        text.stdout
            .ends_with("1 error, 0 warnings, 0 hints in /etc/keepalived/none.conf (0 files)\n"),
        "{text:#?}"
    );
    // Bad arguments: exit 1 like every program of ours.
    assert_eq!(
        run("keepalived-checks", &["doctor", "--bogus"]).code,
        Some(1)
    );
}

/// Runs the doctor as nobody.
fn as_nobody(root: &Sysroot) -> Doctor {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        crate::support::bin("keepalived-checks"),
    ]);
    cmd.args(root.args(&["--format", "json"]));
    Doctor::of(run_command(&mut cmd))
}

#[test]
fn an_unprivileged_user_gets_the_same_answers_and_is_told_what_it_cannot_read() {
    let root = Sysroot::new("nobody");
    root.file(
        "/usr/bin/x",
        0o700,
        "#!/bin/sh\ntimeout 1 sipsak -s sip:127.0.0.1\n",
    );
    let body = format!(
        "{}{}",
        vrrp_script(
            "\"/usr/libexec/keepalived/check-sip sip:127.0.0.1 --timeout 2s\"",
            ""
        ),
        vrrp_script("/usr/bin/x", "").replace("chk", "chk2")
    );
    let as_root = doctor_on(&root, &body);
    let mine = as_nobody(&root);
    as_root.one("timeout-order", "error", "--timeout 2s", CONF, 12);
    mine.one("timeout-order", "error", "--timeout 2s", CONF, 12);
    // root may look inside the 0700 script; nobody may not, and nothing else changes.
    as_root.one(
        "exit-status",
        "warning",
        "timeout(1) exits 124",
        "/usr/bin/x",
        2,
    );
    mine.none("exit-status");
    let rules = |d: &Doctor| {
        d.findings()
            .iter()
            .filter(|f| f["rule"] != "exit-status")
            .cloned()
            .collect::<Vec<Value>>()
    };
    assert_eq!(rules(&as_root), rules(&mine));
    // A configuration only root may read: one error that says so.
    root.chmod(CONF, 0o600);
    let d = as_nobody(&root);
    d.exit(1).one(
        "read",
        "error",
        "Permission denied (os error 13) (keepalived reads it as root; run the doctor as root)",
        CONF,
        0,
    );
}
