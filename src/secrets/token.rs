use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SecretString;

/// The kinds of high-entropy secrets Tollgate hands out. The prefix makes a
/// leaked one recognisable (for secret scanners and for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    ApiKey,
    ClientSecret,
    AuthorizationCode,
    RefreshToken,
    /// Browser session ids and CSRF tokens.
    Session,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::ApiKey => "tgk_",
            Self::ClientSecret => "tgs_",
            Self::AuthorizationCode => "tgc_",
            Self::RefreshToken => "tgr_",
            Self::Session => "",
        }
    }
}

/// 32 random bytes from the OS generator, base64url, behind the kind's prefix.
pub fn generate_token(kind: TokenKind) -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::new(format!(
        "{}{}",
        kind.prefix(),
        URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The value stored and looked up for a high-entropy secret: SHA-256,
/// base64url. A slow hash adds nothing when the input has 256 bits of entropy.
pub fn lookup_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored lookup hash in constant time.
pub fn lookup_hash_matches(secret: &str, stored_hash: &str) -> bool {
    lookup_hash(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_256_bits() {
        let key = generate_token(TokenKind::ApiKey);
        let body = key.secret().strip_prefix("tgk_").expect("prefix");
        assert_eq!(URL_SAFE_NO_PAD.decode(body).expect("base64url").len(), 32);
        assert_ne!(key, generate_token(TokenKind::ApiKey));
        assert!(
            generate_token(TokenKind::ClientSecret)
                .secret()
                .starts_with("tgs_")
        );
    }

    #[test]
    fn the_lookup_hash_matches_only_its_own_secret() {
        let hash = lookup_hash("tgk_abc");
        assert!(lookup_hash_matches("tgk_abc", &hash));
        assert!(!lookup_hash_matches("tgk_abd", &hash));
        assert_ne!(hash, "tgk_abc");
    }
}
