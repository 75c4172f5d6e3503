use chrono::{DateTime, Utc};
use entity::token_revocation;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

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

/// Rows added after `seq`, oldest first.
pub async fn since(
    db: &impl ConnectionTrait,
    seq: i64,
) -> Result<Vec<token_revocation::Model>, DbErr> {
    token_revocation::Entity::find()
        .filter(token_revocation::Column::Seq.gt(seq))
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
