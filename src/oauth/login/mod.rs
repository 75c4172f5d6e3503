//! The login form and its checks, shared by the authorization endpoint
//! (`authorize::login`) and the standalone `/login` page (`page`): one
//! form, one CSRF scheme, one throttle, known devices and the bounded
//! password pool, whichever way the person came.

pub mod page;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use poem::Response;
use poem::http::header::RETRY_AFTER;
use poem::http::{HeaderValue, StatusCode};
use poem::web::cookie::CookieJar;
use tracing::info;

use super::params::Params;
use crate::secrets::{PasswordError, RETRY_AFTER_SECONDS, SecretString};
use crate::state::AppState;
use crate::store;
use crate::web::pages::{LoginPage, internal_page, render_form};
use crate::web::session::{self, Session};
use crate::web::throttle::{self, Attempt};

/// The one message for every failed login: it never says which field was wrong.
const FAILED: &str = "Invalid username or password.";
const DISABLED: &str = "This account is disabled. Ask the operator of this server to enable it.";

/// Where a login form is shown and where it posts back to.
pub struct LoginForm<'a> {
    /// The app the person signs in to (the authorize flow); `None` on the
    /// standalone page, which signs in to the account.
    pub client_name: Option<&'a str>,
    /// For the log: the client of the authorize flow.
    pub client_id: Option<&'a str>,
    pub action: &'a str,
    /// The client's redirect URI, which joins the CSP's `form-action`
    /// (the form's answer may redirect there).
    pub redirect_to: Option<&'a str>,
}

/// The form, with `error` if there is one; `reauthenticate` says why
/// someone already signed in sees it again.
pub fn show(
    state: &AppState,
    jar: &CookieJar,
    form: &LoginForm<'_>,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
    reauthenticate: bool,
) -> Response {
    let csrf_token = session::login_csrf(state, jar);
    render_form(
        &LoginPage {
            client_name: form.client_name,
            action: form.action,
            csrf_token: &csrf_token,
            username,
            error,
            reauthenticate,
        },
        status,
        form.redirect_to,
    )
}

/// Every password worker is taken: the form again, a 503 and when to retry.
fn busy(state: &AppState, jar: &CookieJar, form: &LoginForm<'_>, username: &str) -> Response {
    let mut page = show(
        state,
        jar,
        form,
        username,
        Some("Too many people are signing in right now. Please try again in a moment."),
        StatusCode::SERVICE_UNAVAILABLE,
        false,
    );
    page.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    page
}

/// The account or address is locked: the form again, a 429 and when to
/// retry. Unknown and known usernames lock alike, so this says nothing
/// about whether the account exists.
fn locked(
    state: &AppState,
    jar: &CookieJar,
    form: &LoginForm<'_>,
    username: &str,
    until: DateTime<Utc>,
) -> Response {
    let seconds = throttle::retry_after(state, until);
    let message = format!(
        "Too many failed sign-ins. Please wait {} and try again.",
        wait_in_words(seconds)
    );
    let mut page = show(
        state,
        jar,
        form,
        username,
        Some(&message),
        StatusCode::TOO_MANY_REQUESTS,
        false,
    );
    page.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    page
}

fn wait_in_words(seconds: i64) -> String {
    match seconds {
        ..=1 => "a second".to_owned(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", (seconds + 59) / 60),
    }
}

/// What the server knows of the browser signing in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Client<'a> {
    pub address: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

impl<'a> Client<'a> {
    pub fn of(req: &'a poem::Request) -> Self {
        Self {
            address: req.remote_addr().as_socket_addr().map(|a| a.ip()),
            user_agent: req
                .headers()
                .get(poem::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
        }
    }
}

/// The session of the person who signed in (the browser's own, if it was
/// already theirs: a re-authentication), or the page to show instead (the
/// form again, or an error).
pub async fn submit(
    state: &AppState,
    jar: &CookieJar,
    form: &LoginForm<'_>,
    fields: &Params,
    client: Client<'_>,
) -> Result<Session, Response> {
    let address = client.address;
    let username = fields.get("username").unwrap_or("");
    let again = |message| {
        show(
            state,
            jar,
            form,
            username,
            Some(message),
            StatusCode::OK,
            false,
        )
    };
    if !session::login_csrf_matches(state, jar, fields.get("csrf_token").unwrap_or("")) {
        return Err(show(
            state,
            jar,
            form,
            username,
            Some("The form expired. Please sign in again."),
            StatusCode::BAD_REQUEST,
            false,
        ));
    }
    let password = fields.get("password").unwrap_or("");
    let attempt = Attempt::new(username, address);
    let user = store::users::find_by_username(&state.db, username)
        .await
        .map_err(|e| internal_page("user lookup failed", e))?;
    let known_device = throttle::is_known_device(state, jar, user.as_ref())
        .await
        .map_err(|e| internal_page("device lookup failed", e))?;
    match throttle::locked_until(state, &attempt, known_device).await {
        Ok(Some(until)) => return Err(locked(state, jar, form, username, until)),
        Ok(None) => {}
        Err(e) => return Err(internal_page("login throttle lookup failed", e)),
    }
    // An unknown user costs one dummy verification, like a wrong password.
    let verified = match state
        .passwords
        .verify(
            SecretString::new(password.to_owned()),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
    {
        Ok(verified) => verified,
        Err(PasswordError::Busy) => return Err(busy(state, jar, form, username)),
        Err(e) => return Err(internal_page("password verification failed", e)),
    };
    let Some(user) = user.filter(|_| verified) else {
        info!(client_id = form.client_id, ?address, "login failed");
        if let Err(e) = throttle::failed(state, &attempt).await {
            return Err(internal_page("counting a failed login failed", e));
        }
        return Err(again(FAILED));
    };
    if user.disabled_at.is_some() {
        // Said only to someone who knows the password.
        info!(user_id = %user.id, "login refused: account disabled");
        return Err(again(DISABLED));
    }
    if let Err(e) = throttle::succeeded(state, &attempt).await {
        return Err(internal_page("clearing login failures failed", e));
    }
    if let Err(e) = throttle::remember_device(state, jar, user.id, known_device).await {
        return Err(internal_page("remembering the browser failed", e));
    }
    let session = session::sign_in(state, jar, user, client.user_agent, state.clock.now())
        .await
        .map_err(|e| internal_page("starting a session failed", e))?;
    info!(user_id = %session.user.id, "signed in");
    Ok(session)
}
