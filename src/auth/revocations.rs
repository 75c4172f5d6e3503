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
    cutoffs: Cutoffs,
    last_seq: i64,
}

/// A cutoff revokes every token issued to a subject up to a moment: a
/// disabled user's, a deleted client's, or one user's grants to one app
/// (a revoked consent). Moments are compared in milliseconds: an access
/// token's `jti` carries its issue time to the millisecond (a UUIDv7), so
/// that re-enabling a user or re-connecting an app in the same second as
/// the cutoff does not refuse the new tokens. A token without that (from
/// an older version) counts as issued at the end of its `iat` second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff<'a> {
    User(&'a str),
    Client(&'a str),
    Consent { user: &'a str, client: &'a str },
}

impl Cutoff<'_> {
    /// The denylist row's target; the row's `created_at` is the moment.
    pub fn target(self) -> String {
        match self {
            Self::User(user) => format!("user:{user}"),
            Self::Client(client) => format!("client:{client}"),
            // A user id is a UUID, so the first space ends it.
            Self::Consent { user, client } => format!("consent:{user} {client}"),
        }
    }

    fn parse(target: &str) -> Option<Cutoff<'_>> {
        if let Some(user) = target.strip_prefix("user:") {
            Some(Cutoff::User(user))
        } else if let Some(client) = target.strip_prefix("client:") {
            Some(Cutoff::Client(client))
        } else {
            let (user, client) = target.strip_prefix("consent:")?.split_once(' ')?;
            Some(Cutoff::Consent { user, client })
        }
    }
}

/// Cutoffs by subject, looked up without allocating: (cutoff in Unix
/// milliseconds, when the entry stops mattering).
#[derive(Default)]
struct Cutoffs {
    users: HashMap<String, (i64, DateTime<Utc>)>,
    clients: HashMap<String, (i64, DateTime<Utc>)>,
    consents: HashMap<String, HashMap<String, (i64, DateTime<Utc>)>>,
}

impl Cutoffs {
    fn insert(&mut self, cutoff: Cutoff<'_>, at: DateTime<Utc>, expires_at: DateTime<Utc>) {
        let value = (at.timestamp_millis(), expires_at);
        let slot = match cutoff {
            Cutoff::User(user) => self.users.entry(user.to_owned()).or_default(),
            Cutoff::Client(client) => self.clients.entry(client.to_owned()).or_default(),
            Cutoff::Consent { user, client } => self
                .consents
                .entry(user.to_owned())
                .or_default()
                .entry(client.to_owned())
                .or_default(),
        };
        // A later cutoff supersedes an earlier one, never the reverse.
        if slot.0 <= value.0 {
            *slot = value;
        }
    }

    fn get(&self, cutoff: Cutoff<'_>) -> Option<i64> {
        let found = match cutoff {
            Cutoff::User(user) => self.users.get(user),
            Cutoff::Client(client) => self.clients.get(client),
            Cutoff::Consent { user, client } => self.consents.get(user)?.get(client),
        };
        found.map(|(at, _)| *at)
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.clients.is_empty() && self.consents.is_empty()
    }

    fn retain_live(&mut self, now: DateTime<Utc>) {
        self.users.retain(|_, (_, exp)| *exp > now);
        self.clients.retain(|_, (_, exp)| *exp > now);
        for per_client in self.consents.values_mut() {
            per_client.retain(|_, (_, exp)| *exp > now);
        }
        self.consents.retain(|_, per_client| !per_client.is_empty());
    }
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

    /// Revokes everything issued to `cutoff`'s subject until now. The
    /// entry must last `expires_at`: until the last access token it can
    /// match has expired (cutoffs never need to outlive access tokens:
    /// the same operation revokes refresh tokens and API keys in the
    /// database).
    pub async fn cut_off(
        &self,
        db: &impl ConnectionTrait,
        cutoff: Cutoff<'_>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        store::revocations::upsert(db, &cutoff.target(), expires_at, now).await?;
        self.write().cutoffs.insert(cutoff, now, expires_at);
        Ok(())
    }

    /// Whether a token issued to `user` (if it acts for one) through
    /// `client` at `issued_at_ms` (Unix milliseconds, worked out only when
    /// there are cutoffs) was cut off.
    pub fn is_cut_off(
        &self,
        user: Option<&str>,
        client: &str,
        issued_at_ms: impl FnOnce() -> i64,
    ) -> bool {
        let inner = read_lock(&self.inner);
        let cutoffs = &inner.cutoffs;
        if cutoffs.is_empty() {
            return false;
        }
        let issued_at = issued_at_ms();
        let cut = |c: Cutoff<'_>| cutoffs.get(c).is_some_and(|at| issued_at <= at);
        cut(Cutoff::Client(client))
            || user.is_some_and(|user| {
                cut(Cutoff::User(user)) || cut(Cutoff::Consent { user, client })
            })
    }

    /// When the latest live cutoff of this subject was made (Unix
    /// milliseconds), so that a cache can tell whether it read before it.
    pub fn cutoff_of(&self, cutoff: Cutoff<'_>) -> Option<i64> {
        read_lock(&self.inner).cutoffs.get(cutoff)
    }

    /// Picks up revocations made by other instances and forgets expired ones.
    pub async fn sync(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
        let since = self.read_last_seq();
        let rows =
            store::revocations::since(db, since, now - chrono::TimeDelta::seconds(60)).await?;
        let mut inner = self.write();
        for row in rows {
            inner.last_seq = inner.last_seq.max(row.seq);
            if row.expires_at <= now {
                continue;
            }
            match Cutoff::parse(&row.target) {
                Some(cutoff) => inner.cutoffs.insert(cutoff, row.created_at, row.expires_at),
                None => {
                    inner.entries.insert(row.target, row.expires_at);
                }
            }
        }
        inner.entries.retain(|_, expires_at| *expires_at > now);
        inner.cutoffs.retain_live(now);
        Ok(())
    }

    fn read_last_seq(&self) -> i64 {
        read_lock(&self.inner).last_seq
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        write_lock(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn a_cutoff_target_reads_back_as_the_same_cutoff() {
        let cases = [
            Cutoff::User("5f0c-user"),
            Cutoff::Client("client:with:colons"),
            Cutoff::Consent {
                user: "5f0c-user",
                client: "an app id",
            },
        ];
        for cutoff in cases {
            assert_eq!(Cutoff::parse(&cutoff.target()), Some(cutoff));
        }
        // Access-token and API-key targets are no cutoffs.
        assert_eq!(Cutoff::parse("b7e2c1d0-jti"), None);
        assert_eq!(Cutoff::parse("apikey:123"), None);
    }

    #[test]
    fn tokens_issued_up_to_the_cutoffs_millisecond_are_refused_and_later_ones_pass() {
        let list = Denylist::default();
        let (cutoff, until) = (at(1_000), at(5_000));
        let ms = 1_000_000;
        let mut inner = list.write();
        inner.cutoffs.insert(Cutoff::User("u1"), cutoff, until);
        inner.cutoffs.insert(Cutoff::Client("c1"), cutoff, until);
        inner.cutoffs.insert(
            Cutoff::Consent {
                user: "u2",
                client: "c2",
            },
            cutoff,
            until,
        );
        drop(inner);

        assert!(list.is_cut_off(Some("u1"), "any", || ms - 1));
        assert!(
            list.is_cut_off(Some("u1"), "any", || ms),
            "same millisecond"
        );
        assert!(!list.is_cut_off(Some("u1"), "any", || ms + 1));
        assert!(list.is_cut_off(None, "c1", || ms), "client credentials");
        assert!(list.is_cut_off(Some("u9"), "c1", || ms));
        assert!(list.is_cut_off(Some("u2"), "c2", || ms));
        assert!(
            !list.is_cut_off(Some("u2"), "c3", || ms),
            "another app of u2"
        );
        assert!(
            !list.is_cut_off(Some("u3"), "c2", || ms),
            "another user of c2"
        );
        assert!(!list.is_cut_off(None, "c2", || ms), "no user, no consent");
    }

    #[test]
    fn a_later_cutoff_supersedes_an_earlier_one_and_expired_ones_are_forgotten() {
        let mut cutoffs = Cutoffs::default();
        cutoffs.insert(Cutoff::User("u"), at(2_000), at(9_000));
        cutoffs.insert(Cutoff::User("u"), at(1_000), at(9_000));
        assert_eq!(cutoffs.get(Cutoff::User("u")), Some(2_000_000));
        cutoffs.insert(
            Cutoff::Consent {
                user: "u",
                client: "c",
            },
            at(1_000),
            at(3_000),
        );
        cutoffs.retain_live(at(3_000) + TimeDelta::seconds(1));
        assert_eq!(
            cutoffs.get(Cutoff::Consent {
                user: "u",
                client: "c"
            }),
            None
        );
        assert!(cutoffs.consents.is_empty(), "no empty per-user maps left");
        assert_eq!(cutoffs.get(Cutoff::User("u")), Some(2_000_000));
    }
}
