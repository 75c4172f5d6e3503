//! GET/POST /oauth/authorize (RFC 6749 §4.1.1). The client and redirect
//! URI are validated before anything else; only then may errors travel
//! back to the client. Login and consent forms post back to this same URL,
//! so the request is re-validated at every step and nothing about it is
//! kept server-side before a code is issued.
//!
//! The steps (`request`, `login`, `consent`) return outcomes; this module
//! alone decides what follows each of them.

mod consent;
mod login;
mod openid;
mod redirect;
mod request;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Body, Request, Response, handler};
use tracing::info;
use uuid::Uuid;

use self::consent::Decision;
use self::redirect::AuthorizeRedirectError;
use self::request::{AuthorizationRequest, validate};
use super::error::AuthorizeErrorCode;
use super::params::Params;
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;
use crate::web::pages::{error_page, internal_page};
use crate::web::session::{self, Session};

/// Login and consent forms are small; anything larger is not ours.
const MAX_FORM_BYTES: usize = 16 * 1024;

#[handler]
pub async fn get(req: &Request, jar: &CookieJar, state: Data<&AppState>) -> Response {
    let request = match validate(&state, req).await {
        Ok(r) => r,
        Err(e) => return e.into_response(&state, StatusCode::FOUND),
    };
    let status = StatusCode::FOUND;
    match session::current(&state, jar).await {
        Ok(Some(session)) if login::required_again(&state, &request, &session) => {
            ask_login(&state, jar, &request, Some(&session), status)
        }
        Ok(Some(session)) => proceed(&state, &request, &session, status).await,
        Ok(None) => ask_login(&state, jar, &request, None, status),
        Err(e) => internal_page("session lookup failed", e),
    }
}

#[handler]
pub async fn post(req: &Request, jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let status = StatusCode::SEE_OTHER;
    let request = match validate(&state, req).await {
        Ok(r) => r,
        Err(e) => return e.into_response(&state, status),
    };
    let Ok(bytes) = body.into_bytes_limit(MAX_FORM_BYTES).await else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        );
    };
    let form = Params::parse(&bytes);
    if let Some(name) = form.with_control_character() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            &format!("The field {name} contains characters that are not allowed."),
        );
    }
    if form.get("decision").is_some() {
        match consent::decide(&state, jar, &request, &form).await {
            Decision::Allowed(session) => issue_code(&state, &request, &session, status).await,
            Decision::Denied => refuse(
                &state,
                &request,
                AuthorizeErrorCode::AccessDenied,
                "the user denied access",
                status,
            ),
            Decision::Page(page) => page,
        }
    } else if form.get("username").is_some() || form.get("password").is_some() {
        match login::submit(&state, jar, &request, &form, login::Client::of(req)).await {
            Ok(session) => proceed(&state, &request, &session, status).await,
            Err(page) => page,
        }
    } else {
        error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form is missing its fields.",
        )
    }
}

/// The login form: for a first sign-in, or again for the person of
/// `signed_in`. OIDC Core §3.1.2.1, prompt=none: "The Authorization Server
/// MUST NOT display any authentication or consent user interface pages";
/// §3.1.2.6: login_required, "The Authorization Server requires End-User
/// authentication."
fn ask_login(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    signed_in: Option<&Session>,
    status: StatusCode,
) -> Response {
    if request.openid.prompt.none {
        let description = match signed_in {
            Some(_) => "the user must sign in again (max_age has passed)",
            None => "the user is not signed in",
        };
        return refuse(
            state,
            request,
            AuthorizeErrorCode::LoginRequired,
            description,
            status,
        );
    }
    login::ask(state, jar, request, signed_in)
}

/// A signed-in user: consent if needed, else straight back with a code.
async fn proceed(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    status: StatusCode,
) -> Response {
    match consent::needed(state, request, &session.user).await {
        // OIDC Core §3.1.2.6: consent_required, "The Authorization Server
        // requires End-User consent" and prompt=none forbids asking.
        Ok(true) if request.openid.prompt.none => refuse(
            state,
            request,
            AuthorizeErrorCode::ConsentRequired,
            "the user has not allowed these scopes for this client",
            status,
        ),
        Ok(true) => consent::show(request, session),
        Ok(false) => issue_code(state, request, session, status).await,
        Err(e) => internal_page("consent lookup failed", e),
    }
}

/// 256 random bits, stored hashed, bound to client, redirect URI, PKCE
/// challenge, user, scopes and browser session (with its `sid` and sign-in
/// time, and the request's `nonce`, for the ID token), alive for
/// `code_ttl`. The session remembers the client, so that signing out can
/// tell it (OpenID Connect Back-Channel Logout 1.0).
async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    status: StatusCode,
) -> Response {
    let user = &session.user;
    let now = state.clock.now();
    let code = generate_token(TokenKind::AuthorizationCode);
    let record = entity::authorization_code::Model {
        code_hash: lookup_hash(code.secret()),
        // Time-ordered, so the refresh-token index on grant_id grows at its
        // end instead of at a random page per insert.
        grant_id: Uuid::now_v7(),
        client_id: request.client.id.clone(),
        user_id: user.id,
        redirect_uri: request
            .redirect_uri_sent
            .then(|| request.target.redirect_uri().to_owned()),
        code_challenge: request.code_challenge.clone(),
        scopes: request.scopes.to_string(),
        created_at: now,
        expires_at: now + state.settings.code_ttl,
        redeemed_at: None,
        session_hash: Some(session.record.id_hash.clone()),
        nonce: request.openid.nonce.clone(),
        auth_time: Some(session.record.auth_time),
        sid: Some(session.record.sid.clone()),
    };
    // The session's sign-in to this client is recorded once (it only
    // matters at logout); a returning client costs no write for it.
    let pair = format!("{}|{}", session.record.id_hash, record.client_id);
    let stored = async {
        if state.session_clients.get(&pair).is_none() {
            store::sessions::add_client(&state.db, &session.record.id_hash, &record.client_id, now)
                .await?;
            state.session_clients.insert(&pair, Arc::new(()));
        }
        match &state.writer {
            Some(writer) => writer.insert_code(record).await,
            None => store::codes::insert(&state.db, record).await,
        }
    };
    if let Err(e) = stored.await {
        tracing::error!(error.cause_chain = ?e, "storing an authorization code failed");
        return refuse(
            state,
            request,
            AuthorizeErrorCode::ServerError,
            "the server could not issue a code",
            status,
        );
    }
    info!(client_id = %request.client.id, user_id = %user.id, "authorization code issued");
    request.target.answer(
        state.settings.issuer_str(),
        &[("code", code.secret())],
        status,
    )
}

/// Sends an error back to the client of a validated request (a denial, for
/// one).
fn refuse(
    state: &AppState,
    request: &AuthorizationRequest,
    code: AuthorizeErrorCode,
    description: &'static str,
    status: StatusCode,
) -> Response {
    AuthorizeRedirectError {
        code,
        description: description.into(),
        target: request.target.clone(),
    }
    .into_response(state.settings.issuer_str(), status)
}
