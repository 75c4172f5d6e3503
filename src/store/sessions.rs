use chrono::{DateTime, Utc};
use entity::{browser_session, user};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait};

pub async fn insert(
    db: &impl ConnectionTrait,
    session: browser_session::Model,
) -> Result<(), DbErr> {
    browser_session::Entity::insert(browser_session::ActiveModel::from(session))
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The session with this id hash and its user, in one query.
pub async fn find(
    db: &impl ConnectionTrait,
    id_hash: &str,
) -> Result<Option<(browser_session::Model, user::Model)>, DbErr> {
    let found = browser_session::Entity::find_by_id(id_hash.to_owned())
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(session, user)| user.map(|u| (session, u))))
}

pub async fn delete(
    db: &impl ConnectionTrait,
    session: browser_session::Model,
) -> Result<(), DbErr> {
    session.delete(db).await.map(|_| ())
}

/// Deletes up to `limit` sessions past their expiry; returns how many.
pub async fn delete_expired_batch(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    use browser_session::Column as C;
    let expired = sea_orm::Condition::all().add(C::ExpiresAt.lt(now));
    super::delete_batch::<browser_session::Entity>(db, C::IdHash, expired, limit).await
}
