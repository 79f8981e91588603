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
    dir: Option<PathBuf>,
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
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(example("fault_peer"))
        .args([proto, transport, behaviour, bind])
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
    let config = template
        .replace("@LISTEN_UDP@", &format!("udp:127.0.0.1:{port}"))
        .replace("@LISTEN_TCP@", &format!("tcp:127.0.0.1:{port}"));
    let cfg = dir.join("kamailio.cfg");
    std::fs::write(&cfg, config).expect("write config");
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
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("start kamailio");
    let peer = PeerProcess {
        child,
        port,
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
    while !listening() {
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
    use std::os::unix::process::CommandExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rtsp/server.py");
    // Debian's python3-gi belongs to /usr/bin/python3; a python3 earlier on PATH may lack it.
    let mut child = Command::new("/usr/bin/python3")
        .args([script, auth])
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
             gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi"
        );
    };
    PeerProcess {
        child,
        port,
        dir: None,
    }
}
