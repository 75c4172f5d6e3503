use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};

use super::error::AdminError;
use super::models::{AdminClient, ClientInput, ClientPatch, ClientSecret, CreatedClient};
use super::{AdminTags, PREFIX, admin};
use crate::auth::Credentials;
use crate::manage::{self, ClientRequest, ClientUpdate, clients};
use crate::metrics::SecurityEvent;
use crate::state::AppState;
use crate::store;

pub struct ClientsApi;

#[derive(ApiResponse)]
pub enum ClientCreated {
    /// The client is registered; its secret is shown this once.
    #[oai(status = 201)]
    Created(
        Json<CreatedClient>,
        /// Where the new client lives.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum ClientDeleted {
    /// The client is gone and every token it held is refused.
    #[oai(status = 204)]
    Deleted,
}

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Admin")]
impl ClientsApi {
    /// List clients
    #[oai(path = "/clients", method = "get", operation_id = "admin_list_clients")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
    ) -> Result<Json<Vec<AdminClient>>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let clients = store::clients::list(fx.db).await?;
        Ok(Json(clients.into_iter().map(AdminClient::from).collect()))
    }

    /// Register a client
    ///
    /// As `tollgate client create`: a confidential client's secret is in
    /// the answer once and stored hashed.
    #[oai(
        path = "/clients",
        method = "post",
        operation_id = "admin_create_client"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        input: Json<ClientInput>,
    ) -> Result<ClientCreated, AdminError> {
        let fx = admin(&state, &auth).await?;
        let input = input.0;
        let request = ClientRequest {
            name: input.name,
            redirect_uris: input.redirect_uris,
            public: input.public,
            scopes: input.scopes,
            grants: input.grants,
            first_party: input.first_party,
            client_id: None,
            introspect: input.introspect,
            id_token_alg: input.id_token_alg,
            post_logout_redirect_uris: input.post_logout_redirect_uris,
            backchannel_logout_uri: input.backchannel_logout_uri,
        };
        let created = manage::create_client(fx.db, request, fx.now).await?;
        let client = created.client;
        fx.audit(
            SecurityEvent::AdminAction,
            "client.create",
            &format!("client {} ({})", client.id, client.name),
        );
        let location = format!("{PREFIX}/clients/{}", client.id);
        Ok(ClientCreated::Created(
            Json(CreatedClient {
                client_secret: created.secret.map(|s| s.secret().to_owned()),
                client: client.into(),
            }),
            location,
        ))
    }

    /// Get a client
    #[oai(
        path = "/clients/:client_id",
        method = "get",
        operation_id = "admin_get_client"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        client_id: Path<String>,
    ) -> Result<Json<AdminClient>, AdminError> {
        let fx = admin(&state, &auth).await?;
        Ok(Json(clients::find(&fx, &client_id.0).await?.into()))
    }

    /// Change a client
    ///
    /// Only the settings given change; the result is checked as a new
    /// registration would be.
    #[oai(
        path = "/clients/:client_id",
        method = "patch",
        operation_id = "admin_update_client"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        client_id: Path<String>,
        patch: Json<ClientPatch>,
    ) -> Result<Json<AdminClient>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let patch = patch.0;
        let update = ClientUpdate {
            name: patch.name,
            scopes: patch.scopes,
            redirect_uris: patch.redirect_uris,
            grants: patch.grants,
            first_party: patch.first_party,
            introspect: patch.introspect,
            id_token_alg: patch.id_token_alg,
            post_logout_redirect_uris: patch.post_logout_redirect_uris,
            backchannel_logout_uri: match patch.backchannel_logout_uri {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(uri) => Some(Some(uri)),
            },
        };
        Ok(Json(
            clients::update(&fx, &client_id.0, update).await?.into(),
        ))
    }

    /// Delete a client
    ///
    /// Its access tokens are refused at once, its refresh tokens, codes and
    /// consents go with it.
    #[oai(
        path = "/clients/:client_id",
        method = "delete",
        operation_id = "admin_delete_client"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        client_id: Path<String>,
    ) -> Result<ClientDeleted, AdminError> {
        let fx = admin(&state, &auth).await?;
        clients::delete(&fx, &client_id.0).await?;
        Ok(ClientDeleted::Deleted)
    }

    /// Rotate a client's secret
    ///
    /// The old secret stops working; the new one is shown this once. A
    /// public client has no secret (422).
    #[oai(
        path = "/clients/:client_id/secret",
        method = "post",
        operation_id = "admin_rotate_client_secret"
    )]
    async fn rotate_secret(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        client_id: Path<String>,
    ) -> Result<Json<ClientSecret>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let secret = clients::rotate_secret(&fx, &client_id.0).await?;
        Ok(Json(ClientSecret {
            client_id: client_id.0,
            client_secret: secret.secret().to_owned(),
        }))
    }
}
