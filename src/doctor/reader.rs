//! Reads keepalived.conf as keepalived's own reader does (`lib/parser.c`): `include` with
//! globs relative to the including file, `!` and `#` comments, double-quoted strings,
//! `$NAME=value` definitions and their use as `$NAME` or `${NAME}`, `@ID` and `@^ID`
//! conditional lines, a `\` at the end of a line continuing it. The result is the
//! configuration's statements as a tree, each word with the file and line it came from.
//!
//! What cannot be read (a missing include, an unreadable file, an unbalanced brace, an
//! undefined `$NAME`) is a finding, never a silent guess.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::finding::{Findings, Place, Severity};
use super::rooted::Root;

/// The largest configuration file read.
const MAX_FILE: usize = 4 << 20;
/// Includes nested deeper than this are refused (a file including itself).
const MAX_DEPTH: usize = 16;
/// Definitions expanded in one line before the doctor says so and stops.
const MAX_USES: usize = 64;
/// The longest line definitions may expand to (keepalived's own limit is 1 KiB).
const MAX_LINE: usize = 64 * 1024;
/// `include` and its variants (which only change what keepalived reports as an error).
const INCLUDES: [&str; 6] = [
    "include", "includer", "includem", "includew", "includeb", "includea",
];

/// One word of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text, quotes removed.
    pub text: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
}

/// A statement: a keyword, its arguments, and the block it opens, if any.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Where it is.
    pub at: Place,
    /// The keyword first, then the arguments.
    pub words: Vec<Word>,
    /// The statements in its `{ ... }` block.
    pub block: Vec<Statement>,
}

impl Statement {
    /// The keyword.
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", |w| w.text.as_str())
    }

    /// Argument `i` (0 is the first after the keyword).
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i + 1).map(|w| w.text.as_str())
    }

    /// The statements in the block named `keyword`.
    pub fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Statement> + 'a {
        self.block.iter().filter(move |s| s.keyword() == keyword)
    }

    /// The last statement named `keyword` in the block (keepalived keeps the last).
    pub fn find(&self, keyword: &str) -> Option<&Statement> {
        self.block.iter().rev().find(|s| s.keyword() == keyword)
    }
}

/// The configuration as read.
#[derive(Debug, Clone, Default)]
pub struct Conf {
    /// Every file read, the main one first, as keepalived names them.
    pub files: Vec<String>,
    /// The top-level statements.
    pub top: Vec<Statement>,
}

/// A line after comments, conditionals and definitions, split into tokens.
struct Line {
    at: Place,
    tokens: Vec<Word>,
}

struct Reader<'a> {
    root: &'a Root,
    config_id: &'a str,
    definitions: HashMap<String, Vec<String>>,
    /// The files being read, the including ones first: a file met again includes itself.
    open: Vec<std::path::PathBuf>,
    files: Vec<String>,
    lines: Vec<Line>,
    findings: &'a mut Findings,
}

/// Reads `path` (inside `root`) and every file it includes. `config_id` selects the
/// `@ID` lines, as `keepalived -i ID` does.
pub fn read(root: &Root, path: &Path, config_id: &str, findings: &mut Findings) -> Conf {
    let mut reader = Reader {
        root,
        config_id,
        definitions: HashMap::new(),
        open: Vec::new(),
        files: Vec::new(),
        lines: Vec::new(),
        findings,
    };
    let shown = path.display().to_string();
    reader.file(path, &Place::new(shown.clone(), 0));
    let top = build(reader.lines, reader.findings);
    Conf {
        files: reader.files,
        top,
    }
}

impl Reader<'_> {
    /// Reads one file; `from` is the include line (or the file itself, line 0).
    fn file(&mut self, path: &Path, from: &Place) {
        let shown = path.display().to_string();
        // The files being read are the include depth.
        if self.open.len() > MAX_DEPTH {
            self.findings.push(
                from.clone(),
                Severity::Error,
                "read",
                format!("includes nested more than {MAX_DEPTH} deep at {shown}: does a file include itself?"),
            );
            return;
        }
        if self.open.iter().any(|p| p == path) {
            self.findings.push(
                from.clone(),
                Severity::Error,
                "read",
                format!("{shown} includes itself (through this line): keepalived would read it again and again"),
            );
            return;
        }
        let bytes = match self.root.read(path, MAX_FILE) {
            Ok(b) => b,
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::PermissionDenied => format!(
                        "cannot read {shown}: {e} (keepalived reads it as root; run the doctor as root)"
                    ),
                    _ => format!("cannot read {shown}: {e}"),
                };
                self.findings
                    .push(from.clone(), Severity::Error, "read", why);
                return;
            }
        };
        self.files.push(shown.clone());
        // ${_PWD}: the directory of the file being read.
        let pwd = path
            .parent()
            .unwrap_or(Path::new("/"))
            .display()
            .to_string();
        let outer = self.definitions.insert("_PWD".into(), vec![pwd]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        self.open.push(path.to_path_buf());
        let mut lines = text.lines().enumerate();
        while let Some((n, raw)) = lines.next() {
            let at = Place::new(shown.clone(), u32::try_from(n + 1).unwrap_or(u32::MAX));
            // A definition continues while its lines end in `\` (and only a definition:
            // anywhere else keepalived keeps the `\` as part of the last word).
            let mut logical = vec![raw.to_string()];
            if is_definition(raw) {
                while logical
                    .last()
                    .is_some_and(|l| decomment(l).trim_end().ends_with('\\'))
                {
                    match lines.next() {
                        Some((_, next)) if !next.is_empty() => logical.push(next.to_string()),
                        _ => break,
                    }
                }
            }
            self.line(&logical, at, path);
        }
        match outer {
            Some(v) => self.definitions.insert("_PWD".into(), v),
            None => self.definitions.remove("_PWD"),
        };
        self.open.pop();
    }

    /// One line (or a multi-line definition) at `at`.
    fn line(&mut self, raw: &[String], at: Place, path: &Path) {
        let Some(first) = raw.first() else {
            return;
        };
        // @ID lines are read only by the node whose config id is ID; @^ID by every other.
        let (condition, text) = conditional(first);
        let wanted = condition.map_or(true, |id| match id.strip_prefix('^') {
            Some(id) => id != self.config_id,
            None => id == self.config_id,
        });
        if !wanted {
            return;
        }
        if let Some(definition) = text.strip_prefix('$') {
            if let Some((name, value)) = definition.split_once('=') {
                if is_name(name) {
                    let mut values = vec![strip_continuation(&decomment(value)).trim().to_string()];
                    values.extend(
                        raw[1..]
                            .iter()
                            .map(|l| strip_continuation(&decomment(l)).trim().to_string()),
                    );
                    self.definitions.insert(name.to_string(), values);
                    return;
                }
            }
        }
        if text.starts_with('~') {
            self.findings.push(
                at,
                Severity::Warning,
                "read",
                format!(
                    "the doctor does not expand {} lines: what they generate is not examined",
                    text.split(['(', ' ']).next().unwrap_or(text)
                ),
            );
            return;
        }
        let text = decomment(text);
        // keepalived looks for `include` after substituting definitions.
        for text in self.substitute(&text, &at) {
            let text = decomment(&text);
            if text.trim().is_empty() {
                continue;
            }
            if let Some((keyword, pattern)) = text.trim().split_once([' ', '\t']) {
                if INCLUDES.contains(&keyword) {
                    self.include(pattern.trim(), &at, path);
                    continue;
                }
            }
            match tokens(&text) {
                Ok(tokens) => self.lines.push(Line {
                    at: at.clone(),
                    tokens,
                }),
                Err(why) => self.findings.push(at.clone(), Severity::Error, "read", why),
            }
        }
    }

    fn include(&mut self, pattern: &str, at: &Place, path: &Path) {
        let base = path.parent().unwrap_or(Path::new("/"));
        let pattern = base.join(pattern);
        let found = match self.root.glob(&pattern) {
            Ok(found) => found,
            Err(e) => {
                self.findings.push(
                    at.clone(),
                    Severity::Error,
                    "read",
                    format!("include {}: {e}", pattern.display()),
                );
                return;
            }
        };
        if found.is_empty() {
            self.findings.push(
                at.clone(),
                Severity::Error,
                "read",
                format!(
                    "include {}: no file matches, and keepalived carries on without a word",
                    pattern.display()
                ),
            );
        }
        for file in found {
            let executable = self
                .root
                .lstat(&file)
                .ok()
                .filter(|m| m.is_file())
                .is_some_and(|m| m.permissions().mode() & 0o111 != 0);
            if executable {
                self.findings.push(
                    at.clone(),
                    Severity::Error,
                    "read",
                    format!(
                        "{} is executable, and keepalived skips executable configuration files: chmod a-x it",
                        file.display()
                    ),
                );
                continue;
            }
            self.file(&file, at);
        }
    }

    /// The line with `$NAME` (before a blank, `,`, `)` or the end) and `${NAME}` replaced
    /// by their definitions, as often as they nest; a multi-line definition at the end of
    /// a line adds its other lines after it. An undefined name is a finding and stays as
    /// written, as keepalived leaves it.
    fn substitute(&mut self, text: &str, at: &Place) -> Vec<String> {
        let mut lines = vec![text.to_string()];
        for round in 0..=MAX_USES {
            let line = lines[0].clone();
            let Some((start, end, name, values)) = self.next_use(&line, at) else {
                break;
            };
            if round == MAX_USES || line.len() > MAX_LINE {
                self.findings.push(
                    at.clone(),
                    Severity::Warning,
                    "read",
                    format!("${name}: definitions used more than {MAX_USES} times or past {MAX_LINE} bytes on one line (one that refers to itself?); the rest is not expanded"),
                );
                break;
            }
            let mut replaced = format!("{}{}{}", &line[..start], values[0], &line[end..]);
            if line[end..].trim().is_empty() && values.len() > 1 {
                replaced = format!("{}{}", &line[..start], values[0]);
                lines.splice(1..1, values[1..].iter().cloned());
            }
            lines[0] = replaced;
        }
        lines
    }

    /// The first use of a defined name in `line` (undefined ones on the way are reported):
    /// its byte range, the name and its value's lines.
    fn next_use(&mut self, line: &str, at: &Place) -> Option<(usize, usize, String, Vec<String>)> {
        let mut from = 0;
        while let Some(i) = line[from..].find('$').map(|i| i + from) {
            let after = &line[i + 1..];
            let (name, end) = match after.strip_prefix('{') {
                Some(inner) => match inner.find('}') {
                    Some(close) => (&inner[..close], i + close + 3),
                    None => ("", 0),
                },
                None => {
                    let len = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    let ends_well = after[len..]
                        .chars()
                        .next()
                        .map_or(true, |c| matches!(c, ' ' | '\t' | ',' | ')'));
                    (if ends_well { &after[..len] } else { "" }, i + 1 + len)
                }
            };
            from = i + 1;
            if !is_name(name) {
                continue;
            }
            if let Some(values) = self.value(name) {
                return Some((i, end, name.to_string(), values));
            }
            self.findings.push(
                at.clone(),
                Severity::Warning,
                "read",
                format!(
                    "${name} is not defined above this line: keepalived uses the text as written"
                ),
            );
        }
        None
    }

    /// The lines `name` stands for, if it is defined (by the file or by keepalived).
    fn value(&self, name: &str) -> Option<Vec<String>> {
        match self.definitions.get(name) {
            Some(v) => Some(v.clone()),
            None => builtin(name, self.config_id).map(|v| vec![v]),
        }
    }
}

/// keepalived's own definitions. `_PWD` is set per file by the reader.
fn builtin(name: &str, config_id: &str) -> Option<String> {
    match name {
        "_INSTANCE" => Some(config_id.to_string()),
        "_HASH" => Some("#".into()),
        "_BANG" => Some("!".into()),
        // Random at keepalived's every start: any number will do to read the line.
        "_RANDOM" => Some("0".into()),
        _ => None,
    }
}

/// A line's `@ID` or `@^ID` (without the `@`), if it has one, and the rest of it.
fn conditional(raw: &str) -> (Option<&str>, &str) {
    let t = raw.trim_start();
    match t.strip_prefix('@') {
        Some(rest) => {
            let (id, body) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
            (Some(id), body.trim_start())
        }
        None => (None, t),
    }
}

/// Whether `raw` defines a name (`$NAME=...`, maybe after `@ID `).
fn is_definition(raw: &str) -> bool {
    conditional(raw)
        .1
        .strip_prefix('$')
        .and_then(|d| d.split_once('='))
        .is_some_and(|(name, _)| is_name(name))
}

/// A definition line without its continuing `\`.
fn strip_continuation(line: &str) -> &str {
    let t = line.trim_end();
    t.strip_suffix('\\').unwrap_or(t)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The line up to its first `!` or `#` outside double quotes; `\\#` and `\\!` outside
/// them are the characters themselves.
fn decomment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !quoted && matches!(chars.peek(), Some('#' | '!')) => {
                out.extend(chars.next());
            }
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '!' | '#' if !quoted => break,
            _ => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// Words split on white space; a double-quoted string is one word; `{` and `}` are words
/// of their own.
fn tokens(line: &str) -> Result<Vec<Word>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => text.push(c),
                    None => return Err(format!("a quote is not closed: {}", line.trim())),
                }
            }
            out.push(Word { text, quoted: true });
        } else if c == '{' || c == '}' {
            chars.next();
            out.push(Word {
                text: c.to_string(),
                quoted: false,
            });
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '{' || c == '}' || c == '"' {
                    break;
                }
                text.push(c);
                chars.next();
            }
            out.push(Word {
                text,
                quoted: false,
            });
        }
    }
    Ok(out)
}

/// The statements of `lines` as a tree: a line's words up to `{` are a statement whose
/// block runs to the matching `}`; a `{` alone on a line opens the block of the statement
/// before it.
fn build(lines: Vec<Line>, findings: &mut Findings) -> Vec<Statement> {
    // The open blocks: the statement owning each, innermost last.
    let mut stack: Vec<Statement> = Vec::new();
    let mut top: Vec<Statement> = Vec::new();
    fn add(stack: &mut [Statement], top: &mut Vec<Statement>, s: Statement) {
        match stack.last_mut() {
            Some(parent) => parent.block.push(s),
            None => top.push(s),
        }
    }
    let mut last_place = Place::new(String::new(), 0);
    for line in lines {
        last_place = line.at.clone();
        let mut words: Vec<Word> = Vec::new();
        for token in line.tokens {
            match (token.quoted, token.text.as_str()) {
                (false, "{") => {
                    let owner = if words.is_empty() {
                        // `{` on a line of its own: the block of the statement before.
                        let siblings = match stack.last_mut() {
                            Some(parent) => &mut parent.block,
                            None => &mut top,
                        };
                        match siblings.pop() {
                            Some(s) if s.block.is_empty() => s,
                            other => {
                                siblings.extend(other);
                                findings.push(
                                    line.at.clone(),
                                    Severity::Error,
                                    "read",
                                    "a '{' that belongs to no statement".into(),
                                );
                                Statement {
                                    at: line.at.clone(),
                                    words: Vec::new(),
                                    block: Vec::new(),
                                }
                            }
                        }
                    } else {
                        Statement {
                            at: line.at.clone(),
                            words: std::mem::take(&mut words),
                            block: Vec::new(),
                        }
                    };
                    stack.push(owner);
                }
                (false, "}") => {
                    if !words.is_empty() {
                        let s = Statement {
                            at: line.at.clone(),
                            words: std::mem::take(&mut words),
                            block: Vec::new(),
                        };
                        add(&mut stack, &mut top, s);
                    }
                    match stack.pop() {
                        Some(done) => add(&mut stack, &mut top, done),
                        None => findings.push(
                            line.at.clone(),
                            Severity::Error,
                            "read",
                            "a '}' closes no block".into(),
                        ),
                    }
                }
                _ => words.push(token),
            }
        }
        if !words.is_empty() {
            let s = Statement {
                at: line.at.clone(),
                words,
                block: Vec::new(),
            };
            add(&mut stack, &mut top, s);
        }
    }
    while let Some(open) = stack.pop() {
        findings.push(
            open.at.clone(),
            Severity::Error,
            "read",
            format!(
                "'{}' opens a block that is never closed (the files end at {}:{})",
                open.keyword(),
                last_place.file,
                last_place.line
            ),
        );
        add(&mut stack, &mut top, open);
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn scratch(files: &[(&str, &str)]) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kc-reader-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name.trim_start_matches('/'));
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    fn read_in(files: &[(&str, &str)], id: &str) -> (Conf, Vec<String>) {
        let dir = scratch(files);
        let mut findings = Findings::default();
        let conf = read(
            &Root::new(&dir),
            Path::new("/etc/keepalived/keepalived.conf"),
            id,
            &mut findings,
        );
        let _ = fs::remove_dir_all(&dir);
        (conf, findings.sorted().iter().map(|f| f.line()).collect())
    }

    fn words(s: &Statement) -> Vec<&str> {
        s.words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn blocks_comments_quotes_and_continuations() {
        let (conf, findings) = read_in(
            &[(
                "/etc/keepalived/keepalived.conf",
                "! comment\nvrrp_script chk { # trailing\n  script \"/bin/x a#b\" ! why\n  interval 2\n}\n\
                 vrrp_instance VI_1\n{\n  track_script { chk }\n  virtual_ipaddress {\n 10.0.0.1/24 dev eth0\n }\n}\n",
            )],
            "n1",
        );
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(conf.top.len(), 2);
        let script = &conf.top[0];
        assert_eq!(words(script), ["vrrp_script", "chk"]);
        let line = script.find("script").unwrap();
        assert_eq!(line.words[1].text, "/bin/x a#b");
        assert!(line.words[1].quoted);
        assert_eq!(line.at.line, 3);
        let vi = &conf.top[1];
        assert_eq!(words(vi), ["vrrp_instance", "VI_1"]);
        assert_eq!(words(&vi.find("track_script").unwrap().block[0]), ["chk"]);
        let vip = &vi.find("virtual_ipaddress").unwrap().block[0];
        assert_eq!(words(vip), ["10.0.0.1/24", "dev", "eth0"]);
        assert_eq!(vip.at.line, 10);
        // One line, several statements, split at its braces as keepalived does.
        let (conf, _) = read_in(
            &[(
                "/etc/keepalived/keepalived.conf",
                "track_file f { file /run/x.track weight 0 }\n",
            )],
            "n1",
        );
        assert_eq!(
            words(&conf.top[0].block[0]),
            ["file", "/run/x.track", "weight", "0"]
        );
    }

    #[test]
    fn includes_glob_relative_to_the_including_file() {
        let (conf, findings) = read_in(
            &[
                (
                    "/etc/keepalived/keepalived.conf",
                    "include conf.d/*.conf\ninclude /etc/other/x.conf\n",
                ),
                ("/etc/keepalived/conf.d/b.conf", "vrrp_script b {\n}\n"),
                ("/etc/keepalived/conf.d/a.conf", "vrrp_script a {\n}\n"),
                ("/etc/other/x.conf", "include missing/*.conf\n"),
            ],
            "n1",
        );
        let names: Vec<_> = conf.top.iter().map(|s| s.arg(0).unwrap()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(conf.files.len(), 4);
        assert_eq!(conf.top[1].at.file, "/etc/keepalived/conf.d/b.conf");
        assert_eq!(
            findings,
            ["/etc/other/x.conf:1: error: include /etc/other/missing/*.conf: no file matches, and keepalived carries on without a word [read]"]
        );
    }

    #[test]
    fn definitions_and_conditional_lines() {
        let text = "$CHECK=/usr/libexec/keepalived/check-sip\n$T=800ms\n\
                    @n1 $ADDR=10.0.0.1\n@^n1 $ADDR=10.0.0.2\n\
                    vrrp_script s {\n script \"${CHECK} sip:$ADDR --timeout ${T}\"\n interval $NOPE\n}\n\
                    $LONG=timeout 2 \\\n fall 3\nvrrp_script t {\n interval 1 \\\n $LONG\n}\n";
        let (conf, findings) = read_in(&[("/etc/keepalived/keepalived.conf", text)], "n1");
        let line = conf.top[0].find("script").unwrap();
        assert_eq!(
            line.words[1].text,
            "/usr/libexec/keepalived/check-sip sip:10.0.0.1 --timeout 800ms"
        );
        assert_eq!(conf.top[0].find("interval").unwrap().arg(0), Some("$NOPE"));
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].contains(":7: warning: $NOPE is not defined"),
            "{findings:?}"
        );
        // A multi-line definition at the end of a line adds its lines after it; a `\\`
        // anywhere else stays part of the word.
        let t = &conf.top[1];
        assert_eq!(words(&t.block[0]), ["interval", "1", "\\"]);
        assert_eq!(words(&t.block[1]), ["timeout", "2"]);
        assert_eq!(words(&t.block[2]), ["fall", "3"]);
        let (conf, _) = read_in(&[("/etc/keepalived/keepalived.conf", text)], "n2");
        assert!(conf.top[0].find("script").unwrap().words[1]
            .text
            .contains("sip:10.0.0.2 "));
    }

    #[test]
    fn what_cannot_be_read_is_a_finding() {
        let (conf, findings) = read_in(
            &[(
                "/etc/keepalived/keepalived.conf",
                "vrrp_instance A {\n state \"BACKUP\n}\n}\nvrrp_script x {\n",
            )],
            "n1",
        );
        assert_eq!(conf.top.len(), 2);
        assert!(
            findings[0].contains(":2: error: a quote is not closed"),
            "{findings:?}"
        );
        assert!(
            findings[1].contains(":4: error: a '}' closes no block"),
            "{findings:?}"
        );
        assert!(
            findings[2].contains(":5: error: 'vrrp_script' opens a block that is never closed"),
            "{findings:?}"
        );
        let (_, findings) = read_in(&[("/etc/keepalived/other", "")], "n1");
        assert!(
            findings[0].starts_with("/etc/keepalived/keepalived.conf: error: cannot read"),
            "{findings:?}"
        );
    }
}
