//! Post reads served from memory for up to [`TTL`].
//!
//! Every read would otherwise cost a database round trip, which through
//! sqlx's SQLite worker thread is several times the cost of the rest of
//! the request. Writes on this instance clear the cache at once, so a
//! client always reads its own writes; another instance's writes show up
//! within [`TTL`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use entity::post;

use crate::cache::TtlCache;

pub const TTL: Duration = Duration::from_secs(1);

pub struct ReadCache {
    pages: TtlCache<Vec<post::Model>>,
    posts: TtlCache<post::Model>,
    /// Bumped by every write. A read that started before a write must not
    /// store what it read after the write cleared the cache.
    generation: AtomicU64,
}

impl Default for ReadCache {
    fn default() -> Self {
        Self {
            pages: TtlCache::new(TTL, 4096),
            posts: TtlCache::new(TTL, 4096),
            generation: AtomicU64::new(0),
        }
    }
}

impl ReadCache {
    /// Take this before reading the database, and hand it to `put_*`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn page(&self, key: &str) -> Option<Arc<Vec<post::Model>>> {
        self.pages.get(key)
    }

    pub fn put_page(&self, key: &str, rows: Arc<Vec<post::Model>>, generation: u64) {
        if self.generation() == generation {
            self.pages.insert(key, rows);
        }
    }

    pub fn post(&self, id: &str) -> Option<Arc<post::Model>> {
        self.posts.get(id)
    }

    pub fn put_post(&self, id: &str, post: Arc<post::Model>, generation: u64) {
        if self.generation() == generation {
            self.posts.insert(id, post);
        }
    }

    /// After any write: nothing cached may be older than it.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.pages.clear();
        self.posts.clear();
    }
}
