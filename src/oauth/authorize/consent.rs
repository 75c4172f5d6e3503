//! The consent step: remembered per user, client and scopes; skipped for
//! first-party clients. It says what the person decided; the flow acts on it.

use std::sync::Arc;

use entity::user;
use poem::Response;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use sea_orm::DbErr;
use tracing::info;
use uuid::Uuid;

use super::login;
use super::request::AuthorizationRequest;
use crate::auth::revocations::Cutoff;
use crate::domain::ScopeSet;
use crate::oauth::params::Params;
use crate::propagation::consent_key;
use crate::state::AppState;
use crate::store;
use crate::web::pages::{ConsentPage, ScopeLine, error_page, internal_page, render_form};
use crate::web::session::{self, Session};

/// What came of a submitted consent form.
pub enum Decision {
    /// Allowed, and remembered: issue the code to this session's user.
    Allowed(Session),
    /// The person said no.
    Denied,
    /// Neither: a page to show (the login form, an expired form, an error).
    Page(Response),
}

/// Whether the user must be asked: not for first-party clients, nor when a
/// remembered consent covers every requested scope (`offline_access`
/// included: OIDC Core §11 wants consent for it, and a remembered one is
/// consent). `prompt=consent` asks even so, OIDC Core §3.1.2.1: "The
/// Authorization Server SHOULD prompt the End-User for consent". A
/// first-party client is the server's own app, whose access the operator
/// allowed when registering it, so it is never asked, prompt or not (as
/// Keycloak does for clients that do not require consent).
pub async fn needed(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &user::Model,
) -> Result<bool, DbErr> {
    if request.client.first_party {
        return Ok(false);
    }
    if request.openid.prompt.consent {
        return Ok(true);
    }
    let granted = remembered(state, user.id, &request.client.id).await?;
    Ok(!request.scopes.is_subset(&granted))
}

/// The scopes this user has allowed this client (none if never asked).
async fn remembered(
    state: &AppState,
    user_id: Uuid,
    client_id: &str,
) -> Result<Arc<ScopeSet>, DbErr> {
    let key = consent_key(user_id, client_id);
    // A consent revoked lately (perhaps at another instance) may still be
    // cached: read the database until the revocation has aged out.
    let revoked = state.denylist.cutoff_of(Cutoff::Consent {
        user: &user_id.to_string(),
        client: client_id,
    });
    if revoked.is_none()
        && let Some(scopes) = state.consent_cache.get(&key)
    {
        return Ok(scopes);
    }
    let scopes = Arc::new(stored(state, user_id, client_id).await?);
    state.consent_cache.insert(&key, scopes.clone());
    Ok(scopes)
}

/// The remembered scopes as stored (a row that no longer parses counts as
/// no consent: the person is simply asked again).
async fn stored(state: &AppState, user_id: Uuid, client_id: &str) -> Result<ScopeSet, DbErr> {
    Ok(store::consents::find(&state.db, user_id, client_id)
        .await?
        .and_then(|c| ScopeSet::parse(&c.scopes).ok())
        .unwrap_or_default())
}

pub fn show(request: &AuthorizationRequest, session: &Session) -> Response {
    render_form(
        &ConsentPage {
            client_name: &request.client.name,
            username: &session.user.username,
            action: &request.action,
            csrf_token: &session.record.csrf_token,
            scopes: request
                .scopes
                .iter()
                .map(|s| ScopeLine {
                    name: s.as_str(),
                    sentence: s.description(),
                })
                .collect(),
        },
        StatusCode::OK,
        Some(request.target.redirect_uri()),
    )
}

pub async fn decide(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    form: &Params,
) -> Decision {
    let session = match session::current(state, jar).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Decision::Page(login::show(
                state,
                jar,
                request,
                "",
                Some("Your session ended. Please sign in again."),
                StatusCode::OK,
            ));
        }
        Err(e) => return Decision::Page(internal_page("session lookup failed", e)),
    };
    if !session.csrf_matches(form.get("csrf_token").unwrap_or("")) {
        return Decision::Page(error_page(
            StatusCode::BAD_REQUEST,
            "This form has expired",
            "Go back to the application and start again.",
        ));
    }
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            info!(client_id = %request.client.id, "consent denied");
            return Decision::Denied;
        }
        _ => {
            return Decision::Page(error_page(
                StatusCode::BAD_REQUEST,
                "Bad form",
                "Choose allow or deny.",
            ));
        }
    }
    match remember(state, request, &session).await {
        Ok(()) => Decision::Allowed(session),
        Err(e) => Decision::Page(internal_page("storing consent failed", e)),
    }
}

/// Stores the union of what was allowed before and now, so allowing a
/// subset later never forgets more.
async fn remember(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<(), DbErr> {
    let (user_id, client_id) = (session.user.id, request.client.id.as_str());
    let previous = stored(state, user_id, client_id).await?;
    let remembered: ScopeSet = previous.iter().chain(request.scopes.iter()).collect();
    store::consents::upsert(
        &state.db,
        user_id,
        client_id,
        &remembered,
        state.clock.now(),
    )
    .await?;
    state
        .consent_cache
        .insert(&consent_key(user_id, client_id), Arc::new(remembered));
    info!(client_id, user_id = %user_id, "consent given");
    Ok(())
}
