//! API keys, and what users allowed and where they are signed in.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::error::AdminError;
use super::models::{AdminApiKey, ApiKeyInput, Consent, CreatedApiKey, Session};
use super::users::user;
use super::{AdminTags, Done, admin};
use crate::auth::Credentials;
use crate::config::parse_duration;
use crate::manage::{self, ManageError, access, users};
use crate::metrics::SecurityEvent;
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::RevokeOutcome;
use crate::store::split_list;

pub struct AccessApi;

#[derive(ApiResponse)]
pub enum ApiKeyCreated {
    /// The key exists; it is shown this once and only its hash is stored.
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
}

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Admin")]
impl AccessApi {
    /// List API keys
    ///
    /// Oldest first; never the keys themselves.
    #[oai(
        path = "/api-keys",
        method = "get",
        operation_id = "admin_list_api_keys"
    )]
    async fn list_api_keys(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        /// Only this user's keys (a username or user id).
        owner: Query<Option<String>>,
    ) -> Result<Json<Vec<AdminApiKey>>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let owner_id = match owner.0.as_deref() {
            None | Some("") => None,
            Some(who) => Some(users::find(&fx, who).await?.id),
        };
        let keys = store::api_keys::list(fx.db, owner_id).await?;
        Ok(Json(
            keys.into_iter()
                // Keys go with their owner (foreign key), so one is always there.
                .filter_map(|(k, owner)| {
                    owner.map(|owner| AdminApiKey {
                        id: k.id,
                        name: k.name,
                        owner: owner.username,
                        owner_id: owner.id,
                        scopes: split_list(&k.scopes),
                        created_at: k.created_at,
                        expires_at: k.expires_at,
                        revoked_at: k.revoked_at,
                        last_used_at: k.last_used_at,
                    })
                })
                .collect(),
        ))
    }

    /// Create an API key
    ///
    /// As `tollgate api-key create`: the key is in the answer once.
    #[oai(
        path = "/api-keys",
        method = "post",
        operation_id = "admin_create_api_key"
    )]
    async fn create_api_key(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        input: Json<ApiKeyInput>,
    ) -> Result<ApiKeyCreated, AdminError> {
        let fx = admin(&state, &auth).await?;
        let input = input.0;
        let expires_in = input
            .expires_in
            .as_deref()
            .map(|d| {
                parse_duration(d).map_err(|e| AdminError::unprocessable(format!("expires_in: {e}")))
            })
            .transpose()?;
        // The owner may be named by id, as everywhere else in this API.
        let owner = match users::find(&fx, &input.owner).await {
            Ok(owner) => owner,
            Err(ManageError::UnknownUser(who)) => return Err(ManageError::UnknownOwner(who).into()),
            Err(e) => return Err(e.into()),
        };
        let created = manage::create_api_key(
            fx.db,
            &input.name,
            &owner.username,
            &input.scopes,
            expires_in,
            fx.now,
        )
        .await?;
        fx.audit(
            SecurityEvent::AdminAction,
            "api_key.create",
            &format!("api key {} for user {}", created.key.id, owner.id),
        );
        Ok(ApiKeyCreated::Created(Json(CreatedApiKey {
            id: created.key.id,
            key: created.secret.secret().to_owned(),
            scopes: created.scopes.to_vec(),
            expires_at: created.key.expires_at,
        })))
    }

    /// Revoke an API key
    ///
    /// Refused at once on this server, within a second on the others.
    /// Revoking a revoked key changes nothing.
    #[oai(
        path = "/api-keys/:id",
        method = "delete",
        operation_id = "admin_revoke_api_key"
    )]
    async fn revoke_api_key(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        match manage::revoke_api_key(&fx, id.0).await? {
            RevokeOutcome::Revoked | RevokeOutcome::AlreadyRevoked => Ok(Done::Done),
            RevokeOutcome::NotFound => Err(ManageError::UnknownApiKey(id.0.to_string()).into()),
        }
    }

    /// List a user's consents
    ///
    /// The apps they allowed, newest consent first.
    #[oai(
        path = "/users/:id/consents",
        method = "get",
        operation_id = "admin_list_consents"
    )]
    async fn consents(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<Consent>>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        let apps = access::connected_apps(&fx, found.id).await?;
        Ok(Json(
            apps.into_iter()
                .map(|a| Consent {
                    client_id: a.client_id,
                    client_name: a.client_name,
                    scopes: a.scopes.to_vec(),
                    granted_at: a.granted_at,
                    last_used_at: a.last_used_at,
                })
                .collect(),
        ))
    }

    /// Revoke a consent
    ///
    /// Drops it and revokes the tokens the user's grants to that client
    /// hold.
    #[oai(
        path = "/users/:id/consents/:client_id",
        method = "delete",
        operation_id = "admin_revoke_consent"
    )]
    async fn revoke_consent(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
        client_id: Path<String>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        access::revoke_app(&fx, found.id, &client_id.0).await?;
        Ok(Done::Done)
    }

    /// List a user's browser sessions
    ///
    /// The live ones, most recently seen first.
    #[oai(
        path = "/users/:id/sessions",
        method = "get",
        operation_id = "admin_list_sessions"
    )]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<Session>>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        let sessions = access::sessions(&fx, found.id).await?;
        Ok(Json(sessions.into_iter().map(Session::from).collect()))
    }

    /// End a browser session
    ///
    /// Its clients hear so (Back-Channel Logout); the refresh tokens issued
    /// under it are revoked.
    #[oai(
        path = "/users/:id/sessions/:sid",
        method = "delete",
        operation_id = "admin_end_session"
    )]
    async fn end_session(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
        sid: Path<String>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        access::end_session(&fx, found.id, &sid.0).await?;
        Ok(Done::Done)
    }

    /// End all of a user's browser sessions
    #[oai(
        path = "/users/:id/sessions",
        method = "delete",
        operation_id = "admin_end_all_sessions"
    )]
    async fn end_all_sessions(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        access::end_all_sessions(&fx, found.id, None).await?;
        Ok(Done::Done)
    }
}
