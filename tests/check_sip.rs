//! check-sip against a real Kamailio and against a fault-injecting SIP peer.

use std::time::Duration;

use crate::support::peers::{fault_peer, fault_peer_on, kamailio};
use crate::support::*;

#[test]
fn kamailio_answers_200_keepalive_over_udp_and_tcp() {
    let k = kamailio();
    let uri = format!("sip:127.0.0.1:{}", k.port);
    let r = run("check-sip", &[&uri]);
    assert_line(
        &r,
        0,
        &format!("SIP OK - {uri} 200 Keepalive in "),
        &["over udp", "| time="],
    );
    let r = run("check-sip", &[&uri, "--transport", "tcp"]);
    assert_line(
        &r,
        0,
        &format!("SIP OK - {uri} 200 Keepalive in "),
        &["over tcp"],
    );
    let tcp_uri = format!("{uri};transport=tcp");
    let r = run("check-sip", &[&tcp_uri, "--format", "json"]);
    assert_eq!(r.code, Some(0), "{r:#?}");
    let v = r.json();
    assert_eq!(v["details"]["transport"], "tcp");
    assert_eq!(v["details"]["code"], "200");
    assert_eq!(v["details"]["request_uri"], uri);
    assert!(
        v["details"]["server"]
            .as_str()
            .unwrap_or("")
            .starts_with("kamailio"),
        "{v}"
    );
}

#[test]
fn kamailio_404_and_503_fail_by_default_and_pass_when_accepted() {
    let k = kamailio();
    // The seed document's form: stock Kamailio answers 404 to a user part.
    let seed_uri = format!("sip:s@127.0.0.1:{}", k.port);
    let r = run("check-sip", &[&seed_uri]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["match: 404 Not Found (accepted: 2xx); stock Kamailio answers 404 to a Request-URI with a user part"],
    );
    let r = run("check-sip", &[&seed_uri, "--accept", "200,404"]);
    assert_line(&r, 0, "SIP OK - ", &["404 Not Found in "]);

    let uri = format!("sip:127.0.0.1:{}", k.port);
    for transport in ["udp", "tcp"] {
        let r = run(
            "check-sip",
            &[&uri, "--user", "busy", "--transport", transport],
        );
        assert_line(
            &r,
            1,
            "SIP CRITICAL - ",
            &["match: 503 Service Unavailable (accepted: 2xx)"],
        );
        let r = run(
            "check-sip",
            &[
                &uri,
                "--user",
                "busy",
                "--transport",
                transport,
                "--accept",
                "any",
            ],
        );
        assert_line(&r, 0, "SIP OK - ", &["503 Service Unavailable in "]);
    }
}

/// Runs check-sip against a fault peer with `behaviour` over `transport`.
fn against(transport: &str, behaviour: &str, extra: &[&str]) -> Run {
    let peer = fault_peer("sip", transport, behaviour);
    let uri = format!("sip:127.0.0.1:{};transport={transport}", peer.port);
    let mut args = vec![uri.as_str()];
    args.extend_from_slice(extra);
    run("check-sip", &args)
}

#[test]
fn healthy_answers_in_every_shape_pass() {
    for transport in ["udp", "tcp"] {
        for behaviour in ["ok", "trying-then-ok", "stray-then-ok", "compact"] {
            let r = against(transport, behaviour, &[]);
            assert_eq!(r.code, Some(0), "{transport} {behaviour}: {r:#?}");
            assert!(
                r.line().contains("200 OK in "),
                "{transport} {behaviour}: {}",
                r.line()
            );
        }
    }
    for behaviour in ["split", "pipelined"] {
        let r = against("tcp", behaviour, &[]);
        assert_line(&r, 0, "SIP OK - ", &["200 OK in ", "over tcp"]);
    }
}

#[test]
fn udp_retransmits_so_one_lost_datagram_is_not_a_failure() {
    // The peer ignores the request and its first retransmission (at T1 = 100 ms), and
    // answers the second (at 3 * T1).
    let r = against(
        "udp",
        "second-retransmission",
        &["--t1", "100ms", "-t", "2s"],
    );
    assert_line(&r, 0, "SIP OK - ", &["200 OK in "]);
    let v = against(
        "udp",
        "second-retransmission",
        &["--t1", "100ms", "--format", "json"],
    );
    let v = v.json();
    assert_eq!(v["details"]["sent"], "3");
}

#[test]
fn silence_times_out_at_the_deadline_saying_how_often_it_asked() {
    // Resends spread over the deadline: nine in 700 ms.
    let r = against("udp", "silence", &["-t", "700ms"]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["receive: timed out after 700.0 ms while waiting for a final response (9 sent over udp)"],
    );
    assert_ended_by(&r, Duration::from_millis(700));
    let r = against("tcp", "silence", &["-t", "400ms"]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["receive: timed out after 400.0 ms", "(1 sent over tcp)"],
    );
    assert_ended_by(&r, Duration::from_millis(400));
}

#[test]
fn responses_that_are_not_ours_are_ignored_until_the_deadline() {
    for transport in ["udp", "tcp"] {
        let r = against(transport, "wrong-branch", &["-t", "400ms"]);
        assert_line(
            &r,
            1,
            "SIP CRITICAL - ",
            &[
                "receive: timed out",
                "not matching our Via branch, Call-ID and CSeq",
            ],
        );
    }
}

#[test]
fn failing_answers_name_the_code() {
    for transport in ["udp", "tcp"] {
        let r = against(transport, "503", &[]);
        assert_line(
            &r,
            1,
            "SIP CRITICAL - ",
            &["match: 503 Service Unavailable (accepted: 2xx)"],
        );
        let r = against(transport, "401", &[]);
        assert_line(&r, 1, "SIP CRITICAL - ", &["match: 401 Unauthorized"]);
        let r = against(transport, "401", &["--accept", "2xx,401"]);
        assert_line(&r, 0, "SIP OK - ", &["401 Unauthorized in "]);
    }
}

#[test]
fn bytes_that_are_not_sip_fail_at_once_at_parse() {
    for transport in ["udp", "tcp"] {
        let r = against(transport, "garbage", &["-t", "5s"]);
        assert_line(
            &r,
            1,
            "SIP CRITICAL - ",
            &["parse: not a SIP message: \"\\x00\\x01\\x02 this is not SIP"],
        );
        assert!(r.elapsed < Duration::from_secs(3), "{r:#?}");
    }
}

#[test]
fn a_truncated_200_is_never_healthy() {
    // sipsak accepted this one over UDP.
    let r = against("udp", "truncated", &[]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["parse: truncated: no blank line after the headers: \"SIP/2.0 200 OK"],
    );
    let r = against("tcp", "truncated", &["-t", "400ms"]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &[
            "receive: timed out after 400.0 ms while waiting for the rest of a reply",
            "\"SIP/2.0 200 OK",
        ],
    );
}

#[test]
fn oversized_headers_are_refused() {
    let r = against("tcp", "oversized", &["-t", "5s"]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["parse: oversized: headers over 65536 bytes"],
    );
    let r = against("udp", "oversized", &["-t", "5s"]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["parse: truncated: no blank line"],
    );
}

#[test]
fn tcp_reset_and_close_are_receive_failures() {
    let r = against("tcp", "reset", &[]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["receive: connection reset by peer"],
    );
    let r = against("tcp", "close", &[]);
    assert_line(
        &r,
        1,
        "SIP CRITICAL - ",
        &["receive: connection closed without a final response"],
    );
}

#[test]
fn udp_port_unreachable_fails_at_once() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run("check-sip", &[&format!("sip:127.0.0.1:{port}"), "-t", "5s"]);
    assert_line(&r, 1, "SIP CRITICAL - ", &["port unreachable (ICMP)"]);
    assert!(r.elapsed < Duration::from_secs(2), "{r:#?}");
}

#[test]
fn ipv6_and_five_digit_ports() {
    for transport in ["udp", "tcp"] {
        let peer = fault_peer_on("sip", transport, "ok", "[::1]:0");
        let uri = format!("sip:[::1]:{}", peer.port);
        let r = run(
            "check-sip",
            &[&uri, "--transport", transport, "-vv", "--log", "stderr"],
        );
        assert_line(&r, 0, &format!("SIP OK - {uri} 200 OK in "), &[]);
        // The Request-URI carries the whole port and the Via the bracketed local address.
        assert!(
            r.stderr.contains(&format!("OPTIONS {uri} SIP/2.0")),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains(&format!("Via: SIP/2.0/{} [::1]:", transport.to_uppercase())),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn bad_uris_and_options_exit_1() {
    for (args, why) in [
        (vec!["sips:127.0.0.1;transport=udp"], "contradicts"),
        (vec!["sip:127.0.0.1;transport=sctp"], "transport 'sctp'"),
        (
            vec!["sip:127.0.0.1", "--accept", "2x"],
            "invalid value '2x' for '--accept",
        ),
        (
            vec!["sip:127.0.0.1", "--user", "a@b"],
            "--user wants a SIP user part",
        ),
        (vec!["sip:127.0.0.1", "--t1", "1ms"], "flood"),
        (
            vec!["sip:127.0.0.1", "--transport", "sctp"],
            "invalid value 'sctp'",
        ),
    ] {
        let r = run("check-sip", &args);
        assert_line(&r, 1, "SIP UNKNOWN - ", &[why]);
    }
}

#[test]
fn source_address_is_bound_and_sent_in_via() {
    for transport in ["udp", "tcp"] {
        let peer = fault_peer("sip", transport, "ok");
        let uri = format!("sip:127.0.0.1:{};transport={transport}", peer.port);
        let r = run(
            "check-sip",
            &[&uri, "--source", "127.0.0.2", "-vv", "--log", "stderr"],
        );
        assert_line(&r, 0, "SIP OK - ", &[]);
        let via = format!("Via: SIP/2.0/{} 127.0.0.2:", transport.to_uppercase());
        assert!(r.stderr.contains(&via), "{}", r.stderr);
    }
}

#[test]
fn two_different_content_lengths_are_malformed() {
    // RFC 4475 3.3.9: "Content-Length: 0" and "l: 150" in one 200.
    for transport in ["udp", "tcp"] {
        let r = against(transport, "two-lengths", &[]);
        assert_line(
            &r,
            1,
            "SIP CRITICAL - ",
            &["parse: conflicting Content-Length headers"],
        );
    }
}

#[test]
fn a_password_in_the_uri_is_masked() {
    let peer = fault_peer("sip", "udp", "ok");
    let uri = format!("sip:alice:secret@127.0.0.1:{}", peer.port);
    let r = run("check-sip", &[&uri, "--accept", "any", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{r:#?}");
    assert!(!r.stdout.contains("secret"), "{}", r.stdout);
    assert!(r.stdout.contains("alice:***@127.0.0.1"), "{}", r.stdout);
    // The bytes on the wire at -vv, over both transports, and a '/' in the password.
    for transport in ["udp", "tcp"] {
        let peer = fault_peer("sip", transport, "ok");
        let uri = format!(
            "sip:alice:se/cret@127.0.0.1:{};transport={transport}",
            peer.port
        );
        let r = run(
            "check-sip",
            &[&uri, "--accept", "any", "-vv", "--log", "stderr"],
        );
        assert_eq!(r.code, Some(0), "{r:#?}");
        assert!(
            r.stderr.contains("OPTIONS sip:alice:***@127.0.0.1"),
            "{}",
            r.stderr
        );
        assert!(!r.stdout.contains("cret"), "{}", r.stdout);
        // What we log of our own; the server's bytes are shown as received (it echoes To).
        for line in r.stderr.lines().filter(|l| !l.contains("received")) {
            assert!(!line.contains("cret"), "{line}");
        }
    }
    let r = run("check-sip", &["sip:127.0.0.1", "--user", "alice:se<cret"]);
    assert_eq!(r.code, Some(1));
    assert!(
        !r.stdout.contains("cret") && !r.stderr.contains("cret"),
        "{r:#?}"
    );
}

// --- SIP over TLS against Kamailio's tls module ------------------------------------------

mod tls {
    use crate::support::peers::{kamailio, kamailio_tls, KamailioTls, PeerProcess};
    use crate::support::tls::{Pair, Pki};
    use crate::support::*;

    /// Kamailio presenting `server` on its TLS port, no client certificate asked.
    fn tls_kamailio(server: &Pair) -> PeerProcess {
        kamailio_tls(KamailioTls {
            server,
            require_client_ca: None,
        })
    }

    #[test]
    fn kamailio_answers_over_tls_in_every_spelling() {
        let pki = Pki::new("sip-ok");
        let k = tls_kamailio(&pki.server);
        let port = k.tls_port.expect("TLS port");
        let ca = pki.ca_file();
        for (uri, extra) in [
            (format!("sips:127.0.0.1:{port}"), None),
            (format!("sip:127.0.0.1:{port};transport=tls"), None),
            (format!("sip:127.0.0.1:{port}"), Some("tls")),
        ] {
            let mut args = vec![uri.as_str(), "--ca-file", ca.as_str()];
            if let Some(t) = extra {
                args.extend(["--transport", t]);
            }
            let r = run("check-sip", &args);
            assert_line(
                &r,
                0,
                &format!("SIP OK - {uri} 200 Keepalive in "),
                &["over tls", " | time=", " cert_days="],
            );
        }
        let uri = k.sips_uri();
        let r = run("check-sip", &[&uri, "--ca-file", &ca, "--format", "json"]);
        assert_eq!(r.code, Some(0), "{r:#?}");
        let v = r.json();
        assert_eq!(v["details"]["transport"], "tls");
        assert_eq!(v["details"]["request_uri"], uri);
        assert!(v["details"]["tls_version"]
            .as_str()
            .unwrap_or("")
            .starts_with("TLSv1."));
        assert_eq!(v["details"]["tls_verified"], "yes");
    }

    #[test]
    fn trust_name_and_validity_failures_are_named() {
        let pki = Pki::new("sip-fail");
        let ca = pki.ca_file();
        let k = tls_kamailio(&pki.server);
        let uri = k.sips_uri();
        assert_line(
            &run("check-sip", &[&uri]),
            1,
            "SIP CRITICAL - ",
            &["handshake: certificate of 127.0.0.1 not signed by a trusted CA"],
        );
        assert_line(
            &run("check-sip", &[&uri, "--insecure"]),
            0,
            "SIP OK - ",
            &["200 Keepalive in ", "over tls (certificate not verified)"],
        );
        drop(k);
        let k = tls_kamailio(&pki.other_name);
        let uri = k.sips_uri();
        assert_line(
            &run("check-sip", &[&uri, "--ca-file", &ca]),
            1,
            "SIP CRITICAL - ",
            &["certificate name mismatch: it names", "other.example"],
        );
        assert_line(
            &run(
                "check-sip",
                &[&uri, "--ca-file", &ca, "--sni", "other.example"],
            ),
            0,
            "SIP OK - ",
            &["200 Keepalive"],
        );
        drop(k);
        let k = tls_kamailio(&pki.expired);
        let uri = k.sips_uri();
        assert_line(
            &run("check-sip", &[&uri, "--ca-file", &ca]),
            1,
            "SIP CRITICAL - ",
            &["certificate of 127.0.0.1 expired on 2001-01-01"],
        );
    }

    #[test]
    fn tls_to_a_plaintext_port_and_plaintext_from_a_tls_port() {
        // Kamailio's plain TCP listener gets a ClientHello.
        let k = kamailio();
        let uri = format!("sip:127.0.0.1:{};transport=tls", k.port);
        // It waits for a SIP message that never comes, as any silent server would.
        assert_line(
            &run("check-sip", &[&uri, "--insecure", "-t", "2s"]),
            1,
            "SIP CRITICAL - ",
            &["handshake: timed out after 2.00 s while doing the TLS handshake"],
        );
        // A server that answers the ClientHello in plaintext SIP.
        let peer = tcp_peer(
            "127.0.0.1:0",
            say_and_close(b"SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        );
        let uri = format!("sips:{peer}");
        assert_line(
            &run("check-sip", &[&uri, "--insecure"]),
            1,
            "SIP CRITICAL - ",
            &["handshake: the server answered in plaintext where TLS was expected"],
        );
    }

    #[test]
    fn a_required_client_certificate_given_and_not_given() {
        let pki = Pki::new("sip-mtls");
        let k = kamailio_tls(KamailioTls {
            server: &pki.server,
            require_client_ca: Some(&pki.client_ca),
        });
        let uri = k.sips_uri();
        let ca = pki.ca_file();
        let cert = pki.client.cert.to_string_lossy().into_owned();
        let key = pki.client.key.to_string_lossy().into_owned();
        assert_line(
            &run(
                "check-sip",
                &[&uri, "--ca-file", &ca, "--cert", &cert, "--key", &key],
            ),
            0,
            "SIP OK - ",
            &["200 Keepalive", "over tls"],
        );
        // TLS 1.3: the refusal comes with the first read, after the handshake.
        assert_line(
            &run("check-sip", &[&uri, "--ca-file", &ca]),
            1,
            "SIP CRITICAL - ",
            &["receive: TLS alert from the server: the server requires a client certificate"],
        );
    }

    #[test]
    fn tls_options_without_tls_are_refused() {
        let r = run("check-sip", &["sip:127.0.0.1", "--insecure"]);
        assert_line(
            &r,
            1,
            "SIP UNKNOWN",
            &["--insecure applies to TLS only (use sips:, ;transport=tls or --transport tls)"],
        );
        let r = run("check-sip", &["sips:127.0.0.1", "--transport", "udp"]);
        assert_line(&r, 1, "SIP UNKNOWN", &["contradicts"]);
    }
}
