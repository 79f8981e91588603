//! check-tcp against real sockets: healthy, refused, silent, slow, endless, mismatch.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::*;

#[test]
fn healthy_listener_is_ok_with_rtt() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run("check-tcp", &[&peer.to_string()]);
    assert_line(
        &r,
        0,
        &format!("TCP OK - {peer} connected in "),
        &[" | time="],
    );
}

#[test]
fn refused_connection_is_critical_naming_the_stage() {
    let port = refused_port();
    let r = run("check-tcp", &[&format!("127.0.0.1:{port}")]);
    assert_line(&r, 1, "TCP CRITICAL - ", &["connect: connection refused"]);
}

#[test]
fn black_holed_connect_times_out_at_the_connect_stage() {
    let hole = blackhole();
    let r = run("check-tcp", &[&hole.addr.to_string(), "-t", "400ms"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &[&format!(
            "connect: timed out after 400.0 ms while connecting to {}",
            hole.addr
        )],
    );
    assert_ended_by(&r, Duration::from_millis(400));
}

#[test]
fn tcp_url_form_and_ipv6_literal_work() {
    let peer = tcp_peer("[::1]:0", silent);
    let r = run("check-tcp", &[&format!("tcp://[::1]:{}", peer.port())]);
    assert_line(&r, 0, "TCP OK - tcp://[::1]:", &["connected in"]);
    let r = run("check-tcp", &[&format!("[::1]:{}", peer.port())]);
    assert_line(&r, 0, "TCP OK - [::1]:", &["connected in"]);
}

#[test]
fn host_name_says_which_address_answered() {
    // localhost resolves to ::1 and/or 127.0.0.1; listen on both at one port when possible.
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let _v6 = TcpListener::bind(("::1", port));
    let r = run("check-tcp", &[&format!("localhost:{port}")]);
    assert_line(
        &r,
        0,
        &format!("TCP OK - localhost:{port} connected to "),
        &[],
    );
}

#[test]
fn name_that_does_not_resolve_fails_at_resolve() {
    let r = run("check-tcp", &["no-such-host.invalid:22", "-t", "2s"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - no-such-host.invalid:22 resolve: ",
        &["cannot resolve"],
    );
}

#[test]
fn silent_listener_times_out_at_the_deadline_while_expecting() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run(
        "check-tcp",
        &[&peer.to_string(), "-e", "SSH", "-t", "300ms"],
    );
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["receive: timed out after 300.0 ms while waiting for \"SSH\""],
    );
    assert_ended_by(&r, Duration::from_millis(300));
    // A timed-out probe still names the address it was talking to.
    let r = run(
        "check-tcp",
        &[
            &peer.to_string(),
            "-e",
            "SSH",
            "-t",
            "300ms",
            "--format",
            "json",
        ],
    );
    let v = r.json();
    assert_eq!(v["details"]["peer"], peer.to_string());
}

#[test]
fn slow_byte_sender_cannot_stretch_the_deadline() {
    let peer = tcp_peer(
        "127.0.0.1:0",
        slow_bytes(b"SSH-2.0-slowloris\r\n", Duration::from_millis(100)),
    );
    let r = run(
        "check-tcp",
        &[&peer.to_string(), "-e", "\\r\\n", "-t", "500ms"],
    );
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["receive: timed out after 500.0 ms", "bytes received"],
    );
    assert_ended_by(&r, Duration::from_millis(500));
}

#[test]
fn endless_sender_is_cut_off_at_max_bytes() {
    let peer = tcp_peer("127.0.0.1:0", endless);
    let r = run(
        "check-tcp",
        &[
            &peer.to_string(),
            "-e",
            "ZZZ",
            "--max-bytes",
            "4096",
            "-t",
            "5s",
        ],
    );
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &[
            "match: expected \"ZZZ\" not in the first 4096 bytes: \"AAAA",
            "(+",
        ],
    );
    // Ends on the byte cap, long before the 5 s deadline.
    assert!(r.elapsed < Duration::from_secs(4), "{r:#?}");
}

#[test]
fn banner_match_is_healthy_and_mismatch_is_critical() {
    let peer = tcp_peer("127.0.0.1:0", banner(b"SSH-2.0-OpenSSH_9.2\r\n"));
    let r = run("check-tcp", &[&peer.to_string(), "--expect", "SSH-2.0"]);
    assert_line(&r, 0, "TCP OK - ", &["matched \"SSH-2.0\" in ", "| time="]);

    let peer = tcp_peer("127.0.0.1:0", say_and_close(b"220 smtp ready\r\n"));
    let r = run("check-tcp", &[&peer.to_string(), "--expect", "SSH-2.0"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["match: expected \"SSH-2.0\", connection closed after 16 bytes: \"220 smtp ready\\r\\n\""],
    );
}

#[test]
fn close_without_reply_is_a_receive_failure() {
    let peer = tcp_peer("127.0.0.1:0", say_and_close(b""));
    let r = run("check-tcp", &[&peer.to_string(), "--expect", "x"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["receive: connection closed without a reply"],
    );
}

#[test]
fn send_with_escapes_reaches_the_wire() {
    let peer = tcp_peer("127.0.0.1:0", echo_line);
    let r = run(
        "check-tcp",
        &[
            &peer.to_string(),
            "--send",
            "PING 42\\r\\n",
            "--expect",
            "PING 42\\r\\n",
        ],
    );
    assert_line(&r, 0, "TCP OK - ", &["matched \"PING 42\\r\\n\""]);
}

#[test]
fn source_address_is_bound() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run("check-tcp", &[&peer.to_string(), "--source", "127.0.0.1"]);
    assert_line(&r, 0, "TCP OK - ", &[]);

    // An IPv4 target cannot be reached from an IPv6 source.
    let r = run("check-tcp", &[&peer.to_string(), "--source", "::1"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["resolve: no address of --source ::1's family"],
    );

    // An address this host does not have is a clear connect failure.
    let r = run("check-tcp", &[&peer.to_string(), "--source", "192.0.2.1"]);
    assert_line(
        &r,
        1,
        "TCP CRITICAL - ",
        &["connect: cannot bind --source 192.0.2.1"],
    );
}

#[test]
fn json_output_is_one_object_with_the_contract_fields() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run("check-tcp", &[&peer.to_string(), "--format", "json"]);
    assert_eq!(r.code, Some(0));
    let v = r.json();
    assert_eq!(v["check"], "check-tcp");
    assert_eq!(v["target"], peer.to_string());
    assert_eq!(v["verdict"], "healthy");
    assert_eq!(v["stage"], "done");
    assert!(v["rtt"].as_f64().expect("rtt") > 0.0);
    assert_eq!(v["details"]["peer"], peer.to_string());

    let port = refused_port();
    let r = run(
        "check-tcp",
        &[&format!("127.0.0.1:{port}"), "--format", "json"],
    );
    assert_eq!(r.code, Some(1));
    let v = r.json();
    assert_eq!(v["verdict"], "unhealthy");
    assert_eq!(v["stage"], "connect");
    assert_eq!(v["reason"], "connect: connection refused");
    assert!(v["rtt"].is_null());
}

#[test]
fn nagios_format_uses_0_2_3() {
    let peer = tcp_peer("127.0.0.1:0", silent);
    let r = run("check-tcp", &[&peer.to_string(), "--format", "nagios"]);
    assert_line(&r, 0, "TCP OK - ", &[]);
    let port = refused_port();
    let r = run(
        "check-tcp",
        &[&format!("127.0.0.1:{port}"), "--format", "nagios"],
    );
    assert_line(&r, 2, "TCP CRITICAL - ", &[]);
    let r = run("check-tcp", &["not a target", "--format", "nagios"]);
    assert_line(
        &r,
        3,
        "TCP UNKNOWN - bad arguments: bad target 'not a target'",
        &[],
    );
}

#[test]
fn verbose_logs_stages_and_bytes_on_stderr() {
    let peer = tcp_peer("127.0.0.1:0", echo_line);
    let r = run(
        "check-tcp",
        &[
            &peer.to_string(),
            "-vv",
            "--log",
            "stderr",
            "-s",
            "hi\\n",
            "-e",
            "hi",
        ],
    );
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert!(
        r.stderr.contains("DEBUG connect: connecting to 127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("TRACE sent 3 bytes: \"hi\\n\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("TRACE received 3 bytes: \"hi\\n\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("INFO TCP OK - "), "{}", r.stderr);
}

// --- --tls: a rustls server with certificates the test makes -------------------------

mod tls {
    use std::time::Duration;

    use crate::support::tls::{tls_peer, After, Pki};
    use crate::support::*;

    #[test]
    fn healthy_handshake_names_the_version_and_the_days_left() {
        let now_secs = || {
            let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            i64::try_from(since.expect("after 1970").as_secs()).expect("seconds")
        };
        // The certificate ends at midnight (UTC) 90 days from the day it is made.
        let made = now_secs();
        let pki = Pki::new("tcp-ok");
        let peer = tls_peer(pki.server_config(&pki.server, false), After::Hold);
        let r = run(
            "check-tcp",
            &[&peer.to_string(), "--tls", "--ca-file", &pki.ca_file()],
        );
        assert_line(
            &r,
            0,
            &format!("TCP OK - {peer} TLS handshake in "),
            &[" (TLSv1.3)", " | time=", " cert_days="],
        );
        let json = run(
            "check-tcp",
            &[
                &peer.to_string(),
                "--tls",
                "--ca-file",
                &pki.ca_file(),
                "--format",
                "json",
            ],
        );
        assert_eq!(json.code, Some(0), "{json:#?}");
        let v = json.json();
        assert_eq!(v["details"]["tls_version"], "TLSv1.3");
        assert_eq!(v["details"]["tls_verified"], "yes");
        let days: i64 = v["details"]["cert_days_left"]
            .as_str()
            .expect("days")
            .parse()
            .expect("number");
        // 89 whole days and a part are left, one fewer if a UTC midnight passed since.
        let midnights = now_secs() / 86_400 - made / 86_400;
        assert_eq!(days, 89 - midnights, "{v}");
        assert_eq!(
            v["details"]["cert_not_after"],
            keepalived_checks::tls::validity::date(made + 90 * 86_400),
            "{v}"
        );
    }

    #[test]
    fn send_and_expect_go_inside_tls() {
        let pki = Pki::new("tcp-echo");
        let peer = tls_peer(pki.server_config(&pki.server, false), After::EchoLine);
        let r = run(
            "check-tcp",
            &[
                &peer.to_string(),
                "--tls",
                "--ca-file",
                &pki.ca_file(),
                "--send",
                "PING inside\\n",
                "--expect",
                "inside",
            ],
        );
        assert_line(
            &r,
            0,
            &format!("TCP OK - {peer} matched \"inside\" over TLSv1.3 in "),
            &[],
        );
    }

    #[test]
    fn a_private_ca_is_not_trusted_without_ca_file() {
        let pki = Pki::new("tcp-unknown");
        let peer = tls_peer(pki.server_config(&pki.server, false), After::Hold);
        let r = run("check-tcp", &[&peer.to_string(), "--tls"]);
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &["handshake: certificate of 127.0.0.1 not signed by a trusted CA"],
        );
    }

    #[test]
    fn insecure_skips_verification_and_says_so() {
        let pki = Pki::new("tcp-insecure");
        let peer = tls_peer(pki.server_config(&pki.expired, false), After::Hold);
        let r = run("check-tcp", &[&peer.to_string(), "--tls", "--insecure"]);
        assert_line(
            &r,
            0,
            "TCP OK - ",
            &["TLS handshake in ", "(TLSv1.3) (certificate not verified)"],
        );
    }

    #[test]
    fn a_name_mismatch_says_what_the_certificate_names() {
        let pki = Pki::new("tcp-name");
        let peer = tls_peer(pki.server_config(&pki.other_name, false), After::Hold);
        let r = run(
            "check-tcp",
            &[&peer.to_string(), "--tls", "--ca-file", &pki.ca_file()],
        );
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &[
                "handshake: certificate name mismatch: it names other.example, not 127.0.0.1 \
                 (--sni to check another name)",
            ],
        );
        // --sni checks the name the certificate has.
        let r = run(
            "check-tcp",
            &[
                &peer.to_string(),
                "--tls",
                "--ca-file",
                &pki.ca_file(),
                "--sni",
                "other.example",
            ],
        );
        assert_line(&r, 0, "TCP OK - ", &["TLS handshake in "]);
    }

    #[test]
    fn an_expired_certificate_says_when() {
        let pki = Pki::new("tcp-expired");
        let peer = tls_peer(pki.server_config(&pki.expired, false), After::Hold);
        let r = run(
            "check-tcp",
            &[&peer.to_string(), "--tls", "--ca-file", &pki.ca_file()],
        );
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &["handshake: certificate of 127.0.0.1 expired on 2001-01-01 ("],
        );
    }

    #[test]
    fn min_cert_days_fails_a_certificate_ending_sooner() {
        let pki = Pki::new("tcp-soon");
        let peer = tls_peer(pki.server_config(&pki.ending_soon, false), After::Hold);
        let args = [&peer.to_string(), "--tls", "--ca-file", &pki.ca_file()];
        let r = run("check-tcp", &args);
        assert_line(&r, 0, "TCP OK - ", &[" cert_days="]);
        let mut strict = args.to_vec();
        strict.extend(["--min-cert-days", "30"]);
        let r = run("check-tcp", &strict);
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &[
                "handshake: certificate expires in ",
                " days (on ",
                "under --min-cert-days 30",
            ],
        );
    }

    #[test]
    fn plaintext_on_the_port_is_named() {
        let peer = tcp_peer("127.0.0.1:0", banner(b"SSH-2.0-OpenSSH_9.2\r\n"));
        let r = run("check-tcp", &[&peer.to_string(), "--tls", "--insecure"]);
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &["handshake: the server answered in plaintext where TLS was expected"],
        );
    }

    #[test]
    fn a_listener_that_never_speaks_tls_times_out_at_the_deadline() {
        let peer = tcp_peer("127.0.0.1:0", silent);
        let r = run(
            "check-tcp",
            &[&peer.to_string(), "--tls", "--insecure", "-t", "400ms"],
        );
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            &["handshake: timed out after 400.0 ms while doing the TLS handshake"],
        );
        assert_ended_by(&r, Duration::from_millis(400));
    }

    #[test]
    fn a_required_client_certificate_given_and_not_given() {
        let pki = Pki::new("tcp-mtls");
        let peer = tls_peer(pki.server_config(&pki.server, true), After::EchoLine);
        let base = [
            peer.to_string(),
            "--tls".into(),
            "--ca-file".into(),
            pki.ca_file(),
            "--send".into(),
            "hello\\n".into(),
            "--expect".into(),
            "hello".into(),
        ];
        let mut with_cert: Vec<String> = base.to_vec();
        with_cert.extend([
            "--cert".into(),
            pki.client.cert.to_string_lossy().into_owned(),
            "--key".into(),
            pki.client.key.to_string_lossy().into_owned(),
        ]);
        let args: Vec<&str> = with_cert.iter().map(String::as_str).collect();
        assert_line(
            &run("check-tcp", &args),
            0,
            "TCP OK - ",
            &["matched \"hello\""],
        );
        let args: Vec<&str> = base.iter().map(String::as_str).collect();
        let r = run("check-tcp", &args);
        assert_line(
            &r,
            1,
            "TCP CRITICAL - ",
            // TLS 1.3: the refusal comes with the first read, after the handshake.
            &["receive: TLS alert from the server: the server requires a client certificate (--cert, --key)"],
        );
    }

    #[test]
    fn tls_options_without_tls_are_refused() {
        let peer = tcp_peer("127.0.0.1:0", silent);
        let r = run("check-tcp", &[&peer.to_string(), "--ca-file", "/etc/hosts"]);
        assert_line(
            &r,
            1,
            "TCP UNKNOWN",
            &["--ca-file applies to TLS only (give --tls)"],
        );
        let r = run(
            "check-tcp",
            &[&peer.to_string(), "--tls", "--cert", "/x.pem"],
        );
        assert_line(&r, 1, "TCP UNKNOWN", &["--key"]);
        let r = run(
            "check-tcp",
            &[
                &peer.to_string(),
                "--tls",
                "--insecure",
                "--ca-file",
                "/etc/hosts",
            ],
        );
        assert_line(&r, 1, "TCP UNKNOWN", &["--insecure and --ca-file"]);
    }

    #[test]
    fn tls_files_are_checked_with_the_arguments_on_every_node() {
        // Not MASTER (no state at all): a plain check is skipped, but a --ca-file that
        // is not there, a --cert that is not PEM, an --sni that is no name still fail
        // on this node, before they could fail only after a failover.
        let s = Scratch::new("tls-gate");
        let sd = s.state_dir();
        let not_pem = s.path("not.pem");
        std::fs::write(&not_pem, "hello\n").expect("write");
        let not_pem = not_pem.to_string_lossy().into_owned();
        let target = "127.0.0.1:9";
        let gate = ["--only-if-master", "VI_1", "--state-dir", &sd];
        let with = |extra: &[&str]| {
            let mut args = vec![target, "--tls"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&gate);
            run("check-tcp", &args)
        };
        assert_line(&with(&[]), 0, "TCP SKIPPED - ", &["not MASTER"]);
        assert_line(
            &with(&["--ca-file", "/nonexistent/ca.pem"]),
            1,
            "TCP UNKNOWN",
            &["--ca-file /nonexistent/ca.pem: "],
        );
        // Read as every file on the command line is: a device is refused, never read.
        assert_line(
            &with(&["--ca-file", "/dev/zero"]),
            1,
            "TCP UNKNOWN",
            &["--ca-file /dev/zero: ", "not a regular file"],
        );
        assert_line(
            &with(&["--ca-file", &not_pem, "--insecure"]),
            1,
            "TCP UNKNOWN",
            &["--insecure and --ca-file"],
        );
        assert_line(
            &with(&["--sni", "not a name"]),
            1,
            "TCP UNKNOWN",
            &["--sni 'not a name' is not a host name or address"],
        );
        let cert = format!("--cert {not_pem}: no PEM certificate in it");
        assert_line(
            &with(&["--insecure", "--cert", &not_pem, "--key", &not_pem]),
            1,
            "TCP UNKNOWN",
            &[&cert],
        );
    }
}
