use chrono::{DateTime, Utc};
use entity::{authorization_code, refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

/// One round trip: nothing is read back.
pub async fn insert(
    db: &impl ConnectionTrait,
    code: authorization_code::Model,
) -> Result<(), DbErr> {
    authorization_code::Entity::insert(authorization_code::ActiveModel {
        code_hash: Set(code.code_hash),
        grant_id: Set(code.grant_id),
        client_id: Set(code.client_id),
        user_id: Set(code.user_id),
        redirect_uri: Set(code.redirect_uri),
        code_challenge: Set(code.code_challenge),
        scopes: Set(code.scopes),
        created_at: Set(code.created_at),
        expires_at: Set(code.expires_at),
        redeemed_at: Set(code.redeemed_at),
        session_hash: Set(code.session_hash),
        nonce: Set(code.nonce),
        auth_time: Set(code.auth_time),
        sid: Set(code.sid),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The code with this hash and the user it was issued for, in one query.
pub async fn find(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<(authorization_code::Model, Option<user::Model>)>, DbErr> {
    authorization_code::Entity::find_by_id(code_hash.to_owned())
        .find_also_related(user::Entity)
        .one(db)
        .await
}

/// Marks the code redeemed if nobody has yet and it has not expired. One
/// conditional UPDATE, so of any number of concurrent redemptions exactly
/// one sees `true`, and none once [`expire_session`] has run.
pub async fn redeem(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::RedeemedAt, Expr::value(now))
        .filter(authorization_code::Column::CodeHash.eq(code_hash))
        .filter(authorization_code::Column::RedeemedAt.is_null())
        .filter(authorization_code::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Writes the grant's refresh token, then redeems the code as [`redeem`]
/// does; `true` for the one caller that wins. A loser's refresh token is
/// written all the same, unseen, and revoked with its grant. The pool's
/// way, for PostgreSQL and in-memory SQLite; a SQLite file goes through
/// `db::writer`, which does both in one transaction.
pub async fn redeem_storing(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: DateTime<Utc>,
    refresh: Option<refresh_token::Model>,
) -> Result<bool, DbErr> {
    if let Some(refresh) = refresh {
        super::refresh_tokens::insert(db, refresh).await?;
    }
    redeem(db, code_hash, now).await
}

/// Expires the session's unredeemed codes, so that none of them can yet
/// become tokens once the session has ended; returns how many.
pub async fn expire_session(
    db: &impl ConnectionTrait,
    session_hash: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use authorization_code::Column as C;
    let result = authorization_code::Entity::update_many()
        .col_expr(C::ExpiresAt, Expr::value(now))
        .filter(C::SessionHash.eq(session_hash))
        .filter(C::RedeemedAt.is_null())
        .filter(C::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The grants of the session's redeemed codes, each with its scopes: their
/// access tokens may still be live even when the client holds no refresh
/// token.
pub async fn redeemed_grants_of_session(
    db: &impl ConnectionTrait,
    session_hash: &str,
) -> Result<Vec<(Uuid, String)>, DbErr> {
    use authorization_code::Column as C;
    authorization_code::Entity::find()
        .select_only()
        .column(C::GrantId)
        .column(C::Scopes)
        .distinct()
        .filter(C::SessionHash.eq(session_hash))
        .filter(C::RedeemedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await
}

/// Deletes up to `limit` codes no longer worth keeping: unredeemed ones
/// past their expiry, and redeemed ones expired before `redeemed_before`
/// (kept a while longer so that a replay still revokes its grant, RFC 6749
/// §4.1.2). Returns how many it deleted; housekeeping calls it in a loop.
pub async fn delete_expired_batch(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    redeemed_before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    use authorization_code::Column as C;
    let expired = Condition::any()
        .add(
            Condition::all()
                .add(C::RedeemedAt.is_null())
                .add(C::ExpiresAt.lt(now)),
        )
        .add(C::ExpiresAt.lt(redeemed_before));
    super::delete_batch::<authorization_code::Entity>(db, C::CodeHash, expired, limit).await
}

/// Expires the user's unredeemed codes (or those for one client), so that
/// none can become tokens after their grants were revoked; returns how many.
pub async fn expire_of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use authorization_code::Column as C;
    let mut update = authorization_code::Entity::update_many()
        .col_expr(C::ExpiresAt, Expr::value(now))
        .filter(C::UserId.eq(user_id))
        .filter(C::RedeemedAt.is_null())
        .filter(C::ExpiresAt.gt(now));
    if let Some(client_id) = client_id {
        update = update.filter(C::ClientId.eq(client_id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// When a code was last issued to `client_id` for the user.
pub async fn last_issued(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    use authorization_code::Column as C;
    authorization_code::Entity::find()
        .select_only()
        .column_as(C::CreatedAt.max(), "last")
        .filter(C::UserId.eq(user_id))
        .filter(C::ClientId.eq(client_id))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await
        .map(Option::flatten)
}
