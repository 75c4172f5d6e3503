//! The login step of the authorization endpoint: the shared login form
//! (`oauth::login`) for this request. It hands back a session; what comes
//! next is the flow's to decide (`authorize::proceed`).

use poem::Response;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;

use super::request::AuthorizationRequest;
use crate::oauth::login::{self, LoginForm};
use crate::oauth::params::Params;
use crate::state::AppState;
use crate::web::session::Session;

pub use crate::oauth::login::Client;

/// Whether the person signed in to `session` must sign in again for this
/// request (`prompt=login`, or `max_age` passed).
pub fn required_again(state: &AppState, request: &AuthorizationRequest, session: &Session) -> bool {
    request
        .openid
        .reauthentication_needed(session.record.auth_time, state.clock.now())
}

fn form(request: &AuthorizationRequest) -> LoginForm<'_> {
    LoginForm {
        client_name: Some(&request.client.name),
        client_id: Some(&request.client.id),
        action: &request.action,
        redirect_to: Some(request.target.redirect_uri()),
    }
}

/// The form as a request first shows it: for a new sign-in, or again for
/// the person of `signed_in` (a re-authentication). The username field
/// holds the request's `login_hint` (OIDC Core §3.1.2.1), else the
/// signed-in person's name.
pub fn ask(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    signed_in: Option<&Session>,
) -> Response {
    let username = match (&request.openid.login_hint, signed_in) {
        (Some(hint), _) => hint.as_str(),
        (None, Some(session)) => session.user.username.as_str(),
        (None, None) => "",
    };
    login::show(
        state,
        jar,
        &form(request),
        username,
        None,
        StatusCode::OK,
        signed_in.is_some(),
    )
}

/// The form again, with `error` if there is one.
pub fn show(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    login::show(state, jar, &form(request), username, error, status, false)
}

/// See [`login::submit`].
pub async fn submit(
    state: &AppState,
    jar: &CookieJar,
    request: &AuthorizationRequest,
    fields: &Params,
    client: Client<'_>,
) -> Result<Session, Response> {
    login::submit(state, jar, &form(request), fields, client).await
}
