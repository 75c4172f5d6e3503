use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing task failed")]
    Join(#[from] tokio::task::JoinError),
    /// Every worker is busy and the queue is full: try again shortly.
    #[error("too many password checks at once")]
    Busy,
}

/// argon2id with OWASP's first recommended parameter set (19 MiB, t=2, p=1).
fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Hashes on the blocking pool: a hash takes ~13 ms of CPU, too long for
/// an executor thread.
pub async fn hash_password(password: SecretString) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.secret())).await?
}

/// A real hash of nothing anyone knows, verified when the user does not
/// exist, so that an unknown username costs the same time as a wrong password
/// (see `password_pool`, where passwords are verified).
pub(super) static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_blocking("tollgate-dummy-password").ok());

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_uses_owasp_parameters() {
        let hash = hash_password(SecretString::new("correct horse".into()))
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }
}
