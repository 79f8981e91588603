//! The committed man pages and completions are exactly what the clap definitions generate.

use std::path::Path;
use std::process::Command;

use crate::support::peers::example;

fn files(root: &Path, sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(sub)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let scratch = std::env::temp_dir().join(format!("kc-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let status = Command::new(example("generate_docs"))
        .arg(&scratch)
        .status()
        .expect("run generate_docs");
    assert!(status.success());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh_man: Vec<_> = files(&scratch, "man");
    let committed_man: Vec<_> = files(repo, "man")
        .into_iter()
        .filter(|(p, _)| p.ends_with(".1") || p.ends_with(".8"))
        .collect();
    let fresh_completions = files(&scratch, "contrib/completions");
    let committed_completions = files(repo, "contrib/completions");
    let _ = std::fs::remove_dir_all(&scratch);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&committed_man),
        names(&fresh_man),
        "run: cargo run --example generate_docs -- ."
    );
    assert_eq!(
        names(&committed_completions),
        names(&fresh_completions),
        "run: cargo run --example generate_docs -- ."
    );
    for (committed, fresh) in committed_man
        .iter()
        .chain(&committed_completions)
        .zip(fresh_man.iter().chain(&fresh_completions))
    {
        assert!(
            committed == fresh,
            "{} is stale: run cargo run --example generate_docs -- .",
            committed.0
        );
    }
    assert!(
        repo.join("man/keepalived-checks.7").exists(),
        "the hand-written overview page"
    );
}
