//! check-rtsp against GStreamer's RTSP server and against a fault-injecting RTSP peer.

use std::time::Duration;

use crate::support::peers::{fault_peer, fault_peer_on, rtsp_server};
use crate::support::*;

#[test]
fn gstreamer_options_and_describe_on_the_open_stream() {
    let server = rtsp_server("digest");
    let url = format!("rtsp://127.0.0.1:{}/test", server.port);
    let r = run("check-rtsp", &[&url]);
    assert_line(&r, 0, &format!("RTSP OK - {url} 200 OK in "), &["| time="]);
    let r = run("check-rtsp", &[&url, "--describe", "-t", "3s"]);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["200 OK, DESCRIBE 200 OK with 1 media (video) in "],
    );
    let r = run(
        "check-rtsp",
        &[&url, "--describe", "--format", "json", "-t", "3s"],
    );
    let v = r.json();
    assert_eq!(v["details"]["media"], "video");
    assert_eq!(v["details"]["server"], "GStreamer RTSP server");
    // The seed script's form: a bare host and port.
    let r = run("check-rtsp", &[&format!("127.0.0.1:{}", server.port)]);
    assert_line(&r, 0, "RTSP OK - ", &["200 OK in "]);
}

#[test]
fn gstreamer_missing_path_fails_describe_with_404() {
    let server = rtsp_server("basic");
    let url = format!("rtsp://127.0.0.1:{}/not-published", server.port);
    let r = run("check-rtsp", &[&url, "--describe"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 404 Not Found"],
    );
}

#[test]
fn gstreamer_credentials_basic_and_digest() {
    for method in ["basic", "digest"] {
        let server = rtsp_server(method);
        let port = server.port;
        let scheme = if method == "basic" { "Basic" } else { "Digest" };

        let r = run(
            "check-rtsp",
            &[&format!("rtsp://127.0.0.1:{port}/secure"), "--describe"],
        );
        assert_line(
            &r,
            1,
            "RTSP CRITICAL - ",
            &[&format!(
                "match: DESCRIBE 401 Unauthorized; the server asks for {scheme} authentication"
            )],
        );

        let good = format!("rtsp://user:secret@127.0.0.1:{port}/secure");
        let r = run("check-rtsp", &[&good, "--describe", "-t", "3s"]);
        assert_line(
            &r,
            0,
            &format!("RTSP OK - rtsp://user:***@127.0.0.1:{port}/secure "),
            &["DESCRIBE 200 OK"],
        );
        assert!(!r.stdout.contains("secret"), "{method}: {}", r.stdout);

        let bad = format!("rtsp://user:wrong@127.0.0.1:{port}/secure");
        let r = run("check-rtsp", &[&bad, "--describe"]);
        assert_line(
            &r,
            1,
            "RTSP CRITICAL - rtsp://user:***@",
            &["DESCRIBE 401 Unauthorized; the server refused the credentials for user 'user'"],
        );
    }
}

#[test]
fn credentials_file_keeps_the_password_out_of_argv_and_logs() {
    let server = rtsp_server("digest");
    let dir = std::env::temp_dir().join(format!("kc-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("credentials");
    std::fs::write(&file, "user:secret\n").expect("write");
    let url = format!("rtsp://127.0.0.1:{}/secure", server.port);
    let file_arg = file.to_string_lossy().into_owned();
    let r = run(
        "check-rtsp",
        &[
            &url,
            "--describe",
            "--credentials-file",
            &file_arg,
            "-vv",
            "--log",
            "stderr",
            "-t",
            "3s",
        ],
    );
    assert_line(&r, 0, "RTSP OK - ", &["DESCRIBE 200 OK"]);
    assert!(
        r.stderr.contains("Authorization: <redacted>"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("secret") && !r.stderr.contains("response=\""),
        "{}",
        r.stderr
    );

    std::fs::write(&file, "no colon here\n").expect("write");
    let r = run("check-rtsp", &[&url, "--credentials-file", &file_arg]);
    assert_line(
        &r,
        1,
        "RTSP UNKNOWN - ",
        &["the first line must be USER:PASSWORD"],
    );
    let r = run(
        "check-rtsp",
        &[&url, "--credentials-file", "/nonexistent/creds"],
    );
    assert_line(
        &r,
        1,
        "RTSP UNKNOWN - ",
        &["cannot read --credentials-file /nonexistent/creds"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn accept_401_treats_auth_required_as_alive() {
    let peer = fault_peer("rtsp", "tcp", "ok");
    let url = format!("rtsp://127.0.0.1:{}/live", peer.port);
    // A 2xx is outside "401" alone: the list replaces the default.
    let r = run("check-rtsp", &[&url, "--accept", "401"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: OPTIONS 200 OK (accepted: 401)"],
    );
    let server = rtsp_server("basic");
    let secure = format!("rtsp://127.0.0.1:{}/secure", server.port);
    let r = run("check-rtsp", &[&secure, "--accept", "2xx,401"]);
    assert_line(&r, 0, "RTSP OK - ", &["200 OK in "]);
}

/// check-rtsp with --describe against a fault peer showing `behaviour`.
fn against(behaviour: &str, extra: &[&str]) -> Run {
    let peer = fault_peer("rtsp", "tcp", behaviour);
    let url = format!("rtsp://127.0.0.1:{}/live", peer.port);
    let mut args = vec![url.as_str(), "--describe"];
    args.extend_from_slice(extra);
    run("check-rtsp", &args)
}

#[test]
fn fault_peer_healthy_baseline() {
    let r = against("ok", &[]);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["200 OK, DESCRIBE 200 OK with 1 media (video)"],
    );
}

#[test]
fn silence_slow_bytes_and_partial_replies_end_at_the_deadline() {
    for (behaviour, why) in [
        ("silence", "receive: timed out after 400.0 ms while waiting for the OPTIONS reply"),
        ("slow", "receive: timed out after 400.0 ms while waiting for the rest of a reply: \"RTSP"),
        ("truncated", "receive: timed out after 400.0 ms while waiting for the rest of a reply: \"RTSP/1.0 200 OK\\r\\nCSeq: 1\\r\\n\""),
        ("short-body", "receive: timed out after 400.0 ms while waiting for the rest of a reply: \"RTSP/1.0 200 OK\\r\\nCSeq: 2"),
    ] {
        let r = against(behaviour, &["-t", "400ms"]);
        assert_line(&r, 1, "RTSP CRITICAL - ", &[why]);
        assert_ended_by(&r, Duration::from_millis(400));
    }
}

#[test]
fn wrong_answers_fail_at_once_naming_what_was_wrong() {
    for (behaviour, stage_and_why) in [
        (
            "503",
            "match: OPTIONS 503 Service Unavailable (accepted: 2xx)",
        ),
        (
            "wrong-cseq",
            "match: OPTIONS reply 200 OK has CSeq 11, expected CSeq 1",
        ),
        (
            "rtsp2",
            "parse: RTSP/2.0 reply to an RTSP/1.0 OPTIONS: 200 OK",
        ),
        (
            "garbage",
            "parse: not an RTSP message: \"\\x00\\x01\\x02 this is not RTSP",
        ),
        (
            "endless-headers",
            "parse: oversized: no end of headers in 65536 bytes",
        ),
        (
            "close",
            "receive: connection closed without a reply to OPTIONS",
        ),
        ("reset", "receive: connection reset by peer"),
        (
            "no-sdp",
            "match: DESCRIBE 200 but Content-Type is text/plain, not application/sdp",
        ),
        (
            "no-media",
            "match: DESCRIBE 200 but the 33-byte SDP has no m= line: stream not published?",
        ),
    ] {
        let r = against(behaviour, &["-t", "5s"]);
        assert_line(&r, 1, "RTSP CRITICAL - ", &[stage_and_why]);
        assert!(r.elapsed < Duration::from_secs(3), "{behaviour}: {r:#?}");
    }
}

#[test]
fn ipv6_target() {
    let peer = fault_peer_on("rtsp", "tcp", "ok", "[::1]:0");
    let url = format!("rtsp://[::1]:{}/live", peer.port);
    let r = run("check-rtsp", &[&url, "--describe"]);
    assert_line(&r, 0, &format!("RTSP OK - {url} "), &[]);
}

#[test]
fn bad_urls_and_options_exit_1() {
    for (args, why) in [
        (vec!["http://127.0.0.1/"], "scheme 'http' is not 'rtsp'"),
        (
            vec!["rtsp://127.0.0.1/", "--insecure"],
            "applies to TLS only",
        ),
        (
            vec!["rtsp://127.0.0.1:554", "--describe"],
            "--describe needs the stream's path",
        ),
        (
            vec!["rtsp://u:p@127.0.0.1/x", "--credentials-file", "/dev/null"],
            "both the URL and --credentials-file",
        ),
        (
            vec!["rtsp://127.0.0.1/x", "--accept", "nope"],
            "invalid value 'nope'",
        ),
    ] {
        let r = run("check-rtsp", &args);
        assert_line(&r, 1, "RTSP UNKNOWN - ", &[why]);
        assert!(!r.stdout.contains(":p@"), "{}", r.stdout);
    }
}

#[test]
fn passwords_never_reach_stdout_or_the_log_in_any_spelling() {
    let port = refused_port();
    for url in [
        format!("admin:secret@127.0.0.1:{port}/x"),
        format!("rtsp://admin:secret@127.0.0.1:{port}/x"),
        format!("rtsp://admin:s%65cret@127.0.0.1:{port}/x"),
    ] {
        for format in ["text", "json"] {
            let r = run(
                "check-rtsp",
                &[&url, "-v", "--log", "stderr", "--format", format],
            );
            assert_eq!(r.code, Some(1), "{url}: {r:#?}");
            for out in [&r.stdout, &r.stderr] {
                assert!(
                    !out.contains("secret") && !out.contains("%65"),
                    "{url}: {out}"
                );
                assert!(out.contains("admin:***@127.0.0.1"), "{url}: {out}");
            }
        }
    }
    // A URL that does not parse is masked too (a '/' in the password included).
    for url in ["admin:secret@127.0.0.1:0/x", "rtsp://admin:se/cret@[zz/x"] {
        let r = run("check-rtsp", &[url]);
        assert_eq!(r.code, Some(1));
        assert!(
            !r.stdout.contains("secret") && !r.stdout.contains("cret"),
            "{}",
            r.stdout
        );
        assert!(!r.stderr.contains("cret"), "{}", r.stderr);
    }
}

#[test]
fn vlc_401_without_cseq_is_answered_and_a_wrong_cseq_still_fails() {
    let peer = fault_peer("rtsp", "tcp", "vlc-401");
    let url = format!("rtsp://user:secret@127.0.0.1:{}/live", peer.port);
    let r = run("check-rtsp", &[&url, "--describe", "-v", "--log", "stderr"]);
    assert_line(&r, 0, "RTSP OK - ", &["DESCRIBE 200 OK"]);
    assert!(
        r.stderr.contains("has no CSeq; taken as the answer"),
        "{}",
        r.stderr
    );
    let wrong = format!("rtsp://user:wrong@127.0.0.1:{}/live", peer.port);
    let r = run("check-rtsp", &[&wrong]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["refused the credentials for user 'user'"],
    );
    let r = against("wrong-cseq", &[]);
    assert_line(&r, 1, "RTSP CRITICAL - ", &["expected CSeq 1"]);
}

// --- rtsps:// against GStreamer's RTSP server with a certificate -------------------------

mod tls {
    use crate::support::peers::rtsps_server;
    use crate::support::tls::Pki;
    use crate::support::*;

    #[test]
    fn gstreamer_over_tls_options_describe_and_digest() {
        let pki = Pki::new("rtsps");
        let server = rtsps_server("digest", &pki.server);
        let ca = pki.ca_file();
        let url = format!("rtsps://127.0.0.1:{}/test", server.port);
        let r = run("check-rtsp", &[&url, "--ca-file", &ca]);
        assert_line(
            &r,
            0,
            &format!("RTSP OK - {url} 200 OK in "),
            &[" | time=", " cert_days="],
        );
        let r = run(
            "check-rtsp",
            &[&url, "--ca-file", &ca, "--describe", "-t", "3s"],
        );
        assert_line(
            &r,
            0,
            "RTSP OK - ",
            &["DESCRIBE 200 OK with 1 media (video) in "],
        );
        let secure = format!("rtsps://user:secret@127.0.0.1:{}/secure", server.port);
        let r = run(
            "check-rtsp",
            &[
                &secure,
                "--ca-file",
                &ca,
                "--describe",
                "-t",
                "3s",
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, Some(0), "{r:#?}");
        let v = r.json();
        assert_eq!(v["details"]["media"], "video");
        assert_eq!(v["details"]["tls_verified"], "yes");
        assert!(!r.stdout.contains("secret"), "{}", r.stdout);
        // Without the test CA the certificate is not trusted.
        assert_line(
            &run("check-rtsp", &[&url]),
            1,
            "RTSP CRITICAL - ",
            &["handshake: certificate of 127.0.0.1 not signed by a trusted CA"],
        );
    }

    #[test]
    fn tls_options_without_rtsps_are_refused() {
        let r = run(
            "check-rtsp",
            &["rtsp://127.0.0.1/x", "--sni", "cam.example"],
        );
        assert_line(
            &r,
            1,
            "RTSP UNKNOWN",
            &["--sni applies to TLS only (use an rtsps:// URL)"],
        );
    }
}
