//! A small bounded map whose entries go stale after a fixed time. Used
//! where a database row is read far more often than it changes (API keys,
//! clients, verified tokens), so the hot path skips the round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// Reads through a poisoned lock: every critical section guarded by these
/// is a single insert, lookup or swap, so a panic elsewhere cannot leave
/// the data half-changed, and refusing service would help nobody.
pub(crate) fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The writing twin of [`read_lock`].
pub(crate) fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The [`Mutex`] twin of [`read_lock`].
pub(crate) fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct TtlCache<V> {
    map: RwLock<HashMap<String, (Instant, Arc<V>)>>,
    ttl: Duration,
    capacity: usize,
}

impl<V> TtlCache<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let map = read_lock(&self.map);
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn insert(&self, key: &str, value: Arc<V>) {
        let mut map = write_lock(&self.map);
        // Wholesale clearing keeps this simple; the cost is one re-read
        // per live entry.
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key.to_owned(), (Instant::now(), value));
    }

    pub fn remove(&self, key: &str) {
        write_lock(&self.map).remove(key);
    }

    pub fn clear(&self) {
        let mut map = write_lock(&self.map);
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // No short TTL and no sleep: a loaded machine can pause a thread for
    // longer than any small window. An hour is "fresh", zero is "stale".
    const FRESH: Duration = Duration::from_secs(3600);

    #[test]
    fn an_entry_is_served_until_it_is_stale() {
        let cache = TtlCache::new(FRESH, 8);
        cache.insert("a", Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        assert_eq!(cache.get("b"), None, "never inserted");
    }

    #[test]
    fn an_entry_older_than_the_ttl_is_not_served() {
        let cache = TtlCache::new(Duration::ZERO, 8);
        cache.insert("a", Arc::new(1));
        assert_eq!(cache.get("a"), None, "stale");
    }

    #[test]
    fn a_full_map_is_cleared_to_stay_bounded() {
        let cache = TtlCache::new(FRESH, 2);
        cache.insert("a", Arc::new(1));
        cache.insert("b", Arc::new(2));
        cache.insert("c", Arc::new(3));
        assert_eq!(cache.get("a"), None, "cleared when full");
        assert_eq!(cache.get("b"), None, "cleared when full");
        assert_eq!(cache.get("c").as_deref(), Some(&3));
    }
}
