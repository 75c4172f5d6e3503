//! Opaque keyset cursors. A cursor names the last post a page showed; the
//! next page starts strictly after it, so posts added meanwhile never shift
//! or repeat what the reader sees.
//!
//! A cursor is the post's sequence number as 8 big-endian bytes in
//! unpadded URL-safe base64: always 11 characters, and every string that
//! [`PATTERN`] allows decodes to a position. So `/openapi.json` can state
//! the format exactly, and a cursor the schema allows is never refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the `cursor` parameter accepts (empty: the first page). The first
/// character keeps the sign bit clear; the last carries 4 bits and 2 zero
/// padding bits, which the decoder requires to be zero. The validator on
/// the parameter (`posts.rs`) must be a literal; a test holds them equal.
#[cfg(test)]
pub const PATTERN: &str = "^([A-Za-f][A-Za-z0-9_-]{9}[AEIMQUYcgkosw048])?$";

/// Said for a cursor outside [`PATTERN`] or one that does not decode.
pub const MALFORMED: &str = "malformed cursor: pass the next_cursor of the previous page unchanged";

pub fn encode(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

/// `None` for anything that is not a cursor of this format.
pub fn decode(cursor: &str) -> Option<i64> {
    let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(cursor).ok()?.try_into().ok()?;
    Some(i64::from_be_bytes(bytes)).filter(|seq| *seq >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /// The character classes of [`PATTERN`], spelt out.
    const FIRST: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef";
    const LAST: &str = "AEIMQUYcgkosw048";

    #[test]
    fn the_pattern_spells_out_these_classes() {
        assert_eq!(PATTERN, "^([A-Za-f][A-Za-z0-9_-]{9}[AEIMQUYcgkosw048])?$");
        assert_eq!(FIRST.len(), 32);
    }

    #[test]
    fn a_cursor_round_trips_within_the_pattern() {
        for seq in [0, 1, 42, 1 << 40, i64::MAX] {
            let cursor = encode(seq);
            assert_eq!(decode(&cursor), Some(seq));
            let chars: Vec<char> = cursor.chars().collect();
            assert_eq!(chars.len(), 11, "{cursor}");
            assert!(
                FIRST.contains(chars[0]) && LAST.contains(chars[10]),
                "{cursor}"
            );
        }
    }

    #[test]
    fn every_string_the_pattern_allows_decodes() {
        // Each first and last character, with middles walking the alphabet.
        let middle: Vec<char> = ALPHABET.chars().collect();
        for (i, first) in FIRST.chars().enumerate() {
            for (j, last) in LAST.chars().enumerate() {
                let mid: String = (0..9)
                    .map(|k| middle[(i * 7 + j * 13 + k * 5) % 64])
                    .collect();
                let cursor = format!("{first}{mid}{last}");
                assert!(decode(&cursor).is_some(), "{cursor}");
            }
        }
    }

    #[test]
    fn strings_outside_the_pattern_are_refused() {
        // Sign bit set, padding bits set, too short, too long, not base64,
        // and the previous format (`p1:42`).
        for cursor in [
            "g_________8",
            "AAAAAAAAAAB",
            "AAAAAAAAAA",
            "AAAAAAAAAAAA",
            "not-base64!",
            "cDE6NDI",
        ] {
            assert_eq!(decode(cursor), None, "{cursor}");
        }
    }
}
