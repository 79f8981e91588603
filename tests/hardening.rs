//! What a hostile local user, a broken file or an unlucky moment does to the programs
//! (issue 10): state files root can trust, bounded reads, event order, signals at start.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_checks::state::VrrpState;

use crate::support::*;

fn notify(args: &[&str]) -> Run {
    run_bounded(command("ka-notify").args(args), Duration::from_secs(10))
}

/// check-tcp gated on `name`'s state in `state_dir`, against a port nothing answers on
/// (it never gets that far here), with a 500 ms deadline, killed if it hangs.
fn gated_check(state_dir: &str, name: &str) -> Run {
    let args = [
        "127.0.0.1:1",
        "--only-if-master",
        name,
        "--state-dir",
        state_dir,
    ];
    run_bounded(
        command("check-tcp").args(args).args(["--timeout", "500ms"]),
        Duration::from_secs(5),
    )
}

/// Hands ka-notify `name -> state` and asserts that it was recorded.
#[track_caller]
fn recorded(state_dir: &str, name: &str, state: &str, priority: &str) {
    let r = notify(&["--state-dir", state_dir, "INSTANCE", name, state, priority]);
    let line = format!("ka-notify: INSTANCE {name} -> {state} (priority {priority}): recorded");
    assert_line(&r, 0, &line, &[]);
}

/// Replaces the line starting `key=` in `file` with `key=value`.
fn edit(file: &Path, key: &str, value: &str) {
    let text = fs::read_to_string(file).expect("record");
    let edited: String = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key}=")) {
                format!("{key}={value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(text, edited, "{key}= in {text}");
    fs::write(file, edited).expect("write record");
}

#[test]
fn root_never_writes_through_a_link_planted_at_a_temp_name() {
    // The state directory is as open as /tmp (sticky, world-writable): someone plants
    // links to a file they cannot write at every temp name ka-notify used to choose
    // (".VI_1.instance.<pid>.tmp") for the next few thousand PIDs.
    let s = Scratch::new("planted");
    let dir = s.path("state");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = s.path("shadow");
    fs::write(&victim, "root:secret\n").unwrap();
    let first = std::process::id();
    for pid in first..first + 3000 {
        std::os::unix::fs::symlink(&victim, dir.join(format!(".VI_1.instance.{pid}.tmp"))).unwrap();
    }
    recorded(&s.state_dir(), "VI_1", "MASTER", "100");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root:secret\n");
    assert_eq!(s.state("VI_1").state, VrrpState::Master);
}

#[test]
fn a_state_directory_others_could_write_is_refused_by_every_program() {
    let s = Scratch::new("untrusted");
    let dir = s.path("state");
    fs::create_dir_all(&dir).unwrap();
    let sd = s.state_dir();
    let link = s.path("link").to_string_lossy().into_owned();
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let owned_by_nobody = |yes: bool| {
        let c = std::ffi::CString::new(sd.as_bytes()).unwrap();
        let uid = if yes { 65534 } else { 0 };
        // SAFETY: chown with a NUL-terminated path; the tests run as root (CI does).
        assert_eq!(
            unsafe { libc::chown(c.as_ptr(), uid, uid) },
            0,
            "chown needs root"
        );
    };
    for (mode, nobody, why) in [
        (
            0o777,
            false,
            "writable by everyone without the sticky bit (mode 0777)",
        ),
        (
            0o775,
            false,
            "writable by its group without the sticky bit (mode 0775)",
        ),
        (
            0o755,
            true,
            "owned by uid 65534, neither root nor this user",
        ),
    ] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        owned_by_nobody(nobody);
        for given in [&sd, &link] {
            let r = notify(&["--state-dir", given, "INSTANCE", "VI_1", "MASTER", "100"]);
            assert_line(
                &r,
                1,
                "ka-notify: INSTANCE VI_1 -> MASTER (priority 100): FAILED: state directory ",
                &[why, "refused"],
            );
            let r = notify(&["status", "--state-dir", given]);
            assert_eq!(r.code, Some(1), "{r:#?}");
            assert!(r.stdout.contains(why), "{r:#?}");
            let r = gated_check(given, "VI_1");
            assert_line(
                &r,
                1,
                "TCP UNKNOWN - ",
                &["--only-if-master VI_1: state directory", why],
            );
        }
        // Through the link the message names the directory that failed.
        let r = notify(&["status", "--state-dir", &link]);
        assert!(
            r.stdout
                .contains(&format!("state directory {link}: {sd} is ")),
            "{r:#?}"
        );
        owned_by_nobody(false);
    }
    assert!(
        fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn a_record_with_an_impossible_time_is_corrupt_not_a_panic() {
    let s = Scratch::new("time");
    let sd = s.state_dir();
    let record = s.path("state").join("VI_1.instance");
    for secs in ["18446744073709551615", "253402300800"] {
        recorded(&sd, "VI_1", "MASTER", "100");
        edit(&record, "unix_time", secs);
        // The gate: not MASTER as far as it can tell, and why.
        let r = gated_check(&sd, "VI_1");
        assert_line(&r, 0, "TCP SKIPPED - ", &["corrupt: bad unix_time="]);
        // status says which file is unusable.
        let r = notify(&["status", "--state-dir", &sd]);
        assert_eq!(r.code, Some(1), "{r:#?}");
        assert!(r.stdout.contains("corrupt: bad unix_time="), "{r:#?}");
        // The next event replaces it, as any corrupt record.
        recorded(&sd, "VI_1", "BACKUP", "90");
        assert_eq!(s.state("VI_1").state, VrrpState::Backup);
    }
    // FIFO mode carries on past such a record: the lines after it are handled too.
    edit(&record, "unix_time", "18446744073709551615");
    let fifo = s.path("notify.fifo");
    mkfifo(&fifo);
    let child = command("ka-notify")
        .args(["fifo", "--state-dir", &sd, &fifo.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open fifo")
        .write_all(b"INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_2\" MASTER 100\n")
        .expect("write");
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.state("VI_1").state, VrrpState::Master);
    assert_eq!(s.state("VI_2").state, VrrpState::Master);
}

#[test]
fn a_fifo_or_a_device_in_place_of_a_record_never_blocks() {
    // Before, a FIFO there blocked ka-notify forever (holding the lock) and a check's gate
    // past its deadline; /dev/zero grew ka-notify to a gigabyte.
    let s = Scratch::new("fifo-record");
    let sd = s.state_dir();
    recorded(&sd, "VI_0", "MASTER", "100");
    let dir = s.path("state");
    mkfifo(&dir.join("VI_1.instance"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("VI_2.instance")).unwrap();
    let cases = [
        ("VI_1", "it is a FIFO, not a regular file (refused)"),
        ("VI_2", "it is a symbolic link (refused)"),
    ];
    for (name, why) in cases {
        // The gate, within the check's deadline, says why it skipped.
        let r = gated_check(&sd, name);
        assert_line(&r, 0, "TCP SKIPPED - ", &["corrupt", why]);
    }
    // status lists both as unusable and still shows the good record.
    let r = notify(&["status", "--state-dir", &sd]);
    assert_eq!(r.code, Some(1), "{r:#?}");
    assert!(
        r.stdout.contains("VI_0") && r.stdout.contains("a FIFO"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("symbolic link"), "{r:#?}");
    // Neither can be a record ka-notify wrote (anyone may plant one in a sticky
    // directory): the next event replaces it, at once.
    for (name, _) in cases {
        recorded(&sd, name, "MASTER", "100");
        assert_eq!(s.state(name).state, VrrpState::Master);
    }
    let r = notify(&["status", "--state-dir", &sd]);
    assert_eq!(r.code, Some(0), "{r:#?}");
}

#[test]
fn a_credentials_file_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let s = Scratch::new("credentials");
    let fifo = s.path("credentials.fifo");
    mkfifo(&fifo);
    let url = format!("rtsp://127.0.0.1:{}/x", refused_port());
    for (file, why) in [
        (
            fifo.to_string_lossy().into_owned(),
            "it is a FIFO, not a regular file",
        ),
        (
            "/dev/zero".to_string(),
            "it is a device, not a regular file",
        ),
    ] {
        let r = run_bounded(
            command("check-rtsp").args([&url, "--credentials-file", &file, "--timeout", "2s"]),
            Duration::from_secs(10),
        );
        assert_line(
            &r,
            1,
            "RTSP UNKNOWN - ",
            &["cannot read --credentials-file", why],
        );
        assert!(r.elapsed < Duration::from_secs(1), "{r:#?}");
    }
}

#[test]
fn a_record_from_the_future_or_another_boot_never_holds_events_back() {
    let s = Scratch::new("future");
    let sd = s.state_dir();
    let record = s.path("state").join("VI_1.instance");
    // A hand-edited sequence far ahead of this boot's clock.
    recorded(&sd, "VI_1", "MASTER", "100");
    edit(&record, "seq", "18446744073709551615.1");
    recorded(&sd, "VI_1", "BACKUP", "90");
    assert_eq!(s.state("VI_1").state, VrrpState::Backup);
    // A record from another boot (a state directory on persistent storage), however
    // large its numbers, and one from before boot ids were recorded.
    for other in [Some("0123456789abcdef0123456789abcdef"), None] {
        let big = "999999999999999999.4194303";
        edit(&record, "seq", big);
        match other {
            Some(id) => edit(&record, "boot_id", id),
            None => {
                let text = fs::read_to_string(&record).unwrap();
                let kept: String = text
                    .lines()
                    .filter(|l| !l.starts_with("boot_id="))
                    .map(|l| format!("{l}\n"))
                    .collect();
                fs::write(&record, kept).unwrap();
            }
        }
        recorded(&sd, "VI_1", "MASTER", "100");
        assert_eq!(s.state("VI_1").state, VrrpState::Master);
    }
}

#[test]
fn expect_against_an_endless_peer_costs_linear_time() {
    // 16 MiB arrive from loopback in milliseconds; searching all of it again after each
    // read used to take longer than the deadline.
    let peer = tcp_peer("127.0.0.1:0", endless);
    let r = run_bounded(
        command("check-tcp").args([
            &peer.to_string(),
            "--expect",
            "NEVER-THERE",
            "--max-bytes",
            "16777216",
            "--timeout",
            "3s",
        ]),
        Duration::from_secs(10),
    );
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["not in the first 16777216 bytes"],
    );
}

/// Whether process `pid` has SIGTERM blocked, from /proc/PID/status.
fn blocks_sigterm(pid: u32) -> Option<bool> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mask = status.lines().find_map(|l| l.strip_prefix("SigBlk:"))?;
    let mask = u64::from_str_radix(mask.trim(), 16).ok()?;
    Some(mask & (1 << (libc::SIGTERM - 1)) != 0)
}

#[test]
fn sigterm_is_blocked_before_any_code_of_the_program_runs() {
    // The first code a program runs is its .preinit_array, called by the dynamic loader
    // before libc's and std's initialisers and before main. Before that only the kernel's
    // exec and the loader run, which no program can shorten (about 0.4-0.9 ms here, for a
    // C program too); from there on a SIGTERM waits in the signalfd.
    for program in ["check-tcp", "check-sip", "check-rtsp"] {
        let out = Command::new("readelf")
            .args(["-d", bin(program)])
            .output()
            .expect("readelf (binutils)");
        let dynamic = String::from_utf8_lossy(&out.stdout);
        assert!(
            dynamic.contains("(PREINIT_ARRAY)"),
            "{program}: no .preinit_array:\n{dynamic}"
        );
    }
    // Once blocked, whenever SIGTERM comes in the next 5 ms (start-up, runtime, connect,
    // waiting), the check ends with exit 1 and its status line, never by the signal.
    let hole = blackhole();
    let target = hole.addr.to_string();
    let mut by_signal = Vec::new();
    for i in 0..200u64 {
        let child = command("check-tcp")
            .args([&target, "--timeout", "5s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        while blocks_sigterm(child.id()) != Some(true) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "SIGTERM never blocked"
            );
            std::hint::spin_loop();
        }
        std::thread::sleep(Duration::from_micros(i * 25));
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = wait_bounded(child, Duration::from_secs(5));
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.code() != Some(1) || !line.contains("terminated by SIGTERM") {
            by_signal.push(format!("{}us: {:?} {line:?}", i * 25, out.status));
        }
    }
    assert!(
        by_signal.is_empty(),
        "{} of 200: {by_signal:?}",
        by_signal.len()
    );
}

/// Runs `args` inside a new network namespace with only loopback up, removed after.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("kc-{tag}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip");
        assert!(ok.success(), "ip netns add (needs root)");
        let ns = Netns(name);
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, program]);
        cmd.env(
            "KEEPALIVED_CHECKS_JOURNAL_SOCKET",
            "/nonexistent/journal-socket",
        );
        cmd
    }

    fn exec(&self, argv: &[&str]) {
        let out = self
            .command(argv[0])
            .args(&argv[1..])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn sends_the_local_firewall_refuses_are_retried_not_a_verdict() {
    // An nftables rule in the output path refuses two datagrams of every three: sendto
    // fails with EPERM. The third transmission passes, and Kamailio answers it.
    let ns = Netns::new("eperm");
    let kamailio = peers::kamailio_in(Some(&ns.0));
    ns.exec(&["nft", "add", "table", "inet", "kc"]);
    ns.exec(&[
        "nft",
        "add chain inet kc out { type filter hook output priority 0 ; }",
    ]);
    let rule = format!(
        "add rule inet kc out udp dport {} numgen inc mod 3 < 2 drop",
        kamailio.port
    );
    let uri = format!("sip:127.0.0.1:{}", kamailio.port);
    for _ in 0..5 {
        // A fresh counter for each run, so that a slow run cannot shift the next.
        ns.exec(&["nft", "flush chain inet kc out"]);
        ns.exec(&["nft", &rule]);
        let r = run_command(ns.command(bin("check-sip")).args([
            &uri,
            "--timeout",
            "1s",
            "--format",
            "json",
        ]));
        assert_eq!(r.code, Some(0), "{r:#?}");
        let v = r.json();
        assert_eq!(v["details"]["sent"].as_str(), Some("3"), "{v}");
    }
}
