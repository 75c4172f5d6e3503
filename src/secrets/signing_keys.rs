//! JWT signing keys: generated on first start, kept in the database, each
//! with a `kid`; the JWKS lists the current key and every retired key whose
//! tokens may still be live.
//!
//! ES256 is the signing algorithm. Measured on one core of the 2-core dev
//! machine with jsonwebtoken on aws-lc-rs
//! (`cargo run --release --example jwt_algorithms`):
//!
//! | alg   | sign    | verify  |
//! |-------|---------|---------|
//! | ES256 | 27.1 µs | 55.2 µs |
//! | EdDSA | 18.7 µs | 40.0 µs |
//!
//! EdDSA is ~30% faster, but ES256 is accepted by every JOSE library and
//! resource server a third party may verify our tokens with (Spring,
//! .NET and several others still lack EdDSA), and both costs are small
//! next to a grant's database commit. The read path does not pay the
//! verify cost per request anyway: verified tokens are cached
//! (`auth::access_token`). Keys of either kind load, so a later switch
//! needs no migration.
//!
//! With a key-encryption key set (`secrets::key_encryption`), private keys
//! are stored encrypted; plain ones left from before are encrypted at
//! start-up and on rotation. A retired key's private half is erased once
//! every token it signed has expired: it can sign nothing useful any more.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use entity::signing_key;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::cache::{read_lock, write_lock};
use crate::db::{Lock, begin_exclusive};
use crate::secrets::key_encryption::{self, KEK_ENV, KEK_FILE_ENV, KeyEncryptionKey, OpenError};
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("key generation failed")]
    Generate,
    #[error("stored signing key {0} is unreadable")]
    Corrupt(String),
    #[error("no current signing key")]
    NoCurrentKey,
    #[error("signing key {0} is stored encrypted, but neither {KEK_ENV} nor {KEK_FILE_ENV} is set")]
    NoKeyEncryptionKey(String),
    #[error(
        "signing key {0} does not decrypt with the key in {KEK_ENV} (or {KEK_FILE_ENV}): \
         is it the key the database was encrypted with?"
    )]
    WrongKeyEncryptionKey(String),
    #[error("encrypting a signing key failed")]
    Encrypt,
}

/// One key, parsed once.
pub struct LoadedKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    jwk: Value,
}

/// The keys in force at one moment.
pub struct KeySet {
    current: Arc<LoadedKey>,
    by_kid: HashMap<String, Arc<LoadedKey>>,
    jwks: Value,
}

impl KeySet {
    pub fn current(&self) -> &Arc<LoadedKey> {
        &self.current
    }

    /// TEMPORARY, until branch oidc-keys lands with the real one: the
    /// current key, if it is of `alg`.
    pub fn current_for(&self, alg: Algorithm) -> Option<&Arc<LoadedKey>> {
        (self.current.algorithm == alg).then_some(&self.current)
    }

    pub fn get(&self, kid: &str) -> Option<&Arc<LoadedKey>> {
        self.by_kid.get(kid)
    }

    /// `{"keys": [...]}` (RFC 7517 §5).
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

/// An unknown `kid` triggers at most one key reload this often, so that
/// tokens with made-up kids cannot hammer the database.
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Shared, swappable key set: rotation by another process is picked up by
/// [`SigningKeys::reload`].
pub struct SigningKeys {
    set: RwLock<Arc<KeySet>>,
    /// When an unknown `kid` last caused a reload ([`Self::reload_for`]).
    last_kid_reload: Mutex<Option<Instant>>,
    /// Opens the stored private keys on every reload.
    kek: Option<KeyEncryptionKey>,
}

impl SigningKeys {
    /// Checks that every stored private key opens (a wrong `kek` is an
    /// error here, before anything is written), encrypts plain ones when a
    /// `kek` is set, erases expired private halves, makes sure a current
    /// key exists, then loads the live ones.
    pub async fn init(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        token_ttl: TimeDelta,
        kek: Option<KeyEncryptionKey>,
    ) -> Result<Self, KeyError> {
        if kek.is_none() {
            warn!(
                "private signing keys are stored in clear: set {KEK_ENV} or {KEK_FILE_ENV} \
                 to encrypt them at rest"
            );
        }
        ensure_current(db, now, token_ttl, kek.as_ref()).await?;
        let set = load(db, now, token_ttl, kek.as_ref()).await?;
        Ok(Self {
            set: RwLock::new(Arc::new(set)),
            last_kid_reload: Mutex::new(None),
            kek,
        })
    }

    pub fn snapshot(&self) -> Arc<KeySet> {
        read_lock(&self.set).clone()
    }

    pub async fn reload(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        token_ttl: TimeDelta,
    ) -> Result<(), KeyError> {
        let set = Arc::new(load(db, now, token_ttl, self.kek.as_ref()).await?);
        *write_lock(&self.set) = set;
        Ok(())
    }

    /// Reloads (another instance may have rotated) and returns the key
    /// named `kid` if it now exists; at most one reload per
    /// [`KEY_RELOAD_INTERVAL`], whatever the kids asked for.
    pub async fn reload_for(
        &self,
        kid: &str,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        token_ttl: TimeDelta,
    ) -> Result<Option<Arc<LoadedKey>>, KeyError> {
        {
            let mut last = self.last_kid_reload.lock().await;
            if last.is_some_and(|at| at.elapsed() < KEY_RELOAD_INTERVAL) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        self.reload(db, now, token_ttl).await?;
        Ok(self.snapshot().get(kid).cloned())
    }
}

/// Creates a key when none is current. Under [`Lock::SigningKeys`], so
/// that instances starting together on an empty database create one key
/// between them: the second finds the first's and uses it.
async fn ensure_current(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token_ttl: TimeDelta,
    kek: Option<&KeyEncryptionKey>,
) -> Result<(), KeyError> {
    let txn = begin_exclusive(db, Lock::SigningKeys).await?;
    secure_stored(&txn, kek).await?;
    erase_expired_private_keys(&txn, now, token_ttl).await?;
    if store::signing_keys::count_current(&txn).await? == 0 {
        store::signing_keys::insert(&txn, generate(now, kek)?).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Fails unless every stored private key opens with `kek` (so a wrong
/// key stops start-up before anything is written, and never leads to a
/// new key), then encrypts the plain ones when `kek` is set. Run under
/// [`Lock::SigningKeys`]. Returns how many keys it encrypted.
async fn secure_stored(
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

/// A retired key stays published (and keeps its private half) this long
/// past the token lifetime: clock leeway on the verifying side.
const RETIRED_KEY_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// Until when a key retired at `retired_at` may have signed a live token.
fn needed_until(retired_at: DateTime<Utc>, token_ttl: TimeDelta) -> DateTime<Utc> {
    retired_at + token_ttl + RETIRED_KEY_MARGIN
}

/// Erases the private halves of retired keys whose tokens have all
/// expired; returns how many. Also run by the housekeeping.
pub async fn erase_expired_private_keys(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    token_ttl: TimeDelta,
) -> Result<u64, DbErr> {
    // Not needed: needed_until(retired_at) <= now, the complement of `load`'s test.
    let cutoff = now - token_ttl - RETIRED_KEY_MARGIN;
    store::signing_keys::erase_private_keys_retired_by(db, cutoff).await
}

/// `tollgate keys rotate`: a new current key; the old ones retire now and
/// stay published until the tokens they signed have expired. Under
/// [`Lock::SigningKeys`]: two rotations at once run one after the other,
/// so exactly one key ends up current (without it, on PostgreSQL each
/// could retire only the keys it saw and both new keys stay current).
///
/// With a `kek`, the new key is stored encrypted and so are plain ones
/// left from before; a `kek` that does not open the stored keys is an
/// error and nothing changes.
pub async fn rotate(
    db: &DatabaseConnection,
    kek: Option<&KeyEncryptionKey>,
    now: DateTime<Utc>,
) -> Result<signing_key::Model, KeyError> {
    let txn = begin_exclusive(db, Lock::SigningKeys).await?;
    secure_stored(&txn, kek).await?;
    store::signing_keys::retire_current(&txn, now).await?;
    let key = store::signing_keys::insert(&txn, generate(now, kek)?).await?;
    txn.commit().await?;
    Ok(key)
}

/// A new ES256 key, not yet stored; its private half encrypted when a
/// `kek` is given.
fn generate(
    now: DateTime<Utc>,
    kek: Option<&KeyEncryptionKey>,
) -> Result<signing_key::Model, KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| KeyError::Generate)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| KeyError::Generate)?;
    let kid = format!(
        "{}-{}",
        now.format("%Y%m%d"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let private_key = match kek {
        Some(kek) => kek
            .seal(&kid, pkcs8.as_ref())
            .map_err(|_| KeyError::Encrypt)?,
        None => URL_SAFE_NO_PAD.encode(pkcs8.as_ref()),
    };
    Ok(signing_key::Model {
        kid,
        algorithm: "ES256".to_owned(),
        private_key,
        public_key: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        created_at: now,
        retired_at: None,
    })
}

/// Keys that may still verify a live token: the current ones, and retired
/// ones retired less than one token lifetime ago.
async fn load(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    token_ttl: TimeDelta,
    kek: Option<&KeyEncryptionKey>,
) -> Result<KeySet, KeyError> {
    let rows = store::signing_keys::all_newest_first(db).await?;
    let mut current = None;
    let mut by_kid = HashMap::new();
    let mut jwks = Vec::new();
    for row in rows {
        let live = match row.retired_at {
            None => true,
            Some(at) => now < needed_until(at, token_ttl),
        };
        // An erased key is retired and past its window, unless the token
        // lifetime grew since; either way it signed nothing still valid.
        if !live || store::signing_keys::is_erased(&row) {
            continue;
        }
        let key = Arc::new(parse(&row, kek)?);
        jwks.push(key.jwk.clone());
        if current.is_none() && row.retired_at.is_none() {
            current = Some(key.clone());
        }
        by_kid.insert(key.kid.clone(), key);
    }
    Ok(KeySet {
        current: current.ok_or(KeyError::NoCurrentKey)?,
        by_kid,
        jwks: json!({ "keys": jwks }),
    })
}

/// The private key's DER, decrypted when stored encrypted.
fn open_private(
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

fn parse(row: &signing_key::Model, kek: Option<&KeyEncryptionKey>) -> Result<LoadedKey, KeyError> {
    let corrupt = || KeyError::Corrupt(row.kid.clone());
    let private = open_private(kek, row)?;
    let public = URL_SAFE_NO_PAD
        .decode(&row.public_key)
        .map_err(|_| corrupt())?;
    let (algorithm, encoding, decoding, jwk) = match row.algorithm.as_str() {
        "ES256" => {
            // Uncompressed point: 0x04 || X || Y.
            if public.len() != 65 || public[0] != 4 {
                return Err(corrupt());
            }
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &private)
                .map_err(|_| corrupt())?;
            let jwk = json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
                "kid": row.kid,
                "alg": "ES256",
                "use": "sig",
            });
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(&private),
                DecodingKey::from_ec_der(&public),
                jwk,
            )
        }
        "EdDSA" => {
            Ed25519KeyPair::from_pkcs8(&private).map_err(|_| corrupt())?;
            let jwk = json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(&public),
                "kid": row.kid,
                "alg": "EdDSA",
                "use": "sig",
            });
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(&private),
                DecodingKey::from_ed_der(&public),
                jwk,
            )
        }
        _ => return Err(corrupt()),
    };
    Ok(LoadedKey {
        kid: row.kid.clone(),
        algorithm,
        encoding,
        decoding,
        jwk,
    })
}
