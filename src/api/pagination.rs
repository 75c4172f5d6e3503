//! Opaque keyset cursors. A cursor names the last post a page showed; the
//! next page starts strictly after it, so posts added meanwhile never shift
//! or repeat what the reader sees.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const VERSION: &str = "p1:";

pub fn encode(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}{seq}"))
}

/// `None` for anything this server did not make.
pub fn decode(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(VERSION)?
        .parse::<i64>()
        .ok()
        .filter(|seq| *seq > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        assert_eq!(decode(&encode(42)), Some(42));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert_eq!(decode("not-base64!"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("42")), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("p1:-3")), None);
        assert_eq!(decode(""), None);
    }
}
