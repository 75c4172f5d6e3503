//! Secret material: random tokens and their lookup hashes, password
//! hashing and checking, and signing keys.

pub mod key_encryption;
mod password;
mod password_pool;
pub mod signing_keys;
mod token;

/// Defined with the other newtypes (`domain` sits below `secrets`).
pub use crate::domain::SecretString;
pub use key_encryption::KeyEncryptionKey;
pub use password::{PasswordError, hash_password};
pub use password_pool::{Admission, PasswordPool, RETRY_AFTER_SECONDS};
pub use token::{TokenKind, generate_token, lookup_hash, lookup_hash_matches};
