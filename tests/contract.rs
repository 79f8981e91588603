//! The contract every check keeps with keepalived: 0 healthy, 1 anything else; usage
//! errors are 1 with a message; the deadline is hard; SIGTERM ends the check with 1.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

/// Every check program and its status-line label.
const CHECKS: [(&str, &str); 3] = [
    ("check-tcp", "TCP"),
    ("check-sip", "SIP"),
    ("check-rtsp", "RTSP"),
];

#[test]
fn help_and_version_exit_0() {
    for (check, _) in CHECKS {
        let r = run(check, &["--help"]);
        assert_eq!(r.code, Some(0), "{check}");
        assert!(
            r.stdout.contains(&format!("Usage: {check}")),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("Exit status:"), "{}", r.stdout);
        let r = run(check, &["--version"]);
        assert_eq!(r.code, Some(0), "{check}");
        assert!(r.stdout.starts_with(&format!("{check} ")), "{}", r.stdout);
    }
}

#[test]
fn every_check_exits_1_on_usage_errors_and_a_bad_timeout() {
    for (check, label) in CHECKS {
        for args in [
            vec![],
            vec!["x", "--bogus"],
            vec!["x", "-t", "0s"],
            vec!["x", "--format", "xml"],
        ] {
            let r = run(check, &args);
            assert_line(&r, 1, &format!("{label} UNKNOWN - bad arguments: "), &[]);
        }
    }
}

#[test]
fn bad_arguments_exit_1_with_a_reason_never_2() {
    for (args, reason) in [
        (
            vec![],
            "bad arguments: the following required arguments were not provided",
        ),
        (
            vec!["127.0.0.1:22", "--bogus"],
            "bad arguments: unexpected argument '--bogus'",
        ),
        (
            vec!["127.0.0.1:22", "-t", "soon"],
            "bad arguments: invalid value 'soon' for '--timeout",
        ),
        (vec!["127.0.0.1:22", "-t", "0s"], "zero"),
        (
            vec!["127.0.0.1:22", "--format", "xml"],
            "invalid value 'xml'",
        ),
        (
            vec!["127.0.0.1:22", "--source", "nowhere"],
            "invalid value 'nowhere'",
        ),
        (vec!["127.0.0.1:22", "--send", "\\q"], "unknown escape"),
        (vec!["127.0.0.1:22", "--max-bytes", "0"], "--max-bytes"),
    ] {
        let r = run("check-tcp", &args);
        assert_eq!(r.code, Some(1), "{args:?}: {r:#?}");
        assert!(
            r.line().starts_with("TCP UNKNOWN - bad arguments: "),
            "{args:?}: {}",
            r.line()
        );
        assert!(r.line().contains(reason), "{args:?}: {}", r.line());
        // clap's full message, with its hint, still reaches a person on stderr.
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("--help"), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn bad_targets_exit_1_with_a_reason() {
    for (target, why) in [
        ("127.0.0.1", "missing port"),
        ("::1:22", "needs brackets"),
        ("http://127.0.0.1:80", "scheme 'http' is not 'tcp'"),
        ("127.0.0.1:99999", "1 to 65535"),
    ] {
        let r = run("check-tcp", &[target]);
        // Parsed with the other arguments: a usage error, before any probe or gate.
        let expected = format!("TCP UNKNOWN - bad arguments: bad target '{target}'");
        assert_line(&r, 1, &expected, &[why]);
    }
}

#[test]
fn default_timeout_ends_before_keepalived_default_of_one_second() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run("check-tcp", &[&peer.to_string(), "--expect", "never"]);
    assert_line(&r, 1, "TCP CRITICAL - ", &["timed out after 800.0 ms"]);
    assert!(r.elapsed < Duration::from_millis(1000), "{r:#?}");
}

/// Starts a check the way keepalived does: its own process group, stdio on /dev/null.
fn spawn_like_keepalived(args: &[&str]) -> Child {
    command("check-tcp")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn")
}

/// keepalived's timeout handling: SIGTERM to the group at `timeout`, SIGKILL 2 s later.
/// Returns the exit status keepalived would see.
fn wait_like_keepalived(mut child: Child, timeout: Duration) -> std::process::ExitStatus {
    let pgid = i32::try_from(child.id()).expect("pid");
    let started = Instant::now();
    let mut termed = false;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        let waited = started.elapsed();
        if waited >= timeout + Duration::from_secs(2) {
            // SAFETY: signalling the process group this test created.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        } else if waited >= timeout && !termed {
            // SAFETY: as above.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            termed = true;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn under_keepalived_a_healthy_check_exits_0_and_a_dead_one_1() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let child = spawn_like_keepalived(&[&peer.to_string()]);
    let status = wait_like_keepalived(child, Duration::from_secs(1));
    assert_eq!(status.code(), Some(0), "{status:?}");

    let port = refused_port();
    let child = spawn_like_keepalived(&[&format!("127.0.0.1:{port}")]);
    let status = wait_like_keepalived(child, Duration::from_secs(1));
    assert_eq!(status.code(), Some(1), "{status:?}");
}

#[test]
fn keepalived_sigterm_mid_check_gives_exit_1_not_a_signal_death() {
    // The check's own timeout is longer than keepalived's, as in a misconfiguration.
    let peer = tcp_peer("127.0.0.1:0", silent);
    let child = spawn_like_keepalived(&[&peer.to_string(), "-e", "x", "-t", "10s"]);
    let started = Instant::now();
    let status = wait_like_keepalived(child, Duration::from_millis(300));
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert_eq!(status.signal(), None);
    // Ended on SIGTERM, not on the later SIGKILL.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sigterm_reason_names_the_stage_it_interrupted() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let child = command("check-tcp")
        .args([&peer.to_string(), "-e", "x", "-t", "10s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(i32::try_from(child.id()).expect("pid"), libc::SIGTERM) };
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("TCP CRITICAL - ")
            && line.contains("receive: terminated by SIGTERM after ")
            && line.contains("while waiting for \"x\""),
        "{line}"
    );
}

fn misbehaving_probe() -> std::path::PathBuf {
    crate::support::peers::example("misbehaving_probe")
}

#[test]
fn a_panicking_probe_exits_1_not_101() {
    let r = run_command(
        std::process::Command::new(misbehaving_probe())
            .arg("panic")
            .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", "/nonexistent"),
    );
    assert_line(
        &r,
        1,
        "TEST UNKNOWN - internal error: bug: ",
        &["probe exploded"],
    );
}

#[test]
fn the_watchdog_ends_a_probe_that_blocks_the_runtime() {
    let r = run_command(
        std::process::Command::new(misbehaving_probe())
            .args(["block", "-t", "300ms"])
            .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", "/nonexistent"),
    );
    assert_line(
        &r,
        1,
        "TEST UNKNOWN - block internal error: deadline watchdog fired",
        &[],
    );
    assert_ended_by(&r, Duration::from_millis(300));
}

/// Runs `command` (a shell command line) on a pseudo-terminal, as a person would, and
/// returns what the terminal showed. `script` is util-linux's, on every Debian system.
fn on_a_terminal(command: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux runs the command on a pseudo-terminal");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_bad_argument_on_a_terminal_is_said_once() {
    let check = bin("check-tcp");
    let (code, shown) = on_a_terminal(&format!("{check} --timeout 5 127.0.0.1:1"));
    assert_eq!(code, Some(1), "{shown}");
    let said = shown.matches("'5' is not a duration").count();
    assert_eq!(said, 1, "said {said} times:\n{shown}");
    assert!(
        shown.contains("TCP UNKNOWN - bad arguments: invalid value '5'"),
        "{shown}"
    );
    assert!(
        shown.contains("--help"),
        "the usage hint is still there:\n{shown}"
    );
    let notify = bin("ka-notify");
    let (code, shown) = on_a_terminal(&format!("{notify} --action-timeout 5 MASTER"));
    assert_eq!(code, Some(1), "{shown}");
    assert_eq!(shown.matches("'5' is not a duration").count(), 1, "{shown}");
}

#[test]
fn nagios_statuses_for_bad_arguments_and_mismatches_are_as_documented() {
    // Bad arguments under an explicit --format nagios: UNKNOWN, 3, as check_tcp does.
    let r = run(
        "check-tcp",
        &["127.0.0.1:22", "--bogus", "--format", "nagios"],
    );
    assert_line(
        &r,
        3,
        "TCP UNKNOWN - bad arguments: unexpected argument '--bogus'",
        &[],
    );
    // ... unless --format itself is the typo: then the contract's 1.
    let r = run("check-tcp", &["127.0.0.1:22", "--format", "nagois"]);
    assert_line(&r, 1, "TCP UNKNOWN - bad arguments: ", &[]);
    // An --expect mismatch is CRITICAL (2), where check_tcp's default -M says WARNING (1):
    // a server that answers the wrong thing is down for a failover (see --help).
    let peer = tcp_peer("127.0.0.1:0", say_and_close(b"220 wrong service\r\n"));
    let r = run(
        "check-tcp",
        &[&peer.to_string(), "--expect", "SSH-", "--format", "nagios"],
    );
    assert_line(&r, 2, "TCP CRITICAL - ", &["expected \"SSH-\""]);
    let r = run("check-tcp", &["--help"]);
    assert!(
        r.stdout
            .contains("A mismatch is CRITICAL under --format nagios"),
        "{}",
        r.stdout
    );
}
