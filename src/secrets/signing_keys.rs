//! JWT signing keys, one current key per kind: generated on first start,
//! kept in the database, each with a `kid`; the JWKS lists the current keys
//! and every retired key whose tokens may still be live.
//!
//! ES256 signs access tokens. Measured on one core of the 2-core dev
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
//! (`auth::access_token`). EdDSA keys still load, so a later switch needs
//! no migration.
//!
//! RS256 signs ID tokens (OpenID Connect Discovery 1.0 makes it
//! mandatory; a client may ask for ES256 instead). Measured with the same
//! example, in one run beside ES256, while other builds kept the machine
//! busy (ES256 came out ~2.8 times its figure above):
//!
//! | alg   | sign    | verify | key generation                  |
//! |-------|---------|--------|---------------------------------|
//! | ES256 | 77 µs   | 128 µs | 0.02 ms                         |
//! | RS256 | 2.65 ms | 45 µs  | 130–190 ms mean, 330 ms at most |
//!
//! So an RS256 signature costs ~35 ES256 ones, about 1 ms on an idle core
//! (of it, ~0.3 ms is jsonwebtoken parsing and checking the key again on
//! every signature); one is made per code exchange or refresh that
//! returns an ID token. Verifying is ~3 times cheaper than ES256, which
//! suits relying parties. An RSA 2048 key takes an estimated ~50 ms on an
//! idle core (the busy figure scaled as ES256's was), with a long tail (it
//! searches for primes at random): it is
//! generated off the executor, before taking the key lock, once per kind
//! at first start and per `keys rotate`.
//!
//! With a key-encryption key set (`secrets::key_encryption`), private keys
//! are stored encrypted; plain ones left from before are encrypted at
//! start-up and on rotation. A retired key's private half is erased once
//! every token it signed has expired: it can sign nothing useful any more.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use entity::signing_key;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tracing::warn;

use crate::cache::{read_lock, write_lock};
use crate::db::{Lock, begin_exclusive};
use crate::secrets::key_encryption::{KEK_ENV, KEK_FILE_ENV, KeyEncryptionKey};
use crate::store;

mod at_rest;
mod material;
pub mod provider;

/// The kinds of key kept current, one of each: ES256 signs access tokens
/// (and the ID tokens of clients registered for it), RS256 signs ID tokens
/// by default (OpenID Connect Discovery 1.0 §3 makes RS256 mandatory).
pub const MANAGED_ALGORITHMS: [Algorithm; 2] = [Algorithm::ES256, Algorithm::RS256];

/// The one algorithm access tokens are signed and verified with.
pub const ACCESS_TOKEN_ALGORITHM: Algorithm = Algorithm::ES256;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("key generation failed")]
    Generate,
    #[error("{0:?} signing keys are not supported")]
    Unmanaged(Algorithm),
    #[error("stored signing key {0} is unreadable")]
    Corrupt(String),
    #[error("no current {0:?} signing key")]
    NoCurrentKey(Algorithm),
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
    /// The current key of [`ACCESS_TOKEN_ALGORITHM`], always present.
    current: Arc<LoadedKey>,
    /// The current key of each algorithm that has one.
    current_by_alg: HashMap<Algorithm, Arc<LoadedKey>>,
    by_kid: HashMap<String, Arc<LoadedKey>>,
    jwks: Value,
}

impl KeySet {
    /// The current ES256 key, which signs access tokens.
    pub fn current(&self) -> &Arc<LoadedKey> {
        &self.current
    }

    /// The current key of `alg` (ES256 or RS256). `None` only if another
    /// process left no current key of that kind, e.g. an older version's
    /// `keys rotate`; the next start makes one.
    pub fn current_for(&self, alg: Algorithm) -> Option<&Arc<LoadedKey>> {
        self.current_by_alg.get(&alg)
    }

    /// A live key of any kind.
    pub fn get(&self, kid: &str) -> Option<&Arc<LoadedKey>> {
        self.by_kid.get(kid)
    }

    /// `{"keys": [...]}` (RFC 7517 §5): every live key of every kind.
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
    /// key of each kind exists, then loads the live ones.
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

/// Creates a key of each kind that has none current (a database from
/// before RS256 gains one; its ES256 keys stay). Under
/// [`Lock::SigningKeys`], so that instances starting together on an empty
/// database create one key per kind between them: the second finds the
/// first's and uses them.
async fn ensure_current(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token_ttl: TimeDelta,
    kek: Option<&KeyEncryptionKey>,
) -> Result<(), KeyError> {
    // Generated before taking the lock, which on SQLite is the database's
    // write lock: an RSA key takes tens of milliseconds. Usually nothing
    // is missing and nothing is generated.
    let mut fresh = generate(&missing_kinds(db).await?, now, kek).await?;
    let txn = begin_exclusive(db, Lock::SigningKeys).await?;
    at_rest::secure_stored(&txn, kek).await?;
    erase_expired_private_keys(&txn, now, token_ttl).await?;
    // Another instance may have made some meanwhile: store only what is
    // still missing (and generate what was not, a rare race).
    for algorithm in missing_kinds(&txn).await? {
        let row = match fresh
            .iter()
            .position(|r| r.algorithm == material::name(algorithm))
        {
            Some(i) => fresh.swap_remove(i),
            None => generate(&[algorithm], now, kek)
                .await?
                .pop()
                .ok_or(KeyError::Generate)?,
        };
        store::signing_keys::insert(&txn, row).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The managed kinds without a current key.
async fn missing_kinds(db: &impl ConnectionTrait) -> Result<Vec<Algorithm>, KeyError> {
    let current = store::signing_keys::current_algorithms(db).await?;
    Ok(MANAGED_ALGORITHMS
        .into_iter()
        .filter(|alg| !current.iter().any(|c| c == material::name(*alg)))
        .collect())
}

/// A retired key stays published (and keeps its private half) this long
/// past the token lifetime: clock leeway on the verifying side.
const RETIRED_KEY_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// Until when a key retired at `retired_at` may have signed a live token.
/// One `token_ttl` (`settings.access_token_ttl`) serves every kind: ID
/// tokens live exactly as long as access tokens, so an RS256 key retired
/// now has signed no ID token that outlives this either.
fn needed_until(retired_at: DateTime<Utc>, token_ttl: TimeDelta) -> DateTime<Utc> {
    retired_at + token_ttl + RETIRED_KEY_MARGIN
}

/// Erases the private halves of retired keys (of every kind) whose tokens
/// have all expired; returns how many. Also run by the housekeeping.
pub async fn erase_expired_private_keys(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    token_ttl: TimeDelta,
) -> Result<u64, DbErr> {
    // Not needed: needed_until(retired_at) <= now, the complement of `load`'s test.
    let cutoff = now - token_ttl - RETIRED_KEY_MARGIN;
    store::signing_keys::erase_private_keys_retired_by(db, cutoff).await
}

/// `tollgate keys rotate`: a new current key of every kind; the old ones
/// retire now and stay published until the tokens they signed have
/// expired. Under [`Lock::SigningKeys`]: two rotations at once run one
/// after the other, so exactly one key per kind ends up current (without
/// it, on PostgreSQL each could retire only the keys it saw and both new
/// keys stay current).
///
/// With a `kek`, the new keys are stored encrypted and so are plain ones
/// left from before; a `kek` that does not open the stored keys is an
/// error and nothing changes.
pub async fn rotate(
    db: &DatabaseConnection,
    kek: Option<&KeyEncryptionKey>,
    now: DateTime<Utc>,
) -> Result<Vec<signing_key::Model>, KeyError> {
    // Generated before taking the lock, as in `ensure_current`.
    let fresh = generate(&MANAGED_ALGORITHMS, now, kek).await?;
    let txn = begin_exclusive(db, Lock::SigningKeys).await?;
    at_rest::secure_stored(&txn, kek).await?;
    store::signing_keys::retire_current(&txn, now).await?;
    let mut keys = Vec::with_capacity(fresh.len());
    for row in fresh {
        keys.push(store::signing_keys::insert(&txn, row).await?);
    }
    // Other instances reload their keys when this commits.
    crate::propagation::Change::Keys.record(&txn, now).await?;
    txn.commit().await?;
    Ok(keys)
}

/// New keys of the given kinds, not yet stored; private halves encrypted
/// when a `kek` is given. Generated on the blocking pool, each kind in
/// its own task (so side by side on two cores): an RSA key takes tens of
/// milliseconds, too long for an executor thread.
async fn generate(
    algorithms: &[Algorithm],
    now: DateTime<Utc>,
    kek: Option<&KeyEncryptionKey>,
) -> Result<Vec<signing_key::Model>, KeyError> {
    let tasks: Vec<_> = algorithms
        .iter()
        .map(|&alg| tokio::task::spawn_blocking(move || material::generate(alg)))
        .collect();
    let mut rows = Vec::with_capacity(tasks.len());
    for task in tasks {
        let pair = task.await.map_err(|_| KeyError::Generate)??;
        let kid = format!(
            "{}-{}",
            now.format("%Y%m%d"),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let private_key = at_rest::seal(kek, &kid, &pair.pkcs8)?;
        rows.push(signing_key::Model {
            kid,
            algorithm: material::name(pair.algorithm).to_owned(),
            private_key,
            public_key: URL_SAFE_NO_PAD.encode(&pair.public),
            created_at: now,
            retired_at: None,
        });
    }
    Ok(rows)
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
    let mut current_by_alg = HashMap::new();
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
        if row.retired_at.is_none() {
            // Newest first: the newest current key of a kind signs.
            current_by_alg
                .entry(key.algorithm)
                .or_insert_with(|| key.clone());
        }
        by_kid.insert(key.kid.clone(), key);
    }
    let current = current_by_alg
        .get(&ACCESS_TOKEN_ALGORITHM)
        .cloned()
        .ok_or(KeyError::NoCurrentKey(ACCESS_TOKEN_ALGORITHM))?;
    Ok(KeySet {
        current,
        current_by_alg,
        by_kid,
        jwks: json!({ "keys": jwks }),
    })
}

fn parse(row: &signing_key::Model, kek: Option<&KeyEncryptionKey>) -> Result<LoadedKey, KeyError> {
    let corrupt = || KeyError::Corrupt(row.kid.clone());
    let private = at_rest::open_private(kek, row)?;
    let public = URL_SAFE_NO_PAD
        .decode(&row.public_key)
        .map_err(|_| corrupt())?;
    material::parse(&row.kid, &row.algorithm, &private, &public).ok_or_else(corrupt)
}
