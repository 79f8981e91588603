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
    let v: serde_json::Value = serde_json::from_str(r.line()).expect("json");
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
    let v: serde_json::Value = serde_json::from_str(r.line()).expect("json");
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
    let v: serde_json::Value = serde_json::from_str(r.line()).expect("json");
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
