use chrono::{DateTime, Utc};
use entity::{browser_session, session_client, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

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

/// A user's live sessions, most recently seen first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<browser_session::Model>, DbErr> {
    use browser_session::Column as C;
    browser_session::Entity::find()
        .filter(C::UserId.eq(user_id))
        .filter(C::ExpiresAt.gt(now))
        .order_by_desc(C::LastSeenAt)
        .order_by_asc(C::Sid)
        .all(db)
        .await
}

/// Records that the session was used now.
pub async fn touch(
    db: &impl ConnectionTrait,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use browser_session::Column as C;
    browser_session::Entity::update_many()
        .col_expr(C::LastSeenAt, Expr::value(now))
        .filter(C::IdHash.eq(id_hash))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    session: browser_session::Model,
) -> Result<(), DbErr> {
    session.delete(db).await.map(|_| ())
}

/// Records that the session's user signed in again at `auth_time`.
pub async fn set_auth_time(
    db: &impl ConnectionTrait,
    id_hash: &str,
    auth_time: DateTime<Utc>,
) -> Result<(), DbErr> {
    use browser_session::Column as C;
    browser_session::Entity::update_many()
        .col_expr(C::AuthTime, Expr::value(auth_time))
        .filter(C::IdHash.eq(id_hash))
        .exec(db)
        .await
        .map(|_| ())
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

/// Records that the session signed in to `client_id` (once; a repeat is
/// a no-op), so that ending the session can tell the client.
pub async fn add_client(
    db: &impl ConnectionTrait,
    session_hash: &str,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session_client::Entity::insert(session_client::ActiveModel {
        session_hash: Set(session_hash.to_owned()),
        client_id: Set(client_id.to_owned()),
        created_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        session_client::Column::SessionHash,
        session_client::Column::ClientId,
    ])
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The clients the session signed in to, oldest first.
pub async fn clients_of(
    db: &impl ConnectionTrait,
    session_hash: &str,
) -> Result<Vec<String>, DbErr> {
    use session_client::Column as C;
    session_client::Entity::find()
        .select_only()
        .column(C::ClientId)
        .filter(C::SessionHash.eq(session_hash))
        .order_by_asc(C::CreatedAt)
        .order_by_asc(C::ClientId)
        .into_tuple()
        .all(db)
        .await
}
