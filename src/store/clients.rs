use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, Set};

use crate::domain::{ClientKind, GrantTypes, RedirectUri, ScopeSet};

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
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewClient,
    now: DateTime<Utc>,
) -> Result<client::Model, DbErr> {
    let redirect_uris = new
        .redirect_uris
        .iter()
        .map(RedirectUri::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    client::ActiveModel {
        id: Set(new.client_id),
        name: Set(new.name),
        secret_hash: Set(new.secret_hash),
        redirect_uris: Set(redirect_uris),
        scopes: Set(new.scopes.to_string()),
        grants: Set(new.grants.to_string()),
        is_public: Set(new.kind == ClientKind::Public),
        first_party: Set(new.first_party),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<client::Model>, DbErr> {
    client::Entity::find_by_id(client_id.to_owned())
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<client::Model>, DbErr> {
    client::Entity::find()
        .order_by_asc(client::Column::CreatedAt)
        .order_by_asc(client::Column::Id)
        .all(db)
        .await
}

/// Splits a stored space-delimited list.
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
