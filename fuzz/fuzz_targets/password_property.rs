//! The property both URL targets check: a password given never appears in what is shown.
//!
//! A plain "the output does not contain the password" misfires when the password's text
//! also comes from elsewhere (`'sip` out of the quote and the scheme in
//! `bad target 'sip:...'`). So the input is shown twice, with the password and with a
//! twin of the same shape (letters and digits rotated, punctuation kept, so it parses
//! the same way): a password leaks when each shown form holds its own password.

/// Splits the fuzz input into USER, PASSWORD and REST (three lines).
pub fn parts(data: &str) -> (&str, &str, &str) {
    let mut parts = data.splitn(3, '\n');
    (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    )
}

/// Whether `{:?}` shows `text` other than as it is.
fn escapes(text: &str) -> bool {
    text.escape_debug().ne(text.chars())
}

/// `password` with letters rotated by 13 and digits by 5.
fn twin(password: &str) -> String {
    password
        .chars()
        .map(|c| match c {
            'a'..='z' => char::from(b'a' + (c as u8 - b'a' + 13) % 26),
            'A'..='Z' => char::from(b'A' + (c as u8 - b'A' + 13) % 26),
            '0'..='9' => char::from(b'0' + (c as u8 - b'0' + 5) % 10),
            other => other,
        })
        .collect()
}

/// Panics when `show(input(password))` shows the password: `input` builds the text to
/// parse around a password, `show` renders everything a user could see of the result.
///
/// Passwords that `{:?}` would escape (backslashes, quotes, control characters) are not
/// judged: escaping writes text of its own, and an escaped `\` before an escaped newline
/// reads `\\\n`, the twin of the password `\\\a`, while neither password is shown.
pub fn never_shown(password: &str, input: impl Fn(&str) -> String, show: impl Fn(&str) -> String) {
    let other = twin(password);
    if password.len() < 4 || other == password || escapes(password) {
        return;
    }
    let (given, given_twin) = (input(password), input(&other));
    if given.matches(password).count() != 1 || given_twin.matches(other.as_str()).count() != 1 {
        return;
    }
    let (shown, shown_twin) = (show(&given), show(&given_twin));
    assert!(
        !(shown.contains(password) && shown_twin.contains(&other)),
        "{shown:?} shows {password:?}"
    );
}
