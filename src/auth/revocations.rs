//! The access-token denylist. Access tokens are checked on every request
//! without a database round trip: revocations live in memory, written
//! through to the database, and each instance polls for the others' (rows
//! past the last sequence number it saw) once a second.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::cache::{read_lock, write_lock};
use crate::store;

#[derive(Default)]
struct Inner {
    /// Revoked `jti`s and grant ids, with when they stop mattering.
    entries: HashMap<String, DateTime<Utc>>,
    last_seq: i64,
}

#[derive(Default)]
pub struct Denylist {
    inner: RwLock<Inner>,
}

impl Denylist {
    pub async fn load(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Self, DbErr> {
        let list = Self::default();
        list.sync(db, now).await?;
        Ok(list)
    }

    /// Revokes `target` (a `jti` or a grant id) until `expires_at`, the
    /// latest expiry of any access token it can match.
    pub async fn revoke(
        &self,
        db: &impl ConnectionTrait,
        target: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        store::revocations::insert(db, target, expires_at, now).await?;
        self.write().entries.insert(target.to_owned(), expires_at);
        Ok(())
    }

    pub fn is_revoked(&self, target: &str) -> bool {
        read_lock(&self.inner).entries.contains_key(target)
    }

    /// Picks up revocations made by other instances and forgets expired ones.
    pub async fn sync(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
        let since = self.read_last_seq();
        let rows =
            store::revocations::since(db, since, now - chrono::TimeDelta::seconds(60)).await?;
        let mut inner = self.write();
        for row in rows {
            inner.last_seq = inner.last_seq.max(row.seq);
            if row.expires_at > now {
                inner.entries.insert(row.target, row.expires_at);
            }
        }
        inner.entries.retain(|_, expires_at| *expires_at > now);
        Ok(())
    }

    fn read_last_seq(&self) -> i64 {
        read_lock(&self.inner).last_seq
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        write_lock(&self.inner)
    }
}
