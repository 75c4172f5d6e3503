use chrono::{DateTime, Utc};
use entity::refresh_token;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

/// One round trip: nothing is read back.
pub async fn insert(db: &impl ConnectionTrait, token: refresh_token::Model) -> Result<(), DbErr> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        token_hash: Set(token.token_hash),
        grant_id: Set(token.grant_id),
        client_id: Set(token.client_id),
        user_id: Set(token.user_id),
        scopes: Set(token.scopes),
        created_at: Set(token.created_at),
        expires_at: Set(token.expires_at),
        used_at: Set(token.used_at),
        revoked_at: Set(token.revoked_at),
        session_hash: Set(token.session_hash),
        auth_time: Set(token.auth_time),
        sid: Set(token.sid),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

pub async fn find(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find_by_id(token_hash.to_owned())
        .one(db)
        .await
}

/// Marks the token used if it is neither used nor revoked; `true` for the
/// one caller that wins.
pub async fn mark_used(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every refresh token of a grant (the rotation family).
pub async fn revoke_grant(
    db: &impl ConnectionTrait,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::GrantId.eq(grant_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The grants with an unrevoked refresh token from this browser session,
/// each with its scopes (one row per grant: a rotation family keeps its
/// scopes).
pub async fn live_grants_of_session(
    db: &impl ConnectionTrait,
    session_hash: &str,
) -> Result<Vec<(Uuid, String)>, DbErr> {
    use refresh_token::Column as C;
    refresh_token::Entity::find()
        .select_only()
        .column(C::GrantId)
        .column(C::Scopes)
        .distinct()
        .filter(C::SessionHash.eq(session_hash))
        .filter(C::RevokedAt.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Revokes every refresh token issued under this browser session, but for
/// those of the grants in `keep`, in one statement; returns how many.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    session_hash: &str,
    keep: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use refresh_token::Column as C;
    let mut update = refresh_token::Entity::update_many()
        .col_expr(C::RevokedAt, Expr::value(now))
        .filter(C::SessionHash.eq(session_hash))
        .filter(C::RevokedAt.is_null());
    if !keep.is_empty() {
        update = update.filter(C::GrantId.is_not_in(keep.iter().copied()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Deletes up to `limit` refresh tokens past their expiry, or used or
/// revoked before `spent_before`; returns how many.
pub async fn delete_expired_batch(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    spent_before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    use refresh_token::Column as C;
    let done = Condition::any()
        .add(C::ExpiresAt.lt(now))
        .add(C::UsedAt.lt(spent_before))
        .add(C::RevokedAt.lt(spent_before));
    super::delete_batch::<refresh_token::Entity>(db, C::TokenHash, done, limit).await
}

/// Revokes every live refresh token of the user (or of the user with one
/// client) in one statement; returns how many.
pub async fn revoke_of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use refresh_token::Column as C;
    let mut update = refresh_token::Entity::update_many()
        .col_expr(C::RevokedAt, Expr::value(now))
        .filter(C::UserId.eq(user_id))
        .filter(C::RevokedAt.is_null());
    if let Some(client_id) = client_id {
        update = update.filter(C::ClientId.eq(client_id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// When a refresh token was last issued to `client_id` for the user: the
/// app's last use of its grant, as far as the server can tell.
pub async fn last_issued(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    use refresh_token::Column as C;
    refresh_token::Entity::find()
        .select_only()
        .column_as(C::CreatedAt.max(), "last")
        .filter(C::UserId.eq(user_id))
        .filter(C::ClientId.eq(client_id))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await
        .map(Option::flatten)
}

/// The user's grants with a live refresh token not issued under this
/// browser session (issued under another, or under none).
pub async fn live_grants_of_user_outside(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_hash: &str,
) -> Result<Vec<Uuid>, DbErr> {
    use refresh_token::Column as C;
    refresh_token::Entity::find()
        .select_only()
        .column(C::GrantId)
        .distinct()
        .filter(C::UserId.eq(user_id))
        .filter(C::RevokedAt.is_null())
        .filter(outside(session_hash))
        .into_tuple()
        .all(db)
        .await
}

/// Revokes the user's live refresh tokens not issued under this browser
/// session; returns how many.
pub async fn revoke_of_user_outside(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use refresh_token::Column as C;
    let result = refresh_token::Entity::update_many()
        .col_expr(C::RevokedAt, Expr::value(now))
        .filter(C::UserId.eq(user_id))
        .filter(C::RevokedAt.is_null())
        .filter(outside(session_hash))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

fn outside(session_hash: &str) -> Condition {
    use refresh_token::Column as C;
    Condition::any()
        .add(C::SessionHash.is_null())
        .add(C::SessionHash.ne(session_hash))
}
