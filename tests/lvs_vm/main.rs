//! The LVS document end to end: stock keepalived's checker (`keepalived -n -l -D -C`)
//! with real IPVS, in a qemu VM (this machine's kernel has no IPVS; Debian's has it as
//! modules). Needs root and qemu-system-x86; scripts/test installs what it needs, and the
//! kernel is fetched into target/lvs-vm (tests/lvs/build-vm).
//!
//! Inside the guest (tests/lvs/lab): a director with the VIP 198.18.1.100 and LVS-NAT,
//! real servers in a `servers` namespace (GStreamer's RTSP server, Basic on 198.18.2.2,
//! Digest on 198.18.2.3, port 8554), the same addresses in a `failing` namespace where the
//! fault peer answers 503 (one route change moves the real servers' addresses from one
//! namespace to the other), and a `client` namespace that reaches the VIP through the
//! director. keepalived's checker runs our checks as MISC_CHECK (and reads
//! keepalived-checkd's track file with FILE_CHECK); a watcher in the guest records every
//! state of /proc/net/ip_vs (what `ipvsadm -Ln` shows) with its time, and the test reads
//! that history.

#[path = "../support/mod.rs"]
mod support;
mod vm;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use support::bin;
use support::peers::example;
use vm::{report, Paths, Vm};

const VIP: &str = "198.18.1.100";
const BASIC: &str = "198.18.2.2:8554";
const DIGEST: &str = "198.18.2.3:8554";
/// A fault peer that accepts connections and never answers (servers namespace).
const SILENT: &str = "198.18.2.3:9000";
/// How long a change may take to reach the table before the test gives up: keepalived's
/// delay_loop (1 s, 3 s for misc_dynamic) plus misc_timeout (4 s) plus emulation's
/// slowness, with room.
const CHANGE_LIMIT: Duration = Duration::from_secs(25);
/// Our checks' deadline in the VM: an emulated CPU runs a debug build's start-up in about
/// 0.4 s, and GStreamer answers a DESCRIBE in 0.1 to 1 s while the guest is busy.
const CHECK_TIMEOUT: &str = "3s";
/// keepalived's misc_timeout: above our deadline, as the doctor asks.
const MISC_TIMEOUT: u32 = 4;
/// How long keepalived checks before anything listens: three rounds at delay_loop 1.
const NOTHING_LISTENS: Duration = Duration::from_millis(3500);
/// Weight of the misc_dynamic real servers: while they are in the table, it must stay.
const DYNAMIC_WEIGHT: u32 = 5;

/// One real server of one virtual service, as the test watches it.
#[derive(Clone, Copy)]
struct Watched {
    label: &'static str,
    port: u16,
    real: &'static str,
}

/// The virtual services whose real server follows the RTSP servers' health: MISC_CHECK
/// with check-rtsp (OPTIONS, --describe, Digest) and check-tcp, and FILE_CHECK with
/// keepalived-checkd.
const FOLLOWING: [Watched; 5] = [
    Watched {
        label: "check-rtsp OPTIONS",
        port: 554,
        real: BASIC,
    },
    Watched {
        label: "check-rtsp --describe",
        port: 555,
        real: BASIC,
    },
    Watched {
        label: "check-rtsp Digest",
        port: 556,
        real: DIGEST,
    },
    Watched {
        label: "check-tcp send/expect",
        port: 557,
        real: BASIC,
    },
    Watched {
        label: "FILE_CHECK (keepalived-checkd)",
        port: 558,
        real: BASIC,
    },
];

/// misc_dynamic: each real server's check starts healthy, then fails one way. The last is
/// the control: a plain `exit 2`, which keepalived reads as "up with weight 0" (what a
/// clap-style usage error would mean there).
const DYNAMIC_PORT: u16 = 600;
const DYNAMIC: [(&str, &str); 5] = [
    ("bad-arguments", "198.18.2.11:80"),
    ("own-timeout", "198.18.2.12:80"),
    ("sigterm", "198.18.2.13:80"),
    ("panic", "198.18.2.14:80"),
    ("control-exit-2", "198.18.2.15:80"),
];

#[test]
fn keepalived_checker_with_ipvs_follows_our_checks() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the LVS VM test needs root (qemu's 9p shares of /usr and /etc, as CI runs it)"
    );
    let paths = Paths::of_this_build();
    let started = Instant::now();
    let mut lab = Lab {
        vm: Vm::boot(&paths),
        history: History::default(),
    };
    let timings = lab.scenario(&paths);
    report(&format!(
        "lvs-vm: the whole test in {:.1} s\n{timings}",
        started.elapsed().as_secs_f64()
    ));
}

/// The VM and what the test set up in it; on a failed assertion, the guest's logs.
struct Lab {
    vm: Vm,
    history: History,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The table's states as the watcher saw them: real servers per virtual service.
            let first = self.history.states.first().map_or(0.0, |(at, _)| *at);
            let mut timeline =
                String::from("lvs-vm: the IPVS table over time (s, real servers per service)\n");
            for (at, t) in &self.history.states {
                let counts: Vec<String> =
                    t.iter().map(|(s, r)| format!("{s}={}", r.len())).collect();
                timeline.push_str(&format!("  {:8.3} {}\n", at - first, counts.join(" ")));
            }
            report(&timeline);
            let logs = "for f in /run/lvs/*.log; do echo \"--- $f\"; tail -n 40 \"$f\"; done; \
                        echo '--- ipvsadm -Ln'; ipvsadm -Ln";
            match self.vm.exchange(logs, Duration::from_secs(20)) {
                Ok((_, text)) => report(&format!("lvs-vm: the guest's logs\n{text}")),
                Err(e) => report(&format!("lvs-vm: no logs from the guest: {e}")),
            }
        }
    }
}

/// The IPVS table: virtual service ("IP:PORT") to its real servers and their weights.
type Table = BTreeMap<String, Vec<(String, u32)>>;

/// Every state of the IPVS table the guest's watcher saw, with the guest's time of it.
#[derive(Default)]
struct History {
    /// Bytes of the watcher's file read so far, and those not yet a whole record.
    read: usize,
    pending: String,
    states: Vec<(f64, Table)>,
}

impl Lab {
    fn scenario(&mut self, paths: &Paths) -> String {
        let mut timings = String::new();
        self.set_up(paths);
        self.lab("start watch bash {lab} watch");

        // No real server before its check has passed (alpha), with keepalived running its
        // checks for a while: nothing listens yet.
        self.lab(&format!(
            "start checkd {} -c /run/lvs/checkd.toml",
            bin("keepalived-checkd")
        ));
        self.vm.ok("for i in $(seq 300); do [ -s /run/lvs/track/rtsp.track ] && break; sleep 0.1; done; test -s /run/lvs/track/rtsp.track");
        let (_, started) = self.span("start keepalived keepalived -n -l -D -C -f /run/lvs/keepalived.conf -p /run/lvs/keepalived.pid -c /run/lvs/checkers.pid");
        let services: Vec<String> = FOLLOWING
            .iter()
            .map(|w| service(w.port))
            .chain([service(DYNAMIC_PORT)])
            .collect();
        let up = self.until(started, "keepalived's virtual services", |t| {
            services.iter().all(|s| t.contains_key(s))
        });
        report(&format!(
            "lvs-vm: keepalived's virtual services in {} ms",
            up.as_millis()
        ));

        // Three rounds of checks (delay_loop 1, one for misc_dynamic's 3) with nothing
        // listening: no real server may be in the table (alpha).
        std::thread::sleep(NOTHING_LISTENS);
        // Healthy: GStreamer's RTSP servers start (about 5 s); every real server joins,
        // timed from the moment its server listened.
        let (start, _) = self.span("serve-rtsp");
        self.fetch();
        let early: Vec<_> = self
            .history
            .states
            .iter()
            .filter(|(at, t)| *at < start && t.values().any(|r| !r.is_empty()))
            .collect();
        assert!(
            early.is_empty(),
            "a real server in the table before its server started: {early:?}"
        );
        let checked = start - (started + up.as_secs_f64());
        timings.push_str(&format!(
            "keepalived started: virtual services in {} ms; no real server during {checked:.1} s \
             of checks with nothing listening\n",
            up.as_millis()
        ));
        let basic = self.listened("gst-basic");
        let digest = self.listened("gst-digest");
        let dynamic = dynamic_watched();
        self.changes_from(
            "servers healthy (from each server's listening)",
            start,
            FOLLOWING.iter().chain(&dynamic),
            Present::Yes,
            &|w: &Watched| if w.real == DIGEST { digest } else { basic },
            &mut timings,
        );
        let joined = self.current();
        for w in &dynamic {
            assert_eq!(
                weight(&joined, w),
                Some(DYNAMIC_WEIGHT),
                "{}: misc_dynamic with exit 0 keeps the configured weight",
                w.label
            );
        }

        // An RTSP request to the virtual address reaches a real server through IPVS: the
        // check is healthy, and IPVS has the connection client -> VIP -> real server.
        let out = self.vm.ok(&format!(
            "ip netns exec client {} rtsp://{VIP}:555/test --describe --timeout 10s",
            bin("check-rtsp")
        ));
        let connections = self.vm.ok("ipvsadm -Lnc");
        let through = connections.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            matches!(words.as_slice(), ["TCP", _, _, client, vip, real]
                if client.starts_with("198.18.1.2:") && *vip == format!("{VIP}:555") && *real == BASIC)
        });
        assert!(
            through,
            "no IPVS connection from the client through {VIP}:555 to {BASIC}: {connections}"
        );
        timings.push_str(&format!(
            "RTSP DESCRIBE from the client namespace to {VIP}:555, scheduled to {BASIC}:\n  {}\n",
            out.lines().last().unwrap_or_default()
        ));

        let dynamic_out = self.misc_dynamic_failures(&dynamic, &mut timings);

        // 503: the real servers' addresses move to the failing namespace.
        let t0 = self.span("route-to failing").0;
        self.changes(
            "servers answer 503",
            t0,
            &FOLLOWING,
            Present::No,
            &mut timings,
        );
        let t0 = self.span("route-to servers").0;
        self.changes(
            "servers healthy again",
            t0,
            &FOLLOWING,
            Present::Yes,
            &mut timings,
        );

        // Silent: the RTSP servers hang (stopped; the kernel still accepts connections).
        let t0 = self.span("signal-rtsp STOP").0;
        self.changes("servers silent", t0, &FOLLOWING, Present::No, &mut timings);
        let t0 = self.span("signal-rtsp CONT").0;
        self.changes(
            "servers answer again",
            t0,
            &FOLLOWING,
            Present::Yes,
            &mut timings,
        );

        // Stopped: the processes end.
        let t0 = self.span("stop-rtsp").0;
        let death = self.changes("servers stopped", t0, &FOLLOWING, Present::No, &mut timings);
        timings.push_str(&format!(
            "death to removal: MISC_CHECK (check-rtsp, delay_loop 1 s) {} ms, \
             FILE_CHECK (keepalived-checkd, interval 200 ms) {} ms\n",
            death[0].as_millis(),
            death[4].as_millis()
        ));

        // keepalived stopping takes its virtual services with it.
        let t0 = self.span("stop keepalived").0;
        let gone = self.until(
            t0,
            "an empty table after keepalived stopped",
            Table::is_empty,
        );
        timings.push_str(&format!(
            "keepalived stopped: table empty after {} ms\n",
            gone.as_millis()
        ));

        // Over the whole run: never one of our misc_dynamic checks read as another weight,
        // and none back once its failure took it out.
        self.fetch();
        for (at, t) in &self.history.states {
            for (w, out) in dynamic.iter().zip(&dynamic_out) {
                if let Some(wt) = weight(t, w).filter(|&wt| wt != DYNAMIC_WEIGHT) {
                    panic!(
                        "{} in the table with weight {wt} at {at:.3}: {t:?}",
                        w.label
                    );
                }
                if *at > *out && weight(t, w).is_some() {
                    panic!("{} back in the table at {at:.3}: {t:?}", w.label);
                }
            }
        }
        timings.push_str(&format!(
            "{} states of the IPVS table seen; no misc_dynamic server of ours at another weight\n",
            self.history.states.len()
        ));
        timings
    }

    /// Addresses, servers' helpers, our checks' scripts, keepalived's and
    /// keepalived-checkd's configurations.
    fn set_up(&mut self, paths: &Paths) {
        self.vm
            .ok("mkdir -p /run/lvs/track /run/lvs/dyn /run/lvs/checks");
        let env = format!(
            "export FAULT_PEER={} RTSP_SERVER={} GST_REGISTRY={}\n",
            example("fault_peer").display(),
            paths.checkout.join("tests/rtsp/server.py").display(),
            paths.target.join("lvs-vm/gst-registry.bin").display()
        );
        self.vm.write("/run/lvs/env", &env, 0o644);
        self.lab("up");
        self.lab(&format!(
            "serve silent servers {} fault silence",
            spaced(SILENT)
        ));
        self.lab(&format!(
            "serve basic-503 failing {} fault 503",
            spaced(BASIC)
        ));
        self.lab(&format!(
            "serve digest-503 failing {} fault 503",
            spaced(DIGEST)
        ));
        self.vm
            .write("/run/lvs/rtsp.credentials", "user:secret\n", 0o600);
        // check-tcp speaks RTSP here: connect, send OPTIONS, expect a 200. Through a
        // script because the request has blanks (keepalived splits misc_path at them).
        self.vm.write(
            "/run/lvs/checks/tcp",
            &format!(
                "#!/bin/sh\nexec {} {BASIC} --send 'OPTIONS rtsp://{BASIC}/test RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n' --expect 'RTSP/1.0 200' --timeout {CHECK_TIMEOUT}\n",
                bin("check-tcp")
            ),
            0o755,
        );
        for (name, _) in DYNAMIC {
            self.vm.ok(&dynamic_script(name, &healthy_dynamic()));
        }
        self.vm.write(
            "/run/lvs/checkd.toml",
            &format!(
                "status_socket = \"/run/lvs/checkd.sock\"\n\n[[check]]\nname = \"rtsp\"\n\
                 check = \"check-rtsp rtsp://{BASIC}/test --timeout 1s\"\n\
                 interval = \"200ms\"\nfile = \"/run/lvs/track/rtsp.track\"\n"
            ),
            0o644,
        );
        self.vm
            .write("/run/lvs/keepalived.conf", &keepalived_conf(), 0o644);
    }

    /// Every failure of our checks under misc_dynamic takes the real server out; none is
    /// ever read as "up with another weight" (checked over every state of the table at the
    /// end). The control (exit 2) shows that keepalived would read such a status so. When
    /// each of ours was out, in guest time.
    fn misc_dynamic_failures(&mut self, dynamic: &[Watched], timings: &mut String) -> Vec<f64> {
        let check_rtsp = bin("check-rtsp");
        let failing = [
            format!(
                "exec {} {BASIC} --timeout 2s --no-such-option",
                bin("check-tcp")
            ),
            format!("exec {check_rtsp} rtsp://{SILENT}/ --timeout 1s"),
            // keepalived ends it at misc_timeout with SIGTERM.
            format!("exec {check_rtsp} rtsp://{SILENT}/ --timeout 60s"),
            format!(
                "exec {} panic --timeout 2s",
                example("misbehaving_probe").display()
            ),
            "exit 2".to_string(),
        ];
        // All five switched by one command (each a rename), timed from its end.
        let writes: Vec<String> = DYNAMIC
            .iter()
            .zip(&failing)
            .map(|((name, _), command)| dynamic_script(name, command))
            .collect();
        let out = self
            .vm
            .ok(&format!("{} && echo @$EPOCHREALTIME", writes.join(" && ")));
        let t0 = stamp(&out).unwrap_or_else(|| self.vm.fail(&format!("no guest time: {out}")));
        let (ours, control) = dynamic.split_at(dynamic.len() - 1);
        let out_after = self.changes(
            "misc_dynamic, our check failing (bad arguments, its own timeout, SIGTERM from \
             keepalived's misc_timeout, a panic)",
            t0,
            ours,
            Present::No,
            timings,
        );
        let control = control[0];
        let at0 = self.until(t0, "the control at weight 0", |t| {
            weight(t, &control) == Some(0)
        });
        timings.push_str(&format!(
            "  control: `exit 2` under misc_dynamic      in with weight 0 after {} ms\n",
            at0.as_millis()
        ));
        // They keep failing the same way for the rest of the run; the end checks that
        // none came back.
        out_after.iter().map(|d| t0 + d.as_secs_f64()).collect()
    }

    /// Waits until every watched real server is present (or absent); for each, the time
    /// from `t0` (guest time of the change) to the first state of the table showing it.
    fn changes<'a>(
        &mut self,
        what: &str,
        t0: f64,
        watched: impl IntoIterator<Item = &'a Watched>,
        present: Present,
        timings: &mut String,
    ) -> Vec<Duration> {
        self.changes_from(what, t0, watched, present, &|_| t0, timings)
    }

    /// As [`Lab::changes`], each watched server timed from its own `origin`. At `before`
    /// every one must be in the other state: a phase that starts where it should end
    /// would test nothing.
    fn changes_from<'a>(
        &mut self,
        what: &str,
        before: f64,
        watched: impl IntoIterator<Item = &'a Watched>,
        present: Present,
        origin: &dyn Fn(&Watched) -> f64,
        timings: &mut String,
    ) -> Vec<Duration> {
        let watched: Vec<&Watched> = watched.into_iter().collect();
        let wanted = |t: &Table, w: &Watched| weight(t, w).is_some() == (present == Present::Yes);
        self.fetch();
        let at_start = self.in_force(before);
        let already: Vec<_> = watched
            .iter()
            .filter(|w| wanted(&at_start, w))
            .map(|w| w.label)
            .collect();
        if !already.is_empty() {
            self.vm.fail(&format!(
                "{what}: already so before the change: {already:?}; table {at_start:?}"
            ));
        }
        let start = Instant::now();
        let done = loop {
            let done: Vec<Option<Duration>> = watched
                .iter()
                .map(|w| self.first_since(origin(w), |t| wanted(t, w)))
                .collect();
            if done.iter().all(Option::is_some) {
                break done;
            }
            if start.elapsed() > CHANGE_LIMIT {
                let missing: Vec<_> = watched
                    .iter()
                    .zip(&done)
                    .filter(|(_, d)| d.is_none())
                    .map(|(w, _)| w.label)
                    .collect();
                let now = self.current();
                self.vm.fail(&format!(
                    "{what}: not {} after {CHANGE_LIMIT:?}: {missing:?}; table {now:?}",
                    if present == Present::Yes {
                        "in the table"
                    } else {
                        "out of the table"
                    }
                ));
            }
            std::thread::sleep(POLL);
            self.fetch();
        };
        report(&format!("lvs-vm: {what}"));
        timings.push_str(&format!("{what}:\n"));
        let verb = if present == Present::Yes { "in" } else { "out" };
        for (w, d) in watched.iter().zip(&done) {
            let ms = d.unwrap_or_default().as_millis();
            timings.push_str(&format!("  {:<40} {verb} after {ms} ms\n", w.label));
        }
        done.into_iter().map(Option::unwrap_or_default).collect()
    }

    /// Waits for a state of the table, timed from `t0`.
    fn until(&mut self, t0: f64, what: &str, done: impl Fn(&Table) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            self.fetch();
            if let Some(d) = self.first_since(t0, &done) {
                return d;
            }
            if start.elapsed() > CHANGE_LIMIT {
                let now = self.current();
                self.vm
                    .fail(&format!("no {what} after {CHANGE_LIMIT:?}: {now:?}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The time from `t0` to the first state at or after it (the one in force at `t0`
    /// included) for which `done` holds.
    fn first_since(&self, t0: f64, done: impl Fn(&Table) -> bool) -> Option<Duration> {
        let from = self.in_force_at(t0).unwrap_or(0);
        self.history.states[from..]
            .iter()
            .find(|(_, t)| done(t))
            .map(|(at, _)| Duration::from_secs_f64((at - t0).max(0.0)))
    }

    /// The state of the table at guest time `t`.
    fn in_force(&self, t: f64) -> Table {
        self.in_force_at(t)
            .map(|i| self.history.states[i].1.clone())
            .unwrap_or_default()
    }

    /// The index of the state in force at guest time `t`, if the watcher had seen one.
    fn in_force_at(&self, t: f64) -> Option<usize> {
        self.history.states.iter().rposition(|(at, _)| *at <= t)
    }

    /// Reads what the guest's watcher appended since the last time: whole records only
    /// ("@TIME", the table, "."); a record still being written waits for the next call.
    fn fetch(&mut self) {
        let from = self.history.read + 1;
        // The echo ends the output with a newline of its own, taken off below, so the
        // agent never adds one: the byte count stays the file's.
        let out = self
            .vm
            .ok(&format!("tail -c +{from} /run/lvs/ipvs.table; echo"));
        let text = out.strip_suffix('\n').unwrap_or(&out);
        self.history.read += text.len();
        self.history.pending.push_str(text);
        let Some(end) = self.history.pending.rfind("\n.\n") else {
            return;
        };
        let whole: String = self.history.pending.drain(..end + 3).collect();
        for record in whole.split("\n.\n").filter(|r| !r.is_empty()) {
            let parsed = record
                .strip_prefix('@')
                .and_then(|r| r.split_once('\n'))
                .and_then(|(at, table)| Some((at.trim().parse::<f64>().ok()?, table)));
            match parsed {
                Some((at, table)) => self.history.states.push((at, parse_proc_table(table))),
                None => self
                    .vm
                    .fail(&format!("a watcher record without a time: {record:?}")),
            }
        }
    }

    fn current(&mut self) -> Table {
        self.fetch();
        self.history
            .states
            .last()
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }

    /// Runs a lab command in the guest; when it started and when it ended.
    fn span(&mut self, args: &str) -> (f64, f64) {
        let out = self.lab(&format!("span {args}"));
        let stamps: Vec<f64> = out
            .lines()
            .filter_map(|l| l.strip_prefix('@')?.trim().parse().ok())
            .collect();
        match stamps[..] {
            [.., start, end] => (start, end),
            _ => self.vm.fail(&format!("no times from `span {args}`: {out}")),
        }
    }

    /// When the lab's server `name` started listening (guest time).
    fn listened(&mut self, name: &str) -> f64 {
        let out = self.vm.ok(&format!("cat /run/lvs/{name}.listening"));
        stamp(&out).unwrap_or_else(|| {
            self.vm
                .fail(&format!("no listening time for {name}: {out}"))
        })
    }

    fn lab(&mut self, args: &str) -> String {
        let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lvs/lab");
        let lab = lab.display().to_string();
        let args = args.replace("{lab}", &lab);
        self.vm.ok(&format!("bash {lab} {args}"))
    }
}

/// How often the host looks at the watcher's record (the times come from the guest).
const POLL: Duration = Duration::from_millis(500);

/// The last "@SECONDS" line of `out`.
fn stamp(out: &str) -> Option<f64> {
    out.lines()
        .rev()
        .find_map(|l| l.strip_prefix('@')?.trim().parse().ok())
}

#[derive(Clone, Copy, PartialEq)]
enum Present {
    Yes,
    No,
}

fn dynamic_watched() -> Vec<Watched> {
    DYNAMIC
        .iter()
        .map(|&(label, real)| Watched {
            label,
            port: DYNAMIC_PORT,
            real,
        })
        .collect()
}

/// A command line that writes misc_dynamic script `name` running `command` (a new file
/// renamed over the old: keepalived runs the old or the new, never half).
fn dynamic_script(name: &str, command: &str) -> String {
    vm::write_command(
        &format!("/run/lvs/dyn/{name}"),
        &format!("#!/bin/sh\n{command}\n"),
        0o755,
    )
}

fn healthy_dynamic() -> String {
    format!(
        "exec {} {BASIC} --timeout {CHECK_TIMEOUT}",
        bin("check-tcp")
    )
}

fn keepalived_conf() -> String {
    let check_rtsp = bin("check-rtsp");
    let misc = |command: String, extra: &str| {
        format!("MISC_CHECK {{\n            misc_path \"{command}\"\n            misc_timeout {MISC_TIMEOUT}\n{extra}        }}")
    };
    let checks = [
        misc(
            format!("{check_rtsp} rtsp://{BASIC}/test --timeout {CHECK_TIMEOUT}"),
            "",
        ),
        misc(
            format!("{check_rtsp} rtsp://{BASIC}/test --describe --timeout {CHECK_TIMEOUT}"),
            "",
        ),
        misc(
            format!(
                "{check_rtsp} rtsp://{DIGEST}/secure --describe \
                 --credentials-file /run/lvs/rtsp.credentials --timeout {CHECK_TIMEOUT}"
            ),
            "",
        ),
        misc("/run/lvs/checks/tcp".to_string(), ""),
        "FILE_CHECK {\n            track_file rtsp\n        }".to_string(),
    ];
    let mut conf = String::from(
        "! tests/lvs_vm: keepalived's checker in the VM (see tests/lvs_vm/main.rs).\n\
         global_defs {\n    router_id lvs_vm\n}\n\n\
         track_file rtsp {\n    file /run/lvs/track/rtsp.track\n    weight 0\n}\n",
    );
    for (w, check) in FOLLOWING.iter().zip(checks) {
        conf.push_str(&virtual_server(w.port, 1, &[(w.real, 1, check)]));
    }
    let dynamic: Vec<(&str, u32, String)> = DYNAMIC
        .iter()
        .map(|(name, real)| {
            (
                *real,
                DYNAMIC_WEIGHT,
                misc(format!("/run/lvs/dyn/{name}"), "            misc_dynamic\n"),
            )
        })
        .collect();
    // Every 3 s: five checks a second more would load the emulated CPU past what the
    // timed services above can bear.
    conf.push_str(&virtual_server(DYNAMIC_PORT, 3, &dynamic));
    conf
}

/// A NAT virtual service on the VIP: checks every `delay_loop` seconds, none before
/// (warmup 0), real servers out until their check passes (alpha).
fn virtual_server(port: u16, delay_loop: u32, reals: &[(&str, u32, String)]) -> String {
    let mut s = format!(
        "\nvirtual_server {VIP} {port} {{\n    delay_loop {delay_loop}\n    warmup 0\n    lb_algo rr\n    \
         lb_kind NAT\n    protocol TCP\n    alpha\n"
    );
    for (real, weight, check) in reals {
        s.push_str(&format!(
            "    real_server {} {{\n        weight {weight}\n        {check}\n    }}\n",
            spaced(real)
        ));
    }
    s.push_str("}\n");
    s
}

/// /proc/net/ip_vs: as `ipvsadm -Ln`, with addresses and ports in hexadecimal
/// ("C612016E:022A" is 198.18.1.110:554).
fn parse_proc_table(text: &str) -> Table {
    let mut table = Table::new();
    let mut current = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["TCP" | "UDP", service, ..] => {
                current = hex_address(service);
                if let Some(s) = &current {
                    table.entry(s.clone()).or_default();
                }
            }
            ["->", real, _forward, weight, ..] => {
                if let (Some(service), Some(real), Ok(weight)) =
                    (&current, hex_address(real), weight.parse())
                {
                    table
                        .entry(service.clone())
                        .or_default()
                        .push((real, weight));
                }
            }
            _ => {}
        }
    }
    table
}

fn hex_address(word: &str) -> Option<String> {
    let (ip, port) = word.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(format!("{}:{port}", std::net::Ipv4Addr::from(ip)))
}

fn service(port: u16) -> String {
    format!("{VIP}:{port}")
}

/// The weight of a watched real server, if it is in the table.
fn weight(t: &Table, w: &Watched) -> Option<u32> {
    t.get(&service(w.port))?
        .iter()
        .find(|(real, _)| real == w.real)
        .map(|(_, weight)| *weight)
}

/// "198.18.2.2:8554" as keepalived's and the lab's "198.18.2.2 8554".
fn spaced(addr: &str) -> String {
    addr.replace(':', " ")
}

#[test]
fn proc_ip_vs_is_read() {
    let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
                Prot LocalAddress:Port Scheduler Flags\n  \
                -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
                TCP  C612016E:022A rr\n  \
                -> C6120202:216A      Masq    1      0          0\n\
                TCP  C612016E:0258 rr\n";
    let t = parse_proc_table(text);
    assert_eq!(t.len(), 2);
    assert_eq!(
        t["198.18.1.110:554"],
        vec![("198.18.2.2:8554".to_string(), 1)]
    );
    assert!(t["198.18.1.110:600"].is_empty());
}
