//! Verdicts reach journald as structured entries; a journald that does not read cannot
//! hold a check past its deadline.

use std::collections::HashMap;
use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

/// A journal socket bound by the test, and the directory holding it.
struct FakeJournal {
    socket: UnixDatagram,
    path: std::path::PathBuf,
}

impl FakeJournal {
    fn bind(name: &str) -> FakeJournal {
        let dir = std::env::temp_dir().join(format!("kc-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("socket");
        let socket = UnixDatagram::bind(&path).expect("bind journal socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        FakeJournal { socket, path }
    }

    /// Runs check-tcp as keepalived would (stdio on /dev/null, no --log option) with this
    /// socket as its journal.
    fn run_like_keepalived(&self, args: &[&str]) -> std::process::ExitStatus {
        self.run_program_like_keepalived("check-tcp", args)
    }

    /// As [`Self::run_like_keepalived`], for any of our programs.
    fn run_program_like_keepalived(
        &self,
        program: &str,
        args: &[&str],
    ) -> std::process::ExitStatus {
        command(program)
            .args(args)
            .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", &self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run")
    }

    /// Receives one entry and parses the native protocol into fields.
    fn entry(&self) -> HashMap<String, String> {
        let mut buf = vec![0u8; 65536];
        let n = self.socket.recv(&mut buf).expect("a journal entry");
        parse_entry(&buf[..n])
    }
}

impl Drop for FakeJournal {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `KEY=value\n`, or `KEY\n` + u64 LE length + value + `\n`.
fn parse_entry(mut data: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    while !data.is_empty() {
        let nl = data.iter().position(|&b| b == b'\n').expect("newline");
        let head = &data[..nl];
        if let Some(eq) = head.iter().position(|&b| b == b'=') {
            fields.insert(
                String::from_utf8_lossy(&head[..eq]).into_owned(),
                String::from_utf8_lossy(&head[eq + 1..]).into_owned(),
            );
            data = &data[nl + 1..];
        } else {
            let len_bytes: [u8; 8] = data[nl + 1..nl + 9].try_into().expect("length");
            let len = usize::try_from(u64::from_le_bytes(len_bytes)).expect("len");
            let value = &data[nl + 9..nl + 9 + len];
            fields.insert(
                String::from_utf8_lossy(head).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            );
            data = &data[nl + 9 + len + 1..];
        }
    }
    fields
}

#[test]
fn unhealthy_verdict_is_a_structured_warning_in_the_journal() {
    let journal = FakeJournal::bind("unhealthy");
    let port = refused_port();
    let status = journal.run_like_keepalived(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(status.code(), Some(1));
    let e = journal.entry();
    assert_eq!(e["SYSLOG_IDENTIFIER"], "check-tcp");
    assert_eq!(e["PRIORITY"], "4");
    assert_eq!(e["CHECK"], "check-tcp");
    assert_eq!(e["TARGET"], format!("127.0.0.1:{port}"));
    assert_eq!(e["VERDICT"], "unhealthy");
    assert_eq!(e["STAGE"], "connect");
    assert_eq!(e["REASON"], "connect: connection refused");
    assert_eq!(
        e["MESSAGE"],
        format!("TCP CRITICAL - 127.0.0.1:{port} connect: connection refused")
    );
    assert!(
        !e.contains_key("RTT"),
        "no round trip on a refused connect: {e:?}"
    );
}

#[test]
fn healthy_verdict_carries_rtt_and_the_text_line_even_with_json_output() {
    let journal = FakeJournal::bind("healthy");
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run_command(
        command("check-tcp")
            .args([&peer.to_string(), "--format", "json", "--log", "journald"])
            .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", &journal.path),
    );
    assert_eq!(r.code, Some(0));
    assert!(r.line().starts_with('{'));
    let e = journal.entry();
    assert_eq!(e["PRIORITY"], "6");
    assert_eq!(e["VERDICT"], "healthy");
    assert!(
        e["MESSAGE"].starts_with(&format!("TCP OK - {peer} connected in ")),
        "{e:?}"
    );
    let rtt: f64 = e["RTT"].parse().expect("rtt in seconds");
    assert!(rtt > 0.0 && rtt < 1.0, "{rtt}");
}

#[test]
fn bad_arguments_are_logged_as_errors() {
    let journal = FakeJournal::bind("usage");
    let status = journal.run_like_keepalived(&["--bogus"]);
    assert_eq!(status.code(), Some(1));
    let e = journal.entry();
    assert_eq!(e["PRIORITY"], "3");
    assert_eq!(e["VERDICT"], "error");
    assert!(
        e["MESSAGE"].contains("bad arguments: unexpected argument '--bogus'"),
        "{e:?}"
    );
}

#[test]
fn a_journal_that_never_reads_cannot_delay_the_check() {
    // The socket's queue holds a handful of datagrams; -vv produces many more.
    let journal = FakeJournal::bind("stuck");
    let peer = tcp_peer("127.0.0.1:0", endless);
    let r = run_command(
        command("check-tcp")
            .args([
                &peer.to_string(),
                "-vv",
                "-e",
                "ZZZ",
                "--log",
                "journald",
                "-t",
                "500ms",
            ])
            .env("KEEPALIVED_CHECKS_JOURNAL_SOCKET", &journal.path),
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.line()
            .contains("match: expected \"ZZZ\" not in the first 65536 bytes"),
        "{r:#?}"
    );
    assert_ended_by(&r, Duration::from_millis(500));
}

#[test]
fn ka_notify_logs_each_event_and_action_with_fields() {
    let journal = FakeJournal::bind("ka-notify");
    let state_dir = journal.path.with_file_name("state");
    let sd = state_dir.to_string_lossy().into_owned();
    let status = journal.run_program_like_keepalived(
        "ka-notify",
        &[
            "--state-dir",
            &sd,
            "--on-master",
            "/bin/true",
            "INSTANCE",
            "VI_1",
            "MASTER",
            "100",
        ],
    );
    assert_eq!(status.code(), Some(0));
    let action = journal.entry();
    assert_eq!(action["SYSLOG_IDENTIFIER"], "ka-notify");
    assert_eq!(action["ACTION"], "hook /bin/true");
    assert_eq!(action["RESULT"], "ok");
    let event = journal.entry();
    assert_eq!(event["EVENT_TYPE"], "INSTANCE");
    assert_eq!(event["NAME"], "VI_1");
    assert_eq!(event["STATE"], "MASTER");
    assert_eq!(
        event["PRIORITY"], "6",
        "the journal's PRIORITY is the syslog level"
    );
    assert_eq!(event["RESULT"], "ok");
    assert!(
        event["MESSAGE"].starts_with("INSTANCE VI_1 -> MASTER (priority 100): recorded"),
        "{event:?}"
    );
}
