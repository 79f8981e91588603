//! check-rtsp --play: against GStreamer's RTSP server (RTP interleaved on the RTSP
//! connection), VLC and Perl's RTSP::Server fed by ffmpeg (RTP over UDP), and a fault peer
//! for what real servers do not do on request.

use std::time::Duration;

use crate::support::peers::{
    fault_peer, fault_peer_logging, ffmpeg_publishing, perl_rtsp_server, rtsp_server, rtsps_server,
    vlc_rtsp_server,
};
use crate::support::tls::Pki;
use crate::support::*;

#[test]
fn gstreamer_video_audio_and_each_media() {
    let server = rtsp_server("digest");
    let url = format!("rtsp://127.0.0.1:{}/av", server.port);
    let r = run("check-rtsp", &[&url, "--play", "-t", "3s"]);
    assert_line(
        &r,
        0,
        &format!("RTSP OK - {url} first RTP packet (JPEG/90000, video) "),
        &[" ms after PLAY | time="],
    );
    for media in ["audio", "1"] {
        let r = run(
            "check-rtsp",
            &[&url, "--play", "--media", media, "-t", "3s"],
        );
        assert_line(
            &r,
            0,
            "RTSP OK - ",
            &["first RTP packet (PCMU/8000, audio) "],
        );
    }
    let r = run("check-rtsp", &[&url, "--play", "--media", "2"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 200 but the SDP has no media 2 (it has 2, numbered from 0: video, audio)"],
    );
    let r = run(
        "check-rtsp",
        &[&url, "--play", "--format", "json", "-t", "3s"],
    );
    let v = r.json();
    assert_eq!(v["verdict"], "healthy", "{v}");
    let details = &v["details"];
    assert_eq!(details["media"], "video");
    assert_eq!(details["payload_type"], "26");
    assert_eq!(details["encoding"], "JPEG/90000");
    assert_eq!(details["session_timeout"], "60");
    assert_eq!(details["server"], "GStreamer RTSP server");
    assert_eq!(details["ssrc"].as_str().map(str::len), Some(8), "{v}");
}

#[test]
fn gstreamer_play_with_digest_and_over_tls() {
    let server = rtsp_server("digest");
    let good = format!("rtsp://user:secret@127.0.0.1:{}/secure", server.port);
    let r = run("check-rtsp", &[&good, "--play", "-t", "3s"]);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (JPEG/90000, video)"],
    );
    let anonymous = format!("rtsp://127.0.0.1:{}/secure", server.port);
    let r = run("check-rtsp", &[&anonymous, "--play"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 401 Unauthorized; the server asks for Digest"],
    );

    let pki = Pki::new("play");
    let server = rtsps_server("basic", &pki.server);
    let url = format!("rtsps://localhost:{}/test", server.port);
    let ca = pki.ca_file();
    let r = run(
        "check-rtsp",
        &[&url, "--play", "--ca-file", &ca, "-t", "3s"],
    );
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (JPEG/90000, video)"],
    );
}

#[test]
fn vlc_sends_over_udp_only_and_says_so_to_tcp() {
    let vlc = vlc_rtsp_server();
    let url = format!("rtsp://127.0.0.1:{}/live", vlc.port);
    let r = run(
        "check-rtsp",
        &[&url, "--play", "--rtp-transport", "udp", "-t", "3s"],
    );
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (MP4V-ES/90000, video) "],
    );
    let r = run("check-rtsp", &[&url, "--play", "-t", "3s"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: SETUP 461 Unsupported transport: the server will not send RTP over the RTSP connection (try --rtp-transport udp)"],
    );
}

#[test]
fn perl_rtsp_server_is_healthy_only_while_ffmpeg_publishes() {
    let (server, sources) = perl_rtsp_server();
    let url = format!("rtsp://127.0.0.1:{}/live", server.port);
    let play = |url: &str| {
        run(
            "check-rtsp",
            &[url, "--play", "--rtp-transport", "udp", "-t", "3s"],
        )
    };
    // Nothing published yet.
    assert_line(
        &play(&url),
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 404 Not Found"],
    );
    let publisher = ffmpeg_publishing(&format!("rtsp://127.0.0.1:{sources}/live"));
    wait_for("ffmpeg to publish /live", Duration::from_secs(20), || {
        run("check-rtsp", &[&url, "--describe"]).code == Some(0)
    });
    let r = play(&url);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (MP4V-ES/90000, video) "],
    );
    drop(publisher);
    let r = play(&url);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 404 Not Found"],
    );
}

/// check-rtsp --play against a fault peer showing `behaviour`; the peer's request lines.
fn play_against(behaviour: &str, extra: &[&str]) -> (Run, Vec<String>) {
    // Removed on drop, also when an assertion fails.
    let scratch = Scratch::new(&format!("play-{behaviour}{}", extra.join("")));
    let log = scratch.path("requests.log");
    let peer = fault_peer_logging("rtsp", "tcp", behaviour, &log);
    let peer_port = peer.port;
    let url = format!("rtsp://127.0.0.1:{peer_port}/live");
    let mut args = vec![url.as_str(), "--play"];
    args.extend_from_slice(extra);
    let r = run("check-rtsp", &args);
    // The peer logs before it answers: what the check sent is there once it has exited.
    drop(peer);
    let lines = std::fs::read_to_string(&log).unwrap_or_default();
    let host = format!("rtsp://127.0.0.1:{peer_port}");
    let requests = lines
        .lines()
        .map(|l| l.replace(&url, "URL").replace(&host, "HOST"))
        .collect();
    (r, requests)
}

#[test]
fn fault_peer_setup_play_teardown_in_order() {
    let (r, requests) = play_against("play-ok", &["-t", "2s"]);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (JPEG/90000, video) "],
    );
    // No Content-Base: the control URL is resolved against the described URL, and PLAY
    // goes to the aggregate (that URL, as the SDP has no session-level control).
    assert_eq!(
        requests,
        [
            "OPTIONS URL RTSP/1.0",
            "DESCRIBE URL RTSP/1.0",
            "SETUP URL/stream=0 RTSP/1.0",
            "PLAY URL RTSP/1.0",
            "TEARDOWN URL RTSP/1.0"
        ]
    );
    // PLAY and TEARDOWN carry SETUP's session (the peer answers 454 otherwise), not the
    // one a DESCRIBE reply also named; a server's own request and a stray reply after
    // PLAY are not media and not a failure; RTP may come before the PLAY reply.
    for behaviour in ["play-describe-session", "play-server-request", "play-early"] {
        let (r, requests) = play_against(behaviour, &["-t", "2s"]);
        assert_line(
            &r,
            0,
            "RTSP OK - ",
            &["first RTP packet (JPEG/90000, video) "],
        );
        assert_eq!(
            requests.last().map(String::as_str),
            Some("TEARDOWN URL RTSP/1.0"),
            "{behaviour}"
        );
    }
}

#[test]
fn fault_peer_control_urls_from_content_location() {
    let (r, requests) = play_against("play-content-location", &["-t", "2s"]);
    assert_line(
        &r,
        0,
        "RTSP OK - ",
        &["first RTP packet (JPEG/90000, video) "],
    );
    assert_eq!(
        requests[2..],
        [
            "SETUP HOST/moved/track1 RTSP/1.0",
            "PLAY HOST/moved RTSP/1.0",
            "TEARDOWN HOST/moved RTSP/1.0"
        ]
    );
}

#[test]
fn an_unanswered_teardown_does_not_replace_the_verdict() {
    for timeout in ["300ms", "1s"] {
        let (r, requests) = play_against("play-no-teardown-reply", &["-t", timeout]);
        assert_line(
            &r,
            1,
            "RTSP CRITICAL - ",
            &["receive: PLAY 200 OK but no media within "],
        );
        let budget = humantime::parse_duration(timeout).expect("duration");
        assert_ended_by(&r, budget);
        assert_eq!(
            requests.last().map(String::as_str),
            Some("TEARDOWN URL RTSP/1.0")
        );
    }
}

#[test]
fn fault_peer_no_media_ends_before_the_deadline_and_still_tears_down() {
    for (behaviour, why) in [
        ("play-silence", "receive: PLAY 200 OK but no media within "),
        ("play-rtcp", "receive: PLAY 200 OK but only RTCP ("),
    ] {
        let (r, requests) = play_against(behaviour, &["-t", "800ms"]);
        assert_line(&r, 1, "RTSP CRITICAL - ", &[why, " after PLAY"]);
        assert_ended_by(&r, Duration::from_millis(800));
        assert_eq!(
            requests.last().map(String::as_str),
            Some("TEARDOWN URL RTSP/1.0"),
            "{behaviour}: {requests:?}"
        );
    }
}

#[test]
fn fault_peer_wrong_media_fails_at_once_with_its_reason() {
    for (behaviour, why) in [
        ("play-wrong-channel", "match: PLAY 200 OK but a 112-byte packet on interleaved channel 4; SETUP granted 0-1"),
        ("play-wrong-pt", "match: PLAY 200 OK but RTP payload type 96 where the SDP announced 26"),
        ("play-wrong-ssrc", "match: PLAY 200 OK but RTP SSRC 00001234 where SETUP's Transport announced ssrc=0000ABCD"),
        ("play-close", "receive: the server closed the connection "),
        ("play-oversized", "parse: after PLAY 200 OK: an interleaved frame of 65535 bytes on channel 0, over the 32768-byte limit"),
        ("play-garbage", "parse: after PLAY 200 OK: not an RTSP message nor a $-framed packet"),
        ("play-500", "match: PLAY 500 Internal Server Error"),
        ("setup-461", "match: SETUP 461 Unsupported Transport: the server will not send RTP over the RTSP connection (try --rtp-transport udp)"),
        ("setup-udp", "match: SETUP 200 but the server chose transport 'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971', not the RTP/AVP/TCP asked for"),
        ("setup-no-session", "match: SETUP 200 without a Session header"),
    ] {
        let (r, _) = play_against(behaviour, &["-t", "5s"]);
        assert_line(&r, 1, "RTSP CRITICAL - ", &[why]);
        assert!(r.elapsed < Duration::from_secs(2), "{behaviour}: {r:#?}");
    }
}

#[test]
fn play_arguments_are_checked() {
    let peer = fault_peer("rtsp", "tcp", "ok");
    let url = format!("rtsp://127.0.0.1:{}/live", peer.port);
    for (args, why) in [
        (vec![url.as_str(), "--media", "video"], "--play"),
        (vec![url.as_str(), "--rtp-transport", "udp"], "--play"),
        (
            vec![url.as_str(), "--play", "--media", "vid eo"],
            "is not a media type",
        ),
        (
            vec![url.as_str(), "--play", "--rtp-transport", "sctp"],
            "is not tcp or udp",
        ),
    ] {
        let r = run("check-rtsp", &args);
        assert_line(&r, 1, "RTSP UNKNOWN - ", &[why]);
    }
    let bare = format!("rtsp://127.0.0.1:{}", peer.port);
    let r = run("check-rtsp", &[&bare, "--play"]);
    assert_line(
        &r,
        1,
        "RTSP UNKNOWN - ",
        &["--play needs the stream's path in the URL"],
    );
    // A non-2xx OPTIONS let through by --accept is no way to media.
    let vlc_401 = fault_peer("rtsp", "tcp", "vlc-401");
    let locked = format!("rtsp://127.0.0.1:{}/live", vlc_401.port);
    let r = run("check-rtsp", &[&locked, "--play", "--accept", "2xx,401"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: OPTIONS 401 Unauthorized is accepted, but --play needs a 2xx to go on"],
    );
    // The fault peer's SDP has video only.
    let r = run("check-rtsp", &[&url, "--play", "--media", "audio"]);
    assert_line(
        &r,
        1,
        "RTSP CRITICAL - ",
        &["match: DESCRIBE 200 but the SDP has no audio media (it has 1: video)"],
    );
}
