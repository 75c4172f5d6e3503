use entity::{browser_session, user};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait};

pub async fn insert(
    db: &impl ConnectionTrait,
    session: browser_session::Model,
) -> Result<(), DbErr> {
    browser_session::ActiveModel::from(session)
        .insert(db)
        .await
        .map(|_| ())
}

/// The session with this id hash and its user.
pub async fn find(
    db: &impl ConnectionTrait,
    id_hash: &str,
) -> Result<Option<(browser_session::Model, user::Model)>, DbErr> {
    let Some(session) = browser_session::Entity::find_by_id(id_hash.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let user = user::Entity::find_by_id(session.user_id).one(db).await?;
    Ok(user.map(|u| (session, u)))
}

pub async fn delete(
    db: &impl ConnectionTrait,
    session: browser_session::Model,
) -> Result<(), DbErr> {
    session.delete(db).await.map(|_| ())
}
