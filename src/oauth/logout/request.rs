//! An end-session request (RP-Initiated Logout 1.0 §2), validated: the
//! hint verified, the client known, the post-logout redirect URI checked
//! against that client's registrations. Errors are pages, never redirects.

use std::sync::Arc;

use poem::Response;
use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, LOCATION};
use tracing::info;

use super::hint::{self, IdTokenHint};
use crate::domain::Client;
use crate::oauth::client_auth::find_client;
use crate::oauth::params::Params;
use crate::state::AppState;
use crate::web::pages::{error_page, internal_page};
use crate::web::session::Session;

/// The parameters of §2 (`ui_locales` and `logout_hint` are accepted and
/// not used), in the order a re-sent request lists them.
pub const PARAMETERS: [&str; 6] = [
    "id_token_hint",
    "logout_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

/// A post-logout redirect URI registered for the client that asked, with
/// the `state` to return. Only [`validate`] makes one, so no answer of the
/// endpoint can redirect anywhere unregistered.
pub struct PostLogoutRedirect {
    uri: String,
    state: Option<String>,
}

impl PostLogoutRedirect {
    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// 303 to the URI, `state` appended to its own query (§3: `state` goes
    /// back to the client when it was sent).
    pub fn answer(&self) -> Response {
        let mut url = match url::Url::parse(&self.uri) {
            Ok(url) => url,
            Err(e) => return internal_page("a registered post-logout URI does not parse", e),
        };
        if let Some(state) = &self.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(LOCATION, url.as_str())
            .header(CACHE_CONTROL, "no-store")
            .finish()
    }
}

/// What the request asks, once checked.
pub struct LogoutRequest {
    /// A hint we issued; `None` when absent or not ours (then the person
    /// confirms: a bad hint never acts by itself).
    pub hint: Option<IdTokenHint>,
    /// The client named by `client_id` or by a valid hint.
    pub client: Option<Arc<Client>>,
    pub redirect: Option<PostLogoutRedirect>,
}

impl LogoutRequest {
    /// Whether the hint names this browser's session: its user, and its
    /// `sid` when the hint has one. Only then does the endpoint act
    /// without asking.
    pub fn hint_matches(&self, session: &Session) -> bool {
        self.hint.as_ref().is_some_and(|h| {
            h.sub == session.user.id.to_string()
                && h.sid.as_deref().is_none_or(|sid| sid == session.record.sid)
        })
    }
}

/// Why an end-session request is refused. Each becomes a page, never a
/// redirect: the request is not one a redirect may answer.
#[derive(Debug)]
pub enum LogoutError {
    /// 400: a parameter sent twice (RFC 6749 §3.1 holds here too).
    Repeated(String),
    /// 400: a parameter holding a control character.
    ControlCharacter(String),
    /// 400: a `client_id` nobody registered.
    UnknownClient,
    /// 400: the hint was issued to another client than `client_id`.
    HintForAnotherClient,
    /// 400: a `post_logout_redirect_uri` with no client to check it
    /// against (neither `client_id` nor a valid hint).
    RedirectWithoutClient,
    /// 400: a `post_logout_redirect_uri` the client has not registered.
    RedirectNotRegistered { client_name: String },
    /// 500: a lookup failed on our side (logged, not shown).
    Internal(anyhow::Error),
}

impl LogoutError {
    pub fn into_response(self) -> Response {
        let message = match self {
            Self::Repeated(name) => format!("The parameter {name} was sent more than once."),
            Self::ControlCharacter(name) => {
                format!("The parameter {name} holds a control character.")
            }
            Self::UnknownClient => {
                "The application that sent you here (client_id) is not registered.".to_owned()
            }
            Self::HintForAnotherClient => {
                "The id_token_hint was issued to another application than the client_id names."
                    .to_owned()
            }
            Self::RedirectWithoutClient => {
                return not_registered(
                    "The application did not say who it is (client_id or a valid \
                     id_token_hint), so Tollgate cannot check the address it asked to send \
                     you back to (post_logout_redirect_uri).",
                );
            }
            Self::RedirectNotRegistered { client_name } => {
                return not_registered(&format!(
                    "{client_name} asked to send you back to an address it has not \
                     registered (post_logout_redirect_uri)."
                ));
            }
            Self::Internal(e) => return internal_page("end-session request failed", e),
        };
        error_page(
            StatusCode::BAD_REQUEST,
            "Invalid sign-out request",
            &message,
        )
    }
}

/// Checks the parameters in the order §2 and §3 give. A request that
/// cannot be safely honoured is refused (see [`LogoutError`]); an
/// unregistered `post_logout_redirect_uri` among them is an error page
/// rather than the confirmation page without the redirect: the client's
/// developer sees the mistake at once, and the person is told plainly
/// that nothing happened.
pub async fn validate(state: &AppState, params: &Params) -> Result<LogoutRequest, LogoutError> {
    check_form(params)?;
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => match hint::verify(state, token).await {
            Ok(hint) => Some(hint),
            Err(rejection) => {
                info!(reason = rejection.describe(), "id_token_hint not taken");
                None
            }
        },
    };
    let named = match params.get("client_id") {
        None => None,
        Some(client_id) => Some(
            find(state, client_id)
                .await?
                .ok_or(LogoutError::UnknownClient)?,
        ),
    };
    // §2: with both sent, the OP must check that client_id is the client
    // the ID token was issued to.
    if let (Some(hint), Some(client)) = (&hint, &named)
        && !hint.is_for(&client.id)
    {
        return Err(LogoutError::HintForAnotherClient);
    }
    let (hint, client) = match (hint, named) {
        (hint, Some(client)) => (hint, Some(client)),
        (Some(hint), None) => {
            let client = match hint.client_id.as_deref() {
                Some(client_id) => find(state, client_id).await?,
                None => None,
            };
            match client {
                Some(client) => (Some(hint), Some(client)),
                // Signed by us but issued to no client we know: not one
                // of our ID tokens.
                None => (None, None),
            }
        }
        (None, None) => (None, None),
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => Some(validate_redirect(
            client.as_deref(),
            uri,
            params.get("state"),
        )?),
    };
    Ok(LogoutRequest {
        hint,
        client,
        redirect,
    })
}

/// No parameter twice, none with a control character.
pub fn check_form(params: &Params) -> Result<(), LogoutError> {
    if let Some(name) = params.duplicate() {
        return Err(LogoutError::Repeated(name.to_owned()));
    }
    if let Some(name) = params.with_control_character() {
        return Err(LogoutError::ControlCharacter(name.to_owned()));
    }
    Ok(())
}

async fn find(state: &AppState, client_id: &str) -> Result<Option<Arc<Client>>, LogoutError> {
    find_client(state, client_id)
        .await
        .map_err(|e| LogoutError::Internal(e.into()))
}

/// §2 and §3: the URI must have been registered for the client that
/// asked, and is compared as an exact string; otherwise the OP must not
/// redirect to it.
fn validate_redirect(
    client: Option<&Client>,
    uri: &str,
    state: Option<&str>,
) -> Result<PostLogoutRedirect, LogoutError> {
    let Some(client) = client else {
        info!("post_logout_redirect_uri without a client to check it against");
        return Err(LogoutError::RedirectWithoutClient);
    };
    if !client.has_post_logout_redirect_uri(uri) {
        info!(client_id = %client.id, "post_logout_redirect_uri not registered");
        return Err(LogoutError::RedirectNotRegistered {
            client_name: client.name.clone(),
        });
    }
    Ok(PostLogoutRedirect {
        uri: uri.to_owned(),
        state: state.map(str::to_owned),
    })
}

fn not_registered(why: &str) -> Response {
    let message =
        format!("{why} Nothing has changed: to sign out of Tollgate, open /oauth/logout.");
    error_page(
        StatusCode::BAD_REQUEST,
        "Sign-out address not registered",
        &message,
    )
}
