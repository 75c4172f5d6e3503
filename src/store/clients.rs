use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::split_list;
use crate::domain::{Client, ClientKind, GrantTypes, IdTokenAlg, RedirectUri, ScopeSet};

/// A validated registration, ready to store.
#[derive(Debug)]
pub struct NewClient {
    pub client_id: String,
    pub name: String,
    pub kind: ClientKind,
    /// Lookup hash of the secret; `None` exactly when the client is public.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grants: GrantTypes,
    pub first_party: bool,
    pub can_introspect: bool,
    pub id_token_alg: IdTokenAlg,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub backchannel_logout_uri: Option<RedirectUri>,
}

fn join(uris: &[RedirectUri]) -> String {
    uris.iter()
        .map(RedirectUri::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewClient,
    now: DateTime<Utc>,
) -> Result<Client, DbErr> {
    client::ActiveModel {
        id: Set(new.client_id),
        name: Set(new.name),
        secret_hash: Set(new.secret_hash),
        redirect_uris: Set(join(&new.redirect_uris)),
        scopes: Set(new.scopes.to_string()),
        grants: Set(new.grants.to_string()),
        is_public: Set(new.kind == ClientKind::Public),
        first_party: Set(new.first_party),
        can_introspect: Set(new.can_introspect),
        created_at: Set(now),
        id_token_alg: Set(new.id_token_alg.as_str().to_owned()),
        post_logout_redirect_uris: Set(join(&new.post_logout_redirect_uris)),
        backchannel_logout_uri: Set(new.backchannel_logout_uri.map(|u| u.as_str().to_owned())),
    }
    .insert(db)
    .await
    .and_then(parse)
}

/// Overwrites a registration's settings (not its id, kind, secret or
/// creation time); `None` when there is no such client.
pub async fn update(db: &impl ConnectionTrait, new: NewClient) -> Result<Option<Client>, DbErr> {
    use client::Column as C;
    let result = client::Entity::update_many()
        .col_expr(C::Name, Expr::value(new.name))
        .col_expr(C::RedirectUris, Expr::value(join(&new.redirect_uris)))
        .col_expr(C::Scopes, Expr::value(new.scopes.to_string()))
        .col_expr(C::Grants, Expr::value(new.grants.to_string()))
        .col_expr(C::FirstParty, Expr::value(new.first_party))
        .col_expr(C::CanIntrospect, Expr::value(new.can_introspect))
        .col_expr(C::IdTokenAlg, Expr::value(new.id_token_alg.as_str()))
        .col_expr(
            C::PostLogoutRedirectUris,
            Expr::value(join(&new.post_logout_redirect_uris)),
        )
        .col_expr(
            C::BackchannelLogoutUri,
            Expr::value(new.backchannel_logout_uri.map(|u| u.as_str().to_owned())),
        )
        .filter(C::Id.eq(&new.client_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, &new.client_id).await
}

/// Replaces a confidential client's secret hash; `false` when there is no
/// confidential client with this id.
pub async fn set_secret_hash(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret_hash: String,
) -> Result<bool, DbErr> {
    use client::Column as C;
    let result = client::Entity::update_many()
        .col_expr(C::SecretHash, Expr::value(secret_hash))
        .filter(C::Id.eq(client_id))
        .filter(C::IsPublic.eq(false))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the client; its codes, consents, refresh tokens and session
/// links go with it (foreign keys cascade).
pub async fn delete(db: &impl ConnectionTrait, client_id: &str) -> Result<bool, DbErr> {
    let result = client::Entity::delete_by_id(client_id.to_owned())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Client>, DbErr> {
    // No registered id holds a control character; PostgreSQL cannot even
    // compare one with a NUL byte.
    if client_id.chars().any(char::is_control) {
        return Ok(None);
    }
    client::Entity::find_by_id(client_id.to_owned())
        .one(db)
        .await?
        .map(parse)
        .transpose()
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Client>, DbErr> {
    client::Entity::find()
        .order_by_asc(client::Column::CreatedAt)
        .order_by_asc(client::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(parse)
        .collect()
}

/// The registered redirect URIs of every public client, as stored (one
/// column of each row): where the browser apps that may call the token
/// endpoint across origins live.
pub async fn public_redirect_uris(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let lists: Vec<String> = client::Entity::find()
        .select_only()
        .column(client::Column::RedirectUris)
        .filter(client::Column::IsPublic.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(lists.iter().flat_map(|list| split_list(list)).collect())
}

/// The one place a stored row becomes a [`Client`]. A row that does not
/// parse (edited by hand, or written by a newer version) is an error here,
/// the same for every endpoint, rather than a guess at each use.
fn parse(row: client::Model) -> Result<Client, DbErr> {
    let corrupt = |field: &str, e: crate::domain::ValidationError| {
        DbErr::Custom(format!(
            "client '{}' has an unreadable {field} in the database: {e}",
            row.id
        ))
    };
    let uris = |list: &str| {
        split_list(list)
            .iter()
            .map(|u| RedirectUri::parse(u))
            .collect::<Result<Vec<_>, _>>()
    };
    let redirect_uris = uris(&row.redirect_uris).map_err(|e| corrupt("redirect_uris", e))?;
    let post_logout_redirect_uris = uris(&row.post_logout_redirect_uris)
        .map_err(|e| corrupt("post_logout_redirect_uris", e))?;
    let backchannel_logout_uri = row
        .backchannel_logout_uri
        .as_deref()
        .map(RedirectUri::parse)
        .transpose()
        .map_err(|e| corrupt("backchannel_logout_uri", e))?;
    let id_token_alg =
        IdTokenAlg::parse(&row.id_token_alg).map_err(|e| corrupt("id_token_alg", e))?;
    let scopes = ScopeSet::parse(&row.scopes).map_err(|e| corrupt("scopes", e))?;
    let grants =
        GrantTypes::parse_list(&[row.grants.as_str()]).map_err(|e| corrupt("grants", e))?;
    let kind = match (row.is_public, &row.secret_hash) {
        (true, None) => ClientKind::Public,
        (false, Some(_)) => ClientKind::Confidential,
        _ => {
            return Err(corrupt(
                "secret_hash",
                crate::domain::ValidationError::new(
                    "a public client has a secret, or a confidential one none",
                ),
            ));
        }
    };
    Ok(Client {
        id: row.id,
        name: row.name,
        kind,
        secret_hash: row.secret_hash,
        redirect_uris,
        scopes,
        grants,
        first_party: row.first_party,
        can_introspect: row.can_introspect,
        created_at: row.created_at,
        id_token_alg,
        post_logout_redirect_uris,
        backchannel_logout_uri,
    })
}
