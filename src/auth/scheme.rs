use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::{OAuthScopes, SecurityScheme};

use super::{AuthError, Authenticator, Principal};
use crate::domain::Scope;

// The doc comments of the two schemes are what the docs explorer's
// Authorize dialog shows: they are written for the person using it.

/// An API key, sent in the `X-API-Key` header. It acts for the person who
/// owns it, with the scopes it was given; ask the server's operator for one.
#[derive(SecurityScheme)]
#[oai(
    rename = "ApiKey",
    ty = "api_key",
    key_name = "X-API-Key",
    key_in = "header"
)]
pub struct ApiKeyAuth(ApiKey);

/// The scopes the docs explorer's Authorize dialog offers (mirrors
/// `domain::Scope`): the blog API's, and OpenID Connect's that the demo
/// client may ask for. `offline_access` is left out: the demo client is
/// not allowed it.
#[derive(OAuthScopes)]
pub enum OfferedScope {
    /// Read blog posts, including your drafts
    #[oai(rename = "blog:read")]
    Read,
    /// Create, edit and delete your blog posts
    #[oai(rename = "blog:write")]
    Write,
    /// Edit and delete anyone's blog posts
    #[oai(rename = "blog:admin")]
    Admin,
    /// Know who you are: sign you in with your Tollgate account
    #[oai(rename = "openid")]
    OpenId,
    /// See your username and name
    #[oai(rename = "profile")]
    Profile,
    /// See your email address
    #[oai(rename = "email")]
    Email,
}

// The URLs are relative to the server, so the document stays right
// whatever the issuer.

/// Sign in with your Tollgate account and allow the scopes you tick; the
/// explorer then sends the access token it gets as `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(
    rename = "OAuth2",
    ty = "oauth2",
    flows(
        authorization_code(
            authorization_url = "/oauth/authorize",
            token_url = "/oauth/token",
            refresh_url = "/oauth/token",
            scopes = "OfferedScope"
        ),
        password(
            token_url = "/oauth/token",
            refresh_url = "/oauth/token",
            scopes = "OfferedScope"
        ),
    )
)]
pub struct OAuth2Auth(Bearer);

/// Every way to call the resource API. Extraction never fails: missing
/// credentials reach [`Credentials::require`], which answers with a proper
/// RFC 6750 401 instead of poem-openapi's bare text.
#[derive(SecurityScheme)]
pub enum Credentials {
    ApiKey(ApiKeyAuth),
    OAuth2(OAuth2Auth),
    #[oai(fallback)]
    Missing,
}

impl Credentials {
    /// The caller's principal, if it holds `scope`; otherwise 401 (no or bad
    /// credentials) or 403 (valid, lacking the scope).
    pub async fn require(
        &self,
        auth: &Authenticator,
        scope: Scope,
    ) -> Result<Principal, AuthError> {
        let principal = match self {
            Self::ApiKey(ApiKeyAuth(key)) => super::api_key::authenticate(auth, &key.key).await?,
            Self::OAuth2(OAuth2Auth(bearer)) => {
                super::access_token::authenticate(auth, &bearer.token).await?
            }
            Self::Missing => {
                return Err(AuthError::InvalidToken(
                    "missing credentials: send Authorization: Bearer or X-API-Key",
                ));
            }
        };
        super::record_principal(&principal.subject);
        if !principal.has_scope(scope) {
            return Err(AuthError::InsufficientScope(scope));
        }
        Ok(principal)
    }
}
