//! Splitting a command string the way keepalived splits its `script` strings: on white
//! space, with single or double quotes keeping spaces; no shell, no variables, no
//! globbing. ka-notify's hooks and keepalived-checkd's check lines are both split here, so
//! a line moved from keepalived.conf means the same thing.

/// The words of `s`.
pub fn split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in {s:?}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_keep_spaces_and_empty_words() {
        assert_eq!(
            split(r#"check-tcp  'a b' "" x"y z""#).unwrap(),
            ["check-tcp", "a b", "", "xy z"]
        );
        assert!(split("a 'b").unwrap_err().contains("unterminated"));
        assert!(split("   ").unwrap().is_empty());
    }
}
