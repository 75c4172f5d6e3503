//! Client authentication at the token, revocation and introspection
//! endpoints: `client_secret_basic`, `client_secret_post`, or `none` for
//! public clients (which then rely on PKCE).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::HeaderMap;
use poem::http::header::{AUTHORIZATION, CONTENT_TYPE};
use poem::{Body, Request};
use sea_orm::DbErr;
use tracing::warn;

use super::error::TokenError;
use super::params::Params;
use crate::auth::revocations::Cutoff;
use crate::auth::{self, Subject};
use crate::domain::Client;
use crate::metrics::SecurityEvent;
use crate::secrets::lookup_hash_matches;
use crate::state::AppState;
use crate::store;

/// Form bodies larger than this are refused: no legitimate one comes near.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// A client by id, from the cache when fresh (registrations change only
/// through the command line).
pub async fn find_client(state: &AppState, client_id: &str) -> Result<Option<Arc<Client>>, DbErr> {
    // A client deleted lately (perhaps at another instance) may still be
    // cached: read the database until the deletion has aged out.
    let deleted = state
        .denylist
        .cutoff_of(Cutoff::Client(client_id))
        .is_some();
    if !deleted && let Some(c) = state.client_cache.get(client_id) {
        return Ok(Some(c));
    }
    let Some(client) = store::clients::find(&state.db, client_id).await? else {
        return Ok(None);
    };
    let client = Arc::new(client);
    state.client_cache.insert(client_id, client.clone());
    Ok(Some(client))
}

/// A client that proved who it is (or, if public, named itself).
pub struct AuthenticatedClient(Arc<Client>);

impl AuthenticatedClient {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

impl std::ops::Deref for AuthenticatedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.0
    }
}

/// The start of every client-authenticated endpoint: the form, read; the
/// client, authenticated; no parameter twice (RFC 6749 §3.2).
pub async fn authenticated_form(
    state: &AppState,
    req: &Request,
    body: Body,
) -> Result<(Params, AuthenticatedClient), TokenError> {
    let params = read_form(req, body).await?;
    if let Some(name) = params.with_control_character() {
        return Err(TokenError::invalid_request(format!(
            "{name} contains a control character"
        )));
    }
    let client = authenticate(state, req.headers(), &params).await?;
    if let Some(name) = params.duplicate() {
        return Err(TokenError::invalid_request(format!(
            "{name} was sent more than once"
        )));
    }
    Ok((params, client))
}

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2).
async fn read_form(req: &Request, body: Body) -> Result<Params, TokenError> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(TokenError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = body
        .into_bytes_limit(MAX_FORM_BYTES)
        .await
        .map_err(|_| TokenError::invalid_request("the request body is too large or unreadable"))?;
    Ok(Params::parse(&bytes))
}

/// A security event, logged with the presented client id (cut short: it
/// comes from the request) and never the secret.
fn client_auth_failed(state: &AppState, client_id: &str, reason: &'static str) {
    let client_id: String = client_id.chars().take(64).collect();
    warn!(
        event = SecurityEvent::ClientAuthFailed.as_str(),
        client_id, reason, "client authentication failed"
    );
    state
        .metrics
        .security_event(SecurityEvent::ClientAuthFailed);
}

struct Presented {
    client_id: String,
    secret: Option<String>,
    basic: bool,
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<AuthenticatedClient, TokenError> {
    let presented = presented_credentials(headers, params)?;
    let basic = presented.basic;
    let Some(client) = find_client(state, &presented.client_id).await? else {
        client_auth_failed(state, &presented.client_id, "unknown client");
        return Err(TokenError::invalid_client(basic));
    };
    let ok = match (&client.secret_hash, &presented.secret) {
        (Some(hash), Some(secret)) => lookup_hash_matches(secret, hash),
        // A public client authenticates with nothing but its id.
        (None, None) => client.is_public(),
        // A secret for a public client, or none for a confidential one.
        _ => false,
    };
    if !ok {
        client_auth_failed(state, &presented.client_id, "wrong or missing secret");
        return Err(TokenError::invalid_client(basic));
    }
    auth::record_principal(&Subject::Client {
        client_id: client.id.clone(),
    });
    Ok(AuthenticatedClient(client))
}

fn presented_credentials(headers: &HeaderMap, params: &Params) -> Result<Presented, TokenError> {
    for name in ["client_id", "client_secret"] {
        if params.is_duplicated(name) {
            return Err(TokenError::invalid_request(format!(
                "{name} was sent more than once"
            )));
        }
    }
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(value) = header {
        let Some(encoded) = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, rest)| rest.trim())
        else {
            return Err(TokenError::invalid_client(true));
        };
        // RFC 6749 §2.3.1: one authentication method per request.
        if params.get("client_secret").is_some() {
            return Err(TokenError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| TokenError::invalid_client(true))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| TokenError::invalid_client(true))?;
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
        let id = form_decode(id);
        let secret = form_decode(secret);
        if params.get("client_id").is_some_and(|p| p != id) {
            return Err(TokenError::invalid_client(true));
        }
        return Ok(Presented {
            client_id: id,
            // "id:" names a client without proving anything, like
            // `client_id` alone: a public client's way in, and the one
            // Swagger UI's password flow uses by default. For a
            // confidential client it is a missing secret, refused below.
            secret: Some(secret).filter(|s| !s.is_empty()),
            basic: true,
        });
    }
    let Some(client_id) = params.get("client_id") else {
        return Err(TokenError::invalid_client(false));
    };
    Ok(Presented {
        client_id: client_id.to_owned(),
        secret: params.get("client_secret").map(str::to_owned),
        basic: false,
    })
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn basic(credentials: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(credentials));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")),
        );
        headers
    }

    fn presented(headers: &HeaderMap) -> Option<Presented> {
        presented_credentials(headers, &Params::parse(b"")).ok()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let p = presented(&basic("my%20app:s%3Acret")).map(|p| (p.client_id, p.secret, p.basic));
        assert_eq!(
            p,
            Some(("my app".to_owned(), Some("s:cret".to_owned()), true))
        );
    }

    #[test]
    fn basic_with_an_empty_secret_presents_no_secret() {
        let p = presented(&basic("tollgate-docs-explorer:")).map(|p| (p.client_id, p.secret));
        assert_eq!(p, Some(("tollgate-docs-explorer".to_owned(), None)));
    }
}
