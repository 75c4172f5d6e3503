//! The login step of the authorization endpoint.

use poem::Response;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use tracing::{error, info};

use super::authorize::{AuthorizationRequest, AuthorizePageError, page_error, proceed};
use super::params::Params;
use crate::secrets::{SecretString, verify_password};
use crate::state::AppState;
use crate::store;
use crate::web::pages::{LoginPage, render};
use crate::web::session;

/// The one message for every failed login: it never says which field was wrong.
const FAILED: &str = "Invalid username or password.";

pub fn show(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf_token = session::login_csrf(state, jar);
    render(
        &LoginPage {
            client_name: &request.client.name,
            action: &request.action,
            csrf_token: &csrf_token,
            username,
            error,
        },
        status,
    )
}

pub async fn submit(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    form: &Params,
) -> Response {
    let username = form.get("username").unwrap_or("");
    if !session::login_csrf_matches(jar, form.get("csrf_token").unwrap_or("")) {
        return show(
            state,
            jar,
            request,
            username,
            Some("The form expired. Please sign in again."),
            StatusCode::BAD_REQUEST,
        );
    }
    let password = form.get("password").unwrap_or("");
    let user = match store::users::find_by_username(&state.db, username).await {
        Ok(user) => user,
        Err(e) => {
            error!(error = %e, "user lookup failed");
            return page_error(AuthorizePageError::Internal);
        }
    };
    // An unknown user costs one dummy verification, like a wrong password.
    let verified = verify_password(
        SecretString::new(password.to_owned()),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let user = match (verified, user) {
        (Ok(true), Some(user)) => user,
        (Ok(_), _) => {
            info!(client_id = %request.client.id, "login failed");
            return show(state, jar, request, username, Some(FAILED), StatusCode::OK);
        }
        (Err(e), _) => {
            error!(error = %e, "password verification failed");
            return page_error(AuthorizePageError::Internal);
        }
    };
    let now = state.clock.now();
    match session::start(state, jar, user, now).await {
        Ok(session) => {
            info!(user_id = %session.user.id, "signed in");
            proceed(state, request, &session, StatusCode::SEE_OTHER).await
        }
        Err(e) => {
            error!(error = %e, "starting a session failed");
            page_error(AuthorizePageError::Internal)
        }
    }
}
