//! A server that misbehaves on purpose, for the tests and the comparison scripts.
//!
//!     fault_peer sip udp|tcp BEHAVIOUR [BIND]
//!     fault_peer rtsp tcp BEHAVIOUR [BIND]
//!
//! Binds BIND (default 127.0.0.1:0), prints the port on the first line of stdout, and
//! serves until killed. It reads requests with its own minimal code, not the library's,
//! so a parser bug cannot hide itself by agreeing with its own output.
//!
//! SIP behaviours: ok, ok-duplicated, silence, second-retransmission, trying-then-ok, stray-then-ok,
//! wrong-branch, garbage, truncated, oversized, reset, close, 401, 503, compact,
//! split, pipelined, two-lengths.
//!
//! RTSP behaviours: ok, silence, 503, wrong-cseq, rtsp2, garbage, truncated, slow,
//! endless-headers, short-body, close, reset, no-sdp, no-media, vlc-401 (VLC 3.0's
//! password-protected stream: a 401 without CSeq until Basic user:secret is sent).
//!
//! RTSP behaviours after DESCRIBE, for `--play` (SETUP grants RTP/AVP/TCP on channels
//! 0-1 with ssrc=0000ABCD; the SDP announces JPEG, payload type 26): play-ok (RTP every
//! 40 ms), play-early (an RTP packet before the PLAY reply), play-silence, play-rtcp
//! (sender reports only), play-wrong-channel, play-wrong-pt, play-wrong-ssrc, play-close,
//! play-oversized (a frame of 65535 bytes announced), play-garbage, play-500, setup-461,
//! setup-udp, setup-no-session, play-describe-session (a Session header on DESCRIBE's
//! reply too), play-server-request (a GET_PARAMETER request and a stray reply before the
//! RTP), play-content-location (the SDP's base is Content-Location .../moved, controls
//! `*` and `track1`), play-no-teardown-reply (silence, and TEARDOWN unanswered). PLAY and
//! TEARDOWN without SETUP's `Session: 12345678` get 454. With FAULT_PEER_LOG set, the
//! first line of every request is appended to that file.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [proto, transport, behaviour, rest @ ..] = args.as_slice() else {
        eprintln!("usage: fault_peer sip udp|tcp BEHAVIOUR [BIND]");
        return ExitCode::from(1);
    };
    let bind = rest.first().map_or("127.0.0.1:0", String::as_str);
    let behaviour = behaviour.clone();
    match (proto.as_str(), transport.as_str()) {
        ("sip", "udp") => sip_udp(bind, &behaviour),
        ("sip", "tcp") => sip_tcp(bind, &behaviour),
        ("rtsp", "tcp") => rtsp_tcp(bind, &behaviour),
        _ => {
            eprintln!("fault_peer: unknown protocol/transport {proto} {transport}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn announce(port: u16) {
    println!("{port}");
    let _ = std::io::stdout().flush();
}

/// The header lines of a request a response must echo (Via, From, To, Call-ID, CSeq),
/// found with plain string matching, full and compact names.
fn echo_headers(request: &str) -> String {
    let mut out = String::new();
    for line in request.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        let wanted = [
            "via:", "v:", "from:", "f:", "to:", "t:", "call-id:", "i:", "cseq:",
        ];
        if wanted.iter().any(|w| lower.starts_with(w)) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out
}

fn response(code: &str, request: &str, extra: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code}\r\n{}{extra}Server: fault-peer\r\nContent-Length: 0\r\n\r\n",
        echo_headers(request)
    )
    .into_bytes()
}

/// The responses for one request, by behaviour; `n` counts this client's requests.
fn replies(behaviour: &str, request: &str, n: usize) -> Vec<Vec<u8>> {
    match behaviour {
        "ok" => vec![response("200 OK", request, "")],
        // As when a retransmission crossed the answer: the answer twice, back to back.
        "ok-duplicated" => vec![response("200 OK", request, ""); 2],
        "silence" | "close" => vec![],
        "second-retransmission" if n >= 3 => vec![response("200 OK", request, "")],
        "second-retransmission" => vec![],
        "trying-then-ok" => vec![
            response("100 Trying", request, ""),
            response("200 OK", request, ""),
        ],
        "stray-then-ok" => {
            let stray = request.replace("Call-ID: ", "Call-ID: stray-");
            vec![
                response("200 OK", &stray, ""),
                response("200 OK", request, ""),
            ]
        }
        "wrong-branch" => vec![response(
            "200 OK",
            &request.replace("branch=", "branch=x"),
            "",
        )],
        "garbage" => vec![b"\x00\x01\x02 this is not SIP \xff\xfe\r\n\r\n".to_vec()],
        "truncated" => {
            let mut r = response("200 OK", request, "");
            r.truncate(r.len() - 2);
            vec![r]
        }
        "oversized" => {
            let pad = format!("X-Pad: {}\r\n", "a".repeat(70 * 1024));
            let mut r = response("200 OK", request, &pad);
            // Over UDP no datagram can be that large: send what fits, still no blank line.
            r.truncate(65_000);
            vec![r]
        }
        "401" => vec![response(
            "401 Unauthorized",
            request,
            "WWW-Authenticate: Digest realm=\"fault\", nonce=\"abc\"\r\n",
        )],
        "503" => vec![response("503 Service Unavailable", request, "")],
        // RFC 4475 3.3.9: two Content-Length headers that disagree.
        "two-lengths" => vec![response("200 OK", request, "l: 150\r\n")],
        "compact" => {
            // Compact names, LF-only line ends, a folded Via.
            let echoed = echo_headers(request)
                .replace("Via: ", "v: ")
                .replace(";branch=", "\n ;branch=")
                .replace("Call-ID: ", "i: ")
                .replace("\r\n", "\n");
            vec![format!("SIP/2.0 200 OK\n{echoed}l: 0\n\n").into_bytes()]
        }
        _ => vec![response("200 OK", request, "")],
    }
}

fn sip_udp(bind: &str, behaviour: &str) {
    let socket = UdpSocket::bind(bind).expect("bind udp");
    announce(socket.local_addr().expect("addr").port());
    let mut buf = vec![0u8; 65536];
    // Requests counted per client, so each client's retransmissions are its own.
    let mut seen: std::collections::HashMap<std::net::SocketAddr, usize> = Default::default();
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let n = seen.entry(from).or_default();
        *n += 1;
        let request = String::from_utf8_lossy(&buf[..len]).into_owned();
        // 20 ms between the replies to one request (a 100 Trying, then the answer), none
        // after the last: one peer answers several checks ten times a second.
        let gap = if behaviour == "ok-duplicated" { 0 } else { 20 };
        for (i, reply) in replies(behaviour, &request, *n).into_iter().enumerate() {
            if i > 0 {
                thread::sleep(Duration::from_millis(gap));
            }
            let _ = socket.send_to(&reply, from);
        }
    }
}

fn sip_tcp(bind: &str, behaviour: &str) {
    let listener = TcpListener::bind(bind).expect("bind tcp");
    announce(listener.local_addr().expect("addr").port());
    for stream in listener.incoming().flatten() {
        let behaviour = behaviour.to_string();
        thread::spawn(move || serve_tcp(stream, &behaviour));
    }
}

fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok().filter(|n| *n > 0)?;
        got.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

fn serve_tcp(mut stream: TcpStream, behaviour: &str) {
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    match behaviour {
        "close" => return,
        "reset" => {
            let r = response("200 OK", &request, "");
            let _ = stream.write_all(&r[..r.len() / 2]);
            reset(&stream);
            return;
        }
        "split" => {
            for b in response("200 OK", &request, "") {
                if stream.write_all(&[b]).is_err() {
                    return;
                }
                let _ = stream.flush();
                thread::sleep(Duration::from_millis(1));
            }
        }
        "pipelined" => {
            let mut both = response("100 Trying", &request, "");
            both.extend(response("200 OK", &request, ""));
            let _ = stream.write_all(&both);
        }
        "oversized" => {
            let pad = format!("X-Pad: {}\r\n", "a".repeat(70 * 1024));
            let _ = stream.write_all(&response("200 OK", &request, &pad));
        }
        other => {
            for reply in replies(other, &request, 1) {
                let _ = stream.write_all(&reply);
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    // Hold the connection open: the check decides when it is done.
    thread::sleep(Duration::from_secs(30));
}

/// Closes with SO_LINGER 0, which sends RST instead of FIN.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt(2) on this stream's socket with a correctly sized value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn rtsp_tcp(bind: &str, behaviour: &str) {
    let listener = TcpListener::bind(bind).expect("bind tcp");
    announce(listener.local_addr().expect("addr").port());
    for stream in listener.incoming().flatten() {
        let behaviour = behaviour.to_string();
        thread::spawn(move || serve_rtsp(stream, &behaviour));
    }
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=fault peer\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:stream=0\r\n";

fn rtsp_reply(cseq: &str, status: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "RTSP/1.0 {status}\r\nCSeq: {cseq}\r\nServer: fault-peer\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve_rtsp(mut stream: TcpStream, behaviour: &str) {
    if behaviour.starts_with("play-") || behaviour.starts_with("setup-") {
        return serve_play(stream, behaviour);
    }
    while let Some(request) = read_request(&mut stream) {
        let cseq = request
            .lines()
            .find_map(|l| l.strip_prefix("CSeq:").map(|v| v.trim().to_string()))
            .unwrap_or_default();
        let describe = request.starts_with("DESCRIBE");
        let ok = || {
            if describe {
                rtsp_reply(&cseq, "200 OK", "Content-Type: application/sdp\r\n", SDP)
            } else {
                rtsp_reply(&cseq, "200 OK", "Public: OPTIONS, DESCRIBE\r\n", "")
            }
        };
        let reply = match behaviour {
            "silence" => break,
            "close" => return,
            "reset" => {
                let r = ok();
                let _ = stream.write_all(&r[..r.len() / 2]);
                reset(&stream);
                return;
            }
            "slow" => {
                for b in ok() {
                    if stream.write_all(&[b]).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                continue;
            }
            "endless-headers" => {
                let _ = stream.write_all(b"RTSP/1.0 200 OK\r\n");
                let line = format!("X-Pad: {}\r\n", "a".repeat(64));
                while stream.write_all(line.as_bytes()).is_ok() {}
                return;
            }
            "503" => rtsp_reply(&cseq, "503 Service Unavailable", "", ""),
            // user:secret in Basic; VLC leaves CSeq out of its 401.
            "vlc-401" if !request.contains("Authorization: Basic dXNlcjpzZWNyZXQ=") => {
                b"RTSP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"VLC stream\"\r\nContent-Length: 0\r\n\r\n".to_vec()
            }
            "wrong-cseq" => rtsp_reply(&format!("{cseq}1"), "200 OK", "", ""),
            "rtsp2" => {
                let mut r = ok();
                r[5] = b'2';
                r
            }
            "garbage" => b"\x00\x01\x02 this is not RTSP \xff\r\n\r\n".to_vec(),
            "truncated" => format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n").into_bytes(),
            "short-body" if describe => {
                let mut r = format!(
                    "RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\nContent-Length: 500\r\n\r\n"
                )
                .into_bytes();
                r.extend_from_slice(SDP.as_bytes());
                r
            }
            "no-sdp" if describe => {
                rtsp_reply(&cseq, "200 OK", "Content-Type: text/plain\r\n", "hello")
            }
            "no-media" if describe => rtsp_reply(
                &cseq,
                "200 OK",
                "Content-Type: application/sdp\r\n",
                "v=0\r\ns=nothing published\r\nt=0 0\r\n",
            ),
            _ => ok(),
        };
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
    // Hold the connection open: the check decides when it is done.
    thread::sleep(Duration::from_secs(30));
}

/// Appends the request line to `$FAULT_PEER_LOG`, if set: a test can see what arrived.
fn log_request(request: &str) {
    let Some(path) = std::env::var_os("FAULT_PEER_LOG") else {
        return;
    };
    let line = request.lines().next().unwrap_or("");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// One `$` frame: channel, length, payload.
fn interleaved(channel: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![b'$', channel];
    frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An RTP packet: version 2, payload type `pt`, sequence `seq`, SSRC `ssrc`.
fn rtp(pt: u8, seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&u32::from(seq).wrapping_mul(3600).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0u8; 100]);
    p
}

/// An RTCP sender report (header and sender info) for `ssrc`.
fn sender_report(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0u8; 20]);
    p
}

const SSRC: u32 = 0xABCD;

/// SETUP, PLAY and media as `behaviour` says, on one connection; writes are shared with
/// the thread that sends the media.
fn serve_play(mut stream: TcpStream, behaviour: &str) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let writer = std::sync::Arc::new(std::sync::Mutex::new(writer));
    let send = |bytes: &[u8]| write_locked(&writer, bytes);
    while let Some(request) = read_request(&mut stream) {
        log_request(&request);
        let cseq = request
            .lines()
            .find_map(|l| l.strip_prefix("CSeq:").map(|v| v.trim().to_string()))
            .unwrap_or_default();
        let method = request.split(' ').next().unwrap_or("").to_string();
        let needs_session = method == "PLAY" || method == "TEARDOWN";
        if needs_session && !request.contains("\r\nSession: 12345678\r\n") {
            if !send(&rtsp_reply(&cseq, "454 Session Not Found", "", "")) {
                return;
            }
            continue;
        }
        let reply = match (method.as_str(), behaviour) {
            ("DESCRIBE", "play-describe-session") => rtsp_reply(
                &cseq,
                "200 OK",
                "Content-Type: application/sdp\r\nSession: early-describe\r\n",
                SDP,
            ),
            ("DESCRIBE", "play-content-location") => {
                // rtsp://HOST:PORT/live -> rtsp://HOST:PORT/moved
                let uri = request.split(' ').nth(1).unwrap_or("");
                let host_end = uri.get(7..).and_then(|r| r.find('/')).map_or(uri.len(), |i| i + 7);
                let moved = format!("{}/moved", &uri[..host_end]);
                let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=moved\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n";
                rtsp_reply(
                    &cseq,
                    "200 OK",
                    &format!("Content-Type: application/sdp\r\nContent-Location: {moved}\r\n"),
                    sdp,
                )
            }
            ("DESCRIBE", _) => rtsp_reply(&cseq, "200 OK", "Content-Type: application/sdp\r\n", SDP),
            ("SETUP", "setup-461") => rtsp_reply(&cseq, "461 Unsupported Transport", "", ""),
            ("SETUP", "setup-udp") => rtsp_reply(
                &cseq,
                "200 OK",
                "Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971\r\nSession: 12345678\r\n",
                "",
            ),
            ("SETUP", "setup-no-session") => rtsp_reply(
                &cseq,
                "200 OK",
                "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
                "",
            ),
            ("SETUP", _) => rtsp_reply(
                &cseq,
                "200 OK",
                &format!("Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc={SSRC:08X}\r\nSession: 12345678;timeout=60\r\n"),
                "",
            ),
            ("PLAY", "play-500") => rtsp_reply(&cseq, "500 Internal Server Error", "", ""),
            ("PLAY", _) => {
                let early = behaviour == "play-early" && send(&interleaved(0, &rtp(26, 1, SSRC)));
                let reply = rtsp_reply(&cseq, "200 OK", "Session: 12345678\r\n", "");
                if !send(&reply) {
                    return;
                }
                if behaviour == "play-close" {
                    return;
                }
                if !early {
                    let writer = writer.clone();
                    let behaviour = behaviour.to_string();
                    thread::spawn(move || media(&writer, &behaviour));
                }
                continue;
            }
            ("TEARDOWN", "play-no-teardown-reply") => {
                thread::sleep(Duration::from_secs(30));
                return;
            }
            ("TEARDOWN", _) => {
                send(&rtsp_reply(&cseq, "200 OK", "Session: 12345678\r\n", ""));
                return;
            }
            _ => rtsp_reply(&cseq, "200 OK", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n", ""),
        };
        if !send(&reply) {
            return;
        }
    }
}

/// Writes `bytes` whole under the lock the PLAY thread and the media thread share, so
/// that a reply never lands inside a `$` frame; false once the connection failed.
fn write_locked(writer: &std::sync::Mutex<TcpStream>, bytes: &[u8]) -> bool {
    let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
    w.write_all(bytes).is_ok()
}

/// What flows after PLAY, until the connection fails.
fn media(writer: &std::sync::Mutex<TcpStream>, behaviour: &str) {
    let send = |bytes: &[u8]| write_locked(writer, bytes);
    let once: Option<Vec<u8>> = match behaviour {
        "play-silence" | "play-no-teardown-reply" => return,
        "play-oversized" => Some(b"$\x00\xff\xff".to_vec()),
        "play-garbage" => Some(b"\x00\x01\x02 this is not RTP or RTSP \xff\r\n\r\n".to_vec()),
        _ => None,
    };
    if let Some(bytes) = once {
        send(&bytes);
        return;
    }
    if behaviour == "play-server-request" {
        let request =
            b"GET_PARAMETER rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nSession: 12345678\r\n\r\n";
        if !send(request) || !send(&rtsp_reply("99", "200 OK", "", "")) {
            return;
        }
    }
    for seq in 1.. {
        let frame = match behaviour {
            "play-rtcp" => interleaved(1, &sender_report(SSRC)),
            "play-wrong-channel" => interleaved(4, &rtp(26, seq, SSRC)),
            "play-wrong-pt" => interleaved(0, &rtp(96, seq, SSRC)),
            "play-wrong-ssrc" => interleaved(0, &rtp(26, seq, 0x1234)),
            _ => interleaved(0, &rtp(26, seq, SSRC)),
        };
        if !send(&frame) {
            return;
        }
        thread::sleep(Duration::from_millis(40));
    }
}
