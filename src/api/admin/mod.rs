//! The admin API under `/admin/v1`: clients, users, API keys, consents,
//! sessions and signing keys, for a caller holding the `admin` scope. The
//! operations are `manage`'s, shared with the command line; this module
//! only speaks HTTP. Every change is a security event: `manage` logs its
//! own, and the creations are logged here.

mod access;
mod clients;
mod error;
mod keys;
mod models;
mod users;

use poem_openapi::{ApiResponse, Tags};

use self::error::AdminError;
use crate::auth::{Credentials, Subject};
use crate::domain::Scope;
use crate::manage::{Actor, Effects};
use crate::state::AppState;

/// The admin API's operations, composed with the blog API's in one
/// OpenAPI document.
pub type AdminApi = (
    clients::ClientsApi,
    users::UsersApi,
    access::AccessApi,
    keys::KeysApi,
);

pub fn api() -> AdminApi {
    (
        clients::ClientsApi,
        users::UsersApi,
        access::AccessApi,
        keys::KeysApi,
    )
}

#[derive(Tags)]
enum AdminTags {
    /// Server administration (needs the `admin` scope)
    #[oai(rename = "admin")]
    Admin,
}

/// The answer of a change that has nothing to show.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

const PREFIX: &str = "/admin/v1";

/// The effects of an admin call, once the caller has proven the `admin`
/// scope: 401 without (good) credentials, 403 without the scope.
async fn admin<'a>(state: &'a AppState, auth: &Credentials) -> Result<Effects<'a>, AdminError> {
    let principal = auth.require(&state.auth, Scope::Admin).await?;
    let who = match principal.subject {
        Subject::User { id, .. } => id.to_string(),
        Subject::Client { client_id } => client_id,
    };
    Ok(Effects::server(state, Actor::Admin(who)))
}
