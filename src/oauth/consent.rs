//! The consent step: remembered per user, client and scopes; skipped for
//! first-party clients.

use entity::user;
use poem::Response;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use sea_orm::DbErr;
use tracing::{error, info};

use super::authorize::{AuthorizationRequest, AuthorizePageError, issue_code, page_error, refuse};
use super::error::AuthorizeErrorCode;
use super::login;
use super::params::Params;
use crate::domain::ScopeSet;
use crate::state::AppState;
use crate::store;
use crate::web::pages::{ConsentPage, ScopeLine, error_page, render};
use crate::web::session::{self, Session};

/// Whether the user must be asked: not for first-party clients, nor when a
/// remembered consent covers every requested scope.
pub async fn needed(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &user::Model,
) -> Result<bool, DbErr> {
    if request.client.first_party {
        return Ok(false);
    }
    let granted = remembered(state, user.id, &request.client.id).await?;
    Ok(!request.scopes.is_subset(&granted))
}

fn cache_key(user_id: uuid::Uuid, client_id: &str) -> String {
    format!("{user_id}|{client_id}")
}

/// The scopes this user has allowed this client (none if never asked).
async fn remembered(
    state: &AppState,
    user_id: uuid::Uuid,
    client_id: &str,
) -> Result<std::sync::Arc<ScopeSet>, DbErr> {
    let key = cache_key(user_id, client_id);
    if let Some(scopes) = state.consent_cache.get(&key) {
        return Ok(scopes);
    }
    let scopes = std::sync::Arc::new(
        store::consents::find(&state.db, user_id, client_id)
            .await?
            .and_then(|c| ScopeSet::parse(&c.scopes).ok())
            .unwrap_or_default(),
    );
    state.consent_cache.insert(&key, scopes.clone());
    Ok(scopes)
}

pub fn show(request: &AuthorizationRequest, session: &Session) -> Response {
    render(
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
    )
}

pub async fn decide(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    form: &Params,
) -> Response {
    let session = match session::current(state, jar).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return login::show(
                state,
                jar,
                request,
                "",
                Some("Your session ended. Please sign in again."),
                StatusCode::OK,
            );
        }
        Err(e) => {
            error!(error = %e, "session lookup failed");
            return page_error(AuthorizePageError::Internal);
        }
    };
    if !session.csrf_matches(form.get("csrf_token").unwrap_or("")) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This form has expired",
            "Go back to the application and start again.",
        );
    }
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            info!(client_id = %request.client.id, "consent denied");
            return refuse(
                state,
                request,
                AuthorizeErrorCode::AccessDenied,
                "the user denied access",
            );
        }
        _ => {
            return error_page(StatusCode::BAD_REQUEST, "Bad form", "Choose allow or deny.");
        }
    }
    // Remember the union, so allowing a subset later never forgets more.
    let previous = match store::consents::find(&state.db, session.user.id, &request.client.id).await
    {
        Ok(c) => c
            .and_then(|c| ScopeSet::parse(&c.scopes).ok())
            .unwrap_or_default(),
        Err(e) => {
            error!(error = %e, "consent lookup failed");
            return page_error(AuthorizePageError::Internal);
        }
    };
    let remembered: ScopeSet = previous.iter().chain(request.scopes.iter()).collect();
    let now = state.clock.now();
    if let Err(e) = store::consents::upsert(
        &state.db,
        session.user.id,
        &request.client.id,
        &remembered,
        now,
    )
    .await
    {
        error!(error = %e, "storing consent failed");
        return page_error(AuthorizePageError::Internal);
    }
    state.consent_cache.insert(
        &cache_key(session.user.id, &request.client.id),
        std::sync::Arc::new(remembered),
    );
    info!(client_id = %request.client.id, user_id = %session.user.id, "consent given");
    issue_code(state, request, &session.user, StatusCode::SEE_OTHER).await
}
