//! How a failed command's error is printed.

use std::fmt::Write;

/// The error and its causes on one line, `outer: cause: root`, each text
/// once. Many error types already put their cause in their own message
/// (thiserror's `#[error("...: {0}")]` on a `#[from]` field, a `{source}`
/// in the format), and anyhow's `{:#}` then printed it again; so a cause
/// whose text is already shown is skipped rather than repeated.
pub fn report(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !text.is_empty() && !line.contains(&text) {
            let _ = write!(line, ": {text}");
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config file x.toml: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = io.to_string();
        let e = anyhow::Error::new(Repeats(io));
        assert_eq!(
            report(&e),
            format!("cannot read config file x.toml: {text}")
        );
    }

    #[test]
    fn a_cause_not_in_the_message_is_appended() {
        let e = anyhow::anyhow!("disk full").context("cannot write the key");
        assert_eq!(report(&e), "cannot write the key: disk full");
    }
}
