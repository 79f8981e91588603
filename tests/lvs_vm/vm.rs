//! A qemu virtual machine with Debian's kernel (IPVS as modules) and the host's own
//! programs: `/usr`, `/etc` and the checkout (and the target directory, when it lies
//! elsewhere) shared read-only over virtio-9p at the host's paths, so that every path the
//! test knows on the host is the same inside. Software emulation (TCG), no network device
//! (`-nic none`): nothing the guest does reaches the host's network.
//!
//! The guest runs `tests/lvs/agent` on its second serial port, which the host reaches as
//! a Unix socket: one bash command line in, its output and exit status back.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The end of a command's output: a line of this byte and the exit status.
const END: char = '\u{1e}';
const BOOT_LIMIT: Duration = Duration::from_secs(120);
const COMMAND_LIMIT: Duration = Duration::from_secs(90);

pub struct Vm {
    qemu: Qemu,
    agent: BufReader<UnixStream>,
}

/// The qemu process and its scratch directory: on drop qemu is killed by its PID (the
/// guest and all it started end with it) and the directory removed, also when the test
/// failed, and also when it failed before the agent answered.
struct Qemu {
    child: Child,
    dir: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Where the host's files are: the checkout and the target directory the binaries are in.
pub struct Paths {
    pub checkout: PathBuf,
    pub target: PathBuf,
}

impl Paths {
    pub fn of_this_build() -> Paths {
        let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // .../target/debug/check-rtsp: the target directory is two levels up.
        let target = Path::new(env!("CARGO_BIN_EXE_check-rtsp"))
            .parent()
            .and_then(Path::parent)
            .expect("the binaries' target directory")
            .to_path_buf();
        Paths { checkout, target }
    }
}

impl Vm {
    /// Builds (or reuses) the kernel and initramfs under `target/lvs-vm` and boots them;
    /// returns once the agent answers. Panics, saying what is missing, otherwise.
    pub fn boot(paths: &Paths) -> Vm {
        let (kernel, initramfs) = build(paths);
        let dir = std::env::temp_dir().join(format!("lvs-vm-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("VM scratch directory");
        let socket = dir.join("agent.sock");
        // norandmaps: TCG keeps the code it translated by virtual address; with address
        // space randomisation every new process (a check, every second) has its code
        // elsewhere and is translated again. Without it a check starts in 0.06 s, not
        // 0.35 s, and the guest keeps up with keepalived's checks.
        let mut append = format!(
            "console=ttyS0 panic=-1 quiet norandmaps lvs_checkout={}",
            word(&paths.checkout)
        );
        let mut shares = vec![
            ("usr", PathBuf::from("/usr")),
            ("etc", PathBuf::from("/etc")),
            ("checkout", paths.checkout.clone()),
        ];
        if !paths.target.starts_with(&paths.checkout) {
            append.push_str(&format!(" lvs_target={}", word(&paths.target)));
            shares.push(("target", paths.target.clone()));
        }
        let mut cmd = Command::new("qemu-system-x86_64");
        // TCG: /dev/kvm may open on these machines, but without vmx/svm a KVM guest hangs.
        cmd.args([
            "-accel",
            "tcg,thread=multi",
            "-cpu",
            "max",
            "-smp",
            "2",
            "-m",
            "1024",
        ])
        .args([
            "-nic",
            "none",
            "-display",
            "none",
            "-nodefaults",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initramfs)
        .args(["-append", &append])
        .arg("-serial")
        .arg(format!("file:{}", dir.join("console.log").display()))
        .arg("-chardev")
        .arg(format!(
            "socket,id=agent,path={},server=on,wait=off",
            socket.display()
        ))
        .args(["-serial", "chardev:agent"]);
        for (tag, path) in &shares {
            cmd.arg("-virtfs").arg(format!(
                "local,path={},mount_tag={tag},security_model=none,readonly=on",
                path.display()
            ));
        }
        // SAFETY: prctl in the child between fork and exec, async-signal-safe. qemu dies
        // with the thread that started it, should the test be killed outright.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("qemu.log")).expect("qemu log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run qemu-system-x86_64 ({e}): scripts/test installs qemu-system-x86")
            });
        let qemu = Qemu { child, dir };
        let agent = BufReader::new(connect(&socket));
        let mut vm = Vm { qemu, agent };
        vm.wait_ready();
        vm
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        let stream = self.agent.get_ref();
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("socket timeout");
        let mut line = String::new();
        loop {
            match self.agent.read_line(&mut line) {
                Ok(0) => self.fail("the agent's port closed before READY"),
                Ok(_) if line.trim_end() == "READY" => break,
                Ok(_) => line.clear(),
                Err(e) if is_timeout(&e) => {}
                Err(e) => self.fail(&format!("reading the agent: {e}")),
            }
            if let Ok(Some(status)) = self.qemu.child.try_wait() {
                self.fail(&format!("qemu exited during boot: {status}"));
            }
            if start.elapsed() > BOOT_LIMIT {
                self.fail("no READY from the guest's agent after 120 s");
            }
        }
        report(&format!(
            "lvs-vm: guest ready in {:.1} s",
            start.elapsed().as_secs_f64()
        ));
    }

    /// One command and its reply, or why there was none; never panics (it also serves
    /// the diagnostics gathered while a failed test unwinds).
    pub fn exchange(&mut self, command: &str, limit: Duration) -> Result<(i32, String), String> {
        if command.contains('\n') {
            return Err(format!("one line per command: {command:?}"));
        }
        self.agent
            .get_mut()
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| format!("sending {command:?} to the agent: {e}"))?;
        let start = Instant::now();
        let mut output = String::new();
        let mut line = String::new();
        loop {
            match self.agent.read_line(&mut line) {
                Ok(0) => return Err(format!("the agent's port closed during {command:?}")),
                Ok(_) if line.starts_with(END) && line.ends_with('\n') => {
                    let status = line[END.len_utf8()..].trim().parse().unwrap_or(-1);
                    return Ok((status, output));
                }
                Ok(_) if line.ends_with('\n') => output.push_str(&std::mem::take(&mut line)),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(format!("reading the agent: {e}")),
            }
            if start.elapsed() > limit {
                return Err(format!("{command:?} did not end within {limit:?}"));
            }
        }
    }

    /// Runs one bash command line in the guest, which must succeed; its output.
    pub fn ok(&mut self, command: &str) -> String {
        let (status, output) = match self.exchange(command, COMMAND_LIMIT) {
            Ok(reply) => reply,
            Err(why) => self.fail(&why),
        };
        if status != 0 {
            self.fail(&format!("{command:?} exited {status}:\n{output}"));
        }
        output
    }

    /// Writes `content` to `path` in the guest (a new file renamed over the old one, so a
    /// reader sees the old or the new, never half), with `mode`.
    pub fn write(&mut self, path: &str, content: &str, mode: u32) {
        self.ok(&write_command(path, content, mode));
    }

    /// Panics with `why` and what the guest and qemu said.
    pub fn fail(&mut self, why: &str) -> ! {
        panic!("{why}\n{}", self.diagnostics());
    }

    /// The kernel console's and qemu's last lines.
    fn diagnostics(&self) -> String {
        let tail = |name: &str| {
            let text = fs::read_to_string(self.qemu.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- guest console (last lines)\n{}\n--- qemu\n{}",
            tail("console.log"),
            tail("qemu.log")
        )
    }
}

/// Runs tests/lvs/build-vm: the kernel and the initramfs.
fn build(paths: &Paths) -> (PathBuf, PathBuf) {
    let cache = paths.target.join("lvs-vm");
    let script = paths.checkout.join("tests/lvs/build-vm");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&cache)
        .stderr(Stdio::inherit())
        .output()
        .expect("run tests/lvs/build-vm");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tests/lvs/build-vm failed ({}): {stdout}",
        out.status
    );
    let mut lines = stdout.lines().map(PathBuf::from);
    match (lines.next(), lines.next()) {
        (Some(kernel), Some(initramfs)) => (kernel, initramfs),
        _ => panic!("tests/lvs/build-vm printed no kernel and initramfs: {stdout}"),
    }
}

/// qemu creates the socket as it starts: a few seconds at most.
fn connect(socket: &Path) -> UnixStream {
    let start = Instant::now();
    loop {
        match UnixStream::connect(socket) {
            Ok(s) => return s,
            Err(e) if start.elapsed() > Duration::from_secs(20) => {
                panic!("no agent socket {} from qemu: {e}", socket.display())
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// A path as one word of the kernel command line (which has no quoting worth trusting).
fn word(path: &Path) -> String {
    let s = path.display().to_string();
    assert!(
        !s.contains(char::is_whitespace),
        "the VM test needs a checkout path without blanks: {s:?}"
    );
    s
}

/// The guest command line of [`Vm::write`]: every byte as a printf escape, so no quoting
/// can go wrong.
pub fn write_command(path: &str, content: &str, mode: u32) -> String {
    let hex: String = content.bytes().map(|b| format!("\\x{b:02x}")).collect();
    format!("printf '{hex}' > {path}.new && chmod {mode:o} {path}.new && mv {path}.new {path}")
}

/// To the test's stderr directly, past libtest's capture: boot and change times belong in
/// CI's log.
pub fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
