//! The authorization request (RFC 6749 §4.1.1), validated in two stages:
//! first the client and its redirect URI, whose errors show a page; then
//! everything else, whose errors may travel back to the client.

use std::borrow::Cow;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::{IntoResponse, Request, Response};

use super::openid::OpenIdParams;
use super::redirect::{AuthorizeRedirectError, Refusal, ResponseMode, ValidatedRedirect};
use crate::domain::{Client, GrantType, Scope, ScopeSet};
use crate::oauth::client_auth::find_client;
use crate::oauth::error::{AuthorizeErrorCode, AuthorizePageError};
use crate::oauth::params::Params;
use crate::oauth::pkce;
use crate::state::AppState;
use crate::web::pages::internal_page;

/// A fully validated authorization request.
pub struct AuthorizationRequest {
    pub client: Arc<Client>,
    pub target: ValidatedRedirect,
    /// Whether the request named its redirect URI (then the token request
    /// must repeat it).
    pub redirect_uri_sent: bool,
    pub scopes: ScopeSet,
    pub code_challenge: Option<String>,
    pub openid: OpenIdParams,
    /// Where the login and consent forms post: this same URL.
    pub action: String,
}

/// Why a request cannot go on, by the channel its answer takes.
pub enum Rejection {
    /// The client or redirect URI is not trusted: a 400 page.
    Page(AuthorizePageError),
    /// Back to the client's validated redirect URI.
    Redirect(AuthorizeRedirectError),
    /// A failure on our side (what failed, and why): the internal-error page.
    Internal(&'static str, anyhow::Error),
}

impl Rejection {
    /// `status` is the redirect's: 302 answering a GET, 303 a POST.
    pub fn into_response(self, state: &AppState, status: StatusCode) -> Response {
        match self {
            Self::Page(e) => e.into_response(),
            Self::Redirect(e) => e.into_response(state.settings.issuer_str(), status),
            Self::Internal(what, e) => internal_page(what, e),
        }
    }
}

/// The whole checklist, in the order RFC 6749 §4.1.2.1 demands.
pub async fn validate(state: &AppState, req: &Request) -> Result<AuthorizationRequest, Rejection> {
    let params = Params::parse(req.uri().query().unwrap_or("").as_bytes());
    let (client, target) = validate_client_and_redirect(state, &params).await?;
    // Form Post Response Mode §2: the mode is read first, so that every
    // later error travels the way the client asked. An unsupported mode
    // is itself answered in the default mode, query.
    let mode = ResponseMode::requested(&params);
    let target = target.with_mode(mode.unwrap_or_default());
    let refuse = |code, description: Cow<'static, str>| {
        Rejection::Redirect(AuthorizeRedirectError {
            code,
            description,
            target: target.clone(),
        })
    };
    check_no_duplicates(&params).map_err(|(c, d)| refuse(c, d.into()))?;
    if let Some(name) = params.with_control_character() {
        return Err(refuse(
            AuthorizeErrorCode::InvalidRequest,
            Cow::Owned(format!("{name} contains a control character")),
        ));
    }
    check_response_type(&params).map_err(|(c, d)| refuse(c, d.into()))?;
    mode.map_err(|(c, d)| refuse(c, d.into()))?;
    check_client_may_use_code(&client).map_err(|(c, d)| refuse(c, d.into()))?;
    let scopes = requested_scopes(&params, &client).map_err(|(c, d)| refuse(c, d.into()))?;
    let pkce_optional = state
        .settings
        .pkce_optional_clients
        .iter()
        .any(|id| *id == client.id);
    let code_challenge =
        pkce_challenge(&params, &client, pkce_optional).map_err(|(c, d)| refuse(c, d.into()))?;
    let openid = OpenIdParams::parse(&params).map_err(|(c, d)| refuse(c, d.into()))?;
    Ok(AuthorizationRequest {
        redirect_uri_sent: params.get("redirect_uri").is_some(),
        client,
        target,
        scopes,
        code_challenge,
        openid,
        action: req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_default(),
    })
}

/// RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid,
/// or mismatching redirection URI, or if the client identifier is
/// missing or invalid, the authorization server ... MUST NOT
/// automatically redirect the user-agent to the invalid redirection URI."
async fn validate_client_and_redirect(
    state: &AppState,
    params: &Params,
) -> Result<(Arc<Client>, ValidatedRedirect), Rejection> {
    let page = |e| Err(Rejection::Page(e));
    for name in ["client_id", "redirect_uri"] {
        if params.is_duplicated(name) {
            return page(AuthorizePageError::Duplicate(name));
        }
    }
    let Some(client_id) = params.get("client_id") else {
        return page(AuthorizePageError::MissingClientId);
    };
    let client = match find_client(state, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return page(AuthorizePageError::UnknownClient),
        Err(e) => return Err(Rejection::Internal("client lookup failed", e.into())),
    };
    let redirect_uri = match (params.get("redirect_uri"), client.redirect_uris.as_slice()) {
        // Exact string comparison (RFC 9700 §4.1.3).
        (Some(uri), _) if client.has_redirect_uri(uri) => uri.to_owned(),
        (Some(_), _) => return page(AuthorizePageError::RedirectUriMismatch),
        (None, [only]) => only.as_str().to_owned(),
        (None, _) => return page(AuthorizePageError::MissingRedirectUri),
    };
    let target = ValidatedRedirect::new(redirect_uri, params.get("state").map(str::to_owned));
    Ok((client, target))
}

fn check_no_duplicates(params: &Params) -> Result<(), Refusal> {
    match params.duplicate() {
        Some(_) => Err((
            AuthorizeErrorCode::InvalidRequest,
            "a parameter appears more than once",
        )),
        None => Ok(()),
    }
}

fn check_response_type(params: &Params) -> Result<(), Refusal> {
    match params.get("response_type") {
        Some("code") => Ok(()),
        Some(_) => Err((
            AuthorizeErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )),
        None => Err((
            AuthorizeErrorCode::InvalidRequest,
            "response_type is missing",
        )),
    }
}

fn check_client_may_use_code(client: &Client) -> Result<(), Refusal> {
    if client.may_use(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err((
            AuthorizeErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ))
    }
}

/// The `scope` parameter within the client's scopes; absent or empty
/// means all of them. `offline_access` is an OpenID Connect scope (OIDC
/// Core §11), and without `openid` "the behavior is entirely unspecified"
/// (§3.1.2.1): like node-oidc-provider, it is then dropped, as RFC 6749
/// §3.3 lets a server grant less than asked.
fn requested_scopes(params: &Params, client: &Client) -> Result<ScopeSet, Refusal> {
    let scopes = within_client(params, client)?;
    if scopes.contains(Scope::OfflineAccess) && !scopes.contains(Scope::OpenId) {
        return Ok(scopes.without(&[Scope::OfflineAccess].into_iter().collect()));
    }
    Ok(scopes)
}

fn within_client(params: &Params, client: &Client) -> Result<ScopeSet, Refusal> {
    let allowed = client.scopes.for_people();
    let Some(raw) = params.get("scope") else {
        return Ok(allowed);
    };
    match ScopeSet::parse(raw) {
        Ok(s) if s.is_empty() => Ok(allowed),
        Ok(s) if s.contains(Scope::Admin) => Err((
            AuthorizeErrorCode::InvalidScope,
            "the admin scope is not granted to a person's sign-in: use an API key or client credentials",
        )),
        Ok(s) if s.is_subset(&allowed) => Ok(s),
        Ok(_) => Err((
            AuthorizeErrorCode::InvalidScope,
            "a requested scope is not allowed for this client",
        )),
        Err(_) => Err((
            AuthorizeErrorCode::InvalidScope,
            "a requested scope is unknown",
        )),
    }
}

/// The PKCE challenge (RFC 7636 §4.3), S256 only. Required of every client
/// (OAuth 2.1 §4.1.1), except confidential ones the operator named in
/// `pkce_optional_clients`.
fn pkce_challenge(
    params: &Params,
    client: &Client,
    optional: bool,
) -> Result<Option<String>, Refusal> {
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (Some(_), Some("S256")) => {}
        // RFC 7636 §4.3 makes `plain` the default; we accept only S256.
        (Some(_), _) => {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            ));
        }
        (None, Some(_)) => {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge",
            ));
        }
        // RFC 9700 §2.1.1: public clients MUST use PKCE; OAuth 2.1 asks it
        // of confidential ones too.
        (None, None) if client.is_public() || !optional => {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "PKCE (code_challenge with S256) is required",
            ));
        }
        (None, None) => {}
    }
    if challenge.is_some_and(|c| !pkce::is_valid_challenge(c)) {
        return Err((
            AuthorizeErrorCode::InvalidRequest,
            "code_challenge is not a valid S256 challenge",
        ));
    }
    Ok(challenge.map(str::to_owned))
}
