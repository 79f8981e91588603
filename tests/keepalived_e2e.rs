//! End to end with real keepalived: two nodes, each in its own network namespace, joined
//! by veth pairs to a bridge in a third namespace (198.18.0.0/24, no default route). VRRP
//! with a VIP; check-sip as the vrrp_script (with --only-if-master) against a real
//! Kamailio in each node; ka-notify as notify (or notify_fifo_script) writing state and
//! "starting" a service through a hook. Kill Kamailio on the master: the VIP must move
//! within interval x fall + 2 s. Needs root (CI runs as root), ip, keepalived, kamailio.
//!
//! The keepalived-checkd variant: each node's daemon probes its Kamailio every 100 ms
//! (fall 2) into a `track_file` with `weight 0`, and keepalived tracks the daemon itself
//! with `vrrp_track_process`. keepalived then runs in the root namespace and enters the
//! node's with `net_namespace`: the kernel's process-event connector exists only in the
//! root network namespace, so under `ip netns exec` vrrp_track_process never sees a
//! process (keepalived issues #1469, #2434).

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_checks::state::{self, Kind, VrrpState};

use crate::support::{bin, wait_for};

const VIP: &str = "198.18.0.100";
const INTERVAL_S: u64 = 1;
const FALL: u64 = 2;

/// How keepalived tells ka-notify about events.
#[derive(Clone, Copy, PartialEq)]
enum NotifyMode {
    Argv,
    Fifo,
}

/// How keepalived learns that Kamailio is down.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Tracking {
    /// check-sip as a vrrp_script; keepalived inside the node's namespace.
    Script,
    /// keepalived-checkd's track file, and vrrp_track_process on the daemon; keepalived
    /// in the root namespace with net_namespace.
    Checkd,
}

const CHECKD_INTERVAL_MS: u64 = 100;
const CHECKD_FALL: u64 = 2;
const CHECKD_TIMEOUT_MS: u64 = 300;

struct Node {
    name: &'static str,
    addr: &'static str,
    priority: u8,
    dir: PathBuf,
    netns: String,
    kamailio: Option<Child>,
    keepalived: Option<Child>,
    checkd: Option<Child>,
}

/// The namespaces and processes of one test, all removed on drop (also on failure).
struct Lab {
    bridge_ns: String,
    nodes: [Node; 2],
    root: PathBuf,
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `argv` as a command inside `netns` (`ip netns exec` execs it: same PID), or in the
/// root namespace when `netns` is empty.
fn in_netns(netns: &str, argv: &[&str]) -> Command {
    let mut cmd = if netns.is_empty() {
        Command::new(argv[0])
    } else {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", netns, argv[0]]);
        c
    };
    cmd.args(&argv[1..]);
    cmd
}

/// Starts `argv` inside `netns` (see [`in_netns`]), in its own process group, output to
/// `log`.
fn spawn_in(netns: &str, argv: &[&str], log: &Path) -> Child {
    let log = fs::File::create(log).expect("log file");
    in_netns(netns, argv)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("spawn in netns")
}

/// SIGTERM to the child's process group, then SIGKILL if it lingers.
fn stop(child: &mut Option<Child>) {
    let Some(mut c) = child.take() else { return };
    let pgid = c.id() as i32;
    // SAFETY: signalling process groups this test created.
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Ok(Some(_)) = c.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above; harmless if the group is gone.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let _ = c.wait();
}

impl Lab {
    fn new(tag: &str) -> Lab {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "this test needs root for network namespaces (CI runs as root)"
        );
        for tool in ["/usr/sbin/keepalived", "/usr/sbin/kamailio"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} missing: `bash scripts/test` installs it"
            );
        }
        let id = format!("kc{}{tag}", std::process::id());
        let root = std::env::temp_dir().join(format!("kc-e2e-{id}"));
        let _ = fs::remove_dir_all(&root);
        let node = |name: &'static str, addr, priority| Node {
            name,
            addr,
            priority,
            dir: root.join(name),
            netns: format!("{id}-{name}"),
            kamailio: None,
            keepalived: None,
            checkd: None,
        };
        let lab = Lab {
            bridge_ns: format!("{id}-br"),
            nodes: [node("a", "198.18.0.1", 150), node("b", "198.18.0.2", 100)],
            root,
        };
        sh(&["ip", "netns", "add", &lab.bridge_ns]);
        sh(&[
            "ip",
            "-n",
            &lab.bridge_ns,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
        ]);
        sh(&["ip", "-n", &lab.bridge_ns, "link", "set", "br0", "up"]);
        for n in &lab.nodes {
            fs::create_dir_all(&n.dir).expect("node dir");
            let (inside, outside) = (format!("{}0", n.name), format!("{}1", n.name));
            sh(&["ip", "netns", "add", &n.netns]);
            sh(&[
                "ip",
                "-n",
                &n.netns,
                "link",
                "add",
                &inside,
                "type",
                "veth",
                "peer",
                "name",
                &outside,
                "netns",
                &lab.bridge_ns,
            ]);
            sh(&[
                "ip",
                "-n",
                &lab.bridge_ns,
                "link",
                "set",
                &outside,
                "master",
                "br0",
                "up",
            ]);
            sh(&["ip", "-n", &n.netns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", &n.netns, "link", "set", &inside, "up"]);
            sh(&[
                "ip",
                "-n",
                &n.netns,
                "addr",
                "add",
                &format!("{}/24", n.addr),
                "dev",
                &inside,
            ]);
        }
        lab
    }

    fn start_kamailio(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        let config = include_str!("kamailio/kamailio.cfg")
            .replace("@LISTEN_UDP@", &format!("udp:{}:5060", n.addr))
            .replace("@LISTEN_TCP@", &format!("tcp:{}:5060", n.addr));
        let cfg = n.dir.join("kamailio.cfg");
        fs::write(&cfg, config).expect("kamailio.cfg");
        let dir = n.dir.to_string_lossy().into_owned();
        let argv = [
            "/usr/sbin/kamailio",
            "-DD",
            "-E",
            "-f",
            &cfg.to_string_lossy(),
            "-Y",
            &dir,
            "-m",
            "16",
            "-M",
            "4",
        ];
        n.kamailio = Some(spawn_in(&n.netns, &argv, &n.dir.join("kamailio.log")));
        // Ready when check-sip, run inside the node, says so.
        let (netns, uri) = (n.netns.clone(), format!("sip:{}:5060", n.addr));
        wait_for("kamailio to answer", Duration::from_secs(15), || {
            in_netns(&netns, &[bin("check-sip"), &uri, "--log", "none"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    fn keepalived_conf(&self, i: usize, mode: NotifyMode, tracking: Tracking) -> String {
        let n = &self.nodes[i];
        let peer = &self.nodes[1 - i];
        let d = n.dir.display();
        let actions = format!(
            "--state-dir {d}/state --history {d}/history --instance VI_1 \
             --on-master '/usr/bin/touch {d}/service-running' \
             --on-backup '/bin/rm -f {d}/service-running' \
             --on-fault '/bin/rm -f {d}/service-running'"
        );
        let ka_notify = bin("ka-notify");
        let (global_notify, instance_notify) = match mode {
            NotifyMode::Argv => (String::new(), format!("    notify \"{ka_notify} {actions}\"\n")),
            NotifyMode::Fifo => (
                format!("    notify_fifo {d}/notify.fifo\n    notify_fifo_script \"{ka_notify} fifo {actions}\"\n"),
                String::new(),
            ),
        };
        let (namespace, trackers, tracked) = match tracking {
            Tracking::Script => (
                String::new(),
                format!(
                    r#"vrrp_script chk_sip {{
    script "{check_sip} sip:{addr}:5060 --only-if-master VI_1 --state-dir {d}/state --timeout 800ms"
    interval {INTERVAL_S}
    timeout 2
    fall {FALL}
    rise 2
}}
"#,
                    check_sip = bin("check-sip"),
                    addr = n.addr,
                ),
                "    track_script {\n        chk_sip\n    }\n".to_string(),
            ),
            Tracking::Checkd => (
                format!("net_namespace {}\n\n", n.netns),
                format!(
                    r#"track_file kamailio {{
    file {track}
    weight 0
}}

vrrp_track_process checkd {{
    process {checkd} -c {d}/checkd.toml
    param_match initial
    weight 0
    quorum 1
}}
"#,
                    track = self.track_file(i).display(),
                    checkd = bin("keepalived-checkd"),
                ),
                "    track_file {\n        kamailio\n    }\n    track_process {\n        checkd\n    }\n"
                    .to_string(),
            ),
        };
        format!(
            r#"{namespace}global_defs {{
    router_id node_{name}
    script_user root
    enable_script_security
{global_notify}}}

{trackers}

vrrp_instance VI_1 {{
    state BACKUP
    interface {name}0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    nopreempt
    unicast_src_ip {addr}
    unicast_peer {{
        {peer_addr}
    }}
    virtual_ipaddress {{
        {VIP}/24 dev {name}0
    }}
{tracked}{instance_notify}}}
"#,
            name = n.name,
            addr = n.addr,
            priority = n.priority,
            peer_addr = peer.addr,
        )
    }

    fn start_keepalived(&mut self, i: usize, mode: NotifyMode, tracking: Tracking) {
        let conf = self.keepalived_conf(i, mode, tracking);
        let n = &mut self.nodes[i];
        let path = n.dir.join("keepalived.conf");
        fs::write(&path, conf).expect("keepalived.conf");
        let p = path.to_string_lossy().into_owned();
        // With net_namespace, keepalived starts in the root namespace and enters the
        // node's itself; nothing it sends leaves that namespace.
        let netns = match tracking {
            Tracking::Script => n.netns.as_str(),
            Tracking::Checkd => "",
        };
        let test = in_netns(netns, &["keepalived", "-t", "-f", &p])
            .output()
            .expect("keepalived -t");
        assert!(
            test.status.success(),
            "keepalived -t: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let pid = |f: &str| n.dir.join(f).to_string_lossy().into_owned();
        let argv = [
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-P",
            "-f",
            &p,
            "-p",
            &pid("keepalived.pid"),
            "-r",
            &pid("vrrp.pid"),
        ];
        n.keepalived = Some(spawn_in(netns, &argv, &n.dir.join("keepalived.log")));
    }

    /// A lab with Kamailio on both nodes, tracked as `tracking` says (keepalived-checkd's
    /// track files healthy before keepalived starts), and keepalived with ka-notify in FIFO
    /// mode.
    fn running(tracking: Tracking, tag: &str) -> Lab {
        let mut lab = Lab::new(tag);
        for i in 0..2 {
            lab.start_kamailio(i);
            if tracking == Tracking::Checkd {
                lab.start_checkd(i);
            }
        }
        if tracking == Tracking::Checkd {
            wait_for("both track files healthy", Duration::from_secs(5), || {
                lab.track_value(0) == "0\n" && lab.track_value(1) == "0\n"
            });
        }
        lab.start_keepalived(0, NotifyMode::Fifo, tracking);
        lab.start_keepalived(1, NotifyMode::Fifo, tracking);
        lab
    }

    /// Stops Kamailio on a (the MASTER) and waits for the VIP on b: at most `bound`, with
    /// the time printed.
    fn kill_kamailio_on_a(&mut self, bound: Duration, what: &str) {
        stop(&mut self.nodes[0].kamailio);
        let took = wait_for(
            "the VIP to move to b",
            bound + Duration::from_secs(10),
            || self.has_vip(1),
        );
        println!(
            "failover ({what}) took {} ms; bound {} ms",
            took.as_millis(),
            bound.as_millis()
        );
        assert!(
            took <= bound,
            "failover took {took:?}, more than {bound:?}\n{}",
            self.logs()
        );
    }

    /// Node `master` holds the VIP as MASTER and the other is BACKUP.
    fn settled(&self, master: usize) -> bool {
        self.has_vip(master)
            && self.state(master) == Some(VrrpState::Master)
            && self.state(1 - master) == Some(VrrpState::Backup)
    }

    fn track_file(&self, i: usize) -> PathBuf {
        self.nodes[i].dir.join("track").join("kamailio")
    }

    fn track_value(&self, i: usize) -> String {
        fs::read_to_string(self.track_file(i)).unwrap_or_default()
    }

    /// keepalived-checkd in node `i`'s namespace, probing its Kamailio; returns once the
    /// daemon has written its track file.
    fn start_checkd(&mut self, i: usize) {
        let track = self.track_file(i);
        let n = &mut self.nodes[i];
        let conf = n.dir.join("checkd.toml");
        fs::write(
            &conf,
            format!(
                r#"status_socket = "{d}/checkd.sock"

[[check]]
name = "kamailio"
check = "{check_sip} sip:{addr}:5060 --timeout {CHECKD_TIMEOUT_MS}ms"
interval = "{CHECKD_INTERVAL_MS}ms"
rise = 2
fall = {CHECKD_FALL}
file = "{track}"
"#,
                d = n.dir.display(),
                check_sip = bin("check-sip"),
                addr = n.addr,
                track = track.display(),
            ),
        )
        .expect("checkd.toml");
        let conf = conf.to_string_lossy().into_owned();
        let argv = [bin("keepalived-checkd"), "-c", &conf, "--log", "stderr"];
        n.checkd = Some(spawn_in(&n.netns, &argv, &n.dir.join("checkd.log")));
        wait_for("the track file", Duration::from_secs(5), || track.exists());
    }

    fn has_vip(&self, i: usize) -> bool {
        let n = &self.nodes[i];
        let out = Command::new("ip")
            .args([
                "-n",
                &n.netns,
                "-4",
                "addr",
                "show",
                "dev",
                &format!("{}0", n.name),
            ])
            .output()
            .expect("ip addr");
        String::from_utf8_lossy(&out.stdout).contains(&format!("inet {VIP}/"))
    }

    fn state(&self, i: usize) -> Option<VrrpState> {
        state::StateDir::open(&self.nodes[i].dir.join("state"))
            .ok()
            .and_then(|d| d.read(Kind::Instance, "VI_1").ok().flatten())
            .map(|r| r.state)
    }

    fn service_running(&self, i: usize) -> bool {
        self.nodes[i].dir.join("service-running").exists()
    }

    /// What the nodes' logs say, for a failing assertion.
    fn logs(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            for f in ["keepalived.log", "history", "checkd.log"] {
                let text = fs::read_to_string(n.dir.join(f)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                out.push_str(&format!(
                    "--- {} {f}\n{}\n",
                    n.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
        }
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            stop(&mut n.keepalived);
            stop(&mut n.checkd);
            stop(&mut n.kamailio);
        }
        for n in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", &n.netns]).status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.bridge_ns])
            .status();
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn failover(mode: NotifyMode, tag: &str) {
    let mut lab = Lab::new(tag);
    lab.start_kamailio(0);
    lab.start_kamailio(1);
    lab.start_keepalived(0, mode, Tracking::Script);
    lab.start_keepalived(1, mode, Tracking::Script);

    // a (priority 150) becomes MASTER; b stays BACKUP; ka-notify says so on both.
    wait_for(
        "a to hold the VIP as MASTER",
        Duration::from_secs(20),
        || lab.settled(0),
    );
    assert!(!lab.has_vip(1), "{}", lab.logs());
    assert!(
        lab.service_running(0) && !lab.service_running(1),
        "{}",
        lab.logs()
    );

    // Kamailio dies on the master: check-sip fails twice, a goes FAULT, b takes the VIP.
    lab.kill_kamailio_on_a(Duration::from_secs(INTERVAL_S * FALL + 2), tag);
    wait_for("both state files to follow", Duration::from_secs(5), || {
        lab.state(1) == Some(VrrpState::Master) && lab.state(0) != Some(VrrpState::Master)
    });
    assert!(!lab.has_vip(0), "{}", lab.logs());
    wait_for("the service to move", Duration::from_secs(5), || {
        lab.service_running(1) && !lab.service_running(0)
    });

    // Kamailio is back on a: a returns as BACKUP and, nopreempt, leaves the VIP on b
    // although its priority is higher.
    lab.start_kamailio(0);
    wait_for("a to be BACKUP again", Duration::from_secs(15), || {
        lab.state(0) == Some(VrrpState::Backup)
    });
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        lab.has_vip(1) && !lab.has_vip(0),
        "nopreempt: the VIP must stay on b\n{}",
        lab.logs()
    );
    assert_eq!(lab.state(1), Some(VrrpState::Master), "{}", lab.logs());
    assert!(
        lab.service_running(1) && !lab.service_running(0),
        "{}",
        lab.logs()
    );
}

#[test]
fn failover_with_ka_notify_as_notify() {
    failover(NotifyMode::Argv, "n");
}

#[test]
fn failover_with_ka_notify_as_notify_fifo_script() {
    failover(NotifyMode::Fifo, "f");
}

/// Kamailio killed on the master: keepalived-checkd's track file takes the VIP away in
/// well under a second. keepalived-checkd killed with SIGKILL on the master: its track file
/// still says healthy, and vrrp_track_process moves the VIP.
#[test]
fn failover_with_keepalived_checkd_track_file_and_track_process() {
    let mut lab = Lab::running(Tracking::Checkd, "c");
    wait_for("a MASTER, b BACKUP", Duration::from_secs(20), || {
        lab.settled(0)
    });

    // Kamailio dies on a: two failed probes 100 ms apart, the file says 1, a goes FAULT.
    lab.kill_kamailio_on_a(
        Duration::from_millis(CHECKD_INTERVAL_MS * CHECKD_FALL + CHECKD_TIMEOUT_MS)
            + Duration::from_secs(2),
        "keepalived-checkd, Kamailio killed",
    );
    assert_eq!(lab.track_value(0), "1\n", "{}", lab.logs());
    wait_for(
        "a FAULT: the transition reached keepalived",
        Duration::from_secs(5),
        || lab.state(0) == Some(VrrpState::Fault),
    );

    // Kamailio back on a: the file says 0 and keepalived takes a out of FAULT.
    lab.start_kamailio(0);
    wait_for("a BACKUP again", Duration::from_secs(10), || {
        lab.track_value(0) == "0\n" && lab.state(0) == Some(VrrpState::Backup)
    });
    assert!(
        lab.has_vip(1) && !lab.has_vip(0),
        "nopreempt\n{}",
        lab.logs()
    );

    // The daemon on the master dies without a word: its file still says healthy, and only
    // vrrp_track_process can notice.
    let pid = lab.nodes[1].checkd.as_ref().expect("checkd on b").id() as i32;
    // SAFETY: the daemon this test started (ip netns exec execs it: same PID).
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let took = wait_for("the VIP to move back to a", Duration::from_secs(10), || {
        lab.has_vip(0)
    });
    println!(
        "failover (keepalived-checkd killed with SIGKILL) took {} ms",
        took.as_millis()
    );
    assert_eq!(
        lab.track_value(1),
        "0\n",
        "the dead daemon's file still says healthy"
    );
    wait_for("b FAULT", Duration::from_secs(5), || {
        lab.state(1) == Some(VrrpState::Fault)
    });
    stop(&mut lab.nodes[1].checkd);
}

/// For benches/failover.rs: `runs` failovers, each Kamailio killed with SIGKILL on the
/// node that is MASTER, timed from the kill until the other node holds the VIP; Kamailio
/// is then restarted and the next run kills the other node's.
#[allow(dead_code)]
pub(crate) fn failover_times(tracking: Tracking, runs: usize) -> Vec<Duration> {
    let mut lab = Lab::running(
        tracking,
        match tracking {
            Tracking::Script => "s",
            Tracking::Checkd => "d",
        },
    );
    let mut master = 0;
    let mut times = Vec::new();
    for _ in 0..runs {
        let other = 1 - master;
        wait_for("one MASTER, one BACKUP", Duration::from_secs(30), || {
            lab.settled(master)
        });
        let mut kamailio = lab.nodes[master].kamailio.take().expect("kamailio");
        let killed = Instant::now();
        // SAFETY: the process group of the Kamailio this lab started.
        unsafe { libc::kill(-(kamailio.id() as i32), libc::SIGKILL) };
        wait_for("the VIP to move", Duration::from_secs(20), || {
            lab.has_vip(other)
        });
        times.push(killed.elapsed());
        let _ = kamailio.wait();
        lab.start_kamailio(master);
        master = other;
    }
    times
}
