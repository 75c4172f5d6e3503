//! Token-signing keys: list and rotate, as `tollgate keys rotate`.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::error::AdminError;
use super::models::SigningKey;
use super::{AdminTags, admin};
use crate::auth::Credentials;
use crate::metrics::SecurityEvent;
use crate::secrets::signing_keys;
use crate::state::AppState;
use crate::store;

pub struct KeysApi;

#[derive(ApiResponse)]
pub enum Rotated {
    /// The new current keys, one of each kind; already in the JWKS.
    #[oai(status = 201)]
    Created(Json<Vec<SigningKey>>),
}

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Admin")]
impl KeysApi {
    /// List signing keys
    ///
    /// Newest first; never key material.
    #[oai(
        path = "/keys",
        method = "get",
        operation_id = "admin_list_signing_keys"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
    ) -> Result<Json<Vec<SigningKey>>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let rows = store::signing_keys::all_newest_first(fx.db).await?;
        Ok(Json(
            rows.into_iter().map(|k| describe(&state, k)).collect(),
        ))
    }

    /// Rotate the signing keys
    ///
    /// A new current key of every kind; the old ones stay published until
    /// the tokens they signed have expired. This server serves the new
    /// keys at once, others within a minute.
    #[oai(
        path = "/keys/rotate",
        method = "post",
        operation_id = "admin_rotate_signing_keys"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
    ) -> Result<Rotated, AdminError> {
        let fx = admin(&state, &auth).await?;
        let kek = state.settings.key_encryption_key.as_ref();
        let keys = signing_keys::rotate(fx.db, kek, fx.now).await?;
        state
            .keys
            .reload(fx.db, fx.now, state.settings.access_token_ttl)
            .await?;
        for key in &keys {
            fx.audit(
                SecurityEvent::KeyRotated,
                "keys.rotate",
                &format!("signing key {} ({})", key.kid, key.algorithm),
            );
        }
        Ok(Rotated::Created(Json(
            keys.into_iter().map(|k| describe(&state, k)).collect(),
        )))
    }
}

fn describe(state: &AppState, key: entity::signing_key::Model) -> SigningKey {
    let published = state.keys.snapshot().get(&key.kid).is_some();
    SigningKey {
        current: key.retired_at.is_none(),
        published,
        kid: key.kid,
        alg: key.algorithm,
        created_at: key.created_at,
        retired_at: key.retired_at,
    }
}
