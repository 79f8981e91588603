//! keepalived-checkd as a process, against fault peers whose health the test flips: the
//! track files follow within interval x fall + timeout, a silent target delays nobody,
//! SIGHUP keeps unchanged checks and refuses a broken configuration, SIGTERM leaves every
//! file failed, the journal gets transitions only; status, metrics, check-config, and
//! systemd's notify protocol through a socket the test binds.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::peers::{fault_peer, fault_peer_on, PeerProcess};
use crate::support::tls::{tls_peer, After, Pki};
use crate::support::{command, run, wait_for, Run, Scratch};

/// A running daemon, killed by PID when dropped (also on failure).
struct Checkd {
    child: Option<Child>,
    dir: Scratch,
    notify: UnixDatagram,
    config: PathBuf,
}

impl Checkd {
    /// Writes `config` (`@DIR@` is the scratch directory) and starts the daemon on it,
    /// waiting for READY=1.
    fn start(tag: &str, config: &str, env: &[(&str, &str)]) -> Checkd {
        let dir = Scratch::new(&format!("checkd-{tag}"));
        let notify_path = dir.path("notify.sock");
        let notify = UnixDatagram::bind(&notify_path).expect("bind notify socket");
        notify
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let mut d = Checkd {
            child: None,
            config: dir.path("checkd.toml"),
            dir,
            notify,
        };
        d.write_config(config);
        let log = fs::File::create(d.dir.path("log")).expect("log");
        let child = command("keepalived-checkd")
            .args(["-c", &d.config.to_string_lossy(), "--log", "stderr", "-v"])
            .env("NOTIFY_SOCKET", &notify_path)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start keepalived-checkd");
        d.child = Some(child);
        d.wait_notify("READY=1", Duration::from_secs(10));
        d
    }

    fn write_config(&self, config: &str) {
        let text = config.replace("@DIR@", &self.dir.0.to_string_lossy());
        fs::write(&self.config, text).expect("config");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// The next message that contains `needle`, skipping others.
    #[track_caller]
    fn wait_notify(&mut self, needle: &str, limit: Duration) -> String {
        let started = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            if let Ok(n) = self.notify.recv(&mut buf) {
                let message = String::from_utf8_lossy(&buf[..n]).into_owned();
                if message.contains(needle) {
                    return message;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "keepalived-checkd exited ({status}) before {needle}:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < limit,
                "no {needle:?} from the daemon in {limit:?}:\n{}",
                self.log()
            );
        }
    }

    /// Every message queued so far.
    fn drain_notify(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.notify.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        out
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("log")).unwrap_or_default()
    }

    /// What the track file `name.track` says.
    fn track(&self, name: &str) -> String {
        fs::read_to_string(self.path(&format!("{name}.track"))).unwrap_or_else(|e| format!("<{e}>"))
    }

    /// `keepalived-checkd status --format json`, one check by name.
    #[track_caller]
    fn status(&self, name: &str) -> Value {
        let run = run(
            "keepalived-checkd",
            &[
                "status",
                "-c",
                &self.config.to_string_lossy(),
                "--format",
                "json",
            ],
        );
        assert_eq!(run.code, Some(0), "status: {run:?}\n{}", self.log());
        let all: Value = serde_json::from_str(&run.stdout).expect("status JSON");
        all["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("running").id() as i32;
        // SAFETY: signalling the daemon this test started.
        unsafe { libc::kill(pid, signal) };
    }

    #[track_caller]
    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("still running after {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Checkd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs keepalived-checkd with `args`, which it must refuse: exit 1, `needle` in its line.
#[track_caller]
fn refused(args: &[&str], needle: &str) -> Run {
    let r = run("keepalived-checkd", args);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stdout.contains(needle), "{r:?}");
    r
}

const INTERVAL: Duration = Duration::from_millis(100);
const TIMEOUT: Duration = Duration::from_millis(300);
const FALL: u32 = 2;
/// Polling, process start-up and a loaded CI machine, on top of the daemon's own bound.
const SLACK: Duration = Duration::from_millis(300);

fn sip_check(name: &str, port: u16, extra: &str) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\ncheck = \"check-sip sip:127.0.0.1:{port} --timeout 300ms\"\ninterval = \"100ms\"\nrise = 2\nfall = {FALL}\nfile = \"@DIR@/{name}.track\"\n{extra}\n"
    )
}

#[test]
fn track_file_follows_a_peer_whose_health_flips() {
    let peer = fault_peer("sip", "udp", "ok");
    let port = peer.port;
    let silent = fault_peer("sip", "udp", "silence");
    let silent_port = silent.port;
    // "pending" is silent for 2 s: no verdict can come before then.
    let config = format!(
        "metrics_file = \"@DIR@/metrics.prom\"\nstatus_socket = \"@DIR@/checkd.sock\"\n\n{}\
         [[check]]\nname = \"pending\"\ncheck = \"check-sip sip:127.0.0.1:{silent_port} --timeout 2s\"\n\
         interval = \"100ms\"\nfile = \"@DIR@/pending.track\"\n\n\
         [[check]]\nname = \"optimist\"\ncheck = \"check-sip sip:127.0.0.1:{silent_port} --timeout 500ms\"\n\
         interval = \"100ms\"\nfile = \"@DIR@/optimist.track\"\ninitial = \"healthy\"\nhealthy_value = 5\nfailed_value = -7\n",
        sip_check("sip", port, ""),
    );
    let mut d = Checkd::start("flips", &config, &[]);
    // Before any verdict: the initial values, "pending" in status.
    assert_eq!(d.track("pending"), "1\n");
    assert_eq!(d.track("optimist"), "5\n");
    assert_eq!(d.status("pending")["verdict"], "pending", "{}", d.log());

    let took = wait_for("sip healthy", 2 * INTERVAL + TIMEOUT + SLACK, || {
        d.track("sip") == "0\n"
    });
    println!("first verdict healthy after {} ms", took.as_millis());
    wait_for("optimist failed", Duration::from_secs(3), || {
        d.track("optimist") == "-7\n"
    });

    // The peer dies: ICMP port unreachable, FALL failures, the file says failed.
    drop(peer);
    let bound = INTERVAL * FALL + TIMEOUT;
    let took = wait_for("sip failed", bound + SLACK, || d.track("sip") == "1\n");
    println!(
        "peer killed -> track file failed: {} ms (bound {} ms + slack)",
        took.as_millis(),
        bound.as_millis()
    );
    let s = d.status("sip");
    assert_eq!(s["verdict"], "failed");
    assert!(
        s["last"]["line"]
            .as_str()
            .unwrap()
            .starts_with("SIP CRITICAL"),
        "{s}"
    );

    // Back, but answering 503: still failed, and status says why.
    let p503 = fault_peer_on("sip", "udp", "503", &format!("127.0.0.1:{port}"));
    wait_for("a 503 in status", Duration::from_secs(3), || {
        d.status("sip")["last"]["line"]
            .as_str()
            .is_some_and(|l| l.contains("503"))
    });
    assert_eq!(d.track("sip"), "1\n");
    drop(p503);

    // Healthy again.
    let _ok = fault_peer_on("sip", "udp", "ok", &format!("127.0.0.1:{port}"));
    wait_for("sip healthy again", Duration::from_secs(3), || {
        d.track("sip") == "0\n"
    });
    let s = d.status("sip");
    assert_eq!(s["transitions"], 2, "{s}");
    assert!(s["rtt"].as_f64().is_some_and(|r| r > 0.0 && r < 0.3), "{s}");
    wait_for("metrics", Duration::from_secs(3), || {
        fs::read_to_string(d.path("metrics.prom")).is_ok_and(|m| {
            m.contains("keepalived_checkd_up{check=\"sip\"} 1\n")
                && m.contains("keepalived_checkd_transitions_total{check=\"sip\"} 2\n")
                && m.contains("keepalived_checkd_up{check=\"pending\"} 0\n")
                && m.contains("# TYPE keepalived_checkd_rtt_seconds gauge\n")
        })
    });

    // The journal (here stderr) got the verdicts, not every probe.
    let probes = d.status("sip")["probes"].as_u64().unwrap();
    let log = d.log();
    let verdicts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" sip: ") && (l.contains(" -> ") || l.contains("first verdict ")))
        .collect();
    assert_eq!(verdicts.len(), 3, "{log}");
    assert!(
        verdicts[1].contains("WARN")
            && verdicts[1].contains("healthy -> failed after 2 failures in a row (fall 2)"),
        "{log}"
    );
    assert!(
        verdicts[1].contains("SIP CRITICAL"),
        "the reason is in the record: {log}"
    );
    let info_lines = log.lines().filter(|l| !l.contains("DEBUG")).count();
    assert!(
        info_lines < 15 && probes > 20,
        "{info_lines} records for {probes} probes:\n{log}"
    );
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(3)).success());
    assert_eq!(
        (d.track("sip"), d.track("pending"), d.track("optimist")),
        ("1\n".into(), "1\n".into(), "-7\n".into()),
        "every file failed after SIGTERM"
    );
    assert!(
        !d.path("metrics.prom").exists(),
        "no stale metrics after the daemon stops"
    );
}

#[test]
fn a_silent_target_does_not_delay_a_healthy_one() {
    let silent = fault_peer("sip", "udp", "silence");
    let ok = fault_peer("sip", "udp", "ok");
    let config = format!(
        "status_socket = \"@DIR@/checkd.sock\"\n\n[[check]]\nname = \"silent\"\ncheck = \"check-sip sip:127.0.0.1:{} --timeout 3s\"\ninterval = \"100ms\"\nfile = \"@DIR@/silent.track\"\n\n{}",
        silent.port,
        sip_check("fast", ok.port, "")
    );
    // systemd's watchdog every 200 ms: the daemon pings at half of it.
    let mut d = Checkd::start("silent", &config, &[("WATCHDOG_USEC", "200000")]);
    let started = Instant::now();
    let mut pings = 0;
    while started.elapsed() < Duration::from_secs(2) {
        pings += d
            .drain_notify()
            .iter()
            .filter(|m| m.as_str() == "WATCHDOG=1")
            .count();
    }
    let fast = d.status("fast");
    let silent_status = d.status("silent");
    let elapsed = started.elapsed();
    // The silent check's first probe is still waiting; the fast one probed all along.
    assert_eq!(silent_status["probes"], 0, "{silent_status}");
    // Held back behind the silent probe, the fast check would have made one probe at most;
    // a quarter of its ticks is far from that and safe from a loaded machine's hiccups.
    let probes = fast["probes"].as_u64().unwrap();
    let ticks = elapsed.as_millis() as u64 / 100;
    assert!(
        probes * 4 >= ticks,
        "{probes} probes in {elapsed:?} at 100 ms: the silent target held the fast one back"
    );
    assert_eq!(fast["verdict"], "healthy");
    assert_eq!(d.track("fast"), "0\n");
    assert!(
        pings >= 5,
        "{pings} watchdog pings in 2 s at 100 ms, while a probe was waiting"
    );
    // Ctrl-C by hand ends it as SIGTERM does, the silent probe still waiting.
    d.signal(libc::SIGINT);
    assert!(d.wait_exit(Duration::from_secs(3)).success(), "{}", d.log());
    assert_eq!(d.track("fast"), "1\n");
}

#[test]
fn only_if_master_counts_not_master_as_healthy_and_probes_on_the_master() {
    let state = Scratch::new("checkd-gate");
    let state_dir = state.path("state").to_string_lossy().into_owned();
    let notify = |s: &str| {
        let r = run(
            "ka-notify",
            &[
                "--state-dir",
                &state_dir,
                "--instance",
                "VI_1",
                s,
                "--log",
                "none",
            ],
        );
        assert_eq!(r.code, Some(0), "{r:?}");
    };
    notify("BACKUP");
    // Nothing listens on port 1: the check fails whenever it runs.
    let config = format!(
        "status_socket = \"@DIR@/checkd.sock\"\n\n[[check]]\nname = \"gated\"\n\
         check = \"check-tcp 127.0.0.1:1 --state-dir {state_dir}\"\nonly_if_master = \"VI_1\"\n\
         interval = \"100ms\"\nfile = \"@DIR@/gated.track\"\n"
    );
    let d = Checkd::start("gate", &config, &[]);
    wait_for("not MASTER: healthy", Duration::from_secs(3), || {
        d.track("gated") == "0\n"
    });
    let line = d.status("gated")["last"]["line"].clone();
    assert!(line.as_str().unwrap().starts_with("TCP SKIPPED"), "{line}");
    notify("MASTER");
    wait_for("MASTER: probed, and failed", Duration::from_secs(3), || {
        d.track("gated") == "1\n"
    });
    let line = d.status("gated")["last"]["line"].clone();
    assert!(
        line.as_str().unwrap().contains("connection refused"),
        "{line}"
    );
}

#[test]
fn an_answer_that_came_twice_never_hides_the_next_one() {
    // The kept socket holds the duplicate when the probe ends; Linux wakes a socket's
    // waiters only for a datagram landing in an empty queue, so a runtime that forgot the
    // socket was readable would never see another answer on it.
    let twice = fault_peer("sip", "udp", "ok-duplicated");
    let config = format!(
        "status_socket = \"@DIR@/checkd.sock\"\n\n{}",
        sip_check("twice", twice.port, "")
    );
    let d = Checkd::start("twice-answered", &config, &[]);
    wait_for("ten probes", Duration::from_secs(5), || {
        d.status("twice")["probes"].as_u64().unwrap_or(0) >= 10
    });
    let status = d.status("twice");
    assert_eq!(status["verdict"], "healthy", "{status}");
    assert_eq!(status["failed_in_a_row"], 0, "{status}");
    assert_eq!(status["transitions"], 0, "{status}");
}

#[test]
fn tls_checks_probe_again_and_again_and_say_why_they_fail() {
    // The trust store is read at the first probe of a check and kept: the later probes
    // must keep verifying with it, and a check without the private CA (the system
    // store) must fail each time, with the reason in its status.
    let pki = Pki::new("checkd");
    let peer = tls_peer(pki.server_config(&pki.server, false), After::Hold);
    let ca = pki.ca_file();
    let check = |name: &str, args: &str| {
        format!(
            "[[check]]\nname = \"{name}\"\ncheck = \"check-tcp --tls {args} {peer} --timeout 300ms\"\n\
             interval = \"100ms\"\nfile = \"@DIR@/{name}.track\"\n\n"
        )
    };
    let config = format!(
        "status_socket = \"@DIR@/checkd.sock\"\n\n{}{}",
        check("private", &format!("--ca-file {ca}")),
        check("system", "")
    );
    let d = Checkd::start("tls", &config, &[]);
    wait_for("ten probes of each", Duration::from_secs(5), || {
        ["private", "system"]
            .iter()
            .all(|c| d.status(c)["probes"].as_u64().unwrap_or(0) >= 10)
    });
    let private = d.status("private");
    assert_eq!(private["verdict"], "healthy", "{private}");
    assert_eq!(private["failed_in_a_row"], 0, "{private}");
    assert_eq!(d.track("private"), "0\n");
    let system = d.status("system");
    assert_eq!(system["verdict"], "failed", "{system}");
    assert!(
        system["last"]["line"].as_str().is_some_and(
            |l| l.contains("handshake: certificate of 127.0.0.1 not signed by a trusted CA")
        ),
        "{system}"
    );
    assert_eq!(d.track("system"), "1\n");
}

#[test]
fn reload_keeps_unchanged_checks_refuses_a_broken_config_and_sigterm_fails_every_file() {
    let ok = fault_peer("sip", "udp", "ok");
    let kept = sip_check("kept", ok.port, "");
    let removed = sip_check("removed", ok.port, "healthy_value = 1\nfailed_value = 0\n");
    let added = sip_check("added", ok.port, "");
    let moving = sip_check("moving", ok.port, "");
    let moved = moving.replace("@DIR@/moving.track", "@DIR@/moved.track");
    let head = "status_socket = \"@DIR@/checkd.sock\"\n\n";
    let mut d = Checkd::start("reload", &format!("{head}{kept}{removed}{moving}"), &[]);
    wait_for("all healthy", Duration::from_secs(3), || {
        d.track("kept") == "0\n" && d.track("removed") == "1\n" && d.track("moving") == "0\n"
    });
    // Enough probes that a reset counter could not have caught up by the time it is read.
    wait_for(
        "ten probes of the kept check",
        Duration::from_secs(5),
        || d.status("kept")["probes"].as_u64().unwrap_or(0) >= 10,
    );
    let before = d.status("kept");
    let inode = fs::metadata(d.path("kept.track")).unwrap().ino();

    d.write_config(&format!("{head}{kept}{added}{moved}"));
    d.signal(libc::SIGHUP);
    let ready = d.wait_notify("READY=1", Duration::from_secs(3));
    assert!(
        ready.contains("1 checks kept with their state, 2 new or changed, 1 removed"),
        "{ready}"
    );
    assert_eq!(
        d.track("moving"),
        "1\n",
        "a file a changed check no longer writes says failed"
    );
    let after = d.status("kept");
    assert_eq!(after["since"], before["since"]);
    assert_eq!(after["transitions"], before["transitions"]);
    assert_eq!(after["verdict"], "healthy", "{before} {after} {}", d.log());
    assert!(
        after["probes"].as_u64().expect("probes") >= before["probes"].as_u64().expect("probes"),
        "{before} {after}"
    );
    assert_eq!(
        fs::metadata(d.path("kept.track")).unwrap().ino(),
        inode,
        "a kept check's track file is not rewritten"
    );
    assert_eq!(
        d.track("removed"),
        "0\n",
        "a removed check's file says failed"
    );
    assert_eq!(d.status("removed"), Value::Null);
    wait_for("added healthy", Duration::from_secs(3), || {
        d.track("added") == "0\n"
    });

    // A broken configuration is refused with file:line, and the running one stays.
    d.write_config(&format!("{head}{}", kept.replace("\"100ms\"", "\"10ms\"")));
    d.signal(libc::SIGHUP);
    let refused = d.wait_notify("STATUS=", Duration::from_secs(3));
    assert!(refused.contains("reload refused"), "{refused}");
    let config = d.config.to_string_lossy().into_owned();
    assert!(
        d.log().contains(&format!(
            "reload refused: {config}:6: interval '10ms' is below the 100ms minimum"
        )),
        "{}",
        d.log()
    );
    let probes = d.status("added")["probes"].as_u64().unwrap();
    wait_for(
        "the old configuration to keep probing",
        Duration::from_secs(3),
        || d.status("added")["probes"].as_u64().unwrap() > probes,
    );

    d.signal(libc::SIGTERM);
    let status = d.wait_exit(Duration::from_secs(3));
    assert!(status.success(), "{status}\n{}", d.log());
    assert_eq!(d.track("kept"), "1\n");
    assert_eq!(d.track("added"), "1\n");
    assert!(
        !d.path("checkd.sock").exists(),
        "the status socket is removed"
    );
    assert!(d.drain_notify().iter().any(|m| m == "STOPPING=1"));
}

fn config_errors(tag: &str, text: &str) -> (Option<i32>, String, PathBuf, Scratch) {
    let dir = Scratch::new(&format!("checkd-config-{tag}"));
    let path = dir.path("checkd.toml");
    fs::write(&path, text).expect("write");
    let run = run(
        "keepalived-checkd",
        &["check-config", &path.to_string_lossy()],
    );
    (run.code, run.stdout, path, dir)
}

#[test]
fn check_config_gives_file_line_and_reason() {
    let (code, out, path, _dir) = config_errors(
        "bad",
        "[[check]]\nname = \"a\"\ncheck = \"check-sip sip:127.0.0.1 --tranport tcp\"\nfile = \"/run/a\"\ninterval = \"5ms\"\n",
    );
    let p = path.display();
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        format!(
            "{p}:3: check: check-sip: unexpected argument '--tranport' found\n{p}:5: interval '5ms' is below the 100ms minimum\n"
        )
    );
    // A TLS check's files are read with its arguments: a missing CA is a config error.
    let (code, out, path, _dir) = config_errors(
        "tls",
        "[[check]]\nname = \"t\"\ncheck = \"check-tcp --tls --ca-file /nonexistent/ca.pem 127.0.0.1:5061\"\nfile = \"/run/t\"\n",
    );
    assert_eq!(
        (code, out),
        (
            Some(1),
            format!(
                "{}:3: check: check-tcp: bad option: --ca-file /nonexistent/ca.pem: no such file or directory\n",
                path.display()
            )
        )
    );
    let (code, out, path, _dir) = config_errors(
        "good",
        "[[check]]\nname = \"a\"\ncheck = \"check-tcp 127.0.0.1:22\"\nfile = \"/run/a\"\n",
    );
    assert_eq!(
        (code, out),
        (Some(0), format!("{}: 1 checks, OK\n", path.display()))
    );
    let missing = refused(
        &["check-config", "/nonexistent/checkd.toml"],
        "cannot read the configuration:",
    );
    assert!(
        missing
            .stdout
            .starts_with("/nonexistent/checkd.toml: cannot read the configuration:"),
        "{missing:?}"
    );
    // The daemon itself refuses to start on it, with the same lines.
    let (_, _, path, _dir) = config_errors("daemon", "[[check]]\nname = 1\n");
    refused(
        &["-c", &path.to_string_lossy(), "--log", "none"],
        &format!("{}:2:", path.display()),
    );
}

#[test]
fn status_without_a_daemon_second_daemon_and_untrusted_directory_are_refused() {
    refused(
        &["status", "--socket", "/nonexistent/checkd.sock"],
        "cannot reach the daemon at /nonexistent/checkd.sock",
    );

    let ok: PeerProcess = fault_peer("sip", "udp", "ok");
    let config = format!(
        "status_socket = \"@DIR@/checkd.sock\"\n\n{}",
        sip_check("one", ok.port, "")
    );
    let d = Checkd::start("twice", &config, &[]);
    refused(
        &["-c", &d.config.to_string_lossy(), "--log", "none"],
        "another keepalived-checkd answers there",
    );
    assert!(d.status("one").is_object(), "the first daemon runs on");

    // Track files only where root can trust the directory: not a world-writable one.
    let open = Scratch::new("checkd-open-dir");
    let dir = open.path("open");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let config = format!(
        "status_socket = \"{}/checkd.sock\"\n\n[[check]]\nname = \"x\"\ncheck = \"check-tcp 127.0.0.1:1\"\nfile = \"{}/x.track\"\n",
        open.0.display(),
        dir.display()
    );
    fs::write(open.path("checkd.toml"), config).unwrap();
    refused(
        &[
            "-c",
            &open.path("checkd.toml").to_string_lossy(),
            "--log",
            "none",
        ],
        "writable by everyone",
    );
    assert!(!dir.join("x.track").exists());
}
