use entity::{browser_session, user};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, ModelTrait};

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
