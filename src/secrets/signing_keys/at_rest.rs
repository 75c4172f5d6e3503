//! Private halves at rest: sealed with the key-encryption key when one is
//! set (`secrets::key_encryption`), opened on every load.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::signing_key;
use sea_orm::ConnectionTrait;
use tracing::info;

use super::KeyError;
use crate::secrets::key_encryption::{self, KeyEncryptionKey, OpenError};
use crate::store;

/// Fails unless every stored private key opens with `kek` (so a wrong
/// key stops start-up before anything is written, and never leads to a
/// new key), then encrypts the plain ones when `kek` is set. Run under
/// [`crate::db::Lock::SigningKeys`]. Returns how many keys it encrypted.
pub(super) async fn secure_stored(
    txn: &impl ConnectionTrait,
    kek: Option<&KeyEncryptionKey>,
) -> Result<u64, KeyError> {
    let rows = store::signing_keys::all_newest_first(txn).await?;
    let mut plain = Vec::new();
    for row in rows.iter().filter(|r| !store::signing_keys::is_erased(r)) {
        let der = open_private(kek, row)?;
        if !key_encryption::is_encrypted(&row.private_key) {
            plain.push((row.kid.as_str(), der));
        }
    }
    let Some(kek) = kek else { return Ok(0) };
    for (kid, der) in &plain {
        let sealed = kek.seal(kid, der).map_err(|_| KeyError::Encrypt)?;
        store::signing_keys::set_private_key(txn, kid, &sealed).await?;
    }
    if !plain.is_empty() {
        info!(count = plain.len(), "encrypted plain private signing keys");
    }
    Ok(plain.len() as u64)
}

/// A new key's PKCS#8 DER as stored: sealed under `kid` when a `kek` is
/// given, else base64url.
pub(super) fn seal(
    kek: Option<&KeyEncryptionKey>,
    kid: &str,
    pkcs8: &[u8],
) -> Result<String, KeyError> {
    match kek {
        Some(kek) => kek.seal(kid, pkcs8).map_err(|_| KeyError::Encrypt),
        None => Ok(URL_SAFE_NO_PAD.encode(pkcs8)),
    }
}

/// The private key's DER, decrypted when stored encrypted.
pub(super) fn open_private(
    kek: Option<&KeyEncryptionKey>,
    row: &signing_key::Model,
) -> Result<Vec<u8>, KeyError> {
    match key_encryption::open(kek, &row.kid, &row.private_key) {
        Ok(Some(der)) => Ok(der),
        Ok(None) => Err(KeyError::Corrupt(row.kid.clone())),
        Err(OpenError::NoKey) => Err(KeyError::NoKeyEncryptionKey(row.kid.clone())),
        Err(OpenError::WrongKey) => Err(KeyError::WrongKeyEncryptionKey(row.kid.clone())),
    }
}
