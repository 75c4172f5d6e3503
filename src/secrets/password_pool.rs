//! Password verification with bounded CPU and memory. An argon2 check
//! costs ~13 ms of CPU and 19 MiB; run unbounded on the blocking pool, a
//! burst of 256 logins took the server to 7.5 GiB, and each blocking
//! thread's allocator kept its 19 MiB afterwards. Here at most `workers`
//! checks run at once, each in one of `workers` memory areas allocated on
//! first use and reused ever after, and at most `queue` more wait; the
//! rest are turned away at once with [`PasswordError::Busy`].

use std::sync::{Arc, Mutex};

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, Block, Params};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::SecretString;
use super::password::{DUMMY_HASH, PasswordError};
use crate::cache::lock;

/// What to send as `Retry-After` with a [`PasswordError::Busy`]: a full
/// queue drains in tens of milliseconds.
pub const RETRY_AFTER_SECONDS: &str = "1";

pub struct PasswordPool {
    /// Checks admitted: running or waiting (`workers + queue` permits).
    admitted: Arc<Semaphore>,
    /// Checks running (`workers` permits).
    running: Arc<Semaphore>,
    /// Memory areas not in use; at most `workers` ever exist.
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// A place in the pool: running, or first in line to run.
pub struct Admission {
    _admitted: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordPool {
    /// `workers` checks at once (at least one), `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(workers.saturating_add(queue))),
            running: Arc::new(Semaphore::new(workers)),
            areas: Arc::new(Mutex::new(Vec::with_capacity(workers))),
        }
    }

    /// Takes a place, or says at once that there is none.
    pub fn admit(&self) -> Result<Admission, PasswordError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordError::Busy)?;
        Ok(Admission {
            _admitted: admitted,
            running: self.running.clone(),
            areas: self.areas.clone(),
        })
    }

    /// Hashes a new password within the same bounds as a check (a
    /// password change is as costly as a sign-in).
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        let _admitted = self.admit()?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Busy)?;
        super::password::hash_password(password).await
    }

    /// [`PasswordPool::admit`], then [`Admission::verify`].
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        self.admit()?.verify(password, stored).await
    }
}

impl Admission {
    /// Verifies `password` against `stored`, or against a dummy hash when
    /// `None` (an unknown user costs the same and never verifies).
    pub async fn verify(
        self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Busy)?;
        let mut area = lock(&self.areas).pop().unwrap_or_default();
        let (area, result) = tokio::task::spawn_blocking(move || {
            let result = check(&password, stored, &mut area);
            (area, result)
        })
        .await?;
        lock(&self.areas).push(area);
        result
    }
}

/// Recomputes the stored hash's argon2 output in `area` and compares it in
/// constant time. `area` grows to what the hash's parameters need.
fn check(
    password: &SecretString,
    stored: Option<String>,
    area: &mut Vec<Block>,
) -> Result<bool, PasswordError> {
    let known = stored.is_some();
    let Some(phc) = stored.or_else(|| DUMMY_HASH.clone()) else {
        return Ok(false);
    };
    let bad = |e: &dyn std::fmt::Display| PasswordError::Hash(e.to_string());
    let parsed = PasswordHash::new(&phc).map_err(|e| bad(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::Hash(
            "the stored hash has no salt or output".into(),
        ));
    };
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm).map_err(|e| bad(&e))?;
    let version = match parsed.version {
        Some(v) => argon2::Version::try_from(v).map_err(|e| bad(&e))?,
        None => argon2::Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    if area.len() < params.block_count() {
        area.resize(params.block_count(), Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| bad(&e))?;
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.secret().as_bytes(),
            salt,
            &mut output,
            &mut area[..],
        )
        .map_err(|e| bad(&e))?;
    let matches: bool = output.as_slice().ct_eq(expected.as_bytes()).into();
    Ok(matches && known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::hash_password;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[tokio::test]
    async fn the_pool_verifies_what_the_hasher_hashed_and_nothing_else() {
        let pool = PasswordPool::new(1, 0);
        let hash = hash_password(secret("correct horse")).await.expect("hash");
        let ok = pool.verify(secret("correct horse"), Some(hash.clone()));
        assert!(ok.await.expect("verify"));
        let bad = pool.verify(secret("correct hors"), Some(hash));
        assert!(!bad.await.expect("verify"));
        let unknown = pool.verify(secret("tollgate-dummy-password"), None);
        assert!(!unknown.await.expect("verify"));
    }

    #[tokio::test]
    async fn a_hash_with_other_parameters_still_verifies() {
        // Hashed with more memory than the default: the area grows for it.
        let params = Params::new(24 * 1024, 1, 1, None).expect("params");
        let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt =
            argon2::password_hash::SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let hash = argon2::password_hash::PasswordHasher::hash_password(&argon, b"pw", &salt)
            .expect("hash")
            .to_string();
        let pool = PasswordPool::new(1, 0);
        assert!(
            pool.verify(secret("pw"), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(!pool.verify(secret("px"), Some(hash)).await.expect("verify"));
    }

    #[tokio::test]
    async fn beyond_the_workers_and_the_queue_a_check_is_turned_away() {
        let pool = PasswordPool::new(1, 1);
        let first = pool.admit().expect("a worker");
        let second = pool.admit().expect("the queue");
        assert!(matches!(pool.admit(), Err(PasswordError::Busy)));
        // A place comes free when a check ends.
        drop(first);
        let third = pool.admit().expect("a place again");
        drop((second, third));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_areas_are_reused_not_multiplied() {
        let pool = Arc::new(PasswordPool::new(2, 8));
        let hash = hash_password(secret("pw")).await.expect("hash");
        let mut checks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (pool, hash) = (pool.clone(), hash.clone());
            checks.spawn(async move { pool.verify(secret("pw"), Some(hash)).await });
        }
        while let Some(ok) = checks.join_next().await {
            assert!(ok.expect("task").expect("verify"));
        }
        let areas = lock(&pool.areas).len();
        assert!((1..=2).contains(&areas), "{areas} areas");
    }
}
