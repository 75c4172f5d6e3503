//! GET/POST /oauth/authorize (RFC 6749 §4.1.1). The client and redirect
//! URI are validated before anything else; only then may errors travel
//! back to the client. Login and consent forms post back to this same URL,
//! so the request is re-validated at every step and nothing about it is
//! kept server-side before a code is issued.

use chrono::TimeDelta;
use entity::{client, user};
use poem::http::StatusCode;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Body, Request, Response, handler};
use tracing::{error, info};
use uuid::Uuid;

use super::error::AuthorizeErrorCode;
use super::params::Params;
use super::{consent, login, pkce};
use crate::domain::{GrantType, GrantTypes, ScopeSet};
use crate::secrets::{TokenKind, generate_token, lookup_hash};
use crate::state::AppState;
use crate::store;
use crate::store::clients::split_list;
use crate::web::pages::error_page;
use crate::web::session::{self, Session};

/// A fully validated authorization request.
pub struct AuthorizationRequest {
    pub client: std::sync::Arc<client::Model>,
    pub target: ValidatedRedirect,
    /// Whether the request named its redirect URI (then the token request
    /// must repeat it).
    pub redirect_uri_sent: bool,
    pub scopes: ScopeSet,
    pub code_challenge: Option<String>,
    /// Where the login and consent forms post: this same URL.
    pub action: String,
}

/// A redirect URI that matched a registration exactly, with the `state` to
/// echo. Only [`validate`] makes one, so no error can redirect anywhere
/// unvalidated.
pub struct ValidatedRedirect {
    redirect_uri: String,
    state: Option<String>,
}

impl ValidatedRedirect {
    /// The client's redirect URI with `params`, `state` and `iss` (RFC 9207).
    fn to(&self, issuer: &str, params: &[(&str, &str)]) -> Result<String, url::ParseError> {
        let mut url = url::Url::parse(&self.redirect_uri)?;
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        Ok(url.into())
    }
}

/// Errors that must not redirect: a 400 page.
#[derive(Debug)]
pub enum AuthorizePageError {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    RedirectUriMismatch,
    Duplicate(String),
    Internal,
}

/// Errors sent back to the client (RFC 6749 §4.1.2.1).
pub struct AuthorizeRedirectError {
    pub code: AuthorizeErrorCode,
    pub description: &'static str,
    pub target: ValidatedRedirect,
}

pub enum Rejection {
    Page(AuthorizePageError),
    Redirect(AuthorizeRedirectError),
}

impl Rejection {
    /// `status` is the redirect's: 302 answering a GET, 303 a POST.
    pub fn into_response(self, state: &AppState, status: StatusCode) -> Response {
        match self {
            Self::Page(e) => page_error(e),
            Self::Redirect(e) => redirect_error(state, e, status),
        }
    }
}

pub fn page_error(e: AuthorizePageError) -> Response {
    let message = match &e {
        AuthorizePageError::MissingClientId => {
            "The request names no client (client_id is missing).".to_owned()
        }
        AuthorizePageError::UnknownClient => {
            "The application asking for access is not registered here.".to_owned()
        }
        AuthorizePageError::MissingRedirectUri => {
            "The request has no redirect_uri, and the application has several registered."
                .to_owned()
        }
        AuthorizePageError::RedirectUriMismatch => {
            "The redirect_uri does not exactly match one the application registered.".to_owned()
        }
        AuthorizePageError::Duplicate(p) => format!("The parameter {p} appears more than once."),
        AuthorizePageError::Internal => {
            "Something went wrong on our side. Please try again.".to_owned()
        }
    };
    let status = match e {
        AuthorizePageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    error_page(status, "This sign-in request cannot continue", &message)
}

pub fn redirect_error(state: &AppState, e: AuthorizeRedirectError, status: StatusCode) -> Response {
    info!(
        error = e.code.as_str(),
        description = e.description,
        "authorization request refused"
    );
    match e.target.to(
        state.settings.issuer_str(),
        &[
            ("error", e.code.as_str()),
            ("error_description", e.description),
        ],
    ) {
        Ok(url) => redirect(&url, status),
        Err(_) => page_error(AuthorizePageError::Internal),
    }
}

/// A 302, or a 303 when `status` says so. Never poem's
/// `Redirect::temporary`, a 307: RFC 9700 §4.12 says an AS "MUST NOT use
/// the HTTP 307 status code", which would re-POST the login form, password
/// and all, to the client.
fn redirect(url: &str, status: StatusCode) -> Response {
    let status = if status == StatusCode::SEE_OTHER {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    Response::builder()
        .status(status)
        .header(poem::http::header::LOCATION, url)
        .header(poem::http::header::CACHE_CONTROL, "no-store")
        .finish()
}

pub async fn validate(state: &AppState, req: &Request) -> Result<AuthorizationRequest, Rejection> {
    let query = req.uri().query().unwrap_or("");
    let params = Params::parse(query.as_bytes());
    let page = |e| Err(Rejection::Page(e));

    // RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid,
    // or mismatching redirection URI, or if the client identifier is
    // missing or invalid, the authorization server ... MUST NOT
    // automatically redirect the user-agent to the invalid redirection URI."
    for name in ["client_id", "redirect_uri"] {
        if params.is_duplicated(name) {
            return page(AuthorizePageError::Duplicate(name.to_owned()));
        }
    }
    let Some(client_id) = params.get("client_id") else {
        return page(AuthorizePageError::MissingClientId);
    };
    let client = match super::find_client(state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return page(AuthorizePageError::UnknownClient),
        Err(e) => {
            error!(error = %e, "client lookup failed");
            return page(AuthorizePageError::Internal);
        }
    };
    let registered = split_list(&client.redirect_uris);
    let redirect_uri = match params.get("redirect_uri") {
        // Exact string comparison (RFC 9700 §4.1.3).
        Some(uri) if registered.iter().any(|r| r == uri) => uri.to_owned(),
        Some(_) => return page(AuthorizePageError::RedirectUriMismatch),
        None if registered.len() == 1 => registered[0].clone(),
        None => return page(AuthorizePageError::MissingRedirectUri),
    };
    let target = ValidatedRedirect {
        redirect_uri,
        state: params.get("state").map(str::to_owned),
    };

    let fail = |code, description| {
        Err(Rejection::Redirect(AuthorizeRedirectError {
            code,
            description,
            target: ValidatedRedirect {
                redirect_uri: target.redirect_uri.clone(),
                state: target.state.clone(),
            },
        }))
    };
    if params.duplicate().is_some() {
        return fail(
            AuthorizeErrorCode::InvalidRequest,
            "a parameter appears more than once",
        );
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(_) => {
            return fail(
                AuthorizeErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            );
        }
        None => {
            return fail(
                AuthorizeErrorCode::InvalidRequest,
                "response_type is missing",
            );
        }
    }
    let may_use_code = GrantTypes::parse_list(&[client.grants.as_str()])
        .is_ok_and(|g| g.contains(GrantType::AuthorizationCode));
    if !may_use_code {
        return fail(
            AuthorizeErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        );
    }
    let allowed = ScopeSet::parse(&client.scopes).unwrap_or_default();
    let scopes = match params.get("scope") {
        None => allowed.clone(),
        Some(raw) => match ScopeSet::parse(raw) {
            Ok(s) if s.is_empty() => allowed.clone(),
            Ok(s) if s.is_subset(&allowed) => s,
            Ok(_) => {
                return fail(
                    AuthorizeErrorCode::InvalidScope,
                    "a requested scope is not allowed for this client",
                );
            }
            Err(_) => {
                return fail(
                    AuthorizeErrorCode::InvalidScope,
                    "a requested scope is unknown",
                );
            }
        },
    };
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (Some(_), Some("S256")) => {}
        // RFC 7636 §4.3 makes `plain` the default; we accept only S256.
        (Some(_), _) => {
            return fail(
                AuthorizeErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            );
        }
        (None, Some(_)) => {
            return fail(
                AuthorizeErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge",
            );
        }
        (None, None) if client.is_public => {
            // RFC 9700 §2.1.1: public clients MUST use PKCE.
            return fail(
                AuthorizeErrorCode::InvalidRequest,
                "PKCE (code_challenge with S256) is required",
            );
        }
        (None, None) => {}
    }
    if challenge.is_some_and(|c| !pkce::is_valid_challenge(c)) {
        return fail(
            AuthorizeErrorCode::InvalidRequest,
            "code_challenge is not a valid S256 challenge",
        );
    }
    let action = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    Ok(AuthorizationRequest {
        redirect_uri_sent: params.get("redirect_uri").is_some(),
        client,
        target,
        scopes,
        code_challenge: challenge.map(str::to_owned),
        action,
    })
}

#[handler]
pub async fn get(req: &Request, jar: &CookieJar, state: Data<&AppState>) -> Response {
    let request = match validate(&state, req).await {
        Ok(r) => r,
        Err(e) => return e.into_response(&state, StatusCode::FOUND),
    };
    match session::current(&state, jar).await {
        Ok(Some(session)) => proceed(&state, &request, &session, StatusCode::FOUND).await,
        Ok(None) => login::show(&state, jar, &request, "", None, StatusCode::OK),
        Err(e) => {
            error!(error = %e, "session lookup failed");
            page_error(AuthorizePageError::Internal)
        }
    }
}

#[handler]
pub async fn post(req: &Request, jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let request = match validate(&state, req).await {
        Ok(r) => r,
        Err(e) => return e.into_response(&state, StatusCode::SEE_OTHER),
    };
    let Ok(bytes) = body.into_bytes_limit(16 * 1024).await else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        );
    };
    let form = Params::parse(&bytes);
    if form.get("decision").is_some() {
        consent::decide(&state, jar, &request, &form).await
    } else if form.get("username").is_some() || form.get("password").is_some() {
        login::submit(&state, jar, &request, &form).await
    } else {
        error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form is missing its fields.",
        )
    }
}

/// A signed-in user: consent if needed, else straight back with a code.
pub async fn proceed(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    status: StatusCode,
) -> Response {
    match consent::needed(state, request, &session.user).await {
        Ok(true) => consent::show(request, session),
        Ok(false) => issue_code(state, request, &session.user, status).await,
        Err(e) => {
            error!(error = %e, "consent lookup failed");
            page_error(AuthorizePageError::Internal)
        }
    }
}

/// 256 random bits, stored hashed, bound to client, redirect URI, PKCE
/// challenge, user and scopes, alive for `code_ttl`.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    user: &user::Model,
    status: StatusCode,
) -> Response {
    let now = state.clock.now();
    let code = generate_token(TokenKind::AuthorizationCode);
    let ttl = TimeDelta::from_std(state.settings.code_ttl).unwrap_or(TimeDelta::seconds(60));
    let record = entity::authorization_code::Model {
        code_hash: lookup_hash(code.secret()),
        grant_id: Uuid::new_v4(),
        client_id: request.client.id.clone(),
        user_id: user.id,
        redirect_uri: request
            .redirect_uri_sent
            .then(|| request.target.redirect_uri.clone()),
        code_challenge: request.code_challenge.clone(),
        scopes: request.scopes.to_string(),
        created_at: now,
        expires_at: now + ttl,
        redeemed_at: None,
    };
    if let Err(e) = store::codes::insert(&state.db, record).await {
        error!(error = %e, "storing an authorization code failed");
        return redirect_error(
            state,
            AuthorizeRedirectError {
                code: AuthorizeErrorCode::ServerError,
                description: "the server could not issue a code",
                target: ValidatedRedirect {
                    redirect_uri: request.target.redirect_uri.clone(),
                    state: request.target.state.clone(),
                },
            },
            status,
        );
    }
    info!(client_id = %request.client.id, user_id = %user.id, "authorization code issued");
    match request
        .target
        .to(state.settings.issuer_str(), &[("code", code.secret())])
    {
        Ok(url) => redirect(&url, status),
        Err(_) => page_error(AuthorizePageError::Internal),
    }
}

/// Builds an error redirect for a validated request (deny, for one).
pub fn refuse(
    state: &AppState,
    request: &AuthorizationRequest,
    code: AuthorizeErrorCode,
    description: &'static str,
) -> Response {
    redirect_error(
        state,
        AuthorizeRedirectError {
            code,
            description,
            target: ValidatedRedirect {
                redirect_uri: request.target.redirect_uri.clone(),
                state: request.target.state.clone(),
            },
        },
        StatusCode::SEE_OTHER,
    )
}
