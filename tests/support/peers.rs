//! Peer processes the tests start and stop by PID: the fault-injecting peer (an example
//! binary of this package) and a real Kamailio from Debian's package.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process ended (its whole process group) when dropped, also on test failure.
pub struct PeerProcess {
    child: Child,
    pub port: u16,
    /// Kamailio's TLS port, when it listens on one.
    pub tls_port: Option<u16>,
    dir: Option<PathBuf>,
}

impl PeerProcess {
    /// `sips:127.0.0.1:PORT`: Kamailio's TLS listener.
    pub fn sips_uri(&self) -> String {
        format!(
            "sips:127.0.0.1:{}",
            self.tls_port.expect("Kamailio listens on TLS")
        )
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: signalling the process group this test created for its own child.
            unsafe { libc::kill(-pid, libc::SIGTERM) };
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            // SAFETY: as above; no-op if it already ended.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = self.child.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// An example binary built by `cargo test` beside the test binary.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} missing: plain `cargo test` builds examples as binaries (`--all-targets` does not)",
        path.display()
    );
    path
}

/// Starts `fault_peer PROTO TRANSPORT BEHAVIOUR` on 127.0.0.1 and waits for its port.
pub fn fault_peer(proto: &str, transport: &str, behaviour: &str) -> PeerProcess {
    fault_peer_on(proto, transport, behaviour, "127.0.0.1:0")
}

/// As [`fault_peer`], bound to `bind`.
pub fn fault_peer_on(proto: &str, transport: &str, behaviour: &str, bind: &str) -> PeerProcess {
    start_fault_peer(&[proto, transport, behaviour, bind], None)
}

/// As [`fault_peer`], appending the first line of every request it reads to `log`.
pub fn fault_peer_logging(
    proto: &str,
    transport: &str,
    behaviour: &str,
    log: &Path,
) -> PeerProcess {
    start_fault_peer(&[proto, transport, behaviour, "127.0.0.1:0"], Some(log))
}

fn start_fault_peer(args: &[&str], log: Option<&Path>) -> PeerProcess {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(example("fault_peer"));
    if let Some(log) = log {
        command.env("FAULT_PEER_LOG", log);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("start fault_peer");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("port line");
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("fault_peer said {line:?}"));
    PeerProcess {
        child,
        port,
        tls_port: None,
        dir: None,
    }
}

/// A port free on 127.0.0.1 for both UDP and TCP at the moment of asking.
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = tcp.local_addr().expect("addr").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts a real Kamailio in the foreground on 127.0.0.1 (UDP and TCP, one free port)
/// with `tests/kamailio/kamailio.cfg`, and waits until it answers on TCP.
/// Panics, failing the test, if Kamailio is not installed: it never skips.
pub fn kamailio() -> PeerProcess {
    kamailio_in(None)
}

/// [`kamailio`], in the network namespace `netns` when given (`ip netns exec`, which
/// execs in place: the PID is Kamailio's).
pub fn kamailio_in(netns: Option<&str>) -> PeerProcess {
    kamailio_with(netns, None)
}

/// How Kamailio's TLS listener is set up: the certificate it presents, and the CA a
/// client certificate must be signed by when it requires one.
pub struct KamailioTls<'a> {
    pub server: &'a super::tls::Pair,
    pub require_client_ca: Option<&'a Path>,
}

/// [`kamailio`] that also listens on TLS (Debian's kamailio-tls-modules), on
/// [`PeerProcess::tls_port`].
pub fn kamailio_tls(tls: KamailioTls<'_>) -> PeerProcess {
    kamailio_with(None, Some(tls))
}

fn kamailio_with(netns: Option<&str>, tls: Option<KamailioTls<'_>>) -> PeerProcess {
    use std::os::unix::process::CommandExt;
    let binary = ["/usr/sbin/kamailio", "/usr/local/sbin/kamailio"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("kamailio is not installed: `bash scripts/test` installs it (apt-get install kamailio)")
        });
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("kc-kamailio-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let template = include_str!("../kamailio/kamailio.cfg");
    let tls_port = tls.as_ref().map(|_| free_port());
    let tls_config = dir.join("tls.cfg");
    let config = template
        .replace("@LISTEN_UDP@", &format!("udp:127.0.0.1:{port}"))
        .replace("@LISTEN_TCP@", &format!("tcp:127.0.0.1:{port}"))
        .replace(
            "@LISTEN_TLS@",
            &format!("tls:127.0.0.1:{}", tls_port.unwrap_or(0)),
        )
        .replace("@TLS_CONFIG@", &tls_config.to_string_lossy());
    let cfg = dir.join("kamailio.cfg");
    std::fs::write(&cfg, config).expect("write config");
    if let Some(tls) = &tls {
        // Debian's multiarch directory (/usr/lib/x86_64-linux-gnu, ...), or /usr/lib.
        let module = |lib: &Path| lib.join("kamailio/modules/tls.so").exists();
        let multiarch = std::fs::read_dir("/usr/lib")
            .into_iter()
            .flatten()
            .flatten();
        assert!(
            module(Path::new("/usr/lib")) || multiarch.map(|e| e.path()).any(|p| module(&p)),
            "Kamailio's tls module is not installed: `bash scripts/test` installs it \
             (apt-get install kamailio-tls-modules)"
        );
        let (verify, client_ca) = match tls.require_client_ca {
            Some(ca) => ("yes", format!("ca_list = {}\n", ca.display())),
            None => ("no", String::new()),
        };
        let text = format!(
            "[server:default]\nmethod = TLSv1.2+\nverify_certificate = {verify}\n\
             require_certificate = {verify}\nprivate_key = {}\ncertificate = {}\n{client_ca}\n\
             [client:default]\nverify_certificate = no\nrequire_certificate = no\n",
            tls.server.key.display(),
            tls.server.cert.display(),
        );
        std::fs::write(&tls_config, text).expect("write tls.cfg");
    }
    let log = std::fs::File::create(dir.join("kamailio.log")).expect("log");
    let mut command = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, binary]);
            c
        }
        None => Command::new(binary),
    };
    let child = command
        .arg("-DD")
        .arg("-E")
        .arg("-f")
        .arg(&cfg)
        .arg("-Y")
        .arg(&dir)
        .args(["-m", "16", "-M", "4"])
        .args(if tls.is_some() {
            &["-A", "WITH_TLS"][..]
        } else {
            &[][..]
        })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("start kamailio");
    let peer = PeerProcess {
        child,
        port,
        tls_port,
        dir: Some(dir.clone()),
    };
    let until = Instant::now() + Duration::from_secs(15);
    let listening = || match netns {
        None => TcpStream::connect(("127.0.0.1", port)).is_ok(),
        Some(ns) => Command::new("ip")
            .args(["netns", "exec", ns, super::bin("check-tcp")])
            .arg(format!("127.0.0.1:{port}"))
            .env(
                "KEEPALIVED_CHECKS_JOURNAL_SOCKET",
                "/nonexistent/journal-socket",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    };
    let tls_listening = || tls_port.map_or(true, |p| TcpStream::connect(("127.0.0.1", p)).is_ok());
    while !(listening() && tls_listening()) {
        if Instant::now() > until {
            let mut log = String::new();
            let _ = std::fs::File::open(dir.join("kamailio.log"))
                .map(|mut f| f.read_to_string(&mut log));
            panic!("kamailio did not start listening on {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    peer
}

/// Starts GStreamer's RTSP server (`tests/rtsp/server.py`, Debian's python3-gi and
/// gir1.2-gst-rtsp-server-1.0) on 127.0.0.1 with `/test` open and `/secure` behind
/// `auth` ("basic" or "digest"; user "user", password "secret").
/// Panics, failing the test, when the server cannot start: it never skips.
pub fn rtsp_server(auth: &str) -> PeerProcess {
    rtsp_server_with(auth, None)
}

/// [`rtsp_server`] speaking only TLS (`rtsps://`), presenting `cert` (needs Debian's
/// glib-networking).
pub fn rtsps_server(auth: &str, cert: &super::tls::Pair) -> PeerProcess {
    rtsp_server_with(auth, Some(cert))
}

fn rtsp_server_with(auth: &str, cert: Option<&super::tls::Pair>) -> PeerProcess {
    use std::os::unix::process::CommandExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rtsp/server.py");
    let mut args = vec![script.to_string(), auth.to_string()];
    if let Some(pair) = cert {
        args.push(pair.cert.to_string_lossy().into_owned());
        args.push(pair.key.to_string_lossy().into_owned());
    }
    // Debian's python3-gi belongs to /usr/bin/python3; a python3 earlier on PATH may lack it.
    let mut child = Command::new("/usr/bin/python3")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start /usr/bin/python3 tests/rtsp/server.py");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    let Ok(port) = line.trim().parse() else {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!(
            "the GStreamer RTSP server did not start ({err}); `bash scripts/test` installs \
             gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi glib-networking"
        );
    };
    PeerProcess {
        child,
        port,
        tls_port: None,
        dir: None,
    }
}

/// Starts `cmd` in a process group of its own (ended with it on drop), its output to `log`
/// (shown if it never listens on `port`); `log`'s directory is removed with it.
fn start_listening(cmd: &mut Command, port: u16, what: &str, log: PathBuf) -> PeerProcess {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(&log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}; `bash scripts/test` installs it"));
    let mut peer = PeerProcess {
        child,
        port,
        tls_port: None,
        dir: log.parent().map(Path::to_path_buf),
    };
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let ended = matches!(peer.child.try_wait(), Ok(Some(_)));
        if ended || Instant::now() > until {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{what} did not listen on port {port}: {said}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    peer
}

/// A directory for the media peer on `port`: its log, and files it reads. Readable by
/// everyone: VLC runs as nobody.
fn media_dir(tag: &str, port: u16) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("kc-{tag}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("media dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// VLC 3.0 (Debian's vlc-bin and vlc-plugin-base) as an RTSP server on 127.0.0.1,
/// streaming a generated 10-second MPEG-4 clip in a loop at rtsp://127.0.0.1:PORT/live.
/// VLC refuses to run as root, so as root it runs as nobody. Its RTSP output sends RTP
/// over UDP only.
pub fn vlc_rtsp_server() -> PeerProcess {
    let port = free_port();
    let dir = media_dir("vlc", port);
    let clip = dir.join("clip.ts");
    let made = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
        .args([
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "10",
            "-c:v",
            "mpeg4",
        ])
        .args(["-f", "mpegts"])
        .arg(&clip)
        .status()
        .expect("run ffmpeg (Debian's ffmpeg; `bash scripts/test` installs it)");
    assert!(made.success(), "ffmpeg could not make the clip");
    let mut cmd = Command::new("cvlc");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "cvlc"]);
    }
    cmd.env("HOME", &dir)
        .args([
            "-I",
            "dummy",
            "--no-video-title-show",
            "--loop",
            "--sout-keep",
        ])
        .arg(&clip)
        .arg("--sout")
        .arg(format!("#rtp{{sdp=rtsp://127.0.0.1:{port}/live}}"));
    let vlc = start_listening(&mut cmd, port, "VLC (cvlc)", dir.join("log"));
    // VLC listens before its stream is set up, and answers DESCRIBE with "500 Internal
    // server error" until then (seen on a loaded machine): ready once a DESCRIBE passes.
    let url = format!("rtsp://127.0.0.1:{port}/live");
    super::wait_for(
        "VLC's stream to pass check-rtsp --describe",
        Duration::from_secs(15),
        || super::run("check-rtsp", &[&url, "--describe", "-t", "1s"]).code == Some(0),
    );
    vlc
}

/// Perl's RTSP::Server (Debian's rtsp-server-perl) on 127.0.0.1: clients on the
/// returned peer's port, sources (ffmpeg's ANNOUNCE and RECORD) on the second value.
/// It serves a path only while a source publishes it, and sends RTP over UDP only.
pub fn perl_rtsp_server() -> (PeerProcess, u16) {
    let (clients, sources) = (free_port(), free_port());
    let dir = media_dir("perl-rtsp", clients);
    let mut cmd = Command::new("rtsp-server-perl");
    cmd.args(["--clientport", &clients.to_string()])
        .args(["--serverport", &sources.to_string()])
        .args(["--client_listen_address", "127.0.0.1"])
        .args(["--source_listen_address", "127.0.0.1"])
        .args(["--rtp_start_port", &free_port().to_string()]);
    let peer = start_listening(&mut cmd, clients, "rtsp-server-perl", dir.join("log"));
    (peer, sources)
}

/// ffmpeg publishing a live test pattern (MPEG-4 video) to `url` with ANNOUNCE and
/// RECORD, as an encoder feeds a relay; ended when dropped.
pub fn ffmpeg_publishing(url: &str) -> PeerProcess {
    use std::os::unix::process::CommandExt;
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .args([
            "-i",
            "testsrc=size=160x120:rate=10",
            "-c:v",
            "mpeg4",
            "-f",
            "rtsp",
        ])
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("run ffmpeg (Debian's ffmpeg; `bash scripts/test` installs it)");
    PeerProcess {
        child,
        port: 0,
        tls_port: None,
        dir: None,
    }
}
