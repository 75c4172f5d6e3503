//! Secret material: a redacting wrapper, random tokens and their lookup
//! hashes, and password hashing.

mod password;
mod password_pool;
pub mod signing_keys;
mod token;

use std::fmt;

pub use password::{PasswordError, hash_password};
pub use password_pool::{Admission, PasswordPool, RETRY_AFTER_SECONDS};
pub use token::{TokenKind, generate_token, lookup_hash, lookup_hash_matches};

/// A string that never appears in `Debug` output or logs; read it with
/// [`SecretString::secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
