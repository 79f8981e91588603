//! ka-notify: every mode and state, order, atomicity, FIFO, actions and their timeouts.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_checks::state::{self, Kind, StateRecord, VrrpState};

use crate::support::*;

fn notify(args: &[&str]) -> Run {
    run("ka-notify", args)
}

#[test]
fn generic_notify_records_state_marker_history_and_runs_the_hook() {
    let s = Scratch::new("generic");
    let (sd, marker, history, hooked) = (
        s.state_dir(),
        s.path("MASTER"),
        s.path("history"),
        s.path("started"),
    );
    let (marker_s, history_s) = (marker.to_string_lossy(), history.to_string_lossy());
    let hook = format!("/usr/bin/touch {}", hooked.display());
    let r = notify(&[
        "--state-dir",
        &sd,
        "--marker",
        &marker_s,
        "--history",
        &history_s,
        "--on-master",
        &hook,
        "INSTANCE",
        "VI_1",
        "MASTER",
        "100",
    ]);
    assert_line(
        &r,
        0,
        "ka-notify: INSTANCE VI_1 -> MASTER (priority 100): recorded; marker: created",
        &["hook /usr/bin/touch"],
    );
    let rec = s.state("VI_1");
    assert_eq!((rec.state, rec.priority), (VrrpState::Master, 100));
    assert!(marker.exists() && hooked.exists());

    let r = notify(&[
        "--state-dir",
        &sd,
        "--marker",
        &marker_s,
        "--history",
        &history_s,
        "INSTANCE",
        "VI_1",
        "BACKUP",
        "90",
    ]);
    assert_line(
        &r,
        0,
        "ka-notify: INSTANCE VI_1 -> BACKUP (priority 90): recorded; marker: removed",
        &[],
    );
    assert_eq!(s.state("VI_1").state, VrrpState::Backup);
    assert!(!marker.exists());
    let lines: Vec<String> = fs::read_to_string(&history)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains(" INSTANCE VI_1 MASTER 100 seq=") && lines[0].ends_with(" ok"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains(" INSTANCE VI_1 BACKUP 90 seq="),
        "{lines:?}"
    );
}

#[test]
fn per_state_scripts_and_every_state() {
    let s = Scratch::new("states");
    let sd = s.state_dir();
    for st in ["MASTER", "BACKUP", "FAULT", "STOP", "DELETED"] {
        let r = notify(&["--state-dir", &sd, "--instance", "VI_2", st]);
        assert_line(
            &r,
            0,
            &format!("ka-notify: INSTANCE VI_2 -> {st} (priority 0): recorded"),
            &[],
        );
        assert_eq!(s.state("VI_2").state.as_str(), st);
    }
    let r = notify(&["--state-dir", &sd, "--group", "G1", "FAULT"]);
    assert_line(&r, 0, "ka-notify: GROUP G1 -> FAULT", &[]);
    let group = state::StateDir::open(&s.path("state"))
        .expect("state dir")
        .read(Kind::Group, "G1")
        .unwrap()
        .unwrap();
    assert_eq!(group.state, VrrpState::Fault);

    let r = notify(&["status", "--state-dir", &sd]);
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert!(
        r.stdout.contains("INSTANCE VI_2") && r.stdout.contains("DELETED"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("GROUP    G1") && r.stdout.contains(" ago)"),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_argv_exits_1_with_a_reason() {
    let s = Scratch::new("bad");
    let sd = s.state_dir();
    for (args, why) in [
        (vec!["INSTANCE", "VI_1", "MASTER"], "got 3 argument(s)"),
        (
            vec!["INSTANCE", "VI_1", "PRIMARY", "100"],
            "unknown state 'PRIMARY'",
        ),
        (
            vec!["INSTANCE", "VI_1", "MASTER", "high"],
            "priority 'high' is not a number",
        ),
        (vec!["INSTANCE", "../../etc", "MASTER", "1"], "not a usable"),
        (vec!["MASTER"], "needs --instance NAME or --group NAME"),
    ] {
        let mut full = vec!["--state-dir", sd.as_str()];
        full.extend(&args);
        let r = notify(&full);
        assert_line(&r, 1, "ka-notify: bad event: ", &[why]);
    }
    let r = notify(&["--on-master", "touch x", "INSTANCE", "VI_1", "MASTER", "1"]);
    assert_line(
        &r,
        1,
        "ka-notify: bad arguments: ",
        &["not an absolute path"],
    );
    assert!(
        !s.path("state").exists(),
        "nothing is written for a bad event"
    );
}

#[test]
fn an_older_event_delivered_late_never_moves_the_state_back() {
    let s = Scratch::new("order");
    let sd = s.state_dir();
    let late_hook = s.path("late-hook-ran");
    // keepalived forks MASTER first, then BACKUP; MASTER's process is slow to get going
    // (the shell sleeps before exec'ing ka-notify, keeping its fork time), so BACKUP is
    // handled first and MASTER arrives late.
    let script = format!(
        "sleep 0.4; exec {} --state-dir {sd} --on-master '/usr/bin/touch {}' INSTANCE VI_1 MASTER 100",
        bin("ka-notify"),
        late_hook.display()
    );
    let late = Command::new("/bin/sh")
        .args(["-c", &script])
        .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", "/nonexistent")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(20));
    let r = notify(&["--state-dir", &sd, "INSTANCE", "VI_1", "BACKUP", "90"]);
    assert_eq!(r.code, Some(0));
    let out = late.wait_with_output().expect("wait");
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{line}");
    assert!(
        line.contains("MASTER (priority 100): ignored, older than the BACKUP on record"),
        "{line}"
    );
    assert_eq!(s.state("VI_1").state, VrrpState::Backup);
    assert!(!late_hook.exists(), "a stale event must run no action");
}

#[test]
fn two_hundred_concurrent_writers_never_show_a_reader_a_torn_file() {
    let s = Scratch::new("torn");
    let sd = s.state_dir();
    let dir = s.path("state");
    fs::create_dir_all(&dir).unwrap();
    let states = ["MASTER", "BACKUP", "FAULT", "STOP"];
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut reads, mut bad) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match fs::read_to_string(dir.join(state::file_name(Kind::Instance, "VI_1"))) {
                    Ok(text) => {
                        reads += 1;
                        if let Err(why) = StateRecord::parse(&text) {
                            bad.push(format!("{why}: {text:?}"));
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => bad.push(e.to_string()),
                }
            }
            (reads, bad)
        })
    };
    let children: Vec<_> = (0..200)
        .map(|i| {
            command("ka-notify")
                .args([
                    "--state-dir",
                    &sd,
                    "INSTANCE",
                    "VI_1",
                    states[i % 4],
                    &(i % 256).to_string(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert_eq!(c.wait().expect("wait").code(), Some(0));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (reads, bad) = reader.join().unwrap();
    assert!(
        bad.is_empty(),
        "{} torn or bad reads, e.g. {:?}",
        bad.len(),
        bad.first()
    );
    assert!(reads > 0);
    // The last one forked carries the latest order, whatever order they ran in.
    let last = s.state("VI_1");
    let want = VrrpState::parse(states[199 % 4]).unwrap();
    assert_eq!((last.state, last.priority), (want, 199));
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the state file remains: {leftovers:?}"
    );
}

#[test]
fn fifo_mode_handles_1000_lines_in_order_and_ends_on_eof() {
    let s = Scratch::new("fifo");
    let fifo = s.path("notify.fifo");
    mkfifo(&fifo);
    let history = s.path("history");
    let child = command("ka-notify")
        .args([
            "fifo",
            "--state-dir",
            &s.state_dir(),
            "--history",
            &history.to_string_lossy(),
            &fifo.to_string_lossy(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let states = ["MASTER", "BACKUP", "FAULT"];
    let mut expected = Vec::new();
    {
        let mut w = fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("open fifo");
        let mut text = String::new();
        for i in 0..1000 {
            let (name, st) = (format!("VI_{}", i % 3), states[(i / 3) % 3]);
            text.push_str(&format!("INSTANCE \"{name}\" {st} {}\n", 100 + i % 3));
            expected.push(format!("INSTANCE {name} {st} {}", 100 + i % 3));
            if i % 100 == 0 {
                // What keepalived may also write, and what it never writes: both ignored.
                text.push_str(
                    "INSTANCE \"VI_0\" MASTER_PRIORITY 50\nVS 10.0.0.1:80 UP\nnonsense line\n",
                );
            }
        }
        w.write_all(text.as_bytes()).expect("write");
    } // closing the only writer: EOF
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<String> = fs::read_to_string(&history)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f[1..5].join(" ")
        })
        .collect();
    assert_eq!(got.len(), 1000);
    assert_eq!(got, expected, "history is in FIFO order");
    for (i, name) in ["VI_0", "VI_1", "VI_2"].iter().enumerate() {
        let last = expected
            .iter()
            .rev()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap();
        assert!(
            last.contains(s.state(name).state.as_str()),
            "{name}: {last}"
        );
        assert_eq!(s.state(name).priority, 100 + i as u8);
    }
}

/// `ka-notify fifo` on `fifo`, recording into `s`'s state directory.
fn fifo_reader(s: &Scratch, fifo: &Path) -> std::process::Child {
    command("ka-notify")
        .args([
            "fifo",
            "--state-dir",
            &s.state_dir(),
            &fifo.to_string_lossy(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn")
}

#[test]
fn fifo_mode_ends_cleanly_on_sigterm() {
    let s = Scratch::new("fifo-term");
    let fifo = s.path("notify.fifo");
    mkfifo(&fifo);
    // SIGTERM before any writer opened the FIFO (keepalived starts the script first).
    let child = fifo_reader(&s, &fifo);
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(
        child.wait_with_output().expect("wait").status.code(),
        Some(0)
    );

    // SIGTERM while reading, the writer still open.
    let child = fifo_reader(&s, &fifo);
    let mut w = fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open fifo");
    w.write_all(b"INSTANCE \"VI_7\" MASTER 100\n").unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while state::StateDir::open(&s.path("state"))
        .ok()
        .and_then(|d| d.read(Kind::Instance, "VI_7").ok().flatten())
        .is_none()
    {
        assert!(Instant::now() < until, "event not handled");
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(
        child.wait_with_output().expect("wait").status.code(),
        Some(0)
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(w);
}

#[test]
fn an_overrunning_hook_is_killed_and_reported() {
    let s = Scratch::new("timeout");
    let r = notify(&[
        "--state-dir",
        &s.state_dir(),
        "--on-master",
        "/bin/sleep 30",
        "--action-timeout",
        "300ms",
        "INSTANCE",
        "VI_1",
        "MASTER",
        "100",
    ]);
    assert_line(
        &r,
        1,
        "ka-notify: INSTANCE VI_1 -> MASTER",
        &["hook /bin/sleep 30: FAILED: timed out after 300.0 ms, killed"],
    );
    assert!(r.elapsed < Duration::from_secs(3), "{r:#?}");
    // The state is still recorded: the event happened whatever the hook did.
    assert_eq!(s.state("VI_1").state, VrrpState::Master);
}

/// A `systemctl` stand-in that appends its arguments to `log` and, for `stop`, sleeps
/// `stop_sleep` seconds first.
fn fake_systemctl(s: &Scratch, stop_sleep: u32) -> (String, PathBuf) {
    let bin_dir = s.path("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let log = s.path("systemctl.log");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> {}\n[ \"$1\" = stop ] && sleep {stop_sleep}\nexit 0\n",
        log.display()
    );
    let path = bin_dir.join("systemctl");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    let search = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (search, log)
}

#[test]
fn service_is_started_and_stopped_through_systemctl() {
    let s = Scratch::new("service");
    let (path, log) = fake_systemctl(&s, 0);
    for (st, code) in [("MASTER", 0), ("BACKUP", 0), ("FAULT", 0), ("STOP", 0)] {
        let r = run_command(
            command("ka-notify")
                .args([
                    "--state-dir",
                    &s.state_dir(),
                    "--service",
                    "kamailio",
                    "INSTANCE",
                    "VI_1",
                    st,
                    "100",
                ])
                .env("PATH", &path),
        );
        assert_eq!(r.code, Some(code), "{r:#?}");
    }
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "start kamailio\nstop kamailio\nstop kamailio\nstop kamailio\n"
    );
}

#[test]
fn a_stop_that_overruns_escalates_to_killing_that_unit_only() {
    let s = Scratch::new("escalate");
    let (path, log) = fake_systemctl(&s, 30);
    let r = run_command(
        command("ka-notify")
            .args([
                "--state-dir",
                &s.state_dir(),
                "--service",
                "kamailio",
                "--action-timeout",
                "300ms",
                "INSTANCE",
                "VI_1",
                "FAULT",
                "0",
            ])
            .env("PATH", &path),
    );
    assert_line(
        &r,
        1,
        "ka-notify: INSTANCE VI_1 -> FAULT",
        &["systemctl stop kamailio: FAILED: timed out after 300.0 ms, killed; escalated: systemctl kill --signal=SIGKILL succeeded"],
    );
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "stop kamailio\nkill --signal=SIGKILL kamailio\n"
    );
}

#[test]
fn instance_filter_records_everything_but_acts_only_on_its_instance() {
    let s = Scratch::new("filter");
    let hooked = s.path("hooked");
    let hook = format!("/usr/bin/touch {}", hooked.display());
    let r = notify(&[
        "--state-dir",
        &s.state_dir(),
        "--instance",
        "VI_1",
        "--on-master",
        &hook,
        "INSTANCE",
        "VI_2",
        "MASTER",
        "100",
    ]);
    assert_line(
        &r,
        0,
        "ka-notify: INSTANCE VI_2 -> MASTER (priority 100): recorded",
        &[],
    );
    assert_eq!(s.state("VI_2").state, VrrpState::Master);
    assert!(!hooked.exists());
    let r = notify(&[
        "--state-dir",
        &s.state_dir(),
        "--instance",
        "VI_1",
        "--on-master",
        &hook,
        "INSTANCE",
        "VI_1",
        "MASTER",
        "100",
    ]);
    assert_eq!(r.code, Some(0));
    assert!(hooked.exists());
}

#[test]
fn checks_run_only_on_the_master_with_only_if_master() {
    let s = Scratch::new("gate");
    let sd = s.state_dir();
    let port = refused_port();
    let target = format!("127.0.0.1:{port}");
    // No state yet: not MASTER, skipped, exit 0.
    let r = run(
        "check-tcp",
        &[&target, "--only-if-master", "VI_1", "--state-dir", &sd],
    );
    assert_line(
        &r,
        0,
        &format!("TCP SKIPPED - {target} not MASTER: no state for VI_1 in "),
        &[],
    );
    notify(&["--state-dir", &sd, "INSTANCE", "VI_1", "BACKUP", "90"]);
    let r = run(
        "check-tcp",
        &[&target, "--only-if-master", "VI_1", "--state-dir", &sd],
    );
    assert_line(
        &r,
        0,
        &format!("TCP SKIPPED - {target} not MASTER: VI_1 is BACKUP since "),
        &[],
    );
    let r = run(
        "check-sip",
        &[
            &format!("sip:{target}"),
            "--only-if-master",
            "VI_1",
            "--state-dir",
            &sd,
            "--format",
            "json",
        ],
    );
    let v = r.json();
    assert_eq!((r.code, v["verdict"].as_str()), (Some(0), Some("skipped")));
    // MASTER: the check runs, and here finds nothing listening.
    notify(&["--state-dir", &sd, "INSTANCE", "VI_1", "MASTER", "100"]);
    let r = run(
        "check-tcp",
        &[&target, "--only-if-master", "VI_1", "--state-dir", &sd],
    );
    assert_line(&r, 1, "TCP CRITICAL - ", &["connect: connection refused"]);
    // A sync group name works too.
    notify(&["--state-dir", &sd, "GROUP", "G1", "MASTER", "0"]);
    let r = run(
        "check-rtsp",
        &[&target, "--only-if-master", "G1", "--state-dir", &sd],
    );
    assert_line(&r, 1, "RTSP CRITICAL - ", &["connect: connection refused"]);
}

#[test]
fn a_typo_fails_on_every_node_not_only_on_the_master() {
    // On a BACKUP node the gate used to answer first: the typo printed SKIPPED, exit 0,
    // and was found only after a failover.
    let s = Scratch::new("typo-gate");
    let sd = s.state_dir();
    notify(&["--state-dir", &sd, "INSTANCE", "VI_1", "BACKUP", "90"]);
    let missing = s.path("no-such-credentials").to_string_lossy().into_owned();
    for (check, args, why) in [
        ("check-sip", vec!["sip:[zz"], "missing ']'"),
        (
            "check-sip",
            vec!["sip:10.0.0.1;transport=sctp"],
            "transport 'sctp'",
        ),
        ("check-tcp", vec!["127.0.0.1"], "missing port"),
        ("check-rtsp", vec!["rtsp://127.0.0.1:0/x"], "port 0"),
        // Options that only fail in combination are checked before the gate too.
        (
            "check-rtsp",
            vec!["rtsp://127.0.0.1/", "--describe"],
            "--describe needs the stream's path",
        ),
        (
            "check-rtsp",
            vec!["rtsp://127.0.0.1/x", "--credentials-file", &missing],
            "cannot read --credentials-file",
        ),
    ] {
        let mut argv = args.clone();
        argv.extend(["--only-if-master", "VI_1", "--state-dir", &sd]);
        let r = run(check, &argv);
        assert_eq!(r.code, Some(1), "{check} {args:?}: {r:#?}");
        assert!(r.line().contains(why), "{check} {args:?}: {}", r.line());
        assert!(r.line().contains(" UNKNOWN - "), "{}", r.line());
    }
}

#[test]
fn an_unreadable_state_file_is_left_alone_not_replaced_as_corrupt() {
    // A directory where the state file should be reads as EISDIR: what the record holds
    // is unknown (EACCES and EIO are the same case), so nothing is written or run.
    let s = Scratch::new("unreadable");
    let sd = s.state_dir();
    fs::create_dir_all(Path::new(&sd).join("VI_1.instance")).unwrap();
    let hooked = s.path("hooked");
    let hook = format!("/usr/bin/touch {}", hooked.display());
    let r = notify(&[
        "--state-dir",
        &sd,
        "--on-master",
        &hook,
        "INSTANCE",
        "VI_1",
        "MASTER",
        "100",
    ]);
    assert_eq!(r.code, Some(1), "{r:#?}");
    assert!(r.line().contains("cannot read"), "{}", r.line());
    assert!(r.line().contains("left as it is"), "{}", r.line());
    assert!(Path::new(&sd).join("VI_1.instance").is_dir());
    assert!(!hooked.exists(), "no action may run on an unknown record");
    // A corrupt file, in contrast, is replaced.
    fs::write(Path::new(&sd).join("VI_2.instance"), "garbage").unwrap();
    let r = notify(&["--state-dir", &sd, "INSTANCE", "VI_2", "MASTER", "100"]);
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert_eq!(s.state("VI_2").state, VrrpState::Master);
}

#[test]
fn help_shows_each_way_keepalived_runs_it_on_its_own_line() {
    let r = notify(&["--help"]);
    assert_eq!(r.code, Some(0));
    for line in [
        "\n    ka-notify [OPTIONS]\n",
        "\n    ka-notify [OPTIONS] --instance VI_1 MASTER\n",
        "\n    ka-notify fifo [OPTIONS]\n",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in:\n{}", r.stdout);
    }
}
