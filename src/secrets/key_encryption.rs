//! The key-encryption key (KEK) that keeps private signing keys encrypted
//! at rest: AES-256-GCM, a fresh random nonce per key, and the key's `kid`
//! as associated data, so that a ciphertext copied onto another row does
//! not decrypt there.
//!
//! A stored private key is either plain (base64url PKCS#8, as before keys
//! were encrypted) or `enc:v1:<base64url(nonce | ciphertext | tag)>`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The environment variable holding the KEK itself.
pub const KEK_ENV: &str = "TOLLGATE_KEY_ENCRYPTION_KEY";
/// The environment variable naming a file that holds the KEK.
pub const KEK_FILE_ENV: &str = "TOLLGATE_KEY_ENCRYPTION_KEY_FILE";

/// Marks an encrypted private key in the `signing_keys.private_key` column.
const ENCRYPTED_PREFIX: &str = "enc:v1:";

/// 32 secret bytes. `Debug` prints `[redacted]`; nothing else prints it.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why a stored private key could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The row is encrypted and no KEK is set.
    NoKey,
    /// The KEK does not open it (another KEK, or a tampered row).
    WrongKey,
}

impl KeyEncryptionKey {
    /// Standard or URL-safe base64, padded or not, of exactly 32 bytes.
    /// The error never repeats the value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or("is not base64 (expected 32 random bytes, e.g. `openssl rand -base64 32`)")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "decodes to {} bytes; expected 32 (e.g. `openssl rand -base64 32`)",
                b.len()
            )
        })?;
        Ok(Self(bytes))
    }

    /// Reads the KEK from [`KEK_ENV`] or the file [`KEK_FILE_ENV`] names
    /// (trailing newline allowed); `None` when neither is set. Both set is
    /// an error, as it would be unclear which one wins.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let direct = env(KEK_ENV).filter(|v| !v.is_empty());
        let file = env(KEK_FILE_ENV).filter(|v| !v.is_empty());
        match (direct, file) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(format!("set {KEK_ENV} or {KEK_FILE_ENV}, not both")),
            (Some(text), None) => Self::parse(&text)
                .map(Some)
                .map_err(|e| format!("{KEK_ENV} {e}")),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{KEK_FILE_ENV}: cannot read {path}: {e}"))?;
                Self::parse(&text)
                    .map(Some)
                    .map_err(|e| format!("{KEK_FILE_ENV}: the content of {path} {e}"))
            }
        }
    }

    fn aead(&self) -> Result<LessSafeKey, aws_lc_rs::error::Unspecified> {
        Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0)?))
    }

    /// Encrypts the private key `der` of key `kid` for storage.
    pub fn seal(&self, kid: &str, der: &[u8]) -> Result<String, aws_lc_rs::error::Unspecified> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)?;
        let mut sealed = der.to_vec();
        self.aead()?.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut sealed,
        )?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(format!(
            "{ENCRYPTED_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(stored)
        ))
    }
}

/// Whether a stored private key is encrypted.
pub fn is_encrypted(stored: &str) -> bool {
    stored.starts_with(ENCRYPTED_PREFIX)
}

/// The DER of a stored private key (`None` when it is plain and not
/// valid base64, which the caller reports as a corrupt key).
pub fn open(
    kek: Option<&KeyEncryptionKey>,
    kid: &str,
    stored: &str,
) -> Result<Option<Vec<u8>>, OpenError> {
    let Some(sealed) = stored.strip_prefix(ENCRYPTED_PREFIX) else {
        return Ok(URL_SAFE_NO_PAD.decode(stored).ok());
    };
    let kek = kek.ok_or(OpenError::NoKey)?;
    let mut bytes = URL_SAFE_NO_PAD
        .decode(sealed)
        .map_err(|_| OpenError::WrongKey)?;
    if bytes.len() < NONCE_LEN {
        return Err(OpenError::WrongKey);
    }
    let mut in_out = bytes.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| OpenError::WrongKey)?;
    let aead = kek.aead().map_err(|_| OpenError::WrongKey)?;
    let der = aead
        .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
        .map_err(|_| OpenError::WrongKey)?;
    Ok(Some(der.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::parse(KEY_B64).expect("valid")
    }

    #[test]
    fn a_sealed_key_opens_with_the_same_kek_and_kid_only() {
        let sealed = kek().seal("kid-1", b"private der").expect("seal");
        assert!(is_encrypted(&sealed));
        assert!(!sealed.contains("private der"));
        assert_eq!(
            open(Some(&kek()), "kid-1", &sealed),
            Ok(Some(b"private der".to_vec()))
        );
        // Moved to another row: refused.
        assert_eq!(
            open(Some(&kek()), "kid-2", &sealed),
            Err(OpenError::WrongKey)
        );
        let other = KeyEncryptionKey([7; 32]);
        assert_eq!(
            open(Some(&other), "kid-1", &sealed),
            Err(OpenError::WrongKey)
        );
        assert_eq!(open(None, "kid-1", &sealed), Err(OpenError::NoKey));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let a = kek().seal("kid", b"same").expect("seal");
        let b = kek().seal("kid", b"same").expect("seal");
        assert_ne!(a, b);
    }

    #[test]
    fn a_plain_key_opens_without_a_kek() {
        let plain = URL_SAFE_NO_PAD.encode(b"der");
        assert_eq!(open(None, "kid", &plain), Ok(Some(b"der".to_vec())));
    }

    #[test]
    fn the_kek_is_32_bytes_of_standard_or_url_safe_base64() {
        let url_safe = URL_SAFE_NO_PAD.encode([0xfb_u8; 32]);
        assert!(url_safe.contains('-') || url_safe.contains('_'));
        assert!(KeyEncryptionKey::parse(&url_safe).is_ok());
        assert!(KeyEncryptionKey::parse(&STANDARD.encode([0xfb_u8; 32])).is_ok());
        assert!(KeyEncryptionKey::parse(&format!("{KEY_B64}\n")).is_ok());
        let short = KeyEncryptionKey::parse(&STANDARD.encode([1_u8; 16])).expect_err("short");
        assert!(short.contains("16 bytes"), "{short}");
        assert!(KeyEncryptionKey::parse("not base64!").is_err());
        assert_eq!(format!("{:?}", kek()), "[redacted]");
    }

    #[test]
    fn the_kek_comes_from_the_variable_or_the_file_but_not_both() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kek");
        std::fs::write(&path, format!("{KEY_B64}\n")).expect("write");
        let path = path.display().to_string();
        let none = KeyEncryptionKey::from_env(|_| None).expect("ok");
        assert!(none.is_none());
        let direct = |k: &str| (k == KEK_ENV).then(|| KEY_B64.to_owned());
        assert!(KeyEncryptionKey::from_env(direct).expect("ok").is_some());
        let file = |k: &str| (k == KEK_FILE_ENV).then(|| path.clone());
        let from_file = KeyEncryptionKey::from_env(file).expect("ok").expect("set");
        assert_eq!(from_file.0, kek().0);
        let both = |k: &str| match k {
            KEK_ENV => Some(KEY_B64.to_owned()),
            KEK_FILE_ENV => Some(path.clone()),
            _ => None,
        };
        let msg = KeyEncryptionKey::from_env(both).expect_err("both");
        assert!(msg.contains(KEK_ENV) && msg.contains(KEK_FILE_ENV), "{msg}");
        let bad = |k: &str| (k == KEK_ENV).then(|| "c2hvcnQ=".to_owned());
        let msg = KeyEncryptionKey::from_env(bad).expect_err("short");
        assert!(msg.contains(KEK_ENV) && !msg.contains("c2hvcnQ"), "{msg}");
    }
}
