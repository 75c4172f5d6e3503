use chrono::{DateTime, Utc};
use entity::token_revocation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

/// The denylist entry that revokes an API key (access tokens are revoked
/// by their `jti` or grant id, which cannot look like this).
pub fn api_key_target(key_id: uuid::Uuid) -> String {
    format!("apikey:{key_id}")
}

pub async fn insert(
    db: &impl ConnectionTrait,
    target: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<token_revocation::Model, DbErr> {
    token_revocation::ActiveModel {
        seq: sea_orm::NotSet,
        target: Set(target.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await
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
    token_revocation::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(token_revocation::Column::Seq.gt(seq))
                .add(token_revocation::Column::CreatedAt.gt(recent)),
        )
        .order_by_asc(token_revocation::Column::Seq)
        .all(db)
        .await
}

/// Whether `target` was ever revoked (checked where a stale in-memory view
/// would be unsafe, such as refresh-token exchange).
pub async fn exists(db: &impl ConnectionTrait, target: &str) -> Result<bool, DbErr> {
    Ok(token_revocation::Entity::find()
        .filter(token_revocation::Column::Target.eq(target))
        .one(db)
        .await?
        .is_some())
}
