//! The example configurations in contrib/keepalived pass `keepalived -t`, in a network
//! namespace with the interface they name, with the packaged program paths pointing at
//! the programs just built (script security checks that they exist and are safe).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{bin, run};

/// Every file under `dir` (recursively) whose name ends in `.ext`.
fn configs(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("contrib dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            configs(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_example_config_passes_keepalived_t() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "needs root for a network namespace (CI runs as root)"
    );
    let mut found = Vec::new();
    configs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/keepalived"),
        "conf",
        &mut found,
    );
    assert!(!found.is_empty(), "no configs found");
    let built = Path::new(bin("check-sip"))
        .parent()
        .expect("bin dir")
        .to_string_lossy()
        .into_owned();
    let netns = format!("kc{}contrib", std::process::id());
    let run = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .status()
            .expect("ip")
            .success()
    };
    assert!(run(&["netns", "add", &netns]));
    let tmp = std::env::temp_dir().join(format!("kc-contrib-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let mut failures = Vec::new();
    if run(&[
        "-n", &netns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer",
    ]) {
        for conf in &found {
            let text = std::fs::read_to_string(conf).expect("read config");
            let local = tmp.join(conf.file_name().expect("name"));
            std::fs::write(&local, text.replace("/usr/libexec/keepalived", &built)).expect("write");
            let out = Command::new("ip")
                .args(["netns", "exec", &netns, "keepalived", "-t", "-f"])
                .arg(&local)
                .output()
                .expect("keepalived -t");
            if !out.status.success() {
                failures.push(format!(
                    "{}: {}",
                    conf.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    } else {
        failures.push("cannot create eth0 in the namespace".into());
    }
    run(&["netns", "del", &netns]);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every keepalived-checkd configuration in contrib passes `keepalived-checkd check-config`.
#[test]
fn every_example_checkd_config_passes_check_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/keepalived");
    let mut found = Vec::new();
    configs(&dir, "toml", &mut found);
    assert!(!found.is_empty(), "no keepalived-checkd configs found");
    for toml in found {
        let r = run(
            "keepalived-checkd",
            &["check-config", &toml.to_string_lossy()],
        );
        assert_eq!(r.code, Some(0), "{}: {}", toml.display(), r.stdout);
    }
}
