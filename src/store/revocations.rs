use chrono::{DateTime, Utc};
use entity::token_revocation;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select, Set, TryInsertResult,
};

/// The denylist entry that revokes an API key (access tokens are revoked
/// by their `jti` or grant id, which cannot look like this).
pub fn api_key_target(key_id: uuid::Uuid) -> String {
    format!("apikey:{key_id}")
}

/// Records that `target` is revoked; `false` when it already was. The
/// target is unique: revoking a grant again (every replay of a spent
/// code) adds no row. The first row stands, as nothing issued after a
/// revocation can carry its target.
pub async fn insert(
    db: &impl ConnectionTrait,
    target: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = token_revocation::Entity::insert(token_revocation::ActiveModel {
        seq: sea_orm::NotSet,
        target: Set(target.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    })
    .on_conflict_do_nothing_on([token_revocation::Column::Target])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Records a revocation whose moment matters (a cutoff, see
/// `auth::revocations::Cutoff`): a repeat moves the row's `created_at`
/// and `expires_at` forward. Other instances see the moved row through
/// [`since`]'s window of recent rows.
pub async fn upsert(
    db: &impl ConnectionTrait,
    target: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    token_revocation::Entity::insert(token_revocation::ActiveModel {
        seq: sea_orm::NotSet,
        target: Set(target.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(token_revocation::Column::Target)
            .update_columns([
                token_revocation::Column::CreatedAt,
                token_revocation::Column::ExpiresAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Rows past `seq`, plus every row created since `recent` (oldest first).
/// Sequence numbers are handed out at insert but become visible at commit,
/// which on PostgreSQL need not be in order; re-reading the last minute
/// catches a row that committed after a higher one was already seen.
pub async fn since(
    db: &impl ConnectionTrait,
    seq: i64,
    recent: DateTime<Utc>,
) -> Result<Vec<token_revocation::Model>, DbErr> {
    let mut rows = since_query(seq, recent).all(db).await?;
    rows.sort_by_key(|r| r.seq);
    Ok(rows)
}

/// The query behind [`since`], public so a test can show its plan. No
/// `ORDER BY`: with one, SQLite walks the whole table in `seq` order
/// instead of searching the primary key and the `created_at` index.
pub fn since_query(seq: i64, recent: DateTime<Utc>) -> Select<token_revocation::Entity> {
    token_revocation::Entity::find().filter(
        sea_orm::Condition::any()
            .add(token_revocation::Column::Seq.gt(seq))
            .add(token_revocation::Column::CreatedAt.gt(recent)),
    )
}

/// Whether `target` was ever revoked (checked where a stale in-memory view
/// would be unsafe, such as refresh-token exchange). Rows go only once
/// every token they could match has expired (see `delete_expired_batch`).
pub async fn exists(db: &impl ConnectionTrait, target: &str) -> Result<bool, DbErr> {
    Ok(token_revocation::Entity::find()
        .filter(token_revocation::Column::Target.eq(target))
        .one(db)
        .await?
        .is_some())
}

/// Deletes up to `limit` rows that expired before `before`; returns how many.
pub async fn delete_expired_batch(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    use token_revocation::Column as C;
    let expired = sea_orm::Condition::all().add(C::ExpiresAt.lt(before));
    super::delete_batch::<token_revocation::Entity>(db, C::Seq, expired, limit).await
}
